import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DryRunPoliciesRequest, DryRunPoliciesResponse } from '@rigwarden/protocol';
import { renderTable } from './format';
import { EXIT_OK, UsageError, parseTime, unary, value, type FleetCommand } from './fleet-command';

/** rigctl dry-run-policies <rig>: what the policies would have done with the rig's stored telemetry, and when. */
export const dryRunPoliciesCommand: FleetCommand = {
  name: 'dry-run-policies',
  summary: "replay a rig's stored telemetry through the policies; sends nothing",
  description: "Replay the rig's stored telemetry (default the last 6 h) through the policies with the spec in force, or the one\nin FILE; shows each decision and when it would have been taken. Sends nothing.",
  arguments: [{ name: '<rig-id>', description: 'the rig' }],
  flags: {
    fleet: { kind: 'value', placeholder: 'FILE', completes: 'file', description: 'a fleet spec to try instead of the one in force' },
    from: { kind: 'value', placeholder: 'TIME', description: 'start of the replay (default 6h ago)' },
    to: { kind: 'value', placeholder: 'TIME', description: 'end of the replay (default now)' },
  },
  examples: ['rigctl dry-run-policies sim-001 --from 6h', 'rigctl dry-run-policies sim-001 --fleet proposed.yaml --from 2h'],
  async run(ctx, args) {
    const rigId = args.positional[0] ?? (() => { throw new UsageError('dry-run-policies needs a rig id: rigctl dry-run-policies <rig-id> [--fleet FILE]'); })();
    const fleetFile = value(args, 'fleet');
    let fleetYaml = '';
    if (fleetFile !== undefined) {
      try {
        fleetYaml = readFileSync(resolve(fleetFile), 'utf8');
      } catch (err) {
        throw new UsageError(`--fleet: cannot read ${resolve(fleetFile)} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
    }
    const now = ctx.now();
    const from = value(args, 'from');
    const to = value(args, 'to');
    const response = await unary(ctx, ctx.client.dryRunPolicies, DryRunPoliciesRequest.fromPartial({
      rigId, fleetYaml, from: from === undefined ? undefined : parseTime(from, now, 'from'), to: to === undefined ? undefined : parseTime(to, now, 'to'),
    }));
    if (ctx.json) {
      ctx.out(JSON.stringify(DryRunPoliciesResponse.toJSON(response), null, 2));
      return EXIT_OK;
    }
    ctx.out(`rig ${rigId}: ${response.snapshotsReplayed} snapshots replayed with ${fleetFile ? `the spec in ${fleetFile}` : 'the spec in force'}; ${response.decisions.length} decisions`);
    if (response.decisions.length > 0) {
      ctx.out(renderTable(['AT', 'POLICY', 'KIND', 'REASON', 'SEVERITY', 'MESSAGE'], response.decisions.map((d) => [
        d.at?.toISOString() ?? '-', d.policy, d.kind, d.reason, d.severity, d.message,
      ])));
    }
    return EXIT_OK;
  },
};
