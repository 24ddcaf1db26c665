import { CommandState, GetCommandRequest, type CommandStatus } from '@rigwarden/protocol';
import { UsageError, unary } from './fleet-command';
import { reportCommand, type OperatorCommand } from './operator-command';

const POLL_MS = 500;

function unfinished(state: CommandState): boolean {
  return state === CommandState.COMMAND_STATE_PENDING || state === CommandState.COMMAND_STATE_SENT;
}

/** rigctl command <id>: one command's state; --wait polls until it is finished. */
export const commandCommand: OperatorCommand = {
  name: 'command',
  summary: "a command's state, attempts and cause",
  description: "A command's state, attempts and cause (exit 1 if it failed, was rejected or timed out; 0 while it still runs,\nwithout --wait).",
  arguments: [{ name: '<command-id>', description: 'the command (rigctl commands lists them)' }],
  flags: { wait: { kind: 'switch', description: 'poll until the command is finished' } },
  examples: ['rigctl command 6f1c0a9e-...-d2 --wait'],
  async run(ctx, args) {
    const commandId = args.positional[0];
    if (!commandId) throw new UsageError('command needs a command id: rigctl command <command-id> (rigctl commands lists them)');
    let status: CommandStatus = await unary(ctx, ctx.client.getCommand, GetCommandRequest.fromPartial({ commandId }));
    // The controller finishes every command by its deadline, so this ends.
    while (args.switches.has('wait') && unfinished(status.state)) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      status = await unary(ctx, ctx.client.getCommand, GetCommandRequest.fromPartial({ commandId }));
    }
    return reportCommand(ctx, status, true);
  },
};
