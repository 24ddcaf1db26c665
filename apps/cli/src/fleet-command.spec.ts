import { RigSelector } from '@rigwarden/protocol';
import { UsageError, parseTime, selectorFrom, type ParsedArgs } from './fleet-command';
import { rigctlProgram } from './rigctl.program';

const NOW = Date.parse('2026-12-01T12:00:00Z');

/** What rigctl's parser makes of a command line: the command it runs and its arguments, or the usage error (exit 2). */
async function parse(argv: string[]): Promise<{ command?: string; args?: ParsedArgs; server?: string; code: number; err: string }> {
  const seen: { command?: string; args?: ParsedArgs; server?: string } = {};
  const errors: string[] = [];
  const record = (command: { name: string }, args: ParsedArgs, connection: { server: string }) => {
    Object.assign(seen, { command: command.name, args, server: connection.server });
    return Promise.resolve(0);
  };
  const rigctl = rigctlProgram({ out: () => undefined, err: (t) => errors.push(t), now: () => NOW, env: {}, cwd: '/nonexistent', tty: false }, { fleet: record, admin: record });
  const code = await rigctl.run(argv);
  return { ...seen, code, err: errors.join('\n') };
}

describe('rigctl fleet command arguments', () => {
  it('reads switches, values (both spellings) and repeated flags anywhere on the line', async () => {
    const { args } = await parse(['watch', '--label', 'row=1', '--json', '--label=model=S19', '--status=online']);
    expect(args!.positional).toEqual([]);
    expect([...args!.switches]).toEqual(['json']);
    expect(selectorFrom(args!)).toEqual(RigSelector.fromPartial({ labels: { row: '1', model: 'S19' }, status: 'online' }));
    expect((await parse(['bulk', '--rig', 'r-1', 'restart', '--rig', 'r-2'])).args).toMatchObject({ positional: ['restart'], values: new Map([['rig', ['r-1', 'r-2']]]) });
  });

  it.each(['stale', 'miner-unreachable'])('--status %s selects by the controller\'s liveness', async (wanted) => {
    expect(selectorFrom((await parse(['rigs', '--status', wanted])).args!).status).toBe(wanted);
  });

  it.each([
    [['--colour'], /unknown option "--colour"/],
    [['--group'], /--group needs a value/],
    [['--group='], /--group needs a value/],
    [['--json=yes'], /--json takes no value/],
    [['-x'], /unknown option "-x"/],
  ])('refuses %j (exit 2, with the usage line)', async (argv, message) => {
    const r = await parse(['rigs', ...argv]);
    expect(r.code).toBe(2);
    expect(r.command).toBeUndefined();
    expect(r.err).toMatch(message);
    expect(r.err).toContain('usage: rigctl rigs [options]');
  });

  it.each([
    [['--label', 'row'], /--label needs key=value, got "row"/],
    [['--label', 'row='], /--label needs key=value/],
    [['--status', 'up'], /--status must be online or offline \(or the liveness stale or miner-unreachable\)/],
  ])('refuses the selector %j', async (argv, message) => {
    const { args } = await parse(['rigs', ...argv]);
    expect(() => selectorFrom(args!)).toThrow(UsageError);
    expect(() => selectorFrom(args!)).toThrow(message);
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

  it('finds the subcommand after global options and their values, and takes global options after it too', async () => {
    const rigs = await parse(['--timeout', '500', '--json', 'rigs', '--group', 'g', '--server', 'ctl:1']);
    expect(rigs).toMatchObject({ command: 'rigs', server: 'ctl:1', code: 0 });
    expect(rigs.args).toEqual({ positional: [], switches: new Set(['json']), values: new Map([['group', ['g']], ['timeout', ['500']]]) });
    expect(await parse(['spec', 'apply', 'f.yaml'])).toMatchObject({ command: 'apply', args: { positional: ['f.yaml'] } });
    expect(await parse(['--timeout', '500', 'keys', 'list'])).toMatchObject({ command: 'list', args: { values: new Map([['timeout', ['500']]]) } });
  });
});
