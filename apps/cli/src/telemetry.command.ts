import { QueryTelemetryRequest, QueryTelemetryResponse, TelemetryResolution } from '@rigwarden/protocol';
import { formatHashrate, renderTable } from './format';
import { EXIT_OK, UsageError, parseTime, positiveInt, unary, value, type FleetCommand } from './fleet-command';

const RESOLUTIONS: Record<string, TelemetryResolution> = {
  auto: TelemetryResolution.TELEMETRY_RESOLUTION_UNSPECIFIED,
  raw: TelemetryResolution.TELEMETRY_RESOLUTION_RAW,
  '1m': TelemetryResolution.TELEMETRY_RESOLUTION_MINUTE,
  minute: TelemetryResolution.TELEMETRY_RESOLUTION_MINUTE,
  '1h': TelemetryResolution.TELEMETRY_RESOLUTION_HOUR,
  hour: TelemetryResolution.TELEMETRY_RESOLUTION_HOUR,
};
const NAMES: Record<number, string> = { 1: 'raw', 2: '1m', 3: '1h' };

/** rigctl telemetry <rig>: hashrate, temperature, power and fans over a time range. */
export const telemetryCommand: FleetCommand = {
  name: 'telemetry',
  summary: "a rig's telemetry over a time range (default the last hour)",
  description: "A rig's hashrate, temperature, power, fans and shares over a time range (default the last hour).\nTIME: now, a time ago (90s, 15m, 2h, 7d) or RFC 3339.",
  arguments: [{ name: '<rig-id>', description: 'the rig' }],
  flags: {
    from: { kind: 'value', placeholder: 'TIME', description: 'start of the range (default 1h ago)' },
    to: { kind: 'value', placeholder: 'TIME', description: 'end of the range (default now)' },
    resolution: { kind: 'value', placeholder: 'R', choices: ['auto', 'raw', '1m', '1h'], description: 'auto (raw up to 2 h, 1m up to 3 days, else 1h), raw, 1m or 1h' },
    limit: { kind: 'value', placeholder: 'N', description: 'at most N points (default 1000)' },
  },
  examples: ['rigctl telemetry sim-001 --from 2h', 'rigctl telemetry sim-001 --from 2026-12-01T08:00:00Z --to 2026-12-01T09:00:00Z --json'],
  async run(ctx, args) {
    const rigId = args.positional[0] ?? (() => { throw new UsageError('telemetry needs a rig id: rigctl telemetry <rig-id> --from 2h'); })();
    const now = ctx.now();
    const fromText = value(args, 'from');
    const toText = value(args, 'to');
    const resolutionText = value(args, 'resolution') ?? 'auto';
    const resolution = RESOLUTIONS[resolutionText];
    if (resolution === undefined) throw new UsageError(`--resolution must be one of ${Object.keys(RESOLUTIONS).join(', ')}, got "${resolutionText}"`);
    const response = await unary(ctx, ctx.client.queryTelemetry, QueryTelemetryRequest.fromPartial({
      rigId, resolution, limit: positiveInt(args, 'limit', 1000),
      from: fromText === undefined ? undefined : parseTime(fromText, now, 'from'),
      to: toText === undefined ? undefined : parseTime(toText, now, 'to'),
    }));
    if (ctx.json) {
      ctx.out(JSON.stringify(QueryTelemetryResponse.toJSON(response), null, 2));
      return EXIT_OK;
    }
    const raw = response.resolution === TelemetryResolution.TELEMETRY_RESOLUTION_RAW;
    ctx.out(`rig ${rigId}: ${response.points.length} points, resolution ${NAMES[response.resolution] ?? response.resolution}${raw ? '' : ' (rollups: power, fans and shares are not kept)'}`);
    if (response.points.length === 0) return EXIT_OK;
    ctx.out(renderTable(['AT', 'HASHRATE', 'MIN', 'MAX', 'MAX TEMP C', 'POWER W', 'MIN FAN RPM', 'ACCEPTED', 'REJECTED', 'SAMPLES'], response.points.map((p) => [
      p.at?.toISOString() ?? '-', formatHashrate(p.hashrateHs), formatHashrate(p.hashrateMinHs), formatHashrate(p.hashrateMaxHs),
      p.tempMaxC ? p.tempMaxC.toFixed(1) : '-', raw && p.powerW ? String(Math.round(p.powerW)) : '-', raw && p.fanMinRpm ? String(p.fanMinRpm) : '-',
      raw ? String(p.accepted) : '-', raw ? String(p.rejected) : '-', String(p.samples),
    ])));
    return EXIT_OK;
  },
};
