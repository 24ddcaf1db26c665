import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Metadata } from '@grpc/grpc-js';

/**
 * The bootstrap admin API token a controller wrote into its data dir (`admin.token`), or '' when it wrote none.
 * Tests use it to call the gRPC API (`grpcAuth`) and pass it to rigctl (env RIGWARDEN_API_KEY_FILE).
 */
export function readAdminToken(dataDir: string): string {
  const file = join(dataDir, 'admin.token');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
}

/** gRPC metadata carrying `authorization: Bearer <token>` (empty metadata for an empty token). */
export function grpcAuth(token: string): Metadata {
  const metadata = new Metadata();
  if (token !== '') metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}
