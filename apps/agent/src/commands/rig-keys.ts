import { RigKeyFile, SecurityError } from '@rigwarden/security';
import { ConfigError } from '../config/config-error';

/** The agent's command keys (security.keysFile); a broken file at start is a config error naming the key path. */
export function openRigKeys(path: string): RigKeyFile {
  try {
    return new RigKeyFile(path);
  } catch (err) {
    if (err instanceof SecurityError) throw new ConfigError(path, String(err.context['field'] ?? ''), err.message.replace(`${path}: `, '').replace(/^[^:]*: /, ''));
    throw err;
  }
}
