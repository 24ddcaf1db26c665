/**
 * Scan targets: CIDR ranges ("10.0.0.0/22"), single addresses ("10.0.0.5"),
 * address:port ("10.0.0.5:4029") and dash ranges ("10.0.0.10-10.0.0.40" or
 * "10.0.0.10-40"). IPv4 only: mining farms' management networks are.
 */
export interface ScanTarget {
  host: string;
  port: number;
}

/** Refuse accidental /8s: more addresses than this in one scan is almost certainly a typo. */
export const MAX_SCAN_ADDRESSES = 65_536;

export class ScanTargetError extends Error {
  override readonly name = 'ScanTargetError';
}

function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) throw new ScanTargetError(`"${ip}" is not an IPv4 address`);
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) throw new ScanTargetError(`"${ip}" is not an IPv4 address`);
    value = value * 256 + Number(part);
  }
  return value;
}

function intToIp(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

export function expandTargets(specs: readonly string[], defaultPort = 4028): ScanTarget[] {
  const out: ScanTarget[] = [];
  const seen = new Set<string>();
  const push = (host: string, port: number): void => {
    const key = `${host}:${port}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ host, port });
    if (out.length > MAX_SCAN_ADDRESSES) throw new ScanTargetError(`more than ${MAX_SCAN_ADDRESSES} addresses; split the scan`);
  };
  for (const raw of specs) {
    const spec = raw.trim();
    if (!spec) continue;
    const portMatch = /^(.*?):(\d+)$/.exec(spec);
    const body = portMatch ? portMatch[1]! : spec;
    const port = portMatch ? Number(portMatch[2]) : defaultPort;
    if (port < 1 || port > 65535) throw new ScanTargetError(`invalid port in "${spec}"`);
    if (body.includes('/')) {
      const [base, bitsText] = body.split('/');
      const bits = Number(bitsText);
      if (!Number.isInteger(bits) || bits < 0 || bits > 32) throw new ScanTargetError(`invalid prefix length in "${spec}"`);
      const size = 2 ** (32 - bits);
      if (size > MAX_SCAN_ADDRESSES) throw new ScanTargetError(`"${spec}" has ${size} addresses; at most ${MAX_SCAN_ADDRESSES}`);
      const network = Math.floor(ipToInt(base!) / size) * size;
      // Skip the network and broadcast addresses of ranges larger than /31.
      const first = size > 2 ? network + 1 : network;
      const last = size > 2 ? network + size - 2 : network + size - 1;
      for (let v = first; v <= last; v++) push(intToIp(v), port);
    } else if (body.includes('-')) {
      const [from, to] = body.split('-');
      const start = ipToInt(from!);
      const end = to!.includes('.') ? ipToInt(to!) : Math.floor(start / 256) * 256 + Number(to);
      if (!Number.isInteger(end) || end < start) throw new ScanTargetError(`invalid range "${spec}"`);
      if (end - start + 1 > MAX_SCAN_ADDRESSES) throw new ScanTargetError(`"${spec}" is too large`);
      for (let v = start; v <= end; v++) push(intToIp(v), port);
    } else {
      ipToInt(body);
      push(body, port);
    }
  }
  return out;
}
