import { ListEventsRequest, ListEventsResponse } from '@rigwarden/protocol';
import { eventsTable } from './format';
import { EXIT_OK, UsageError, parseTime, positiveInt, unary, value, type FleetCommand } from './fleet-command';

/** rigctl events <rig-id>: what happened on a rig and why, newest first. */
export const eventsCommand: FleetCommand = {
  name: 'events',
  summary: 'what happened on a rig and why, newest first',
  arguments: [{ name: '<rig-id>', description: 'the rig' }],
  flags: {
    limit: { kind: 'value', placeholder: 'N', description: 'at most N events (default 20)' },
    since: { kind: 'value', placeholder: 'TIME', description: 'only events since then: 15m, 2h, 7d or RFC 3339' },
  },
  examples: ['rigctl events sim-001 --since 1h'],
  async run(ctx, args) {
    const rigId = args.positional[0] ?? (() => { throw new UsageError('events needs a rig id: rigctl events <rig-id>'); })();
    const since = value(args, 'since');
    const page = await unary(ctx, ctx.client.listEvents, ListEventsRequest.fromPartial({
      rigId, limit: positiveInt(args, 'limit', 20), since: since === undefined ? undefined : parseTime(since, ctx.now(), 'since'),
    }));
    if (ctx.json) ctx.out(JSON.stringify(ListEventsResponse.toJSON(page), null, 2));
    else ctx.out(page.events.length === 0 ? `no events for rig ${rigId}` : eventsTable(page.events));
    return EXIT_OK;
  },
};
