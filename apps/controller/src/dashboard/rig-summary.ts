import type { MinerSnapshot, Rig } from '@rigwarden/protocol';

/** "quarantined" wins over "offline", which wins over "online". */
export type RigStatus = 'online' | 'offline' | 'quarantined';

/** One row of the dashboard's rig table: what the table shows, sorts and filters on. */
export interface RigSummary {
  rigId: string;
  status: RigStatus;
  group: string;
  /** Models of the rig's miners, joined with ", " when they differ. */
  model: string;
  vendor: string;
  algorithm: string;
  miners: number;
  /** Sum over the miners of their shortest-window hashrate (H/s); null when no miner reported one. */
  hashrateHs: number | null;
  /** Hottest board or chip temperature on the rig (°C). */
  maxTempC: number | null;
  powerW: number | null;
  fanMinRpm: number | null;
  /** URL of the pool the (first) miner hashes on. */
  activePool: string;
  /** Collect errors in the latest snapshots. */
  errors: number;
  /** Epoch ms of the newest snapshot. */
  lastSeen: number | null;
  labels: Record<string, string>;
  /** The controller's verdict ("online", "stale", "offline", "miner-unreachable") and why. */
  liveness: string;
  livenessMessage: string;
  /** The miner program(s) as VERSION names them ("bfgminer 5.5.0-34-g866fd36f"), joined when they differ. */
  program: string;
  /** The label of the window hashrateHs is over ("5s", "20s"; "av" when only the average is known; "mixed"). */
  hashrateWindow: string;
}

export const SORT_KEYS = ['rigId', 'status', 'group', 'model', 'hashrateHs', 'maxTempC', 'powerW', 'fanMinRpm', 'lastSeen', 'errors'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export interface RigQuery {
  sort: SortKey;
  dir: 'asc' | 'desc';
  status?: RigStatus;
  group?: string;
  /** Case-insensitive substring of the model. */
  model?: string;
  /** Case-insensitive substring of the rig id, active pool or a label value. */
  text?: string;
  offset: number;
  limit: number;
}

/** The miner's shortest hashrate window, with the miner's own label (bfgminer's is 20 s), else its average. */
export function minerWindow(m: MinerSnapshot): { label: string; hs: number } | undefined {
  let best: { label: string; hs: number; s: number } | undefined;
  for (const w of m.hashrateWindows ?? []) {
    if (w.label === 'av') continue;
    const s = w.windowS ?? Infinity;
    if (!best || s < best.s) best = { label: w.label, hs: w.hashrateHs, s };
  }
  if (best) return { label: best.label, hs: best.hs };
  if (m.hashrate5sHs !== undefined) return { label: '5s', hs: m.hashrate5sHs };
  return m.hashrateAvgHs === undefined ? undefined : { label: 'av', hs: m.hashrateAvgHs };
}

export function minerHashrate(m: MinerSnapshot): number | undefined {
  return minerWindow(m)?.hs;
}

function minerProgram(m: MinerSnapshot): string {
  if (m.software) return [m.software, m.softwareVersion].filter(Boolean).join(' ');
  // A firmware string that already names the vendor ("t-rex 0.26.8") is not prefixed with it again.
  return m.firmware.toLowerCase().startsWith(m.vendor.toLowerCase()) ? m.firmware : [m.vendor, m.firmware].filter(Boolean).join(' ');
}

export function minerMaxTemp(m: MinerSnapshot): number | undefined {
  let max: number | undefined;
  for (const b of m.boards) for (const t of [b.boardTempC, b.chipTempC]) if (t !== undefined && (max === undefined || t > max)) max = t;
  return max;
}

function sumOrNull(values: Array<number | undefined>): number | null {
  const present = values.filter((v): v is number => v !== undefined);
  return present.length === 0 ? null : present.reduce((a, b) => a + b, 0);
}

function extreme(values: Array<number | undefined>, pick: (a: number, b: number) => number): number | null {
  const present = values.filter((v): v is number => v !== undefined);
  return present.length === 0 ? null : present.reduce((a, b) => pick(a, b));
}

function distinct(values: string[]): string {
  return [...new Set(values.filter((v) => v !== ''))].join(', ');
}

export function summarise(rig: Rig): RigSummary {
  const miners = rig.miners;
  const power = miners.map((m) => m.powerW ?? sumOrNull(m.boards.map((b) => b.powerW)) ?? undefined);
  const fans = miners.flatMap((m) => m.fans.map((f) => f.rpm));
  const active = miners[0]?.pools.find((p) => p.active);
  const lastSeen = rig.lastSeen?.getTime() ?? extreme(miners.map((m) => m.collectedAt?.getTime()), Math.max);
  return {
    rigId: rig.rigId,
    status: rig.quarantined ? 'quarantined' : rig.online ? 'online' : 'offline',
    group: rig.group,
    model: distinct(miners.map((m) => m.model)) || rig.labels['model'] || '',
    vendor: distinct(miners.map((m) => m.vendor)),
    algorithm: distinct(miners.map((m) => m.algorithm)),
    miners: miners.length,
    hashrateHs: sumOrNull(miners.map(minerHashrate)),
    maxTempC: extreme(miners.map(minerMaxTemp), Math.max),
    powerW: sumOrNull(power),
    fanMinRpm: extreme(fans, Math.min),
    activePool: active?.url ?? '',
    errors: miners.reduce((n, m) => n + m.errors.length, 0),
    lastSeen,
    labels: { ...rig.labels },
    liveness: rig.liveness || (rig.online ? 'online' : 'offline'),
    livenessMessage: rig.livenessMessage ?? '',
    program: distinct(miners.map(minerProgram)),
    hashrateWindow: [...new Set(miners.map((m) => minerWindow(m)?.label).filter((l): l is string => l !== undefined))].reduce((a, l) => (a === '' ? l : a === l ? a : 'mixed'), ''),
  };
}

function compare(a: RigSummary, b: RigSummary, key: SortKey): number {
  const x = a[key];
  const y = b[key];
  // Missing numbers sort last whatever the direction is handled by the caller; here null is the smallest.
  if (x === y) return 0;
  if (x === null) return -1;
  if (y === null) return 1;
  return typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
}

export function matches(s: RigSummary, q: Pick<RigQuery, 'status' | 'group' | 'model' | 'text'>): boolean {
  if (q.status && s.status !== q.status) return false;
  if (q.group !== undefined && q.group !== '' && s.group !== q.group) return false;
  if (q.model && !s.model.toLowerCase().includes(q.model.toLowerCase())) return false;
  if (q.text) {
    const t = q.text.toLowerCase();
    const hay = [s.rigId, s.activePool, ...Object.values(s.labels)];
    if (!hay.some((h) => h.toLowerCase().includes(t))) return false;
  }
  return true;
}

/** Filters, sorts (ties by rig id; missing values last in both directions) and pages. */
export function queryRigs(all: Iterable<RigSummary>, q: RigQuery): { total: number; rigs: RigSummary[] } {
  const selected = [...all].filter((s) => matches(s, q));
  const sign = q.dir === 'desc' ? -1 : 1;
  selected.sort((a, b) => {
    const an = a[q.sort] === null;
    const bn = b[q.sort] === null;
    if (an !== bn) return an ? 1 : -1;
    return sign * compare(a, b, q.sort) || a.rigId.localeCompare(b.rigId);
  });
  return { total: selected.length, rigs: selected.slice(q.offset, q.offset + q.limit) };
}

export interface HotDevice {
  rigId: string;
  minerId: string;
  /** Board (hash board or GPU) index. */
  board: number;
  name: string;
  tempC: number;
}

export interface FleetOverview {
  rigs: { total: number; online: number; offline: number; quarantined: number };
  /** Total hashrate (H/s) per algorithm ("unknown" when the miner does not say), online rigs only. */
  hashrateByAlgorithm: Record<string, number>;
  powerW: number;
  /** The hottest boards/GPUs, hottest first. */
  hottest: HotDevice[];
  groups: string[];
  models: string[];
}

/** Tracks the hottest `size` devices without sorting every board of the fleet. */
function pushHot(list: HotDevice[], d: HotDevice, size: number): void {
  if (list.length === size && list[size - 1]!.tempC >= d.tempC) return;
  list.push(d);
  list.sort((a, b) => b.tempC - a.tempC || a.rigId.localeCompare(b.rigId));
  if (list.length > size) list.pop();
}

export function overview(rigs: Iterable<Rig>, summaries: Iterable<RigSummary>, hottestCount = 5): FleetOverview {
  const counts = { total: 0, online: 0, offline: 0, quarantined: 0 };
  const groups = new Set<string>();
  const models = new Set<string>();
  let powerW = 0;
  for (const s of summaries) {
    counts.total++;
    counts[s.status]++;
    if (s.group) groups.add(s.group);
    for (const m of s.model.split(', ')) if (m) models.add(m);
    if (s.status !== 'offline') powerW += s.powerW ?? 0;
  }
  const hashrateByAlgorithm: Record<string, number> = {};
  const hottest: HotDevice[] = [];
  for (const rig of rigs) {
    for (const m of rig.miners) {
      const h = minerHashrate(m);
      if (rig.online && h !== undefined) hashrateByAlgorithm[m.algorithm || 'unknown'] = (hashrateByAlgorithm[m.algorithm || 'unknown'] ?? 0) + h;
      for (const b of m.boards) {
        const t = Math.max(b.boardTempC ?? -Infinity, b.chipTempC ?? -Infinity);
        if (t > -Infinity) pushHot(hottest, { rigId: rig.rigId, minerId: m.minerId, board: b.index, name: b.name || `board ${b.index}`, tempC: t }, hottestCount);
      }
    }
  }
  return { rigs: counts, hashrateByAlgorithm, powerW, hottest, groups: [...groups].sort(), models: [...models].sort() };
}
