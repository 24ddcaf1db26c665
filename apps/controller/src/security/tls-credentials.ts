import { readFileSync } from 'node:fs';
import { ServerCredentials } from '@grpc/grpc-js';
import type { ControllerConfig } from '../config/controller-config';

export class TlsConfigError extends Error {
  override readonly name = 'TlsConfigError';
}

function read(file: string, flag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new TlsConfigError(`${flag} ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/**
 * The gRPC server's credentials: plaintext without --grpc-tls-cert (loopback, or behind a TLS proxy), TLS with it,
 * and mutual TLS (a client certificate signed by --grpc-tls-ca is required) when a CA is given too. API keys are
 * checked either way.
 */
export function grpcServerCredentials(config: Pick<ControllerConfig, 'grpcTls'>): ServerCredentials {
  const tls = config.grpcTls;
  if (!tls) return ServerCredentials.createInsecure();
  const ca = tls.caFile ? read(tls.caFile, '--grpc-tls-ca') : null;
  return ServerCredentials.createSsl(ca, [{ cert_chain: read(tls.certFile, '--grpc-tls-cert'), private_key: read(tls.keyFile, '--grpc-tls-key') }], ca !== null);
}

/** MQTT.js options for TLS to the broker (used with an mqtts:// URL): the CA to trust and an optional client certificate. */
export function mqttTlsOptions(config: Pick<ControllerConfig, 'mqttTls'>): { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean } {
  const tls = config.mqttTls;
  if (!tls) return {};
  return {
    ...(tls.caFile ? { ca: read(tls.caFile, '--mqtt-ca') } : {}),
    ...(tls.certFile ? { cert: read(tls.certFile, '--mqtt-cert') } : {}),
    ...(tls.keyFile ? { key: read(tls.keyFile, '--mqtt-key') } : {}),
    rejectUnauthorized: true,
  };
}
