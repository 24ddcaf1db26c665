import type { Event, MinerSnapshot, Rig } from '@rigwarden/protocol';

const UNITS = ['H/s', 'kH/s', 'MH/s', 'GH/s', 'TH/s', 'PH/s', 'EH/s'];

export function formatHashrate(hs: number | undefined): string {
  if (hs === undefined) return '-';
  let value = hs;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(value >= 100 ? 1 : 2)} ${UNITS[unit]}`;
}

function sum(values: Array<number | undefined>): number | undefined {
  const present = values.filter((v): v is number => v !== undefined);
  return present.length === 0 ? undefined : present.reduce((a, b) => a + b, 0);
}

function maxTemp(miners: MinerSnapshot[]): number | undefined {
  const temps = miners.flatMap((m) => m.boards.flatMap((b) => [b.boardTempC, b.chipTempC])).filter((t): t is number => t !== undefined);
  return temps.length === 0 ? undefined : Math.max(...temps);
}

export function age(from: Date | undefined, now: number): string {
  if (!from) return '-';
  const s = Math.max(0, Math.round((now - from.getTime()) / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  return `${Math.round(s / 3600)}h ago`;
}

/** The miner program as its VERSION names it ("bfgminer 5.5.0-34-g866fd36f"), else the vendor and firmware. */
export function minerProgram(m: MinerSnapshot): string {
  if (m.software) return [m.software, m.softwareVersion].filter(Boolean).join(' ');
  // A firmware string that already names the vendor ("t-rex 0.26.8") is not prefixed with it again.
  const firmware = m.firmware.toLowerCase().startsWith(m.vendor.toLowerCase()) ? m.firmware : [m.vendor, m.firmware].filter(Boolean).join(' ');
  return firmware || 'unidentified';
}

/** The miner's shortest hashrate window with its own label (bfgminer's is "20s", not 5 s). */
export function shortestWindow(m: MinerSnapshot): { label: string; hs: number } | undefined {
  const windows = m.hashrateWindows.filter((w) => w.label !== 'av');
  if (windows.length > 0) {
    const w = windows.reduce((a, b) => ((a.windowS ?? Infinity) <= (b.windowS ?? Infinity) ? a : b));
    return { label: w.label, hs: w.hashrateHs };
  }
  return m.hashrate5sHs === undefined ? undefined : { label: '5s', hs: m.hashrate5sHs };
}

/** Sum of the miners' shortest windows, labelled: "1.02 MH/s (20s)"; "(mixed)" when the miners' labels differ. */
export function rigHashrate(miners: MinerSnapshot[]): string {
  const windows = miners.map(shortestWindow).filter((w): w is { label: string; hs: number } => w !== undefined);
  if (windows.length === 0) return '-';
  const labels = new Set(windows.map((w) => w.label));
  return `${formatHashrate(windows.reduce((n, w) => n + w.hs, 0))} (${labels.size === 1 ? [...labels][0] : 'mixed'})`;
}

/** The controller's liveness verdict ("stale"), or online/offline from a controller that does not judge it. */
export function livenessText(rig: Rig): string {
  return rig.liveness || (rig.online ? 'online' : 'offline');
}

export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export function rigsTable(rigs: Rig[], now: number): string {
  const rows = rigs.map((rig) => {
    const miners = rig.miners;
    const fans = miners.flatMap((m) => m.fans).map((f) => f.rpm).filter((r): r is number => r !== undefined);
    const active = miners.flatMap((m) => m.pools).find((p) => p.active);
    const errors = miners.flatMap((m) => m.errors);
    return [
      rig.rigId,
      livenessText(rig),
      String(miners.length),
      [...new Set(miners.map(minerProgram))].join(', ') || '-',
      rigHashrate(miners),
      formatHashrate(sum(miners.map((m) => m.hashrateAvgHs))),
      maxTemp(miners)?.toFixed(1) ?? '-',
      fans.length === 0 ? '-' : `${fans.length} @ ${Math.min(...fans)}-${Math.max(...fans)} rpm`,
      active?.url ?? '-',
      errors.length === 0 ? '-' : errors.map((e) => e.kind).join(','),
      warningsText(miners),
      age(rig.lastSeen, now),
      rig.group || '-',
      labelsText(rig.labels),
      rig.quarantined ? 'QUARANTINED' : '',
    ];
  });
  return renderTable(['RIG', 'STATE', 'MINERS', 'PROGRAM', 'HASHRATE', 'HASHRATE AVG', 'MAX TEMP C', 'FANS', 'ACTIVE POOL', 'ERRORS', 'WARNINGS', 'LAST SEEN', 'GROUP', 'LABELS', ''], rows);
}

/** "2 refused, 1 phantom" or "-": values the driver refused and devices it flagged as phantom. */
function warningsText(miners: MinerSnapshot[]): string {
  const refused = miners.reduce((n, m) => n + m.fieldWarnings.length, 0);
  const phantom = miners.reduce((n, m) => n + m.boards.filter((b) => b.phantomReason).length, 0);
  const parts = [refused > 0 ? `${refused} refused` : '', phantom > 0 ? `${phantom} phantom` : ''].filter(Boolean);
  return parts.length === 0 ? '-' : parts.join(', ');
}

/** "k=v,k2=v2" in key order, "-" for none. */
export function labelsText(labels: Readonly<Record<string, string>> | undefined): string {
  const entries = Object.entries(labels ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? '-' : entries.map(([k, v]) => `${k}=${v}`).join(',');
}

export function rigDetail(rig: Rig, now: number): string {
  const out: string[] = [`rig ${rig.rigId}: ${livenessText(rig)}, last seen ${age(rig.lastSeen, now)}, seq ${rig.lastSeq}${rig.agentId ? `, agent ${rig.agentId}` : ''}`];
  const refused = (rig.fieldWarningCounts ?? []).map((w) => `${w.field} (${w.reason}) x${w.count}`);
  if (refused.length > 0) out.push(`refused by the agent since it started: ${refused.join(', ')}`);
  if (rig.livenessMessage) out.push(`liveness: ${rig.livenessMessage}${rig.livenessSince ? ` (since ${age(rig.livenessSince, now)})` : ''}${rig.livenessReason ? ` [${rig.livenessReason}]` : ''}`);
  out.push(`group ${rig.group || '(none: no policy acts on it)'}; labels ${labelsText(rig.labels)}${rig.quarantined ? '; QUARANTINED (no automatic actions until an operator clears it)' : ''}`);
  for (const m of rig.miners) {
    const made = [m.vendor, m.model].filter((x) => x && x !== m.software).join(', ');
    out.push('', `miner ${m.minerId}: ${minerProgram(m)}${made ? ` (${made})` : ''} via ${m.driver}`);
    if (m.capabilities.length > 0) out.push(`  can: ${m.capabilities.join(', ')}`);
    const windows = m.hashrateWindows.length > 0
      ? m.hashrateWindows.map((w) => `${formatHashrate(w.hashrateHs)} (${w.label})`).join(', ')
      : `${formatHashrate(m.hashrate5sHs)} (5s), ${formatHashrate(m.hashrateAvgHs)} (av)`;
    out.push(`  hashrate ${windows}; accepted ${m.accepted ?? '-'}, rejected ${m.rejected ?? '-'}, stale ${m.stale ?? '-'}, hw errors ${m.hwErrors ?? '-'}; uptime ${m.uptimeS ?? '-'} s${m.powerW !== undefined ? `; ${m.powerW} W` : ''}`);
    if (m.boards.length > 0) {
      out.push(renderTable(['  BOARD', 'HASHRATE', 'BOARD C', 'CHIP C', 'CHIPS', 'HW ERR', 'STATUS'], m.boards.map((b) => [
        `  ${b.index}`, formatHashrate(b.hashrateHs), b.boardTempC?.toFixed(1) ?? '-', b.chipTempC?.toFixed(1) ?? '-',
        b.chips?.toString() ?? '-', b.hwErrors?.toString() ?? '-',
        b.phantomReason ? `phantom: ${b.phantomReason} (ignored)` : ['unknown', 'ok', 'dead', 'disabled'][b.status] ?? 'unknown',
      ])));
    }
    if (m.fans.length > 0) out.push(`  fans: ${m.fans.map((f) => `#${f.index} ${f.rpm ?? '-'} rpm${f.percent !== undefined ? ` (${f.percent}%)` : ''}`).join(', ')}`);
    if (m.pools.length > 0) {
      out.push(renderTable(['  POOL', 'URL', 'USER', 'STATUS', 'STRATUM', 'PRIO', 'ACCEPTED', 'REJECTED', 'ACTIVE'], m.pools.map((p) => [
        `  ${p.index}`, p.url, p.user, ['unspecified', 'alive', 'dead', 'disabled', 'rejecting', 'unknown'][p.status] ?? 'unknown',
        p.stratumActive === undefined ? '-' : p.stratumActive ? 'up' : 'down',
        p.priority?.toString() ?? '-', p.accepted?.toString() ?? '-', p.rejected?.toString() ?? '-',
        p.active ? `*${p.activeEvidence ? ` (${p.activeEvidence})` : ''}` : '',
      ])));
      if (m.currentPoolUrl) out.push(`  the miner says it is on ${m.currentPoolUrl} (lcd)`);
    }
    for (const w of m.fieldWarnings) out.push(`  refused: ${w.field} = ${JSON.stringify(w.value)} (${w.reason})`);
    for (const e of m.errors) out.push(`  error: ${e.kind}: ${e.message}`);
  }
  return out.join('\n');
}

export function eventsTable(events: Event[]): string {
  return renderTable(['AT', 'SEVERITY', 'KIND', 'REASON', 'BY', 'MESSAGE', 'COMMAND'], events.map((e) => [
    e.at?.toISOString() ?? '-', e.severity, e.kind, e.reason, e.source, e.message, e.commandId || '-',
  ]));
}
