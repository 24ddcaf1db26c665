import { DEFAULT_RETENTION } from '../persistence/ports/rollup.port';
import { ControllerConfigError, loadControllerConfig, parseRetention } from './controller-config';

const D = 86_400_000;

describe('controller config: retention of telemetry history', () => {
  it('controller-config: keeps 2 d raw, 14 d of 1-minute and 400 d of 1-hour rollups unless told otherwise', () => {
    expect(loadControllerConfig([], {}).retention).toEqual(DEFAULT_RETENTION);
    expect(DEFAULT_RETENTION).toEqual({ rawMs: 2 * D, minuteMs: 14 * D, hourMs: 400 * D });
  });

  it('controller-config: --retention-raw / -1m / -1h and RIGWARDEN_RETENTION_*, the flag winning', () => {
    expect(loadControllerConfig(['--retention-raw', '36h', '--retention-1m=3w', '--retention-1h', '90d'], {}).retention)
      .toEqual({ rawMs: 36 * 3_600_000, minuteMs: 21 * D, hourMs: 90 * D });
    expect(loadControllerConfig(['--retention-raw', '90m'], { RIGWARDEN_RETENTION_RAW: '1d', RIGWARDEN_RETENTION_1M: '7d', RIGWARDEN_RETENTION_1H: '30d' }).retention)
      .toEqual({ rawMs: 90 * 60_000, minuteMs: 7 * D, hourMs: 30 * D });
  });

  it('controller-config: refuses a retention that is no positive duration', () => {
    for (const bad of ['0d', '2', '2 days', '-1h', '1.5d', 'd', '']) expect(() => parseRetention(bad, '--retention-raw')).toThrow(ControllerConfigError);
    expect(() => loadControllerConfig(['--retention-1h', 'forever'], {})).toThrow('--retention-1h / RIGWARDEN_RETENTION_1H: expected a duration like 2d, 36h or 90m, got "forever"');
    expect(parseRetention('45s', 'x')).toBe(45_000);
  });
});
