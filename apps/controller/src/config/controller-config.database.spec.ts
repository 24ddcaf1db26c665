import { describeStorage } from '../persistence/storage-backend';
import { ControllerConfigError, loadControllerConfig } from './controller-config';

describe('controller config: the database', () => {
  it('controller-config: SQLite at <data-dir>/rigwarden.db unless --database or RIGWARDEN_DATABASE_URL names PostgreSQL', () => {
    const sqlite = loadControllerConfig(['--data-dir', '/tmp/rw-db'], {});
    expect(sqlite.databaseUrl).toBeUndefined();
    expect(describeStorage(sqlite)).toBe('/tmp/rw-db/rigwarden.db');
    expect(loadControllerConfig(['--database', 'postgres://rw@db.local:5432/fleet'], {}).databaseUrl).toBe('postgres://rw@db.local:5432/fleet');
    expect(loadControllerConfig([], { RIGWARDEN_DATABASE_URL: 'postgresql://rw:pw@db/fleet' }).databaseUrl).toBe('postgresql://rw:pw@db/fleet');
    expect(loadControllerConfig(['--database=postgres://a@b/c'], { RIGWARDEN_DATABASE_URL: 'postgres://x@y/z' }).databaseUrl).toBe('postgres://a@b/c');
    expect(describeStorage(loadControllerConfig([], { RIGWARDEN_DATABASE_URL: 'postgres://rw:pw@db/fleet' }))).toBe('postgres://rw:***@db/fleet');
  });

  it('controller-config: refuses a URL that is not PostgreSQL\'s, without echoing its password, and --db beside --database', () => {
    expect(() => loadControllerConfig(['--database', 'mysql://rw:topsecret@db/fleet'], {})).toThrow(ControllerConfigError);
    expect(() => loadControllerConfig(['--database', 'mysql://rw:topsecret@db/fleet'], {})).toThrow(/expected a PostgreSQL URL like postgres:\/\/.*"mysql:\/\/rw:\*\*\*@db\/fleet"/);
    expect(() => loadControllerConfig(['--database', 'mysql://rw:topsecret@db/fleet'], {})).not.toThrow(/topsecret/);
    expect(() => loadControllerConfig(['--db', 'x.db', '--database', 'postgres://a@b/c'], {})).toThrow('--db (a SQLite file) and --database (PostgreSQL) exclude each other');
  });

  it('controller-config: --replica-id (or RIGWARDEN_REPLICA_ID) names this controller among those sharing --database', () => {
    expect(loadControllerConfig(['--database', 'postgres://a@b/c', '--replica-id', 'ctl-a'], {}).replicaId).toBe('ctl-a');
    expect(loadControllerConfig([], { RIGWARDEN_DATABASE_URL: 'postgres://a@b/c', RIGWARDEN_REPLICA_ID: 'ctl-b' }).replicaId).toBe('ctl-b');
    expect(loadControllerConfig([], {}).replicaId).toBeUndefined();
    expect(() => loadControllerConfig(['--replica-id', 'ctl-a'], {})).toThrow('--replica-id needs --database');
    expect(() => loadControllerConfig(['--database', 'postgres://a@b/c', '--replica-id', 'ctl a'], {})).toThrow('--replica-id / RIGWARDEN_REPLICA_ID: use 1-64 characters');
  });
});
