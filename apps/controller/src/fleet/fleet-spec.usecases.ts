import { Inject, Injectable } from '@nestjs/common';
import type { ApplyFleetSpecRequest, ApplyFleetSpecResponse, FleetSpecDocument } from '@rigwarden/protocol';
import { FleetError } from './fleet-error';
import { FleetSpecService } from './fleet-spec.service';

/** The fleet spec in force, as YAML, with its version. */
@Injectable()
export class GetFleetSpecUseCase {
  constructor(@Inject(FleetSpecService) private readonly fleet: FleetSpecService) {}

  execute(): FleetSpecDocument {
    const { yaml, version, appliedAt, appliedBy } = this.fleet.inForce;
    return { yaml, version, appliedAt, appliedBy };
  }
}

/** Validates a proposed spec and shows its diff and the rigs it touches; applies it unless dry_run. */
@Injectable()
export class ApplyFleetSpecUseCase {
  constructor(@Inject(FleetSpecService) private readonly fleet: FleetSpecService) {}

  async execute(request: ApplyFleetSpecRequest, principal: string): Promise<ApplyFleetSpecResponse> {
    try {
      return await this.fleet.apply(request.yaml, { dryRun: request.dryRun, expectedVersion: request.expectedVersion, appliedBy: principal });
    } catch (err) {
      // The key path stays in the message; the field at fault in the request is the YAML.
      if (err instanceof FleetError && err.kind === 'invalid_argument') throw new FleetError('invalid_argument', err.message, 'yaml');
      throw err;
    }
  }
}
