import { ListAuditRequest, ListAuditResponse, VerifyAuditRequest, VerifyAuditResponse, type AuditEntry } from '@rigwarden/protocol';
import { EXIT } from './exit-codes';
import { UsageError, value } from './fleet-command';
import { renderTable } from './format';
import { adminUnary, type AdminCommand } from './keys.command';

const UNITS_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "15m", "2h", "7d" ago, or an RFC 3339 time. */
export function parseSince(text: string, now: number): Date {
  const ago = /^(\d+)([smhd])$/.exec(text);
  if (ago) return new Date(now - Number(ago[1]) * UNITS_MS[ago[2]!]!);
  const at = Date.parse(text);
  if (Number.isNaN(at) || !/^\d{4}-\d{2}-\d{2}/.test(text)) throw new UsageError(`--since: expected 15m, 2h, 7d or an RFC 3339 time, got "${text}"`);
  return new Date(at);
}

export function auditTable(entries: readonly AuditEntry[]): string {
  if (entries.length === 0) return 'no audit entries match';
  return renderTable(['SEQ', 'AT', 'PRINCIPAL', 'ACTION', 'TARGET', 'OUTCOME', 'DETAIL'], entries.map((e) => [
    String(e.seq), e.at ? e.at.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-', e.principal, e.action, e.target || '-', e.outcome,
    e.detail === '{}' ? '' : e.detail.length > 80 ? `${e.detail.slice(0, 77)}...` : e.detail,
  ]));
}

const FILTERS = ['principal', 'action', 'target', 'since', 'limit'];

/** rigctl audit [filters] | audit --verify. */
export const auditCommand: AdminCommand = {
  name: 'audit',
  summary: 'the append-only audit log, newest first; --verify checks its hash chain',
  description: `The append-only audit log, newest first: who (API key) did what to what, and how it ended.
With --verify: check the log's hash chain: intact (with the anchor to keep elsewhere), or the first row that was
changed or removed (exit 1).`,
  flags: {
    principal: { kind: 'value', placeholder: 'P', description: 'only entries of this principal (e.g. apikey:<key-id>)' },
    action: { kind: 'value', placeholder: 'A', description: 'only this action' },
    target: { kind: 'value', placeholder: 'T', description: 'only this target' },
    since: { kind: 'value', placeholder: 'TIME', description: 'only entries since then: 15m, 2h, 7d or RFC 3339' },
    limit: { kind: 'value', placeholder: 'N', description: 'at most N entries, 1 to 10000 (default 50)' },
    verify: { kind: 'switch', description: "check the hash chain instead of listing (takes no filters)" },
  },
  checksExtraArguments: true,
  examples: ['rigctl audit --principal apikey:3f0c2a9d --since 7d', 'rigctl audit --verify'],
  async run(ctx, args) {
    if (args.positional.length > 0) throw new UsageError(`unexpected "${args.positional[0]}"`);
    if (args.switches.has('verify')) {
      const filter = FILTERS.find((f) => args.values.has(f));
      if (filter !== undefined) throw new UsageError(`--verify checks the whole log: it takes no --${filter}`);
      const check = await adminUnary(ctx, ctx.client.verifyAudit, VerifyAuditRequest.fromPartial({}));
      if (ctx.json) ctx.io.out(JSON.stringify(VerifyAuditResponse.toJSON(check), null, 2));
      else if (check.ok) ctx.io.out(`audit log intact: ${check.entries} rows; anchor: seq ${check.lastSeq} hash ${check.lastHash || '-'} (keep it elsewhere to notice rows cut off the end)`);
      else ctx.io.out(`audit log BROKEN at seq ${check.brokenSeq} (${check.reason}): ${check.entries} rows before it verify; rows were changed, inserted or removed outside the controller`);
      return check.ok ? EXIT.OK : EXIT.FAILED;
    }
    const limitText = value(args, 'limit') ?? '50';
    const limit = Number(limitText);
    if (!Number.isInteger(limit) || limit <= 0 || limit > 10_000) throw new UsageError(`--limit needs a whole number from 1 to 10000, got "${limitText}"`);
    const since = value(args, 'since');
    const listed = await adminUnary(ctx, ctx.client.listAudit, ListAuditRequest.fromPartial({
      principal: value(args, 'principal') ?? '', action: value(args, 'action') ?? '', target: value(args, 'target') ?? '',
      limit, ...(since !== undefined ? { since: parseSince(since, ctx.io.now()) } : {}),
    }));
    ctx.io.out(ctx.json ? JSON.stringify(ListAuditResponse.toJSON(listed), null, 2) : auditTable(listed.entries));
    return EXIT.OK;
  },
};
