import { CommandState, commandStateToJSON, type CommandStatus } from '@rigwarden/protocol';
import { renderTable } from './format';

/** "SUCCEEDED", "TIMED_OUT", ... ("-" for a rig a dry run only matched). */
export function stateName(state: CommandState): string {
  return state === CommandState.COMMAND_STATE_UNSPECIFIED ? '-' : commandStateToJSON(state).replace(/^COMMAND_STATE_/, '');
}

export function isFinalFailure(state: CommandState): boolean {
  return state === CommandState.COMMAND_STATE_FAILED || state === CommandState.COMMAND_STATE_REJECTED || state === CommandState.COMMAND_STATE_TIMED_OUT;
}

function age(at: Date | undefined, now: number): string {
  if (!at) return '-';
  const s = Math.max(0, Math.round((now - at.getTime()) / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  return `${Math.round(s / 3600)}h ago`;
}

/** One line: what happened to the command, for a terminal. */
export function commandLine(c: CommandStatus): string {
  const attempts = `${c.attempts} attempt${c.attempts === 1 ? '' : 's'}`;
  return `command ${c.commandId} ${c.type} on ${c.rigId}${c.minerId ? `/${c.minerId}` : ''}: ${stateName(c.state)} (${attempts})${c.cause ? `: ${c.cause}` : ''}`;
}

export function commandDetail(c: CommandStatus, now: number): string {
  return [
    `command      ${c.commandId}`,
    `rig          ${c.rigId}${c.minerId ? ` (miner ${c.minerId})` : ''}`,
    `type         ${c.type}`,
    `state        ${stateName(c.state)}`,
    `attempts     ${c.attempts}`,
    `created      ${c.createdAt?.toISOString() ?? '-'} (${age(c.createdAt, now)})`,
    `deadline     ${c.deadline?.toISOString() ?? '-'}`,
    `finished     ${c.finishedAt?.toISOString() ?? '-'}`,
    `requested by ${c.requestedBy || '-'}`,
    `reason       ${c.reason || '-'}`,
    `cause        ${c.cause || '-'}`,
  ].join('\n');
}

export function commandsTable(commands: CommandStatus[], now: number): string {
  return renderTable(['COMMAND', 'RIG', 'MINER', 'TYPE', 'STATE', 'ATTEMPTS', 'CREATED', 'BY', 'CAUSE'], commands.map((c) => [
    c.commandId || '-', c.rigId, c.minerId || '-', c.type, stateName(c.state), String(c.attempts), age(c.createdAt, now), c.requestedBy || '-', c.cause || '-',
  ]));
}

/** "[##########----------] 10/20  ok 9  failed 1", `width` characters of bar. */
export function progressBar(done: number, total: number, succeeded: number, failed: number, width = 30): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total}  ok ${succeeded}  failed ${failed}`;
}
