import { DriverError, type MinerEndpoint, type MinerReading } from '@rigwarden/drivers-core';

/** Runs a decoder; a reply it cannot read becomes a DriverError('parse') naming the request. */
export function decodeReply(endpoint: MinerEndpoint, command: string, decode: () => MinerReading): MinerReading {
  try {
    return { ...decode(), host: endpoint.host, port: endpoint.port };
  } catch (err) {
    if (err instanceof DriverError) throw err;
    throw new DriverError('parse', (err as Error).message, { host: endpoint.host, port: endpoint.port, command }, { cause: err });
  }
}

export function timeoutOption(endpoint: MinerEndpoint, fallback = 5_000): number {
  const value = endpoint.options?.['timeoutMs'];
  return typeof value === 'number' && value > 0 ? value : fallback;
}
