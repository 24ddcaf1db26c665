import {
  ALERT_SEVERITIES, severityRank,
  type ActiveAlert, type AlertEventInput, type AlertNotification, type AlertRuleName, type AlertSeverity, type PoolPresence, type RigPresence,
} from './alert-types';

export interface AlertRulesOptions {
  /** Rules that produce nothing when false. */
  readonly enabled: Readonly<Record<AlertRuleName, boolean>>;
  /** A rig is offline once its agent is disconnected, or it sent no telemetry, for longer than this. */
  readonly offlineAfterMs: number;
  /** A firing alert is repeated this often; repeats of an event alert within it are folded into one. */
  readonly renotifyMs: number;
  /** A pool the miner reports Dead for longer than this fires pool-dead (the active pool: at once). Default 60 s. */
  readonly poolDeadAfterMs?: number;
}

export const DEFAULT_POOL_DEAD_AFTER_MS = 60_000;

/** Event alerts (failover, security) have no resolving event: they stay listed for one renotify interval. */
const EVENT_RULES: ReadonlySet<AlertRuleName> = new Set(['pool-failover', 'security']);
const THERMAL_STEP_DOWN = new Set(['temperature-high', 'temperature-critical', 'fan-failed']);
const THERMAL_RECOVERED = new Set(['temperature-recovered', 'cooled-after-critical']);
const FAILOVER = new Set(['active-pool-dead', 'active-pool-rejecting', 'active-pool-silent', 'no-active-pool']);

type Effect =
  | { readonly rule: AlertRuleName; readonly fire: true; readonly severity: AlertSeverity; readonly reason: string }
  | { readonly rule: AlertRuleName; readonly fire: false };

function severityOf(s: string, fallback: AlertSeverity): AlertSeverity {
  return (ALERT_SEVERITIES as readonly string[]).includes(s) ? s as AlertSeverity : fallback;
}

/** Which alerts an event starts or ends. Pure: the whole mapping from event kinds to rules is here. */
export function effectsOf(e: AlertEventInput): Effect[] {
  const reason = e.reason || e.kind;
  if (e.kind.startsWith('security.')) return [{ rule: 'security', fire: true, severity: severityOf(e.severity, 'warning'), reason }];
  switch (e.kind) {
    case 'policy.quarantine': return [{ rule: 'quarantined', fire: true, severity: 'critical', reason }];
    case 'policy.release': case 'operator.release': return [{ rule: 'quarantined', fire: false }];
    case 'safety.critical_temperature': case 'policy.stop-mining':
      return [{ rule: 'overheating', fire: true, severity: 'critical', reason }];
    case 'safety.resumed': case 'policy.resume-mining': return [{ rule: 'overheating', fire: false }];
    case 'policy.apply-profile':
      if (THERMAL_STEP_DOWN.has(e.reason)) return [{ rule: 'overheating', fire: true, severity: severityOf(e.severity, 'warning'), reason }];
      if (THERMAL_RECOVERED.has(e.reason)) return [{ rule: 'overheating', fire: false }];
      return [];
    case 'policy.alert':
      return e.reason === 'no-healthy-pool' ? [{ rule: 'pool-down', fire: true, severity: 'critical', reason }] : [];
    case 'policy.switch-pool': {
      // Switching to a pool means one is healthy again.
      const effects: Effect[] = [{ rule: 'pool-down', fire: false }];
      if (FAILOVER.has(e.reason)) effects.push({ rule: 'pool-failover', fire: true, severity: 'warning', reason });
      return effects;
    }
    default: return [];
  }
}

interface MutableAlert {
  key: string;
  rule: AlertRuleName;
  rigId: string;
  severity: AlertSeverity;
  reason: string;
  summary: string;
  since: number;
  lastAt: number;
  occurrences: number;
  lastNotifiedAt: number;
  /** Occurrences folded since the last notification. */
  unsent: number;
}

/**
 * The alert rules: events and rig presence in, notifications out. No I/O and no clock of its own (`now` is passed),
 * so every behaviour is a table of inputs at fixed times. One alert per (rule, rig): repeats are folded into it,
 * a firing alert is repeated every `renotifyMs`, and a condition that ends sends one resolve notification.
 */
export class AlertRules {
  private readonly alerts = new Map<string, MutableAlert>();
  /** Rigs seen down, not yet for long enough: rig id → epoch ms the outage started. */
  private readonly down = new Map<string, number>();
  /** Per rig, each pool its miners report Dead: url → epoch ms it was first seen dead, and whether it is the active one. */
  private readonly deadPools = new Map<string, Map<string, { since: number; active: boolean }>>();

  constructor(private readonly options: AlertRulesOptions) {}

  observeEvent(e: AlertEventInput, now: number): AlertNotification[] {
    const out: AlertNotification[] = [];
    const summary = `${e.rigId}: ${e.message || e.kind}`;
    for (const effect of effectsOf(e)) {
      if (!this.options.enabled[effect.rule]) continue;
      if (effect.fire) this.fire(effect.rule, e.rigId, effect.severity, effect.reason, summary, e.at || now, now, out);
      else this.resolve(effect.rule, e.rigId, summary, now, out);
    }
    return out;
  }

  /** The stored connectivity of some rigs (all of them, or the ones that just changed). */
  observePresence(rigs: readonly RigPresence[], now: number): AlertNotification[] {
    const out: AlertNotification[] = [];
    if (!this.options.enabled['rig-offline']) return out;
    const after = this.options.offlineAfterMs;
    for (const p of rigs) {
      const stale = p.lastSeen !== undefined && now - p.lastSeen > after;
      if (p.online && !stale) {
        this.down.delete(p.rigId);
        this.resolve('rig-offline', p.rigId, `${p.rigId}: back online`, now, out);
        continue;
      }
      // Down since its last telemetry when there is some, else since we first saw it down.
      const since = p.lastSeen ?? this.down.get(p.rigId) ?? now;
      this.down.set(p.rigId, since);
      if (now - since > after) {
        const reason = p.online ? 'no-telemetry' : 'agent-offline';
        const what = p.online ? 'no telemetry' : 'agent disconnected';
        this.fire('rig-offline', p.rigId, 'critical', reason, `${p.rigId}: offline (${what}) for ${Math.round((now - since) / 1000)} s`, since, now, out, true);
      }
    }
    return out;
  }

  /**
   * The pools a rig's miner reports now (each snapshot). A pool killed outright shows Dead: the pool in use at once,
   * any other (a backup, or the preferred one the miner left) once it has been dead for poolDeadAfterMs. One alert
   * per rig naming the dead pools; resolved when none is dead any more.
   */
  observePools(rigId: string, pools: readonly PoolPresence[], now: number): AlertNotification[] {
    const out: AlertNotification[] = [];
    if (!this.options.enabled['pool-dead']) return out;
    let tracked = this.deadPools.get(rigId);
    if (!tracked && !pools.some((p) => p.dead)) return out; // the common case: nothing dead, nothing tracked
    tracked ??= new Map();
    const next = new Map<string, { since: number; active: boolean }>();
    for (const p of pools) if (p.dead) next.set(p.url, { since: tracked.get(p.url)?.since ?? now, active: p.active });
    if (next.size === 0) {
      this.deadPools.delete(rigId);
      this.resolve('pool-dead', rigId, `${rigId}: every pool alive again`, now, out);
      return out;
    }
    this.deadPools.set(rigId, next);
    this.checkDeadPools(rigId, next, now, out);
    return out;
  }

  private checkDeadPools(rigId: string, dead: Map<string, { since: number; active: boolean }>, now: number, out: AlertNotification[]): void {
    const after = this.options.poolDeadAfterMs ?? DEFAULT_POOL_DEAD_AFTER_MS;
    const firing = [...dead].filter(([, d]) => d.active || now - d.since >= after);
    if (firing.length === 0) return;
    const since = Math.min(...firing.map(([, d]) => d.since));
    const active = firing.some(([, d]) => d.active);
    const list = firing.map(([url, d]) => `${redactUrl(url)}${d.active ? ' (in use)' : ''} for ${Math.round((now - d.since) / 1000)} s`).join(', ');
    this.fire('pool-dead', rigId, 'critical', active ? 'active-pool-dead' : 'pool-dead', `${rigId}: pool dead: ${list}`, since, now, out, true);
  }

  /** Reminders for alerts still firing, and event alerts that have been quiet for a renotify interval. */
  tick(now: number): AlertNotification[] {
    const out: AlertNotification[] = [];
    // A backup pool dead for long enough fires without waiting for the next snapshot.
    for (const [rigId, dead] of this.deadPools) if (!this.alerts.has(`pool-dead:${rigId}`)) this.checkDeadPools(rigId, dead, now, out);
    for (const a of [...this.alerts.values()]) {
      if (now - a.lastNotifiedAt < this.options.renotifyMs) continue;
      if (EVENT_RULES.has(a.rule)) {
        if (a.unsent > 0) this.notify(a, 'reminder', now, out);
        else this.alerts.delete(a.key);
        continue;
      }
      this.notify(a, 'reminder', now, out);
    }
    return out;
  }

  active(): ActiveAlert[] {
    return [...this.alerts.values()]
      .map(({ unsent: _unsent, ...a }) => a)
      .sort((x, y) => severityRank(y.severity) - severityRank(x.severity) || x.since - y.since || x.key.localeCompare(y.key));
  }

  /** Whether the rig is down or has an offline alert: its next update should be checked soon. */
  watching(rigId: string): boolean {
    return this.down.has(rigId);
  }

  private fire(rule: AlertRuleName, rigId: string, severity: AlertSeverity, reason: string, summary: string, since: number, now: number, out: AlertNotification[], level = false): void {
    const key = `${rule}:${rigId}`;
    const a = this.alerts.get(key);
    if (!a) {
      const created: MutableAlert = { key, rule, rigId, severity, reason, summary, since: Math.min(since, now), lastAt: now, occurrences: 1, lastNotifiedAt: now, unsent: 0 };
      this.alerts.set(key, created);
      out.push(toNotification(created, 'firing', now, 1));
      return;
    }
    if (level) {
      a.summary = summary; // a level observation repeats every check: it is not a new occurrence
      return;
    }
    a.occurrences++;
    a.unsent++;
    a.lastAt = now;
    a.summary = summary;
    a.reason = reason;
    if (severityRank(severity) > severityRank(a.severity)) {
      a.severity = severity; // an escalation is news: say it now
      this.notify(a, 'firing', now, out);
    }
  }

  private resolve(rule: AlertRuleName, rigId: string, summary: string, now: number, out: AlertNotification[]): void {
    const key = `${rule}:${rigId}`;
    const a = this.alerts.get(key);
    if (!a) return;
    this.alerts.delete(key);
    out.push({ ...toNotification(a, 'resolved', now, a.unsent), summary });
  }

  private notify(a: MutableAlert, type: 'firing' | 'reminder', now: number, out: AlertNotification[]): void {
    out.push(toNotification(a, type, now, Math.max(1, a.unsent)));
    a.unsent = 0;
    a.lastNotifiedAt = now;
  }
}

/** A pool URL without credentials (stratum+tcp://user:pass@host). */
function redactUrl(url: string): string {
  return url.replace(/\/\/[^/@]*@/, '//');
}

function toNotification(a: MutableAlert, type: AlertNotification['type'], at: number, occurrences: number): AlertNotification {
  return { type, rule: a.rule, rigId: a.rigId, severity: a.severity, reason: a.reason, summary: a.summary, since: a.since, at, occurrences };
}
