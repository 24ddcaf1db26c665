import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ApplyFleetSpecRequest, ApplyFleetSpecResponse, FleetSpecDocument, GetFleetSpecRequest } from '@rigwarden/protocol';
import { renderTable } from './format';
import { EXIT_OK, UsageError, unary, value, type CommandContext, type CommandGroup, type FleetCommand, type ParsedArgs } from './fleet-command';

async function get(ctx: CommandContext): Promise<number> {
  const doc = await unary(ctx, ctx.client.getFleetSpec, GetFleetSpecRequest.fromPartial({}));
  if (ctx.json) {
    ctx.out(JSON.stringify(FleetSpecDocument.toJSON(doc), null, 2));
    return EXIT_OK;
  }
  // Only the YAML on stdout, so `rigctl spec get > fleet.yaml` gives a file to edit and apply.
  ctx.err(doc.version === '' ? 'no fleet spec in force' : `version ${doc.version}, applied ${doc.appliedAt?.toISOString() ?? '-'} by ${doc.appliedBy}`);
  if (doc.yaml !== '') ctx.out(doc.yaml.replace(/\n$/, ''));
  return EXIT_OK;
}

async function apply(ctx: CommandContext, args: ParsedArgs): Promise<number> {
  const file = args.positional[0] ?? (() => { throw new UsageError('spec apply needs a file: rigctl spec apply fleet.yaml [--dry-run]'); })();
  let yaml: string;
  try {
    yaml = readFileSync(resolve(file), 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${resolve(file)} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const dryRun = args.switches.has('dry-run');
  const response = await unary(ctx, ctx.client.applyFleetSpec, ApplyFleetSpecRequest.fromPartial({ yaml, dryRun, expectedVersion: value(args, 'expected-version') ?? '' }));
  if (ctx.json) {
    ctx.out(JSON.stringify(ApplyFleetSpecResponse.toJSON(response), null, 2));
    return EXIT_OK;
  }
  ctx.out(response.changes.length === 0
    ? 'no changes'
    : renderTable(['CHANGE', 'PATH', 'BEFORE', 'AFTER'], response.changes.map((c) => [c.change, c.path, c.before || '-', c.after || '-'])));
  ctx.out(`\nrigs affected (${response.affectedRigIds.length}): ${response.affectedRigIds.join(', ') || '-'}`);
  ctx.out(response.applied
    ? `applied: version ${response.version} is in force; the affected rigs are being reconciled`
    : `dry run: nothing applied (it would be version ${response.version}); apply with: rigctl spec apply ${file}`);
  return EXIT_OK;
}

/** rigctl spec get: the fleet spec in force. */
export const specGetCommand: FleetCommand = {
  name: 'get',
  summary: 'the fleet spec in force: YAML on stdout, version and author on stderr',
  flags: {},
  examples: ['rigctl spec get > fleet.yaml'],
  run: (ctx) => get(ctx),
};

/** rigctl spec apply <file> [--dry-run]: validate, diff and apply a fleet spec. */
export const specApplyCommand: FleetCommand = {
  name: 'apply',
  summary: 'validate a fleet spec, show the diff and the rigs it changes, and apply it',
  description: 'Validate a fleet spec, show the diff (passwords masked) and the rigs it changes; apply it unless --dry-run.',
  arguments: [{ name: '<file>', description: 'the fleet spec (YAML)', completes: 'file' }],
  flags: {
    'dry-run': { kind: 'switch', description: 'show the diff and the rigs it changes; apply nothing' },
    'expected-version': { kind: 'value', placeholder: 'V', description: 'refuse it if the version in force is not V (someone else applied one meanwhile)' },
  },
  examples: ['rigctl spec apply fleet.yaml --dry-run', 'rigctl spec apply fleet.yaml --expected-version 3f0c2a9d81b7e645'],
  run: (ctx, args) => apply(ctx, args),
};

/** rigctl spec get | spec apply <file>. */
export const specCommands: CommandGroup<FleetCommand> = {
  name: 'spec',
  summary: 'the fleet spec: get the one in force, apply a new one',
  commands: [specGetCommand, specApplyCommand],
};
