import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { makeTempDir } from '@rigwarden/testing';
import { AlertsConfigError, DEFAULT_ALERTS_CONFIG, loadAlertsConfig, parseAlertsConfig } from './alerts-config';

const TOKEN = '987654:AAsecretToken';
const ENV = { TG: TOKEN, HOOK: 'https://hooks.slack.com/services/T1/B2/secretpart' };

describe('alerts config', () => {
  it('defaults: every rule on, no channels', () => {
    const c = parseAlertsConfig(undefined, 'alerts.yaml', {});
    expect(c).toEqual(DEFAULT_ALERTS_CONFIG);
    expect(Object.values(c.enabled).every(Boolean)).toBe(true);
  });

  it('reads rules, limits, delivery and the three channel types, secrets from the environment', () => {
    const c = parseAlertsConfig({
      alerts: {
        renotifyAfterS: 600, checkIntervalS: 2, rateLimit: { burst: 5, perMinute: 12 }, delivery: { timeoutMs: 2000, retries: 1, backoffMs: 250, maxQueue: 50 },
        rules: { 'rig-offline': { afterS: 90 }, security: { enabled: false } },
        channels: [
          { name: 'ops', type: 'slack', urlEnv: 'HOOK', minSeverity: 'warning', rules: ['rig-offline', 'overheating'] },
          { name: 'oncall', type: 'telegram', botTokenEnv: 'TG', chatId: -100123 },
          { name: 'hook', type: 'generic', url: 'http://127.0.0.1:9000/alerts', rateLimit: { burst: 1, perMinute: 2 } },
        ],
      },
    }, 'alerts.yaml', ENV);
    expect(c).toMatchObject({ offlineAfterMs: 90_000, renotifyMs: 600_000, checkIntervalMs: 2000, rateLimit: { burst: 5, perMinute: 12 }, delivery: { timeoutMs: 2000, retries: 1, backoffMs: 250, maxQueue: 50 } });
    expect(c.enabled).toMatchObject({ security: false, 'rig-offline': true });
    expect(c.channels.map((ch) => [ch.name, ch.type, ch.url, ch.chatId, ch.minSeverity, ch.rules, ch.rateLimit])).toEqual([
      ['ops', 'slack', ENV.HOOK, undefined, 'warning', ['rig-offline', 'overheating'], { burst: 10, perMinute: 10 }],
      ['oncall', 'telegram', `https://api.telegram.org/bot${TOKEN}/sendMessage`, '-100123', 'info', undefined, { burst: 10, perMinute: 10 }],
      ['hook', 'generic', 'http://127.0.0.1:9000/alerts', undefined, 'info', undefined, { burst: 1, perMinute: 2 }],
    ]);
    expect(c.channels[1]!.secrets).toContain(TOKEN);
    expect(c.channels[0]!.secrets).toContain('/services/T1/B2/secretpart');
  });

  it.each([
    [{ alert: {} }, 'alert: unknown key; allowed: alerts'],
    [{ alerts: { rules: { offline: {} } } }, 'alerts.rules.offline: unknown key'],
    [{ alerts: { rules: { 'rig-offline': { afterS: 0 } } } }, 'alerts.rules.rig-offline.afterS: must be a number from 1'],
    [{ alerts: { rules: { quarantined: { enabled: 'yes' } } } }, 'alerts.rules.quarantined.enabled: must be true or false'],
    [{ alerts: { delivery: { retries: 50 } } }, 'alerts.delivery.retries: must be a number from 0 to 10'],
    [{ alerts: { rateLimit: { burst: 0 } } }, 'alerts.rateLimit.burst: must be a number from 1'],
    [{ alerts: { channels: {} } }, 'alerts.channels: must be a list'],
    [{ alerts: { channels: [{ type: 'slack', url: 'https://x.example' }] } }, 'alerts.channels[0].name: is required'],
    [{ alerts: { channels: [{ name: 'a', type: 'email', url: 'https://x.example' }] } }, 'alerts.channels[0].type: must be generic, slack or telegram, got "email"'],
    [{ alerts: { channels: [{ name: 'a', type: 'generic', url: 'https://x.example' }, { name: 'a', type: 'generic', url: 'https://y.example' }] } }, 'alerts.channels[1].name: "a" is used by another channel'],
    [{ alerts: { channels: [{ name: 'a', type: 'generic' }] } }, 'alerts.channels[0].url: set exactly one of url and urlEnv'],
    [{ alerts: { channels: [{ name: 'a', type: 'generic', url: 'ftp://x.example/a' }] } }, 'alerts.channels[0].url: must be an http:// or https:// URL, got a ftp: URL'],
    [{ alerts: { channels: [{ name: 'a', type: 'slack', urlEnv: 'NOPE' }] } }, 'alerts.channels[0].urlEnv: environment variable NOPE is not set'],
    [{ alerts: { channels: [{ name: 'a', type: 'telegram', chatId: '1' }] } }, 'alerts.channels[0].botTokenEnv: is required for telegram'],
    [{ alerts: { channels: [{ name: 'a', type: 'telegram', botTokenEnv: 'TG' }] } }, 'alerts.channels[0].chatId: is required for telegram'],
    [{ alerts: { channels: [{ name: 'a', type: 'telegram', botTokenEnv: 'TG', chatId: '1', url: 'https://x.example' }] } }, 'alerts.channels[0].url: not used by telegram'],
    [{ alerts: { channels: [{ name: 'a', type: 'generic', url: 'https://x.example', chatId: '1' }] } }, 'alerts.channels[0].chatId: only used by telegram channels'],
    [{ alerts: { channels: [{ name: 'a', type: 'generic', url: 'https://x.example', minSeverity: 'page' }] } }, 'alerts.channels[0].minSeverity: must be one of info, warning, critical'],
    [{ alerts: { channels: [{ name: 'a', type: 'generic', url: 'https://x.example', rules: ['overheat'] }] } }, 'alerts.channels[0].rules[0]: unknown rule "overheat"'],
  ])('%j is refused: %s', (raw, message) => {
    let err: unknown;
    try { parseAlertsConfig(raw, '/etc/rigwarden/alerts.yaml', ENV); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(AlertsConfigError);
    expect((err as Error).message).toContain(`/etc/rigwarden/alerts.yaml: ${message}`);
  });

  it('never repeats a secret in an error', () => {
    const bad = [
      { name: 'a', type: 'generic', url: 'notaurl://secretuser:secretpass@x' },
      { name: 'a', type: 'slack', urlEnv: 'BAD_HOOK' },
    ];
    for (const channel of bad) {
      let message = '';
      try { parseAlertsConfig({ alerts: { channels: [channel] } }, 'alerts.yaml', { BAD_HOOK: 'gopher://secretpart' }); } catch (e) { message = (e as Error).message; }
      expect(message).toMatch(/alerts\.channels\[0\]\.url/);
      expect(message).not.toMatch(/secret/);
    }
  });

  it('loads a YAML file and names it in errors', () => {
    const dir = makeTempDir();
    try {
      const file = join(dir.path, 'alerts.yaml');
      writeFileSync(file, 'alerts:\n  channels:\n    - name: tg\n      type: telegram\n      botTokenEnv: TG\n      chatId: "42"\n');
      expect(loadAlertsConfig(file, ENV).channels[0]!.chatId).toBe('42');
      writeFileSync(file, 'alerts:\n  rules: [oops\n');
      expect(() => loadAlertsConfig(file, ENV)).toThrow(`${file}: not valid YAML`);
      expect(() => loadAlertsConfig(join(dir.path, 'missing.yaml'), ENV)).toThrow(/missing\.yaml: cannot read the alerts file \(ENOENT\)/);
    } finally {
      dir.remove();
    }
  });

  it('the example in docs/observability.md is valid as written', () => {
    const doc = readFileSync(join(__dirname, '../../../../docs/observability.md'), 'utf8');
    const example = /<!-- alerts-example -->\s*```yaml\n([\s\S]*?)```/.exec(doc);
    expect(example).not.toBeNull();
    const config = parseAlertsConfig(parseDocument(example![1]!).toJS(), 'docs/observability.md', { SLACK_WEBHOOK_URL: ENV.HOOK, TELEGRAM_BOT_TOKEN: TOKEN });
    expect(config.channels.map((c) => c.type)).toEqual(['slack', 'telegram', 'generic']);
  });
});
