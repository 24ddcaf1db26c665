import { Inject, Injectable } from '@nestjs/common';
import type {
  ApplyProfileRequest, CommandStatus, RigCommandRequest, SetFaultLightRequest, SetPoolsRequest, SetPowerModeRequest, SetPowerTargetRequest,
} from '@rigwarden/protocol';
import { FleetError } from '../fleet/fleet-error';
import { RIG_STATUS_STORE, type RigStatusStore } from '../persistence/ports/rig-status.port';
import { checkCapability } from './capability-check';
import { CommandDispatcher } from './command-dispatcher.service';
import type { CommandPayload } from './command-repository';
import { checkPools, checkProfile, checkReason, checkRigId, invalid, resolveMiner, timeoutMs, toCommandStatus } from './command-request';

/** One operator command for one rig, validated: the payload and the target with the path of its fields. */
export interface RigCommand {
  target: RigCommandRequest;
  /** "target." for SetPools/ApplyProfile, "" for the RigCommandRequest RPCs. */
  prefix: string;
  payload: CommandPayload;
}

export function setPoolsCommand(request: SetPoolsRequest): RigCommand {
  checkPools(request.pools, 'pools');
  return { target: targetOf(request.target), prefix: 'target.', payload: { $case: 'setPools', value: { pools: request.pools.map((p) => ({ url: p.url, user: p.user, password: p.password })) } } };
}

export function applyProfileCommand(request: ApplyProfileRequest): RigCommand {
  checkProfile(request.profile, 'profile');
  return { target: targetOf(request.target), prefix: 'target.', payload: { $case: 'applyProfile', value: { profile: request.profile } } };
}

const POWER_MODES: readonly string[] = ['normal', 'low', 'sleep'];
const MAX_POWER_TARGET_W = 20_000;

export function setPowerModeCommand(request: SetPowerModeRequest): RigCommand {
  if (!POWER_MODES.includes(request.mode)) throw invalid('mode', `must be one of ${POWER_MODES.join(', ')}, got ${JSON.stringify(request.mode)}`);
  return { target: targetOf(request.target), prefix: 'target.', payload: { $case: 'setPowerMode', value: { mode: request.mode } } };
}

export function setFaultLightCommand(request: SetFaultLightRequest): RigCommand {
  return { target: targetOf(request.target), prefix: 'target.', payload: { $case: 'setFaultLight', value: { on: request.on } } };
}

export function setPowerTargetCommand(request: SetPowerTargetRequest): RigCommand {
  if (!Number.isInteger(request.watts) || request.watts < 1 || request.watts > MAX_POWER_TARGET_W) {
    throw invalid('watts', `must be a whole number of watts from 1 to ${MAX_POWER_TARGET_W}, got ${request.watts}`);
  }
  return { target: targetOf(request.target), prefix: 'target.', payload: { $case: 'setPowerTarget', value: { watts: request.watts } } };
}

export function rigCommand(request: RigCommandRequest, payload: CommandPayload): RigCommand {
  return { target: request, prefix: '', payload };
}

function targetOf(target: RigCommandRequest | undefined): RigCommandRequest {
  if (!target) throw new FleetError('invalid_argument', 'target is required (target.rig_id names the rig)', 'target');
  return target;
}

/**
 * Sends one command to one rig through the dispatcher (stored, signed, sent, retried under one id). Answers once the
 * command is sent, or with `wait` once it is finished or its deadline has passed.
 */
@Injectable()
export class SendCommandUseCase {
  constructor(
    @Inject(RIG_STATUS_STORE) private readonly rigs: RigStatusStore,
    @Inject(CommandDispatcher) private readonly dispatcher: CommandDispatcher,
  ) {}

  async execute(command: RigCommand, requestedBy: string): Promise<CommandStatus> {
    const { target, prefix, payload } = command;
    checkRigId(target.rigId, `${prefix}rig_id`);
    checkReason(target.reason, `${prefix}reason`);
    const timeout = timeoutMs(target.timeoutSeconds, `${prefix}timeout_seconds`);
    const rig = await this.rigs.getRig(target.rigId);
    if (!rig) throw new FleetError('not_found', `no rig "${target.rigId}": the controller has never heard of it (rigctl rigs lists the known ones)`, `${prefix}rig_id`);
    const minerId = resolveMiner(rig, target.minerId, payload, `${prefix}miner_id`);
    checkCapability(rig, minerId, payload, `${prefix}miner_id`);
    const sent = await this.dispatcher.dispatch({ rigId: rig.rigId, minerId, payload, reason: target.reason, requestedBy, timeoutMs: timeout });
    if (!target.wait) return toCommandStatus(sent);
    return toCommandStatus((await this.dispatcher.waitFor(sent.id)) ?? sent);
  }
}
