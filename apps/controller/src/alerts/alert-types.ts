/** Rule ids: the same words in the config file, notifications, metrics labels and the dashboard. */
export const ALERT_RULES = ['rig-offline', 'quarantined', 'overheating', 'pool-down', 'pool-failover', 'pool-dead', 'security'] as const;
export type AlertRuleName = (typeof ALERT_RULES)[number];

export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

export function severityRank(s: AlertSeverity): number {
  return ALERT_SEVERITIES.indexOf(s);
}

/** An event as the rules see it (agent events and recorded policy decisions alike). */
export interface AlertEventInput {
  readonly rigId: string;
  /** e.g. `policy.quarantine`, `safety.critical_temperature`, `security.command_rejected`. */
  readonly kind: string;
  readonly severity: string;
  readonly reason: string;
  readonly message: string;
  /** Epoch ms. */
  readonly at: number;
}

/** A rig's connectivity as stored: the agent's retained state, and when its newest snapshot was collected. */
export interface RigPresence {
  readonly rigId: string;
  readonly online: boolean;
  /** Epoch ms of the newest stored snapshot; absent before the first one. */
  readonly lastSeen?: number;
}

/** One pool as a miner reports it, for the pool-dead rule. */
export interface PoolPresence {
  readonly url: string;
  /** The miner says Dead (cgminer "Status": "Dead"): the pool cannot be reached at all. */
  readonly dead: boolean;
  /** The pool the miner hashes on. */
  readonly active: boolean;
}

/** A firing alert, one per (rule, rig). */
export interface ActiveAlert {
  /** `<rule>:<rig>`: the dedup key. */
  readonly key: string;
  readonly rule: AlertRuleName;
  readonly rigId: string;
  readonly severity: AlertSeverity;
  /** Machine-readable cause (the event's reason or kind, or `no-telemetry` / `agent-offline`). */
  readonly reason: string;
  /** One sentence for a human. */
  readonly summary: string;
  /** Epoch ms: when the condition started. */
  readonly since: number;
  /** Epoch ms of the newest occurrence. */
  readonly lastAt: number;
  /** Occurrences folded into this alert since it started. */
  readonly occurrences: number;
  /** Epoch ms of the last notification sent for it. */
  readonly lastNotifiedAt: number;
}

export type NotificationType = 'firing' | 'reminder' | 'resolved';

/** What the rules ask to send. */
export interface AlertNotification {
  readonly type: NotificationType;
  readonly rule: AlertRuleName;
  readonly rigId: string;
  readonly severity: AlertSeverity;
  readonly reason: string;
  readonly summary: string;
  readonly since: number;
  /** Epoch ms: when the rules produced it. */
  readonly at: number;
  /** Occurrences since the previous notification for this alert (1 for the first). */
  readonly occurrences: number;
}

export type DeliveryOutcome = 'delivered' | 'failed' | 'rate_limited' | 'dropped';

export interface DeliveryCount {
  readonly channel: string;
  readonly outcome: DeliveryOutcome;
  readonly count: number;
}

/** What the metrics exporter reads from the alert service. */
export interface AlertMetricsSource {
  /** leftToOwner: notifications of rigs another controller owns, left to it to send (controllers sharing the fleet). */
  readonly counters?: { readonly leftToOwner: number };
  active(): ActiveAlert[];
  deliveryCounts(): DeliveryCount[];
  queueDepth(): number;
}
