import { Inject, Injectable } from '@nestjs/common';
import { type GetRigRequest, type Rig } from '@rigwarden/protocol';
import { RIG_STATUS_STORE, type RigStatusStore } from '../persistence/ports/rig-status.port';
import { FleetError } from './fleet-error';
import { requireRigId } from './request-arguments';
import { RigView } from './rig-view';

@Injectable()
export class GetRigUseCase {
  constructor(
    @Inject(RIG_STATUS_STORE) private readonly rigs: RigStatusStore,
    @Inject(RigView) private readonly view: RigView,
  ) {}

  async execute(request: GetRigRequest): Promise<Rig> {
    requireRigId(request.rigId);
    const record = await this.rigs.getRig(request.rigId);
    if (!record) throw new FleetError('not_found', `no rig "${request.rigId}": the controller has never received telemetry for it`, 'rig_id');
    return (await this.view.toRigs([record]))[0]!;
  }

  /** The rigs of these ids that exist, in the order given (one quarantine query for all of them). */
  async executeMany(rigIds: readonly string[]): Promise<Rig[]> {
    const records = await Promise.all(rigIds.map((id) => this.rigs.getRig(id)));
    return this.view.toRigs(records.filter((r): r is NonNullable<typeof r> => r !== undefined));
  }
}
