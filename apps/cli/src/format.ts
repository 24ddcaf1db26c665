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
      rig.online ? 'online' : 'offline',
      String(miners.length),
      formatHashrate(sum(miners.map((m) => m.hashrate5sHs))),
      formatHashrate(sum(miners.map((m) => m.hashrateAvgHs))),
      maxTemp(miners)?.toFixed(1) ?? '-',
      fans.length === 0 ? '-' : `${fans.length} @ ${Math.min(...fans)}-${Math.max(...fans)} rpm`,
      active?.url ?? '-',
      errors.length === 0 ? '-' : errors.map((e) => e.kind).join(','),
      age(rig.lastSeen, now),
      rig.group || '-',
      labelsText(rig.labels),
      rig.quarantined ? 'QUARANTINED' : '',
    ];
  });
  return renderTable(['RIG', 'STATE', 'MINERS', 'HASHRATE 5S', 'HASHRATE AVG', 'MAX TEMP C', 'FANS', 'ACTIVE POOL', 'ERRORS', 'LAST SEEN', 'GROUP', 'LABELS', ''], rows);
}

/** "k=v,k2=v2" in key order, "-" for none. */
export function labelsText(labels: Readonly<Record<string, string>> | undefined): string {
  const entries = Object.entries(labels ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? '-' : entries.map(([k, v]) => `${k}=${v}`).join(',');
}

export function rigDetail(rig: Rig, now: number): string {
  const out: string[] = [`rig ${rig.rigId}: ${rig.online ? 'online' : 'offline'}, last seen ${age(rig.lastSeen, now)}, seq ${rig.lastSeq}`];
  out.push(`group ${rig.group || '(none: no policy acts on it)'}; labels ${labelsText(rig.labels)}${rig.quarantined ? '; QUARANTINED (no automatic actions until an operator clears it)' : ''}`);
  for (const m of rig.miners) {
    out.push('', `miner ${m.minerId} (${[m.vendor, m.model, m.firmware].filter(Boolean).join(', ') || 'unidentified'}) via ${m.driver}`);
    out.push(`  hashrate ${formatHashrate(m.hashrate5sHs)} (5s), ${formatHashrate(m.hashrateAvgHs)} (avg); accepted ${m.accepted ?? '-'}, rejected ${m.rejected ?? '-'}, stale ${m.stale ?? '-'}, hw errors ${m.hwErrors ?? '-'}; uptime ${m.uptimeS ?? '-'} s${m.powerW !== undefined ? `; ${m.powerW} W` : ''}`);
    if (m.boards.length > 0) {
      out.push(renderTable(['  BOARD', 'HASHRATE', 'BOARD C', 'CHIP C', 'CHIPS', 'HW ERR', 'STATUS'], m.boards.map((b) => [
        `  ${b.index}`, formatHashrate(b.hashrateHs), b.boardTempC?.toFixed(1) ?? '-', b.chipTempC?.toFixed(1) ?? '-',
        b.chips?.toString() ?? '-', b.hwErrors?.toString() ?? '-', ['unknown', 'ok', 'dead', 'disabled'][b.status] ?? 'unknown',
      ])));
    }
    if (m.fans.length > 0) out.push(`  fans: ${m.fans.map((f) => `#${f.index} ${f.rpm ?? '-'} rpm${f.percent !== undefined ? ` (${f.percent}%)` : ''}`).join(', ')}`);
    if (m.pools.length > 0) {
      out.push(renderTable(['  POOL', 'URL', 'USER', 'STATUS', 'PRIO', 'ACCEPTED', 'REJECTED', 'ACTIVE'], m.pools.map((p) => [
        `  ${p.index}`, p.url, p.user, ['unspecified', 'alive', 'dead', 'disabled', 'rejecting', 'unknown'][p.status] ?? 'unknown',
        p.priority?.toString() ?? '-', p.accepted?.toString() ?? '-', p.rejected?.toString() ?? '-', p.active ? '*' : '',
      ])));
    }
    for (const e of m.errors) out.push(`  error: ${e.kind}: ${e.message}`);
  }
  return out.join('\n');
}

export function eventsTable(events: Event[]): string {
  return renderTable(['AT', 'SEVERITY', 'KIND', 'REASON', 'BY', 'MESSAGE', 'COMMAND'], events.map((e) => [
    e.at?.toISOString() ?? '-', e.severity, e.kind, e.reason, e.source, e.message, e.commandId || '-',
  ]));
}
