/**
 * What ships in deploy/ is the hardened setup the docs promise: Mosquitto never listens in clear beyond loopback and
 * never lets anonymous clients in, and the controller's systemd unit is locked down like the agent's.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const DEPLOY = join(__dirname, '..', '..', '..', '..', 'deploy');
const settings = (file: string): string[] => readFileSync(join(DEPLOY, file), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

describe('deploy files', () => {
  it('mosquitto.conf: every listener is on loopback or has TLS (cafile/certfile/keyfile before the next listener); anonymous access is off', () => {
    const lines = settings('mosquitto.conf');
    const listeners: Array<{ line: string; tls: boolean }> = [];
    for (const line of lines) {
      if (line.startsWith('listener ')) listeners.push({ line, tls: false });
      else if (/^(certfile|keyfile) /.test(line) && listeners.length > 0) listeners[listeners.length - 1]!.tls = true;
    }
    expect(listeners.length).toBeGreaterThan(0);
    for (const l of listeners) {
      const [, , address] = l.line.split(/\s+/);
      expect({ listener: l.line, safe: (address !== undefined && LOOPBACK.has(address)) || l.tls }).toEqual({ listener: l.line, safe: true });
    }
    expect(lines).toContain('allow_anonymous false');
  });

  it('rigwarden-controller.service: a service user, no privileges, a read-only system but its state dir, private /tmp, umask 0077, loopback APIs', () => {
    const unit = settings('rigwarden-controller.service');
    for (const required of [
      'User=rigwarden-controller', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ReadWritePaths=/var/lib/rigwarden', 'PrivateTmp=yes',
      'ProtectHome=yes', 'PrivateDevices=yes', 'StateDirectoryMode=0700', 'UMask=0077', 'CapabilityBoundingSet=', 'RestrictSUIDSGID=yes',
      'SystemCallFilter=@system-service',
    ]) expect(unit).toContain(required);
    const exec = readFileSync(join(DEPLOY, 'rigwarden-controller.service'), 'utf8').replace(/\\\n\s*/g, ' ').split('\n').find((l) => l.startsWith('ExecStart='))!;
    expect(exec).toMatch(/--grpc 127\.0\.0\.1:\d+/);
    expect(exec).toMatch(/--http 127\.0\.0\.1:\d+/);
    expect(exec).toContain('--data-dir /var/lib/rigwarden');
  });

  it('the agent\'s unit ships beside it with the same core hardening', () => {
    const agent = settings('rigwarden-agent.service');
    for (const required of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'PrivateTmp=yes', 'UMask=0077']) expect(agent).toContain(required);
  });
});
