import { AdminServiceClient, ListAuditRequest, ListAuditResponse, VerifyAuditRequest, VerifyAuditResponse, type AuditEntry } from '@rigwarden/protocol';
import { EXIT } from './exit-codes';
import { renderTable } from './format';
import { authMetadata, channelCredentials, type ConnectionOptions } from './grpc-client';
import { AdminUsageError, adminUnary, parseAdminArgs, reportAdminError, type AdminIo } from './keys.command';

export const AUDIT_USAGE = `audit [--principal P] [--action A] [--target T] [--since TIME] [--limit N]
                    the append-only audit log, newest first: who (API key) did what to what, and how it ended
                    (TIME: 15m, 2h, 7d or RFC 3339; default limit 50)
  audit --verify    check the audit log's hash chain: intact (with the anchor to keep elsewhere), or the first
                    row that was changed or removed (exit 1)`;

const UNITS_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "15m", "2h", "7d" ago, or an RFC 3339 time. */
export function parseSince(text: string, now: number): Date {
  const ago = /^(\d+)([smhd])$/.exec(text);
  if (ago) return new Date(now - Number(ago[1]) * UNITS_MS[ago[2]!]!);
  const at = Date.parse(text);
  if (Number.isNaN(at) || !/^\d{4}-\d{2}-\d{2}/.test(text)) throw new AdminUsageError(`--since: expected 15m, 2h, 7d or an RFC 3339 time, got "${text}"`);
  return new Date(at);
}

export function auditTable(entries: readonly AuditEntry[]): string {
  if (entries.length === 0) return 'no audit entries match';
  return renderTable(['SEQ', 'AT', 'PRINCIPAL', 'ACTION', 'TARGET', 'OUTCOME', 'DETAIL'], entries.map((e) => [
    String(e.seq), e.at ? e.at.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-', e.principal, e.action, e.target || '-', e.outcome,
    e.detail === '{}' ? '' : e.detail.length > 80 ? `${e.detail.slice(0, 77)}...` : e.detail,
  ]));
}

/** rigctl audit: returns the exit code. */
export async function runAuditCommand(argv: readonly string[], connection: ConnectionOptions, io: AdminIo): Promise<number> {
  const client = new AdminServiceClient(connection.server, channelCredentials(connection));
  try {
    if (argv.includes('--verify')) {
      const args = parseAdminArgs(argv.filter((a) => a !== '--verify'), []);
      if (args.positional.length > 0) throw new AdminUsageError(`unexpected "${args.positional[0]}"`);
      const check = await adminUnary(client, client.verifyAudit, VerifyAuditRequest.fromPartial({}), authMetadata(connection), args.timeoutMs);
      if (args.json) io.out(JSON.stringify(VerifyAuditResponse.toJSON(check), null, 2));
      else if (check.ok) io.out(`audit log intact: ${check.entries} rows; anchor: seq ${check.lastSeq} hash ${check.lastHash || '-'} (keep it elsewhere to notice rows cut off the end)`);
      else io.out(`audit log BROKEN at seq ${check.brokenSeq} (${check.reason}): ${check.entries} rows before it verify; rows were changed, inserted or removed outside the controller`);
      return check.ok ? EXIT.OK : EXIT.FAILED;
    }
    const args = parseAdminArgs(argv, ['principal', 'action', 'target', 'since', 'limit']);
    if (args.positional.length > 0) throw new AdminUsageError(`unexpected "${args.positional[0]}"`);
    const limitText = args.values.get('limit') ?? '50';
    const limit = Number(limitText);
    if (!Number.isInteger(limit) || limit <= 0 || limit > 10_000) throw new AdminUsageError(`--limit needs a whole number from 1 to 10000, got "${limitText}"`);
    const since = args.values.get('since');
    const listed = await adminUnary(client, client.listAudit, ListAuditRequest.fromPartial({
      principal: args.values.get('principal') ?? '', action: args.values.get('action') ?? '', target: args.values.get('target') ?? '',
      limit, ...(since !== undefined ? { since: parseSince(since, io.now()) } : {}),
    }), authMetadata(connection), args.timeoutMs);
    io.out(args.json ? JSON.stringify(ListAuditResponse.toJSON(listed), null, 2) : auditTable(listed.entries));
    return EXIT.OK;
  } catch (err) {
    return reportAdminError(err, connection, io, AUDIT_USAGE);
  } finally {
    client.close();
  }
}
