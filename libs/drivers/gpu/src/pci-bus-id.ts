/**
 * PCI bus ids come in several spellings: nvidia-smi "00000000:01:00.0", sysfs and
 * gminer "0000:01:00.0", xmrig "01:00.0", lolMiner "1:0" (bus:device), T-Rex
 * pci_domain/pci_bus/pci_id numbers. They all become "0000:01:00.0" (lowercase,
 * 4-digit domain): the key that matches a miner's GPU to the OS sensors.
 */
const FULL = /^(?:([0-9a-f]{1,8}):)?([0-9a-f]{1,2}):([0-9a-f]{1,2})\.([0-7])$/i;

function hex(value: number, width: number): string {
  return value.toString(16).padStart(width, '0');
}

/** Builds the canonical id from numbers. */
export function pciBusIdFromParts(domain: number, bus: number, device: number, fn = 0): string {
  return `${hex(domain & 0xffff, 4)}:${hex(bus & 0xff, 2)}:${hex(device & 0x1f, 2)}.${fn & 7}`;
}

/** The canonical "0000:01:00.0" form of a full or domain-less address, or undefined. */
export function normalisePciBusId(input: unknown): string | undefined {
  if (typeof input !== 'string') return undefined;
  const full = FULL.exec(input.trim());
  if (!full) return undefined;
  return pciBusIdFromParts(parseInt(full[1] ?? '0', 16), parseInt(full[2]!, 16), parseInt(full[3]!, 16), Number(full[4]));
}

/**
 * lolMiner's "bus:device" ("1:0"). lolMiner prints the bus number in decimal (Hive OS
 * reads it the same way), so "10:0" is bus 0x0a.
 */
export function pciBusIdFromLolminer(input: unknown): string | undefined {
  if (typeof input !== 'string') return undefined;
  const match = /^(\d{1,3}):(\d{1,2})$/.exec(input.trim());
  if (!match) return normalisePciBusId(input);
  return pciBusIdFromParts(0, Number(match[1]), Number(match[2]), 0);
}
