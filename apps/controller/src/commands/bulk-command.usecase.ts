import { Inject, Injectable } from '@nestjs/common';
import { CommandState, type BulkCommandRequest, type BulkProgress, type CommandStatus } from '@rigwarden/protocol';
import { FleetError } from '../fleet/fleet-error';
import { FleetSpecService } from '../fleet/fleet-spec.service';
import { matchesSelector, validateSelector } from '../fleet/rig-selector';
import { RIG_STATUS_STORE, type RigRecord, type RigStatusStore } from '../persistence/ports/rig-status.port';
import { CommandDispatcher } from './command-dispatcher.service';
import { commandType, type CommandPayload } from './command-repository';
import { RIG_LEVEL, checkPools, checkProfile, checkReason, checkRigId, invalid, notSentStatus, timeoutMs, toCommandStatus } from './command-request';

export const DEFAULT_CONCURRENCY = 50;
export const MAX_CONCURRENCY = 1000;
const PAGE = 1000;

/** Where the progress goes (the gRPC stream); `cancelled()` stops starting new rigs. */
export interface BulkSink {
  write(progress: BulkProgress): void;
  cancelled(): boolean;
}

function payloadOf(request: BulkCommandRequest): CommandPayload {
  const command = request.command;
  if (!command) throw invalid('command', 'is required: set one of set_pools, apply_profile, restart_miner, reboot_host, power_cycle, switch_pool');
  switch (command.$case) {
    case 'setPools':
      checkPools(command.value.pools, 'set_pools.pools');
      return { $case: 'setPools', value: { pools: command.value.pools.map((p) => ({ url: p.url, user: p.user, password: p.password })) } };
    case 'applyProfile':
      checkProfile(command.value.profile, 'apply_profile.profile');
      return { $case: 'applyProfile', value: { profile: command.value.profile } };
    case 'switchPool': return { $case: 'switchPool', value: { poolIndex: command.value.poolIndex } };
    case 'restartMiner': return { $case: 'restartMiner', value: {} };
    case 'rebootHost': return { $case: 'rebootHost', value: {} };
    case 'powerCycle': return { $case: 'powerCycle', value: {} };
  }
}

/**
 * One command over every rig a selector matches, `concurrency` rigs at a time: each rig's command is dispatched
 * (stored, signed, sent, retried) and awaited until it is finished or its deadline passes, and each finished rig is
 * streamed with the running totals. A first message gives the total; the last one has `finished`.
 */
@Injectable()
export class BulkCommandUseCase {
  constructor(
    @Inject(RIG_STATUS_STORE) private readonly rigs: RigStatusStore,
    @Inject(FleetSpecService) private readonly fleet: FleetSpecService,
    @Inject(CommandDispatcher) private readonly dispatcher: CommandDispatcher,
  ) {}

  /** Throws FleetError (before anything is written) for an invalid request. */
  async run(request: BulkCommandRequest, requestedBy: string, sink: BulkSink): Promise<void> {
    validateSelector(request.selector, 'selector');
    request.selector?.rigIds.forEach((id, i) => checkRigId(id, `selector.rig_ids[${i}]`));
    checkReason(request.reason, 'reason');
    const payload = payloadOf(request);
    const timeout = timeoutMs(request.timeoutSeconds, 'timeout_seconds');
    if (request.concurrency > MAX_CONCURRENCY) throw invalid('concurrency', `must be at most ${MAX_CONCURRENCY}, got ${request.concurrency}`);
    const concurrency = request.concurrency || DEFAULT_CONCURRENCY;

    const selected = await this.select(request);
    const type = commandType(payload);
    const totals = { total: selected.length, done: 0, succeeded: 0, failed: 0 };
    sink.write({ ...totals, command: undefined, finished: false });
    const report = (status: CommandStatus, ok: boolean): void => {
      totals.done++;
      if (ok) totals.succeeded++;
      else totals.failed++;
      sink.write({ ...totals, command: status, finished: false });
    };

    if (request.dryRun) {
      for (const rig of selected) {
        report(notSentStatus(rig.rigId, rig.miners[0]?.minerId ?? '', type, CommandState.COMMAND_STATE_UNSPECIFIED, 'dry run: matched, nothing sent', requestedBy, request.reason), true);
      }
    } else {
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < selected.length && !sink.cancelled()) {
          const rig = selected[next++]!;
          const minerId = rig.miners[0]?.minerId ?? '';
          if (minerId === '' && !RIG_LEVEL.has(payload.$case)) {
            report(notSentStatus(rig.rigId, '', type, CommandState.COMMAND_STATE_FAILED, `not sent: rig ${rig.rigId} has reported no miner yet`, requestedBy, request.reason), false);
            continue;
          }
          const sent = await this.dispatcher.dispatch({ rigId: rig.rigId, minerId, payload, reason: request.reason, requestedBy, timeoutMs: timeout });
          const done = (await this.dispatcher.waitFor(sent.id)) ?? sent;
          report(toCommandStatus(done), done.state === 'SUCCEEDED');
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, selected.length) }, worker));
    }
    sink.write({ ...totals, command: undefined, finished: true });
  }

  /** The matching rigs; NOT_FOUND when selector.rig_ids names a rig the controller never heard of (a typo). */
  private async select(request: BulkCommandRequest): Promise<RigRecord[]> {
    const selected: RigRecord[] = [];
    const seen = new Set<string>();
    let after = '';
    for (;;) {
      const page = await this.rigs.listRigs(PAGE, after);
      for (const rig of page) {
        seen.add(rig.rigId);
        if (matchesSelector(rig, this.fleet.groupOf(rig), request.selector)) selected.push(rig);
      }
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.rigId;
    }
    const unknown = (request.selector?.rigIds ?? []).filter((id) => !seen.has(id));
    if (unknown.length > 0) {
      throw new FleetError('not_found', `selector.rig_ids: the controller has never heard of ${unknown.map((u) => `"${u}"`).join(', ')}`, 'selector.rig_ids');
    }
    return selected;
  }
}
