import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { makeTempDir, type TempDir } from '@rigwarden/testing';
import { rigctlProgram } from './rigctl.program';

/** rigctl in-process: what it prints and its exit code; no command reaches a controller (the runners record). */
async function rigctl(...argv: string[]): Promise<{ code: number; out: string; err: string; ran: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const ran: string[] = [];
  const record = (command: { name: string }) => {
    ran.push(command.name);
    return Promise.resolve(0);
  };
  const program = rigctlProgram({ out: (t) => out.push(t), err: (t) => err.push(t), now: () => 0, env: {}, cwd: '/nonexistent', tty: false }, { fleet: record, admin: record });
  const code = await program.run(argv);
  return { code, out: out.join('\n'), err: err.join('\n'), ran };
}

/** Every command path: ["rigs"], ["keys", "create"], ... */
function commandPaths(): string[][] {
  const paths: string[][] = [];
  const visit = (cmd: Command, path: string[]): void => {
    for (const sub of cmd.commands) {
      paths.push([...path, sub.name()]);
      visit(sub, [...path, sub.name()]);
    }
  };
  visit(rigctlProgram({ out: () => undefined, err: () => undefined, now: () => 0, env: {}, cwd: '/', tty: false }).program, []);
  return paths;
}

const PATHS = commandPaths();

describe('rigctl help', () => {
  it('has every command of the old hand-written help, and the subcommands under their group', () => {
    const words = PATHS.map((p) => p.join(' '));
    expect(words).toEqual(expect.arrayContaining([
      'rigs', 'rig', 'watch', 'telemetry', 'events', 'spec', 'spec get', 'spec apply', 'dry-run-policies', 'broker-config',
      'set-pools', 'apply-profile', 'restart', 'reboot', 'power-cycle', 'power-mode', 'fault-light', 'power-target', 'bulk',
      'command', 'commands', 'release', 'keys', 'keys create', 'keys list', 'keys revoke', 'keys rotate', 'audit', 'completion', 'help',
    ]));
  });

  it.each(PATHS.map((p) => [p.join(' ')]))('rigctl %s --help prints its own usage only, on stdout, exit 0', async (path) => {
    const words = path.split(' ');
    const r = await rigctl(...words, '--help');
    expect(r).toMatchObject({ code: 0, err: '', ran: [] });
    expect(r.out).toMatch(new RegExp(`^Usage: rigctl ${path} `));
    expect(r.out).not.toContain('Commands to rigs:'); // the list of every command is rigctl --help's
    expect(r.out.split('\n').length).toBeLessThan(45);
    // -h and `rigctl help <command>` print the same.
    expect((await rigctl(...words, '-h')).out).toBe(r.out);
    expect(await rigctl('help', ...words)).toMatchObject({ code: 0, out: r.out });
  });

  it('--help after the arguments and options still shows the help, and runs nothing', async () => {
    const r = await rigctl('--server', 'ctl:1', 'restart', 'r-1', '--reason', 'x', '--help');
    expect(r).toMatchObject({ code: 0, ran: [] });
    expect(r.out).toMatch(/^Usage: rigctl restart \[options\] <rig-id>/);
  });

  it('rigctl --help and rigctl help list the commands in groups, with the exit codes', async () => {
    const r = await rigctl('--help');
    expect(r.code).toBe(0);
    for (const heading of ['Connection:', 'Output:', 'Fleet:', 'Commands to rigs:', 'Administration:', 'Setup:', 'Exit codes:']) expect(r.out).toContain(heading);
    expect(r.out).toMatch(/5 controller unreachable/);
    expect((await rigctl('help')).out).toBe(r.out);
  });

  it('a command that needs a subcommand, without one, prints its help on stderr and exits 2', async () => {
    for (const group of [[], ['keys'], ['spec']]) {
      const r = await rigctl(...group);
      expect(r).toMatchObject({ code: 2, out: '' });
      expect(r.err).toMatch(/^Usage: rigctl/);
    }
  });

  it.each([
    [['bogus'], /^rigctl: unknown command "bogus"/],
    [['keys', 'bogus'], /^rigctl: unknown command "bogus"/],
    [['help', 'keys', 'bogus'], /^rigctl: unknown command "keys bogus"/],
    [['restart'], /^rigctl: missing required argument "rig-id"/],
    [['restart', 'r-1', '--bogus'], /^rigctl: unknown option "--bogus"/],
    [['rigs', '--reasn'], /^rigctl: unknown option "--reasn"/],
    [['rigs', 'extra'], /^rigctl: too many arguments for "rigs"/],
    [['completion', 'fish'], /^rigctl: completion: unknown shell "fish": use bash or zsh/],
    [['broker-config', '--format', 'x'], /^rigctl: broker-config: --format must be mosquitto or rigwarden/],
    [['--server'], /^rigctl: --server needs a value/],
  ])('rigctl %j: exit 2 with the usage line', async (argv, message) => {
    const r = await rigctl(...argv);
    expect(r).toMatchObject({ code: 2, ran: [] });
    expect(r.err).toMatch(message);
    expect(r.err).toMatch(/\n\nusage: rigctl .*\n\(rigctl( [a-z-]+)* --help (shows its options|lists its commands)\)$/);
  });

  it('a connection option mistake exits 2 without running the command', async () => {
    const r = await rigctl('--api-key-file', '/nonexistent/key', 'rigs');
    expect(r).toMatchObject({ code: 2, ran: [] });
    expect(r.err).toBe('rigctl: API key file /nonexistent/key does not exist (from --api-key-file)');
  });
});

describe('rigctl completion', () => {
  let dir: TempDir;
  beforeAll(() => {
    dir = makeTempDir('rigctl-completion-');
    writeFileSync(join(dir.path, 'fleet.yaml'), 'groups: []\n');
  });
  afterAll(() => dir.remove());

  /** What bash offers for the words typed so far (the last one is being completed), from the generated script. */
  async function bashOffers(...words: string[]): Promise<string[]> {
    const script = (await rigctl('completion', 'bash')).out;
    writeFileSync(join(dir.path, 'rigctl.bash'), script);
    const line = words.map((w) => `'${w}'`).join(' ');
    const probe = `source ./rigctl.bash; COMP_WORDS=(rigctl ${line}); COMP_CWORD=${words.length}; _rigctl; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const r = spawnSync('bash', ['--norc', '--noprofile', '-c', probe], { cwd: dir.path, encoding: 'utf8', timeout: 10_000 });
    if (r.status !== 0) throw new Error(`bash: ${r.stderr}`);
    return r.stdout.split('\n').filter(Boolean);
  }

  it('bash: commands, subcommands after global options, options, option values and file arguments', async () => {
    expect(await bashOffers('k')).toEqual(['keys']);
    expect(await bashOffers('--server', 'ctl:1', '--timeout', '500', 're')).toEqual(['restart', 'reboot', 'release']);
    expect(await bashOffers('keys', '')).toEqual(['create', 'list', 'revoke', 'rotate']);
    expect(await bashOffers('keys', 'create', '--')).toEqual(['--name', '--scopes', '--ttl-days', '--server', '--api-key', '--api-key-file', '--tls-ca', '--tls-cert', '--tls-key', '--json', '--timeout', '--help']);
    expect(await bashOffers('rigs', '--status', 'o')).toEqual(['online', 'offline']);
    expect(await bashOffers('bulk', '--group', 'g', 're')).toEqual(['restart', 'reboot']);
    expect(await bashOffers('spec', 'apply', 'fl')).toEqual(['fleet.yaml']);
    expect(await bashOffers('completion', '')).toEqual(['bash', 'zsh']);
    expect(await bashOffers('restart', 'r-1', '--no')).toEqual(['--no-wait']);
    expect(await bashOffers('help', 'keys', 'r')).toEqual(['revoke', 'rotate']);
    expect(await bashOffers('help', 'sp')).toEqual(['spec']);
  });

  it('zsh: a #compdef script that offers every command with its summary', async () => {
    const r = await rigctl('completion', 'zsh');
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[0]).toBe('#compdef rigctl');
    for (const path of PATHS.filter((p) => p.length === 1)) expect(r.out).toContain(`'${path[0]}:`);
    expect(r.out).toContain("'create:a new API key; its token is printed once (store it now: only its hash is kept)'");
    expect(r.out).toContain("'rigs --status') compadd -- 'online' 'offline' 'stale' 'miner-unreachable' ;;");
  });
});
