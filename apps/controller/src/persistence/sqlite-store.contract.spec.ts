import { join } from 'node:path';
import { AuditChain, SecretBytes } from '@rigwarden/security';
import { makeTempDir } from '@rigwarden/testing';
import { RigPresenceReader } from '../alerts/rig-presence.reader';
import { AuditRepository } from '../audit/audit.repository';
import { CommandRepository } from '../commands/command-repository';
import { DashboardReadRepository } from '../dashboard/dashboard-read.repository';
import { ApiKeyRepository } from '../security/api-key.repository';
import { EventRepository } from './event-repository';
import { FleetSpecRepository } from './fleet-spec.repository';
import { LatestStatusCache } from './latest-status.cache';
import { LivenessRepository } from './liveness.repository';
import { migrate } from './migrations';
import { RigRepository } from './rig-repository';
import { RollupRepository } from './rollup-repository';
import { SqliteDatabase } from './sqlite-database';
import { describeStoreContract } from './store.contract';
import { TelemetryQueryRepository } from './telemetry-query.repository';

describeStoreContract('SQLite (a temp file per test)', async () => {
  const dir = makeTempDir();
  const db = await SqliteDatabase.open(join(dir.path, 'rigwarden.db'));
  await migrate(db);
  const key = SecretBytes.generate();
  let t = Date.parse('2026-12-01T10:00:00Z');
  return {
    rigs: new RigRepository(db, new LatestStatusCache()),
    events: new EventRepository(db),
    rollups: new RollupRepository(db),
    liveness: new LivenessRepository(db),
    specs: new FleetSpecRepository(db),
    queries: new TelemetryQueryRepository(db),
    apiKeys: new ApiKeyRepository(db),
    audit: new AuditRepository(db, new AuditChain(key), () => (t += 1000)),
    commands: new CommandRepository(db),
    dashboard: new DashboardReadRepository(db),
    presence: new RigPresenceReader(db),
    reopenRigs: () => new RigRepository(db),
    close: async () => {
      await db.close();
      dir.remove();
    },
  };
});
