import { execFile, execFileSync } from 'node:child_process';
import { ApcPduSimulator } from '@rigwarden/simulators';

/**
 * Cross-checks the simulator, which the client's tests trust, against Debian's
 * net-snmp command line tools when they are already installed (nothing is
 * installed for this). Without them, one test says so in its name.
 */
function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore', timeout: 2_000 });
    return true;
  } catch {
    return false;
  }
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 5_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${command}: ${stderr || err.message}`)) : resolve(stdout)));
  });
}

const SPDU_CTL = '.1.3.6.1.4.1.318.1.1.4.4.2.1.3';
const tools = hasCommand('snmpget') && hasCommand('snmpset') && hasCommand('snmpwalk');

describe('net-snmp interop', () => {
  if (!tools) {
    it('not checked: snmpget/snmpset/snmpwalk (Debian package snmp) are not installed on this machine', () => {
      expect(tools).toBe(false);
    });
    return;
  }

  let sim: ApcPduSimulator;
  let address: string;

  beforeEach(async () => {
    sim = new ApcPduSimulator({ outlets: 8, readCommunity: 'public', writeCommunity: 'private', lifetimeMs: 20_000 });
    const { host, port } = await sim.start();
    address = `udp:${host}:${port}`;
  });

  afterEach(async () => {
    await sim.stop();
  });

  it.each(['1', '2c'])('snmpget -v%s reads sPDUOutletCtl.1 as INTEGER 1 from the simulator', async (version) => {
    const out = await run('snmpget', ['-v', version, '-c', 'public', '-On', '-r', '0', '-t', '2', '-M', '/dev/null', address, `${SPDU_CTL}.1`]);
    expect(out.trim()).toBe(`${SPDU_CTL}.1 = INTEGER: 1`);
  });

  it('snmpset -v1 switches outlet 2 off on the simulator', async () => {
    const out = await run('snmpset', ['-v', '1', '-c', 'private', '-On', '-r', '0', '-t', '2', '-M', '/dev/null', address, `${SPDU_CTL}.2`, 'i', '2']);
    expect(out.trim()).toBe(`${SPDU_CTL}.2 = INTEGER: 2`);
    expect(sim.transitionsOf(2)).toEqual(['off']);
  });

  it('snmpwalk -v1 walks the sPDUOutletCtl column, eight outlets in order', async () => {
    const out = await run('snmpwalk', ['-v', '1', '-c', 'public', '-On', '-r', '0', '-t', '2', '-M', '/dev/null', address, SPDU_CTL]);
    expect(out.trim().split('\n')).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => `${SPDU_CTL}.${n} = INTEGER: 1`));
  });

  it('snmpget with a wrong community gets no answer (Timeout), as from a real agent', async () => {
    await expect(run('snmpget', ['-v', '2c', '-c', 'nope', '-r', '0', '-t', '1', '-M', '/dev/null', address, `${SPDU_CTL}.1`])).rejects.toThrow(/Timeout/);
  });
});
