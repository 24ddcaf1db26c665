import { RigSelector } from '@rigwarden/protocol';
import { UsageError, parseCommandArgs, parseTime, selectorFrom, SELECTOR_FLAGS } from './fleet-command';
import { fleetCommandFor } from './fleet-commands';

const NOW = Date.parse('2026-12-01T12:00:00Z');

describe('rigctl fleet command arguments', () => {
  it('reads switches, values (both spellings) and repeated flags anywhere on the line', () => {
    const args = parseCommandArgs(['--label', 'row=1', 'r-1', '--json', '--label=model=S19', '--status=online'], SELECTOR_FLAGS);
    expect(args.positional).toEqual(['r-1']);
    expect([...args.switches]).toEqual(['json']);
    expect(selectorFrom(args)).toEqual(RigSelector.fromPartial({ labels: { row: '1', model: 'S19' }, status: 'online' }));
  });

  it.each(['stale', 'miner-unreachable'])('--status %s selects by the controller\'s liveness', (wanted) => {
    expect(selectorFrom(parseCommandArgs(['--status', wanted], SELECTOR_FLAGS)).status).toBe(wanted);
  });

  it.each([
    [['--colour'], /unknown option "--colour"/],
    [['--group'], /--group needs a value/],
    [['--json=yes'], /--json takes no value/],
    [['-x'], /unknown option "-x"/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseCommandArgs(argv, SELECTOR_FLAGS)).toThrow(message);
  });

  it.each([
    [['--label', 'row'], /--label needs key=value, got "row"/],
    [['--label', 'row='], /--label needs key=value/],
    [['--status', 'up'], /--status must be online or offline \(or the liveness stale or miner-unreachable\)/],
  ])('refuses the selector %j', (argv, message) => {
    expect(() => selectorFrom(parseCommandArgs(argv, SELECTOR_FLAGS))).toThrow(UsageError);
    expect(() => selectorFrom(parseCommandArgs(argv, SELECTOR_FLAGS))).toThrow(message);
  });

  it.each([
    ['now', NOW],
    ['15m', NOW - 15 * 60_000],
    ['-2h', NOW - 2 * 3_600_000],
    ['7d', NOW - 7 * 86_400_000],
    ['90s', NOW - 90_000],
    ['2026-11-30T08:00:00Z', Date.parse('2026-11-30T08:00:00Z')],
  ])('reads the time %s', (text, expected) => {
    expect(parseTime(text, NOW, 'from').getTime()).toBe(expected);
  });

  it('names the flag of a time it cannot read', () => {
    expect(() => parseTime('yesterday', NOW, 'since')).toThrow(/--since: expected "now", a time ago/);
  });

  it('finds the subcommand after global options and their values', () => {
    expect(fleetCommandFor(['--timeout', '500', '--json', 'rigs', '--group', 'g'])).toMatchObject({ command: { name: 'rigs' }, rest: ['--timeout', '500', '--json', '--group', 'g'] });
    expect(fleetCommandFor(['spec', 'apply', 'f.yaml'])).toMatchObject({ command: { name: 'spec' }, rest: ['apply', 'f.yaml'] });
    expect(fleetCommandFor(['keys', 'list'])).toBeUndefined();
  });
});
