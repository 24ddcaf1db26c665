import { ListRigsRequest, ListRigsResponse, Rig } from '@rigwarden/protocol';
import { rigsTable } from './format';
import { EXIT_OK, SELECTOR_FLAGS, positiveInt, selectorFrom, unary, value, type FleetCommand } from './fleet-command';

/** rigctl rigs: every rig (or one page of them) the selector matches. */
export const rigsCommand: FleetCommand = {
  name: 'rigs',
  summary: 'rigs the controller knows, filtered (every filter must match)',
  description: 'One line per rig: state, miners, program, hashrate, temperature, fans, active pool, errors, group and labels.\nEvery page unless --page-size.',
  flags: {
    ...SELECTOR_FLAGS,
    'page-size': { kind: 'value', placeholder: 'N', description: 'one page of N rigs; prints the command for the next one' },
    'page-token': { kind: 'value', placeholder: 'T', description: 'the page after the one that printed this token' },
  },
  examples: ['rigctl rigs --label row=1 --status online', 'rigctl rigs --model s19 --json', 'rigctl rigs --page-size 100'],
  async run(ctx, args) {
    const selector = selectorFrom(args);
    const onePage = args.values.has('page-size') || args.values.has('page-token');
    const pageSize = positiveInt(args, 'page-size', 1000);
    const rigs: Rig[] = [];
    let pageToken = value(args, 'page-token') ?? '';
    let next = '';
    do {
      const page: ListRigsResponse = await unary(ctx, ctx.client.listRigs, ListRigsRequest.fromPartial({ pageSize, pageToken, selector }));
      rigs.push(...page.rigs);
      pageToken = page.nextPageToken;
      next = page.nextPageToken;
    } while (!onePage && pageToken !== '');
    if (ctx.json) {
      ctx.out(JSON.stringify({ rigs: rigs.map((r) => Rig.toJSON(r)), ...(onePage && next ? { nextPageToken: next } : {}) }, null, 2));
      return EXIT_OK;
    }
    const filtered = Object.values(selector).some((v) => (Array.isArray(v) ? v.length > 0 : typeof v === 'object' ? Object.keys(v).length > 0 : v !== ''));
    if (rigs.length === 0) ctx.out(filtered ? 'no rig matches these filters' : 'no rigs yet: start an agent (see README) and wait one poll interval');
    else ctx.out(rigsTable(rigs, ctx.now()));
    if (onePage && next) ctx.out(`\nmore: rigctl rigs --page-size ${pageSize} --page-token ${next}`);
    return EXIT_OK;
  },
};
