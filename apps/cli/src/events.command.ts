import { ListEventsRequest, ListEventsResponse } from '@rigwarden/protocol';
import { eventsTable } from './format';
import { EXIT_OK, UsageError, parseTime, positiveInt, unary, value, type FleetCommand } from './fleet-command';

/** rigctl events <rig-id>: what happened on a rig and why, newest first. */
export const eventsCommand: FleetCommand = {
  name: 'events',
  usage: `events <rig-id> [--limit N] [--since TIME]
                    what happened on a rig and why, newest first (default 20; TIME: 15m, 2h, 7d or RFC 3339)`,
  flags: { limit: 'value', since: 'value' },
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
