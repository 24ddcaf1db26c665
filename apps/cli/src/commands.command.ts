import { ListCommandsRequest, ListCommandsResponse } from '@rigwarden/protocol';
import { commandsTable } from './command-status.format';
import { EXIT } from './exit-codes';
import { positiveInt, unary, value } from './fleet-command';
import type { OperatorCommand } from './operator-command';

/** rigctl commands: recent commands, newest first. */
export const commandsCommand: OperatorCommand = {
  name: 'commands',
  usage: `commands [--rig RIG] [--limit N]
                    recent commands (of one rig), newest first: state, attempts, who asked, cause (default 50)`,
  flags: { rig: 'value', limit: 'value' },
  async run(ctx, args) {
    const rigId = value(args, 'rig') ?? '';
    const page: ListCommandsResponse = await unary(ctx, ctx.client.listCommands, ListCommandsRequest.fromPartial({ rigId, limit: positiveInt(args, 'limit', 50) }));
    if (ctx.json) ctx.out(JSON.stringify(ListCommandsResponse.toJSON(page), null, 2));
    else ctx.out(page.commands.length === 0 ? `no commands${rigId ? ` for rig ${rigId}` : ''} yet` : commandsTable(page.commands, ctx.now()));
    return EXIT.OK;
  },
};
