import { ArgvError, parseArgv } from './argv';

const OPTIONS = { config: { type: 'string', short: 'c' }, check: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

describe('agent argv (node util.parseArgs)', () => {
  it('gives options (both spellings, short names) and positionals in command-line order', () => {
    expect(parseArgv(['-c', 'a.yaml', 'run', '--config=b.yaml', 'x', '--check'], OPTIONS)).toEqual([
      { kind: 'option', name: 'config', value: 'a.yaml' },
      { kind: 'positional', value: 'run' },
      { kind: 'option', name: 'config', value: 'b.yaml' },
      { kind: 'positional', value: 'x' },
      { kind: 'option', name: 'check', value: undefined },
    ]);
  });

  it.each([
    [['--bogus'], 'unknown option "--bogus"'],
    [['-x'], 'unknown option "-x"'],
    [['--config'], '--config needs a value'],
    [['-c'], '--config needs a value'],
    [['--check=yes'], '--check takes no value'],
  ])('refuses %j: %s', (argv, message) => {
    expect(() => parseArgv(argv, OPTIONS)).toThrow(ArgvError);
    expect(() => parseArgv(argv, OPTIONS)).toThrow(message);
  });
});
