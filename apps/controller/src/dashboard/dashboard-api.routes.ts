import type { IncomingMessage, ServerResponse } from 'node:http';
import { Rig, isValidRigId, type Event } from '@rigwarden/protocol';
import type { ApiScope } from '@rigwarden/security';
import type { Clock } from '@rigwarden/shared';
import type { ActiveAlert } from '../alerts/alert-types';
import type { AuditRecord } from '../audit/audit.repository';
import type { CommandDispatcher } from '../commands/command-dispatcher.service';
import { checkCapability } from '../commands/capability-check';
import type { CommandPayload, CommandRecord, CommandStore } from '../persistence/ports/command.port';
import { FleetError, type FleetErrorKind } from '../fleet/fleet-error';
import type { ListEventsUseCase } from '../fleet/list-events.usecase';
import type { ApiAuth } from '../security/api-auth';
import { resolutionFor, type DashboardReadStore, type SeriesResolution } from '../persistence/ports/dashboard-read.port';
import type { DashboardStream } from './dashboard-stream.service';
import type { FleetViewService } from './fleet-view.service';
import { HttpError, decodePathSegment, intParam, oneOf, readJsonBody, sendJson } from './http-io';
import { SORT_KEYS, type RigStatus } from './rig-summary';
import type { StreamTickets } from './stream-ticket';

export interface DashboardApiDeps {
  auth: ApiAuth;
  view: FleetViewService;
  reads: DashboardReadStore;
  listEvents: ListEventsUseCase;
  commands: CommandStore;
  dispatcher: CommandDispatcher;
  stream: DashboardStream;
  tickets: StreamTickets;
  /** Is this API key usable right now (exists, not revoked, not expired)? Checked again when a ticket is redeemed. */
  keyActive: (keyId: string) => Promise<boolean>;
  /** Streams one API key may hold open at once; one more is a 429. */
  maxStreamsPerKey: number;
  /** The alert rules' firing alerts (AlertService). */
  alerts: { active(): ActiveAlert[] };
  clock: Clock;
  /** Profiles the fleet spec offers a rig (for the apply-profile action). */
  profilesFor: (rigId: string) => string[];
  /** Where the bootstrap admin token is, for the 401 hint. */
  adminTokenHint: string;
  /** The append-only audit log: every action attempted through the dashboard gets a row with its outcome. */
  audit: { append(record: AuditRecord): Promise<unknown> };
  /** Releases a quarantined rig (ReleaseQuarantineUseCase); throws FleetError (404 unknown, 409 not quarantined). */
  releaseQuarantine: (rigId: string, reason: string, principal: string) => Promise<Event>;
}

interface Caller {
  principal: string;
  keyId: string;
  scope: ApiScope;
}

const RANGES: Record<string, number> = { '15m': 900_000, '1h': 3_600_000, '6h': 21_600_000, '24h': 86_400_000, '7d': 604_800_000, '30d': 2_592_000_000 };
const ACTIONS = ['restart', 'switch-pool', 'apply-profile', 'release', 'power-mode', 'fault-light'] as const;
type Action = (typeof ACTIONS)[number];
const MAX_ACTION_TIMEOUT_S = 600;

export function commandJson(c: CommandRecord): Record<string, unknown> {
  return {
    commandId: c.id, rigId: c.rigId, minerId: c.minerId, type: c.type, state: c.state, attempts: c.attempts, createdAt: c.createdAt,
    deadline: c.deadline, finishedAt: c.finishedAt ?? null, cause: c.cause, requestedBy: c.requestedBy, reason: c.reason,
  };
}

/**
 * The dashboard's JSON API under /api/. Handlers only check the caller, map the request and call the controller's
 * use cases, read model and command dispatcher; every refusal is a JSON error that says what to do.
 */
export class DashboardApi {
  constructor(private readonly deps: DashboardApiDeps) {}

  /** Handles a request under /api/; answers 404 JSON for an unknown route. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const rigPath = /^\/api\/rigs\/([^/]+)(?:\/(telemetry|events|commands|actions))?$/.exec(path);
    if (method === 'GET' && path === '/api/stream') return this.openStream(req, res, url);
    if (method === 'POST' && path === '/api/stream-ticket') {
      const caller = await this.authenticate(req, 'read', 'POST /api/stream-ticket');
      return sendJson(res, 200, this.deps.tickets.issue({ principal: caller.principal, keyId: caller.keyId, scope: caller.scope }, this.deps.clock.now()));
    }
    if (method === 'GET' && path === '/api/session') {
      const caller = await this.authenticate(req, 'read', 'GET /api/session');
      return sendJson(res, 200, { principal: caller.principal, keyId: caller.keyId, scope: caller.scope, canOperate: caller.scope !== 'read' });
    }
    if (method === 'GET' && path === '/api/overview') {
      await this.authenticate(req, 'read', 'GET /api/overview');
      return sendJson(res, 200, this.overview());
    }
    if (method === 'GET' && path === '/api/rigs') {
      await this.authenticate(req, 'read', 'GET /api/rigs');
      return sendJson(res, 200, this.rigs(url.searchParams));
    }
    if (method === 'GET' && path === '/api/events') {
      await this.authenticate(req, 'read', 'GET /api/events');
      return sendJson(res, 200, { events: await this.events(url.searchParams) });
    }
    if (method === 'GET' && path === '/api/commands') {
      await this.authenticate(req, 'read', 'GET /api/commands');
      const limit = intParam(url.searchParams, 'limit', 100, 1, 1000);
      const rigId = url.searchParams.get('rig') ?? '';
      return sendJson(res, 200, { commands: (await this.deps.commands.list(rigId, limit)).map(commandJson) });
    }
    if (rigPath) {
      const sub = rigPath[2];
      // The rig id is decoded only once the caller is known: a bad encoding is a 400 for a key holder, a 401 for anyone else.
      if (method === 'POST' && sub === 'actions') {
        const caller = await this.authenticate(req, 'operate', 'POST /api/rigs/:rigId/actions');
        const rigId = decodePathSegment(rigPath[1]!, 'rigId');
        if (!isValidRigId(rigId)) throw new HttpError(400, 'invalid_argument', `${JSON.stringify(rigId.slice(0, 128))} is not a valid rig id`, 'rigId');
        return sendJson(res, 202, await this.audited(rigId, caller, await readJsonBody(req)));
      }
      if (method === 'GET') {
        await this.authenticate(req, 'read', `GET /api/rigs/:rigId${sub ? `/${sub}` : ''}`);
        const rigId = decodePathSegment(rigPath[1]!, 'rigId');
        if (!isValidRigId(rigId)) throw new HttpError(400, 'invalid_argument', `${JSON.stringify(rigId.slice(0, 128))} is not a valid rig id`, 'rigId');
        if (sub === undefined) return sendJson(res, 200, this.rig(rigId));
        if (sub === 'telemetry') return sendJson(res, 200, await this.telemetry(rigId, url.searchParams));
        if (sub === 'events') {
          const limit = intParam(url.searchParams, 'limit', 50, 1, 1000);
          const { events } = await this.deps.listEvents.execute({ rigId, limit, since: undefined });
          return sendJson(res, 200, { events: events.map((e) => ({ ...e, at: e.at?.getTime() ?? null })) });
        }
        if (sub === 'commands') {
          const limit = intParam(url.searchParams, 'limit', 50, 1, 1000);
          return sendJson(res, 200, { commands: (await this.deps.commands.list(rigId, limit)).map(commandJson) });
        }
      }
    }
    const known = ['/api/overview', '/api/rigs', '/api/events', '/api/commands', '/api/session', '/api/stream', '/api/stream-ticket'];
    if (known.includes(path) || rigPath) throw new HttpError(405, 'method_not_allowed', `${method} is not allowed on ${path}`);
    throw new HttpError(404, 'not_found', `no API route ${method} ${path}; see docs/dashboard.md`);
  }

  /** Maps use-case errors to HTTP; anything else is the caller's to turn into a 500. */
  static toHttpError(err: unknown): HttpError | undefined {
    if (err instanceof HttpError) return err;
    if (err instanceof FleetError) {
      const status: Record<FleetErrorKind, number> = { invalid_argument: 400, not_found: 404, failed_precondition: 409 };
      return new HttpError(status[err.kind] ?? 400, err.kind, err.message, err.field);
    }
    return undefined;
  }

  /** The caller of a request with the scope it needs; throws the 401/403 HttpError that says what to do. */
  async authenticate(req: IncomingMessage, required: ApiScope, action: string): Promise<Caller> {
    const result = await this.deps.auth.authenticate(req.headers.authorization, required, action, req.socket.remoteAddress);
    if (result.ok) return { principal: result.principal, keyId: result.keyId, scope: result.scope };
    if (result.retryAfterMs !== undefined) {
      const seconds = Math.ceil(result.retryAfterMs / 1000);
      throw new HttpError(429, 'too_many_refusals', `too many refused requests from this key or address: retry in ${seconds} s with a valid API key`, undefined, { 'retry-after': String(seconds) });
    }
    if (result.status === 'permission_denied') {
      throw new HttpError(403, 'permission_denied', `this API key may not do this: ${action} needs the "${required}" scope; sign in with a key that has it (rigctl keys create --scope ${required})`);
    }
    const why = result.reason === 'missing' ? 'no API key was sent' : `the API key was refused (${result.reason})`;
    throw new HttpError(401, 'unauthenticated', `${why}: send "Authorization: Bearer rwk_..." with a valid key (${this.deps.adminTokenHint})`);
  }

  private async openStream(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const ticket = url.searchParams.get('ticket');
    const refused = new HttpError(401, 'unauthenticated', 'open the stream with a fresh ticket: POST /api/stream-ticket with "Authorization: Bearer rwk_..." answers {"ticket": ...}, valid 60 s and for one stream; then GET /api/stream?ticket=<ticket>');
    const claims = this.deps.tickets.verify(ticket, this.deps.clock.now());
    // The key must still be valid now, not only when the ticket was made (revoked or expired since: refused).
    if (!claims || !(await this.deps.keyActive(claims.keyId))) throw refused;
    const open = this.deps.stream.streamsOf(claims.keyId);
    if (open >= this.deps.maxStreamsPerKey) {
      throw new HttpError(429, 'too_many_streams', `API key ${claims.keyId} already has ${open} open streams (at most ${this.deps.maxStreamsPerKey}); close one (another tab) and retry`, undefined, { 'retry-after': '5' });
    }
    if (!this.deps.tickets.redeem(ticket, this.deps.clock.now())) throw refused; // used by a concurrent request meanwhile
    req.socket.setTimeout(0);
    this.deps.stream.open(res, claims.principal, claims.keyId);
  }

  private overview(): Record<string, unknown> {
    const firing = this.deps.alerts.active();
    // Most severe first, then oldest first (AlertService's order); the page shows the first few.
    const alerts = firing.slice(0, 50).map((a) => ({
      rule: a.rule, rigId: a.rigId, severity: a.severity, reason: a.reason, summary: a.summary, since: a.since, lastAt: a.lastAt, occurrences: a.occurrences,
    }));
    return { ...this.deps.view.overview(), alerts, alertCount: firing.length, at: this.deps.clock.now() };
  }

  private rigs(params: URLSearchParams): Record<string, unknown> {
    const sort = oneOf(params, 'sort', SORT_KEYS, 'rigId')!;
    const dir = oneOf(params, 'dir', ['asc', 'desc'] as const, 'asc')!;
    const status = oneOf<RigStatus>(params, 'status', ['online', 'offline', 'quarantined'], undefined);
    const offset = intParam(params, 'offset', 0, 0, 1_000_000);
    const limit = intParam(params, 'limit', 100, 1, 10_000);
    const result = this.deps.view.query({
      sort, dir, status, group: params.get('group') ?? undefined, model: params.get('model') ?? undefined, text: params.get('q') ?? undefined, offset, limit,
    });
    return { total: result.total, offset, rigs: result.rigs };
  }

  private rig(rigId: string): Record<string, unknown> {
    const rig = this.deps.view.rig(rigId);
    const summary = this.deps.view.summary(rigId);
    if (!rig || !summary) throw new HttpError(404, 'not_found', `no rig "${rigId}": the controller has never received telemetry for it`, 'rigId');
    return { summary, rig: Rig.toJSON(rig), profiles: this.deps.profilesFor(rigId) };
  }

  private async telemetry(rigId: string, params: URLSearchParams): Promise<Record<string, unknown>> {
    const range = oneOf(params, 'range', Object.keys(RANGES), '1h')!;
    const to = intParam(params, 'to', this.deps.clock.now(), 0, Number.MAX_SAFE_INTEGER);
    const from = intParam(params, 'from', to - RANGES[range]!, 0, Number.MAX_SAFE_INTEGER);
    if (from >= to) throw new HttpError(400, 'invalid_argument', `from (${from}) must be before to (${to})`, 'from');
    const resolution = oneOf<SeriesResolution>(params, 'resolution', ['raw', '1m', '1h'], resolutionFor(from, to))!;
    const points = await this.deps.reads.series(rigId, from, to, resolution);
    return { rigId, from, to, resolution, points };
  }

  private async events(params: URLSearchParams): Promise<unknown[]> {
    const severity = params.get('severity')?.split(',').filter((s) => s !== '');
    for (const s of severity ?? []) {
      if (!['info', 'warning', 'critical'].includes(s)) throw new HttpError(400, 'invalid_argument', `severity must be info, warning or critical (comma-separated), got ${JSON.stringify(s)}`, 'severity');
    }
    return this.deps.reads.events({
      rigId: params.get('rig') || undefined, severity, kindPrefix: params.get('kind') || undefined,
      since: params.has('since') ? intParam(params, 'since', 0, 0, Number.MAX_SAFE_INTEGER) : undefined,
      limit: intParam(params, 'limit', 200, 1, 1000),
    });
  }

  /** An action with its audit row: who, with which key, what, on which rig, and how it went (refusals included). */
  private async audited(rigId: string, caller: Caller, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const action = typeof body['action'] === 'string' ? body['action'] : '';
    const record = (outcome: string, detail: Record<string, unknown>): Promise<unknown> => this.deps.audit.append({
      principal: caller.principal, keyId: caller.keyId, action: `dashboard.${action || 'unknown-action'}`, target: rigId, outcome, detail,
    });
    try {
      const result = await this.action(rigId, body, caller);
      await record('ok', { commandId: (result['command'] as { commandId?: string } | undefined)?.commandId ?? '' });
      return result;
    } catch (err) {
      const http = DashboardApi.toHttpError(err); // a use case's FleetError too (release)
      const outcome = http ? (http.status === 404 ? 'not_found' : http.status < 500 ? 'invalid' : 'failed') : 'failed';
      await record(outcome, { error: http ? http.code : 'internal', field: http ? http.field ?? '' : '' });
      throw err;
    }
  }

  private async action(rigId: string, body: Record<string, unknown>, caller: Caller): Promise<Record<string, unknown>> {
    const rig = this.deps.view.rig(rigId);
    if (!rig) throw new HttpError(404, 'not_found', `no rig "${rigId}": the controller has never received telemetry for it`, 'rigId');
    const action = body['action'];
    if (typeof action !== 'string' || !(ACTIONS as readonly string[]).includes(action)) {
      throw new HttpError(400, 'invalid_argument', `action must be one of ${ACTIONS.join(', ')}, got ${JSON.stringify(action)}`, 'action');
    }
    const reason = body['reason'] ?? '';
    if (typeof reason !== 'string' || reason.length > 500) throw new HttpError(400, 'invalid_argument', 'reason must be text of at most 500 characters', 'reason');
    if (action === 'release') {
      // Not a command: an operator.release event, and the reconciler starts the watchdog ladder again.
      const event = await this.deps.releaseQuarantine(rigId, reason, caller.principal);
      this.deps.view.markDirty(rigId);
      return { event: { ...event, at: event.at?.getTime() ?? null } };
    }
    const minerId = body['minerId'] ?? rig.miners[0]?.minerId ?? '';
    if (typeof minerId !== 'string' || (minerId !== '' && !rig.miners.some((m) => m.minerId === minerId))) {
      throw new HttpError(400, 'invalid_argument', `rig ${rigId} has no miner ${JSON.stringify(minerId)} (miners: ${rig.miners.map((m) => m.minerId).join(', ') || 'none'})`, 'minerId');
    }
    const timeoutS = body['timeoutSeconds'] ?? 60;
    if (typeof timeoutS !== 'number' || !Number.isInteger(timeoutS) || timeoutS < 1 || timeoutS > MAX_ACTION_TIMEOUT_S) {
      throw new HttpError(400, 'invalid_argument', `timeoutSeconds must be an integer from 1 to ${MAX_ACTION_TIMEOUT_S}`, 'timeoutSeconds');
    }
    const payload = this.payloadFor(action as Action, body, rig, minerId);
    // What the miner's latest snapshot says it cannot do is refused here (409), as over gRPC.
    checkCapability(rig, minerId, payload, 'action');
    const record = await this.deps.dispatcher.dispatch({
      rigId, minerId, payload, reason: reason || `dashboard: ${action}`, requestedBy: `operator:${caller.principal}`, timeoutMs: timeoutS * 1000,
    });
    const command = commandJson(record);
    this.deps.stream.broadcastCommand(command);
    return { command };
  }

  private payloadFor(action: Action, body: Record<string, unknown>, rig: Rig, minerId: string): CommandPayload {
    if (action === 'restart') return { $case: 'restartMiner', value: {} };
    if (action === 'fault-light') {
      if (typeof body['on'] !== 'boolean') throw new HttpError(400, 'invalid_argument', 'on must be true (blink the locate light) or false', 'on');
      return { $case: 'setFaultLight', value: { on: body['on'] } };
    }
    if (action === 'power-mode') {
      const mode = body['mode'];
      if (mode !== 'normal' && mode !== 'low' && mode !== 'sleep') throw new HttpError(400, 'invalid_argument', `mode must be normal, low or sleep, got ${JSON.stringify(mode)}`, 'mode');
      return { $case: 'setPowerMode', value: { mode } };
    }
    if (action === 'switch-pool') {
      const poolIndex = body['poolIndex'];
      const pools = rig.miners.find((m) => m.minerId === minerId)?.pools ?? [];
      if (typeof poolIndex !== 'number' || !pools.some((p) => p.index === poolIndex)) {
        throw new HttpError(400, 'invalid_argument', `poolIndex must be one of the miner's pools (${pools.map((p) => p.index).join(', ') || 'none reported'}), got ${JSON.stringify(poolIndex)}`, 'poolIndex');
      }
      return { $case: 'switchPool', value: { poolIndex } };
    }
    const profile = body['profile'];
    if (typeof profile !== 'string' || profile === '') throw new HttpError(400, 'invalid_argument', 'profile must name one of the fleet spec\'s profiles for this rig', 'profile');
    const offered = this.deps.profilesFor(rig.rigId);
    if (offered.length > 0 && !offered.includes(profile)) {
      throw new HttpError(400, 'invalid_argument', `rig ${rig.rigId}'s group offers profiles ${offered.join(', ')}; got ${JSON.stringify(profile)}`, 'profile');
    }
    return { $case: 'applyProfile', value: { profile } };
  }
}
