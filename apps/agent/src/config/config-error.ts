/** A config file the agent refuses to start with: names the file, the key path and what is allowed. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly file: string, readonly path: string, readonly problem: string) {
    super(`${file}: ${path || '(top level)'}: ${problem}`);
  }
}
