/**
 * rigwarden-agent's command line on the built bundle (node's util.parseArgs): help, version, usage mistakes (exit 2
 * with the usage) and check-config (exit 78 for a config that does not exist).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runNode } from '@rigwarden/testing';

const root = join(__dirname, '..');
const agent = join(root, 'bin', 'rigwarden-agent.js');

jest.setTimeout(60_000);

describe('rigwarden-agent command line', () => {
  beforeAll(async () => {
    if (!existsSync(join(root, 'dist/agent/main.js'))) {
      const build = await runNode(join(root, 'tools/build.mjs'), [], {}, 60_000);
      if (build.code !== 0) throw new Error(`build failed: ${build.stderr}`);
    }
  });

  it.each([['--help'], ['-h'], ['help']])('%s prints the usage, exit 0', async (arg) => {
    const r = await runNode(agent, [arg]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^usage: rigwarden-agent <command> \[options\]/);
  });

  it('version and --version print the version', async () => {
    const a = await runNode(agent, ['version']);
    const b = await runNode(agent, ['--version']);
    expect(a).toMatchObject({ code: 0, stderr: '' });
    expect(a.stdout).toMatch(/^\d+\.\d+\.\d+/);
    expect(b.stdout).toBe(a.stdout);
  });

  it.each([
    [['--bogus'], 'unknown option "--bogus"'],
    [['run', '--config'], '--config needs a file'],
    [['--check=yes'], '--check takes no value'],
    [['run', '--config', 'a.yaml', 'extra'], 'unexpected argument "extra"'],
    [['record', '--out', '/tmp/x', '--bogus'], 'unknown option "--bogus"'],
    [['record', '--out', '/tmp/x', '127.0.0.1:1', '--interval', '0'], '--interval needs a positive number of milliseconds'],
  ])('%j: exit 2 with the message and the usage', async (args, message) => {
    const r = await runNode(agent, args, { RIGWARDEN_AGENT_CONFIG: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toMatch(/usage: rigwarden-agent/);
  });

  it('check-config of a file that does not exist: exit 78 (EX_CONFIG), naming the file', async () => {
    const r = await runNode(agent, ['--config', '/nonexistent/agent.yaml', '--check']);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('/nonexistent/agent.yaml');
  });
});
