import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { RigSpec } from '@rigwarden/policy';
import { createLogger, systemClock, type Clock } from '@rigwarden/shared';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/controller-config';
import { FLEET_SPEC_STORE, type FleetSpecStore } from '../persistence/ports/fleet-spec.port';
import { type RigRecord } from '../persistence/rig-repository';
import { RIG_STATUS_STORE, type RigStatusStore } from '../persistence/ports/rig-status.port';
import { FleetError } from './fleet-error';
import { diffFleetSpecs, type SpecChangeRecord } from './fleet-spec-diff';
import { EMPTY_FLEET, groupForRig, parseFleetYaml, readFleetFile, specForRig, type FleetSpec, type RigIdentity } from './fleet-spec';

/** The spec in force with where it came from. */
export interface FleetSpecInForce {
  spec: FleetSpec;
  yaml: string;
  /** Content hash of the YAML ('' while no spec was ever put in force). */
  version: string;
  appliedAt?: Date;
  appliedBy: string;
}

export interface ApplyOptions {
  dryRun: boolean;
  /** Refuse (FAILED_PRECONDITION) unless the spec in force has this version; '' skips the check. */
  expectedVersion: string;
  /** Who applies it: "apikey:<id>", "anonymous", ... */
  appliedBy: string;
}

export interface ApplyOutcome {
  applied: boolean;
  version: string;
  changes: SpecChangeRecord[];
  affectedRigIds: string[];
}

export function fleetVersion(yaml: string): string {
  return createHash('sha256').update(yaml).digest('hex').slice(0, 16);
}

/** A stored rig as the fleet layer sees it: its labels and the model its first miner reports. */
export function rigIdentity(record: Pick<RigRecord, 'rigId' | 'labels' | 'miners'>): RigIdentity {
  return { rigId: record.rigId, labels: record.labels, model: record.miners.find((m) => m.model)?.model };
}

const PAGE = 1000;

/**
 * Holds the fleet spec in force. At start: the --fleet file, unless the newest spec applied through the API is more
 * recent than the file's last change (then that one stays in force and the file is ignored until it is edited).
 * Every spec put in force is stored with its version, YAML, time and author; applying one reconciles the rigs whose
 * spec it changes.
 */
@Injectable()
export class FleetSpecService implements OnModuleInit {
  private readonly logger = createLogger('controller.fleet');
  private current: FleetSpecInForce = { spec: EMPTY_FLEET, yaml: '', version: '', appliedBy: '' };
  private readonly appliedListeners: Array<(rigIds: string[]) => void> = [];
  private applying: Promise<unknown> = Promise.resolve();
  clock: Clock = systemClock;

  constructor(
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    @Inject(FLEET_SPEC_STORE) private readonly specs: FleetSpecStore,
    @Inject(RIG_STATUS_STORE) private readonly rigs: RigStatusStore,
  ) {}

  onModuleInit(): Promise<void> {
    // Nest starts the providers of a module together: an apply arriving meanwhile waits for the start-up spec.
    const load = this.load();
    this.applying = load.catch(() => undefined);
    return load;
  }

  private async load(): Promise<void> {
    const stored = await this.specs.latest();
    const fromStore = (): FleetSpecInForce | undefined => stored && ({
      spec: parseFleetYaml(stored.yaml, `stored fleet spec ${stored.version}`), yaml: stored.yaml, version: stored.version,
      appliedAt: new Date(stored.applied_at), appliedBy: stored.applied_by,
    });
    if (!this.config.fleetFile) {
      this.current = fromStore() ?? this.current;
      if (stored) this.logger.info('fleet spec in force: the latest applied', { version: stored.version, by: stored.applied_by });
      return;
    }
    const path = resolve(this.config.fleetFile);
    const yaml = readFleetFile(path);
    const spec = parseFleetYaml(yaml, path); // a bad file stops the start, even when a stored spec would win
    const version = fleetVersion(yaml);
    const fileChangedAt = statSync(path).mtimeMs;
    if (stored && (stored.version === version || (!stored.applied_by.startsWith('file:') && stored.applied_at > fileChangedAt))) {
      this.current = fromStore()!;
      if (stored.version !== version) {
        this.logger.warn('the fleet spec applied through the API is newer than the fleet file: keeping it (edit the file to make the file win)', {
          file: path, version: stored.version, appliedBy: stored.applied_by, appliedAt: new Date(stored.applied_at).toISOString(),
        });
      }
      return;
    }
    const appliedAt = this.clock.now();
    await this.specs.record({ version, yaml, applied_at: appliedAt, applied_by: `file:${path}` });
    this.current = { spec, yaml, version, appliedAt: new Date(appliedAt), appliedBy: `file:${path}` };
    this.logger.info('fleet spec loaded', { file: path, version, groups: spec.groups.length });
  }

  get inForce(): FleetSpecInForce {
    return this.current;
  }

  get spec(): FleetSpec {
    return this.current.spec;
  }

  /** The spec of a stored rig under the spec in force (or `fleet`). */
  specFor(record: Pick<RigRecord, 'rigId' | 'labels' | 'miners'>, fleet: FleetSpec = this.current.spec): RigSpec | undefined {
    return specForRig(fleet, rigIdentity(record));
  }

  groupOf(record: Pick<RigRecord, 'rigId' | 'labels' | 'miners'>): string | undefined {
    return groupForRig(this.current.spec, rigIdentity(record))?.name;
  }

  /** Called with the rigs whose spec changed, after a spec is put in force. */
  onApplied(listener: (rigIds: string[]) => void): void {
    this.appliedListeners.push(listener);
  }

  /** Validates, diffs and (unless dry-run) puts a new spec in force. One apply at a time. */
  apply(yaml: string, options: ApplyOptions): Promise<ApplyOutcome> {
    const run = this.applying.then(() => this.applyNow(yaml, options));
    this.applying = run.catch(() => undefined);
    return run;
  }

  private async applyNow(yaml: string, options: ApplyOptions): Promise<ApplyOutcome> {
    if (yaml.trim() === '') throw new FleetError('invalid_argument', 'yaml: is empty; send the whole fleet spec (rigctl spec get prints the one in force)', 'yaml');
    const next = parseFleetYaml(yaml, 'yaml');
    const before = this.current;
    if (options.expectedVersion !== '' && options.expectedVersion !== before.version) {
      throw new FleetError('failed_precondition',
        `expected_version ${options.expectedVersion} is not the version in force (${before.version || 'none'}, applied by ${before.appliedBy || 'nobody'}): someone changed the spec; get it again, redo your edit and apply`,
        'expected_version');
    }
    const version = fleetVersion(yaml);
    const changes = diffFleetSpecs(before.spec, next);
    const affectedRigIds = await this.affectedRigs(before.spec, next);
    if (options.dryRun) return { applied: false, version, changes, affectedRigIds };
    const appliedAt = this.clock.now();
    await this.specs.record({ version, yaml, applied_at: appliedAt, applied_by: options.appliedBy });
    this.current = { spec: next, yaml, version, appliedAt: new Date(appliedAt), appliedBy: options.appliedBy };
    this.logger.info('fleet spec applied', { version, by: options.appliedBy, changes: changes.length, rigs: affectedRigIds.length });
    for (const listener of this.appliedListeners) listener(affectedRigIds);
    return { applied: true, version, changes, affectedRigIds };
  }

  /** Known rigs whose resolved spec differs between the two fleet specs. */
  private async affectedRigs(before: FleetSpec, after: FleetSpec): Promise<string[]> {
    const affected: string[] = [];
    let cursor = '';
    for (;;) {
      const page = await this.rigs.listRigs(PAGE, cursor);
      for (const record of page) {
        if (JSON.stringify(this.specFor(record, before)) !== JSON.stringify(this.specFor(record, after))) affected.push(record.rigId);
      }
      if (page.length < PAGE) return affected;
      cursor = page[page.length - 1]!.rigId;
    }
  }
}
