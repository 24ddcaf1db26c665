import { ListCommandsRequest, ListCommandsResponse } from '@rigwarden/protocol';
import { commandsTable } from './command-status.format';
import { EXIT } from './exit-codes';
import { positiveInt, unary, value } from './fleet-command';
import type { OperatorCommand } from './operator-command';

/** rigctl commands: recent commands, newest first. */
export const commandsCommand: OperatorCommand = {
  name: 'commands',
  summary: 'recent commands (of one rig), newest first: state, attempts, who asked, cause',
  flags: {
    rig: { kind: 'value', placeholder: 'ID', description: "only this rig's commands" },
    limit: { kind: 'value', placeholder: 'N', description: 'at most N commands (default 50)' },
  },
  examples: ['rigctl commands --rig sim-001 --limit 20'],
  async run(ctx, args) {
    const rigId = value(args, 'rig') ?? '';
    const page: ListCommandsResponse = await unary(ctx, ctx.client.listCommands, ListCommandsRequest.fromPartial({ rigId, limit: positiveInt(args, 'limit', 50) }));
    if (ctx.json) ctx.out(JSON.stringify(ListCommandsResponse.toJSON(page), null, 2));
    else ctx.out(page.commands.length === 0 ? `no commands${rigId ? ` for rig ${rigId}` : ''} yet` : commandsTable(page.commands, ctx.now()));
    return EXIT.OK;
  },
};
