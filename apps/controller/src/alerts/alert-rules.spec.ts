import { AlertRules, type AlertRulesOptions } from './alert-rules';
import { ALERT_RULES, type AlertEventInput, type AlertRuleName, type PoolPresence, type RigPresence } from './alert-types';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const S = 1000;
const ALL = Object.fromEntries(ALERT_RULES.map((r) => [r, true])) as Record<AlertRuleName, boolean>;
const OPTIONS: AlertRulesOptions = { enabled: ALL, offlineAfterMs: 120 * S, renotifyMs: 3600 * S };

type Step =
  | { at: number; event: Partial<AlertEventInput> & { kind: string } }
  | { at: number; presence: RigPresence[] }
  | { at: number; tick: true }
  | { at: number; pools: PoolPresence[] };

interface Case {
  name: string;
  steps: Step[];
  /** Every notification, in order: "<type> <rule> <rig> <severity> x<occurrences>". */
  sent: string[];
  /** Keys of the alerts still firing at the end. */
  active: string[];
  options?: Partial<AlertRulesOptions>;
}

const ev = (at: number, kind: string, over: Partial<AlertEventInput> = {}): Step => ({
  at, event: { rigId: 'rig-1', kind, severity: 'warning', reason: '', message: `${kind} happened`, at: T0 + at, ...over },
});
const up = (at: number, rigId = 'rig-1', lastSeenAgo = 0): Step => ({ at, presence: [{ rigId, online: true, lastSeen: T0 + at - lastSeenAgo }] });
const offline = (at: number, rigId = 'rig-1', lastSeen?: number): Step => ({ at, presence: [lastSeen === undefined ? { rigId, online: false } : { rigId, online: false, lastSeen: T0 + lastSeen }] });
const tick = (at: number): Step => ({ at, tick: true });
/** rig-1's miner reports pool A and B: which is in use, which are Dead. */
const pools = (at: number, active: 'A' | 'B', dead: string = ''): Step => ({
  at, pools: (['A', 'B'] as const).map((p) => ({ url: `stratum+tcp://w:secret@pool-${p}.example:3333`, active: p === active, dead: dead.includes(p) })),
});

const CASES: Case[] = [
  {
    name: 'pool-dead: the pool in use killed outright fires at once, once; resolved when it is alive again',
    steps: [pools(0, 'A'), pools(5 * S, 'A', 'A'), pools(10 * S, 'A', 'A'), pools(15 * S, 'A', 'A'), tick(20 * S), pools(25 * S, 'A')],
    sent: ['firing pool-dead rig-1 critical x1', 'resolved pool-dead rig-1 critical x0'],
    active: [],
  },
  {
    name: 'pool-dead: the miner failed over by itself, the killed pool dead for 60 s fires (from the next snapshot or the tick)',
    steps: [pools(0, 'A'), pools(5 * S, 'B', 'A'), pools(30 * S, 'B', 'A'), tick(66 * S), pools(70 * S, 'B', 'A')],
    sent: ['firing pool-dead rig-1 critical x1'],
    active: ['pool-dead:rig-1'],
  },
  {
    name: 'pool-dead: a backup dead for less than 60 s never fires',
    steps: [pools(0, 'A', 'B'), pools(50 * S, 'A', 'B'), tick(55 * S), pools(58 * S, 'A')],
    sent: [],
    active: [],
  },
  {
    name: 'rig-offline: agent disconnected for 121 s fires once, critical; back online resolves',
    steps: [up(0), offline(10 * S, 'rig-1', 0), offline(60 * S, 'rig-1', 0), offline(121 * S, 'rig-1', 0), offline(125 * S, 'rig-1', 0), up(200 * S)],
    sent: ['firing rig-offline rig-1 critical x1', 'resolved rig-offline rig-1 critical x0'],
    active: [],
  },
  {
    name: 'rig-offline: a disconnect shorter than afterS never fires',
    steps: [offline(0, 'rig-1', 0), offline(100 * S, 'rig-1', 0), up(110 * S), offline(130 * S, 'rig-1', 130 * S), tick(200 * S)],
    sent: [],
    active: [],
  },
  {
    name: 'rig-offline: connected agent but no telemetry for more than afterS fires (reason no-telemetry)',
    steps: [up(0), up(100 * S, 'rig-1', 100 * S), up(121 * S, 'rig-1', 121 * S)],
    sent: ['firing rig-offline rig-1 critical x1'],
    active: ['rig-offline:rig-1'],
  },
  {
    name: 'rig-offline: a rig never seen, reported offline, counts from when the rules first saw it',
    steps: [offline(0), offline(119 * S), offline(121 * S)],
    sent: ['firing rig-offline rig-1 critical x1'],
    active: ['rig-offline:rig-1'],
  },
  {
    name: 'rig-offline: still down after the renotify interval is repeated as a reminder, then resolved',
    steps: [offline(0, 'rig-1', 0), offline(130 * S, 'rig-1', 0), tick(1800 * S), tick(3730 * S), tick(3800 * S), up(4000 * S)],
    sent: ['firing rig-offline rig-1 critical x1', 'reminder rig-offline rig-1 critical x1', 'resolved rig-offline rig-1 critical x0'],
    active: [],
  },
  {
    name: 'rig-offline: alerts are per rig; one rig back does not resolve another',
    steps: [offline(0, 'rig-1', 0), offline(0, 'rig-2', 0), offline(130 * S, 'rig-1', 0), offline(130 * S, 'rig-2', 0), up(140 * S, 'rig-2')],
    sent: ['firing rig-offline rig-1 critical x1', 'firing rig-offline rig-2 critical x1', 'resolved rig-offline rig-2 critical x0'],
    active: ['rig-offline:rig-1'],
  },
  {
    name: 'quarantined: the watchdog quarantine fires critical; a release resolves',
    steps: [ev(0, 'policy.quarantine', { reason: 'ladder-exhausted', severity: 'critical' }), ev(60 * S, 'policy.release')],
    sent: ['firing quarantined rig-1 critical x1', 'resolved quarantined rig-1 critical x0'],
    active: [],
  },
  {
    name: 'overheating: a thermal step-down fires warning, the agent\'s critical trip escalates it (notified again), resume resolves',
    steps: [
      ev(0, 'policy.apply-profile', { reason: 'temperature-high', severity: 'warning' }),
      ev(30 * S, 'policy.apply-profile', { reason: 'temperature-high', severity: 'warning' }),
      ev(60 * S, 'safety.critical_temperature', { reason: 'critical-temperature', severity: 'critical' }),
      ev(900 * S, 'safety.resumed'),
    ],
    sent: ['firing overheating rig-1 warning x1', 'firing overheating rig-1 critical x2', 'resolved overheating rig-1 critical x0'],
    active: [],
  },
  {
    name: 'overheating: a profile change for another reason is not a thermal alert; temperature-recovered resolves',
    steps: [
      ev(0, 'policy.apply-profile', { reason: 'profile-above-desired' }),
      ev(10 * S, 'policy.stop-mining', { reason: 'temperature-critical', severity: 'critical' }),
      ev(20 * S, 'policy.apply-profile', { reason: 'temperature-recovered', severity: 'info' }),
    ],
    sent: ['firing overheating rig-1 critical x1', 'resolved overheating rig-1 critical x0'],
    active: [],
  },
  {
    name: 'pool-down: no healthy pool fires critical; the next pool switch resolves it and is itself no failover alert when the preferred pool is back',
    steps: [ev(0, 'policy.alert', { reason: 'no-healthy-pool', severity: 'critical' }), ev(100 * S, 'policy.switch-pool', { reason: 'preferred-pool-stable' })],
    sent: ['firing pool-down rig-1 critical x1', 'resolved pool-down rig-1 critical x0'],
    active: [],
  },
  {
    name: 'pool-failover: a failover notifies once; repeats within the renotify interval are folded into one reminder',
    steps: [
      ev(0, 'policy.switch-pool', { reason: 'active-pool-dead' }),
      ev(600 * S, 'policy.switch-pool', { reason: 'active-pool-silent' }),
      ev(1200 * S, 'policy.switch-pool', { reason: 'active-pool-dead' }),
      tick(1800 * S),
      tick(3600 * S),
    ],
    sent: ['firing pool-failover rig-1 warning x1', 'reminder pool-failover rig-1 warning x2'],
    active: ['pool-failover:rig-1'],
  },
  {
    name: 'security: rejected commands notify once per rig per interval, expire silently when quiet',
    steps: [
      ev(0, 'security.command_rejected', { reason: 'bad_signature', severity: 'warning' }),
      ev(5 * S, 'security.command_rejected', { reason: 'bad_signature', severity: 'warning' }),
      ev(6 * S, 'security.command_rejected', { rigId: 'rig-2', reason: 'replayed_nonce', severity: 'warning' }),
      tick(3600 * S), // rig-1 had a folded repeat: one reminder
      tick(7200 * S), // both quiet for an interval since their last notification: expire
    ],
    sent: ['firing security rig-1 warning x1', 'firing security rig-2 warning x1', 'reminder security rig-1 warning x1'],
    active: [],
  },
  {
    name: 'a disabled rule produces nothing',
    options: { enabled: { ...ALL, security: false, 'rig-offline': false } },
    steps: [ev(0, 'security.command_rejected'), offline(0), offline(500 * S)],
    sent: [],
    active: [],
  },
  {
    name: 'events the rules do not know are ignored',
    steps: [ev(0, 'policy.restart-miner', { reason: 'hashrate-low' }), ev(1, 'safety.something_new')],
    sent: [],
    active: [],
  },
];

describe('AlertRules', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const rules = new AlertRules({ ...OPTIONS, ...c.options });
    const sent: string[] = [];
    for (const step of c.steps) {
      const now = T0 + step.at;
      const out = 'event' in step ? rules.observeEvent({ rigId: 'rig-1', severity: 'warning', reason: '', message: '', at: now, ...step.event }, now)
        : 'presence' in step ? rules.observePresence(step.presence, now)
          : 'pools' in step ? rules.observePools('rig-1', step.pools, now)
            : rules.tick(now);
      for (const n of out) sent.push(`${n.type} ${n.rule} ${n.rigId} ${n.severity} x${n.occurrences}`);
    }
    expect(sent).toEqual(c.sent);
    expect(rules.active().map((a) => a.key)).toEqual(c.active);
  });

  it('pool-dead: the summary names the dead pool without its credentials', () => {
    const rules = new AlertRules(OPTIONS);
    const [n] = rules.observePools('rig-1', [{ url: 'stratum+tcp://w:secret@pool-a.example:3333', active: true, dead: true }], T0);
    expect(n).toMatchObject({ rule: 'pool-dead', reason: 'active-pool-dead', summary: 'rig-1: pool dead: stratum+tcp://pool-a.example:3333 (in use) for 0 s' });
  });

  it('active(): most severe first, then oldest; with the outage start, not the detection time', () => {
    const rules = new AlertRules(OPTIONS);
    rules.observeEvent({ rigId: 'rig-a', kind: 'security.command_rejected', severity: 'warning', reason: 'bad_signature', message: 'forged', at: T0 }, T0);
    rules.observePresence([{ rigId: 'rig-b', online: false, lastSeen: T0 - 500 * S }], T0 + 10 * S);
    rules.observeEvent({ rigId: 'rig-c', kind: 'policy.quarantine', severity: 'critical', reason: 'ladder-exhausted', message: 'rig-c quarantined', at: T0 + 20 * S }, T0 + 20 * S);
    expect(rules.active().map((a) => [a.key, a.severity, a.since, a.reason])).toEqual([
      ['rig-offline:rig-b', 'critical', T0 - 500 * S, 'agent-offline'],
      ['quarantined:rig-c', 'critical', T0 + 20 * S, 'ladder-exhausted'],
      ['security:rig-a', 'warning', T0, 'bad_signature'],
    ]);
    expect(rules.active()[0]!.summary).toBe('rig-b: offline (agent disconnected) for 510 s');
  });

  it('watching(): only rigs seen down are rechecked on their next update', () => {
    const rules = new AlertRules(OPTIONS);
    rules.observePresence([{ rigId: 'rig-1', online: true, lastSeen: T0 }, { rigId: 'rig-2', online: false, lastSeen: T0 }], T0);
    expect([rules.watching('rig-1'), rules.watching('rig-2')]).toEqual([false, true]);
    rules.observePresence([{ rigId: 'rig-2', online: true, lastSeen: T0 + S }], T0 + S);
    expect(rules.watching('rig-2')).toBe(false);
  });
});
