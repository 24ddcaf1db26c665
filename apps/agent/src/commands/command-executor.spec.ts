import '@rigwarden/drivers-whatsminer';
import { driverRegistry, type MinerDriver, type MinerReading } from '@rigwarden/drivers-core';
import { CommandEnvelope, CommandOutcome } from '@rigwarden/protocol';
import { WhatsminerV3Simulator } from '@rigwarden/simulators';
import { waitFor } from '@rigwarden/testing';
import { CommandExecutor, type CommandTarget } from './command-executor';

type Payload = NonNullable<CommandEnvelope['payload']>;
const RIG = 'wm-rig';

const envelope = (payload: Payload, minerId = 'm1'): CommandEnvelope => CommandEnvelope.fromPartial({ commandId: 'c1', rigId: RIG, minerId, payload });

/** A T-Rex-like driver: reads, nothing else. */
const readOnly: MinerDriver = {
  name: 't-rex', endpoint: { host: '127.0.0.1', port: 4067 },
  collect: () => Promise.reject(new Error('not collected in this test')) as Promise<MinerReading>,
};

describe('command executor: capabilities through the miner API (Whatsminer v3 simulator)', () => {
  let sim: WhatsminerV3Simulator;
  let endpoint: { host: string; port: number };

  beforeEach(async () => {
    sim = new WhatsminerV3Simulator({ password: 'admin-pass', rebootDownMs: 200 });
    endpoint = await sim.start();
  });
  afterEach(() => sim.stop());

  const executorFor = (options: Record<string, unknown> | undefined, target: Partial<CommandTarget> = {}): CommandExecutor => {
    const driver = driverRegistry.create('whatsminer-v3', { ...endpoint, options });
    return new CommandExecutor(new Map([[RIG, { rigId: RIG, miners: [{ rigId: RIG, minerId: 'm1', driver }], ...target }]]), {}, 10_000);
  };
  const run = (executor: CommandExecutor, payload: Payload) => executor.execute(envelope(payload), AbortSignal.timeout(10_000));

  it('sets the power mode to low, and the miner shows it', async () => {
    const result = await run(executorFor({ password: 'admin-pass' }), { $case: 'setPowerMode', value: { mode: 'low' } });
    expect(result).toEqual({ outcome: CommandOutcome.COMMAND_OUTCOME_SUCCEEDED, cause: 'power mode low' });
    expect(sim.state.mode).toBe('low');
  });

  it('sleep stops hashing with the API up; normal starts it again', async () => {
    const executor = executorFor({ password: 'admin-pass' });
    expect((await run(executor, { $case: 'setPowerMode', value: { mode: 'sleep' } })).outcome).toBe(CommandOutcome.COMMAND_OUTCOME_SUCCEEDED);
    expect(sim.state.working).toBe(false);
    expect((await run(executor, { $case: 'setPowerMode', value: { mode: 'normal' } })).outcome).toBe(CommandOutcome.COMMAND_OUTCOME_SUCCEEDED);
    expect(sim.state).toMatchObject({ working: true, mode: 'normal' });
  });

  it('turns the fault light on and off', async () => {
    const executor = executorFor({ password: 'admin-pass' });
    expect(await run(executor, { $case: 'setFaultLight', value: { on: true } })).toEqual({ outcome: CommandOutcome.COMMAND_OUTCOME_SUCCEEDED, cause: 'fault light on' });
    expect(sim.state.ledStatus).not.toBe('auto');
    expect((await run(executor, { $case: 'setFaultLight', value: { on: false } })).outcome).toBe(CommandOutcome.COMMAND_OUTCOME_SUCCEEDED);
    expect(sim.state.ledStatus).toBe('auto');
  });

  it('sets a power target in watts', async () => {
    const result = await run(executorFor({ password: 'admin-pass' }), { $case: 'setPowerTarget', value: { watts: 3000 } });
    expect(result).toEqual({ outcome: CommandOutcome.COMMAND_OUTCOME_SUCCEEDED, cause: 'power target 3000 W' });
    expect(sim.state.powerLimitW).toBe(3000);
  });

  it('rebootHost with no rebootCommand reboots through the miner API', async () => {
    const result = await run(executorFor({ password: 'admin-pass' }), { $case: 'rebootHost', value: {} });
    expect(result.outcome).toBe(CommandOutcome.COMMAND_OUTCOME_SUCCEEDED);
    expect(result.cause).toMatch(/^rebooted through the miner's API \(whatsminer-v3 at 127\.0\.0\.1:\d+\)$/);
    // The simulator counts a reboot once its API is back up.
    await waitFor('the simulated reboot', () => sim.state.reboots === 1 || undefined, 5000);
  });

  it('rebootHost with a rebootCommand runs it and leaves the miner API alone', async () => {
    const result = await run(executorFor({ password: 'admin-pass' }, { rebootCommand: [process.execPath, '-e', 'process.exit(0)'] }), { $case: 'rebootHost', value: {} });
    expect(result.outcome).toBe(CommandOutcome.COMMAND_OUTCOME_SUCCEEDED);
    expect(sim.state.reboots).toBe(0);
  });

  it.each<[string, Payload]>([
    ['power-mode', { $case: 'setPowerMode', value: { mode: 'low' } }],
    ['fault-light', { $case: 'setFaultLight', value: { on: true } }],
    ['power-target', { $case: 'setPowerTarget', value: { watts: 3000 } }],
    ['set-pools', { $case: 'setPools', value: { pools: [{ url: 'stratum+tcp://a.example:3333', user: 'w', password: '' }] } }],
    ['restart', { $case: 'restartMiner', value: {} }],
  ])('without options.password, %s is REJECTED naming the capability and the password, and nothing is written', async (capability, payload) => {
    const result = await run(executorFor(undefined), payload);
    expect(result.outcome).toBe(CommandOutcome.COMMAND_OUTCOME_REJECTED);
    expect(result.cause).toContain(`(capability "${capability}" missing)`);
    expect(result.cause).toContain("whatsminer-v3 without options.password: reads only; give the admin password in the miner's options");
    expect(sim.requests.filter((r) => String(r.body?.['cmd']).startsWith('set.'))).toEqual([]);
  });

  it('without a password or a rebootCommand, rebootHost is REJECTED naming both ways to get one', async () => {
    const result = await run(executorFor(undefined), { $case: 'rebootHost', value: {} });
    expect(result.outcome).toBe(CommandOutcome.COMMAND_OUTCOME_REJECTED);
    expect(result.cause).toContain(`rigs.${RIG}.rebootCommand`);
    expect(result.cause).toContain('capability "reboot" missing');
    expect(sim.state.reboots).toBe(0);
  });

  it.each<[string, Payload, RegExp]>([
    ['a power mode no firmware has', { $case: 'setPowerMode', value: { mode: 'turbo' } }, /power mode "turbo" is not one of normal, low, sleep/],
    ['0 W', { $case: 'setPowerTarget', value: { watts: 0 } }, /whole number of watts from 1 to 20000, got 0/],
  ])('refuses %s before writing', async (_label, payload, cause) => {
    const result = await run(executorFor({ password: 'admin-pass' }), payload);
    expect(result.outcome).toBe(CommandOutcome.COMMAND_OUTCOME_REJECTED);
    expect(result.cause).toMatch(cause);
    expect(sim.requests.filter((r) => String(r.body?.['cmd']).startsWith('set.'))).toEqual([]);
  });
});

describe('command executor: a driver without the capability', () => {
  const executor = new CommandExecutor(new Map([[RIG, { rigId: RIG, miners: [{ rigId: RIG, minerId: 'm1', driver: readOnly }] }]]));

  it.each<[string, Payload, string]>([
    ['fault-light', { $case: 'setFaultLight', value: { on: true } }, 'antminer-web, braiins-grpc, whatsminer-v3'],
    ['power-mode', { $case: 'setPowerMode', value: { mode: 'low' } }, 'antminer-web, whatsminer-v3'],
    ['power-target', { $case: 'setPowerTarget', value: { watts: 1200 } }, 'braiins-grpc, whatsminer-v3'],
    ['restart', { $case: 'restartMiner', value: {} }, 'miners[].process'],
  ])('%s is REJECTED with the drivers that have it', async (capability, payload, drivers) => {
    const result = await executor.execute(envelope(payload), AbortSignal.timeout(5000));
    expect(result.outcome).toBe(CommandOutcome.COMMAND_OUTCOME_REJECTED);
    expect(result.cause).toContain(`unsupported: driver t-rex at 127.0.0.1:4067 cannot do`);
    expect(result.cause).toContain(`(capability "${capability}" missing): driver t-rex has no ${capability}; drivers that do: `);
    expect(result.cause).toContain(drivers);
  });
});
