/** rigwarden-agent probe against a simulated Braiins OS+ gRPC API, as a process (the bundle loads the .proto files from dist). */
import { join } from 'node:path';
import { BraiinsGrpcSimulator } from '@rigwarden/simulators';
import { runNode } from '@rigwarden/testing';

const agent = join(__dirname, '..', 'bin/rigwarden-agent.js');
jest.setTimeout(30_000);

describe('rigwarden-agent probe --driver braiins-grpc', () => {
  let sim: BraiinsGrpcSimulator;
  beforeAll(async () => {
    sim = new BraiinsGrpcSimulator({ username: 'admin', password: 's3cret', model: 'Antminer S21 Pro', firmware: '2026-04-14-0-912d084c-26.04-plus' });
    await sim.start();
  });
  afterAll(() => sim.stop());

  it('braiins-grpc probe: --grpc-port, --user and --password log in and print the MinerSnapshot JSON', async () => {
    const { code, stdout, stderr } = await runNode(agent, ['probe', '127.0.0.1', '--driver', 'braiins-grpc', '--grpc-port', String(sim.port), '--user', 'admin', '--password', 's3cret', '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const snapshot = JSON.parse(stdout) as Record<string, unknown>;
    expect(snapshot).toMatchObject({
      driver: 'braiins-grpc', vendor: 'braiins', model: 'Antminer S21 Pro', firmware: 'Braiins OS+ 26.04 (2026-04-14-0-912d084c-26.04-plus)',
      port: sim.port, minerId: `127.0.0.1:${sim.port}`, currentPoolUrl: 'stratum+tcp://pool-a.example:3333',
    });
    expect(snapshot['boards']).toHaveLength(3);
    expect(sim.counters.logins).toBe(1);
  });

  it('braiins-grpc probe: a wrong password exits 1 saying the login was refused', async () => {
    const { code, stdout, stderr } = await runNode(agent, ['probe', `127.0.0.1:${sim.port}`, '--driver', 'braiins-grpc', '--user', 'admin', '--password', 'nope', '--json']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/login refused for user "admin": wrong user or password .*\(access_denied\)/);
  });
});
