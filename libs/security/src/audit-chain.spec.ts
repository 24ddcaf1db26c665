import { inspect } from 'node:util';
import { AuditChain, type AuditEntry, type ChainedAuditEntry } from './audit-chain';
import { SecretBytes } from './secret-bytes';
import { findSecretLeaks } from './secret.scanner';
import { T0 } from './testing/envelope-fixtures';

const key = SecretBytes.generate();
const chain = new AuditChain(key);

function table(n: number): ChainedAuditEntry[] {
  const rows: ChainedAuditEntry[] = [];
  for (let i = 1; i <= n; i++) {
    const entry: AuditEntry = {
      seq: i, at: T0 + i * 1000, principal: i % 2 ? 'alice' : 'controller', keyId: i % 2 ? '0123456789abcdef' : undefined,
      action: i % 3 ? 'command.switchPool' : 'keys.rotate', target: `rig-${i % 5}`, outcome: i % 7 ? 'ok' : 'permission_denied',
    };
    rows.push(chain.append(entry, rows[rows.length - 1]));
  }
  return rows;
}

describe('audit-chain', () => {
  it('audit-chain: an untouched table verifies and returns its anchor', () => {
    const rows = table(50);
    expect(chain.verify(rows)).toEqual({ ok: true, entries: 50, lastMac: rows[49]?.mac });
    expect(chain.verify([])).toEqual({ ok: true, entries: 0, lastMac: '' });
  });

  it.each<[string, (rows: ChainedAuditEntry[]) => ChainedAuditEntry[], { index: number; reason: string }]>([
    ['a changed outcome', (r) => r.map((e) => (e.seq === 10 ? { ...e, outcome: 'failed' } : e)), { index: 9, reason: 'bad_mac' }],
    ['a changed principal', (r) => r.map((e) => (e.seq === 3 ? { ...e, principal: 'mallory' } : e)), { index: 2, reason: 'bad_mac' }],
    ['a deleted row', (r) => r.filter((e) => e.seq !== 20), { index: 19, reason: 'seq_gap' }],
    ['a deleted row, renumbered', (r) => r.filter((e) => e.seq !== 20).map((e, i) => ({ ...e, seq: i + 1 })), { index: 19, reason: 'bad_mac' }],
    ['two rows swapped', (r) => [...r.slice(0, 4), r[5] as ChainedAuditEntry, r[4] as ChainedAuditEntry, ...r.slice(6)], { index: 4, reason: 'seq_gap' }],
    ['a row forged with another key', (r) => [...r.slice(0, 30), new AuditChain(SecretBytes.generate()).append({ ...(r[30] as ChainedAuditEntry), outcome: 'ok' }, r[29])], { index: 30, reason: 'bad_mac' }],
  ])('audit-chain: %s is found where it happened', (_name, tamper, expected) => {
    expect(chain.verify(tamper(table(50)))).toMatchObject({ ok: false, ...expected });
  });

  it('audit-chain: cutting rows off the end is visible only against the anchor', () => {
    const rows = table(50);
    const anchor = chain.verify(rows);
    const cut = chain.verify(rows.slice(0, 45));
    expect(cut.ok).toBe(true);
    expect(cut.ok && anchor.ok && cut.lastMac !== anchor.lastMac).toBe(true);
  });

  it('audit-chain: append refuses a gap in seq', () => {
    const rows = table(2);
    expect(() => chain.append({ ...(rows[1] as ChainedAuditEntry), seq: 4 }, rows[1])).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });

  it('audit-chain: renders without its key', () => {
    expect(findSecretLeaks(`${JSON.stringify(chain)} ${inspect(chain, { showHidden: true })} ${inspect(chain, { customInspect: false })}`, { key })).toEqual([]);
  });
});
