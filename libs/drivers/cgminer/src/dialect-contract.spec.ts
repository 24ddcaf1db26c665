import { CgminerSimulator, type CgminerSimState, type SimDialect } from '@rigwarden/simulators';
import { PoolStatus } from '@rigwarden/protocol';
import { driverRegistry, hasMinerControl, type CollectContext, type MinerReading } from '@rigwarden/drivers-core';
import { CgminerFamilyDriver } from './cgminer.driver';
import './index';

const ctx = (): CollectContext => ({ signal: AbortSignal.timeout(5000), deadlineMs: 5000 });

interface DialectContract {
  dialect: SimDialect;
  /** The exact bytes of the first collect, in order. */
  requests: string[];
  /** The same collect a second time: parts the firmware would not join are asked alone straight away. */
  secondRequests: string[];
  boardTemps(state: CgminerSimState): (number | undefined)[];
  chipTemps(state: CgminerSimState): (number | undefined)[];
  fans(state: CgminerSimState): number[];
  poolIndexBase: number;
}

const all = (s: CgminerSimState): number[] => s.boards.map((b) => b.tempC);
const chips = (s: CgminerSimState): (number | undefined)[] => s.boards.map((b) => b.chipTempC);

const CONTRACTS: DialectContract[] = [
  {
    dialect: 'cgminer',
    // lcd is not joinable on the simulator: asked alone once, then known unsupported and not asked again.
    requests: ['{"command":"version+summary+pools+devs+stats+lcd"}', '{"command":"lcd"}'],
    secondRequests: ['{"command":"version+summary+pools+devs+stats"}'],
    boardTemps: all, chipTemps: (s) => s.boards.map(() => undefined), fans: (s) => s.fans, poolIndexBase: 0,
  },
  {
    dialect: 'antminer',
    requests: ['{"command":"version+summary+pools+stats"}'],
    secondRequests: ['{"command":"version+summary+pools+stats"}'],
    boardTemps: all, chipTemps: chips, fans: (s) => s.fans, poolIndexBase: 0,
  },
  {
    dialect: 'whatsminer',
    requests: ['{"command":"summary+pools+edevs+devdetails"}'],
    secondRequests: ['{"command":"summary+pools+edevs+devdetails"}'],
    boardTemps: all, chipTemps: chips, fans: (s) => s.fans.slice(0, 2), poolIndexBase: 1,
  },
  {
    dialect: 'avalon',
    requests: ['{"command":"version+summary+pools+stats"}'],
    secondRequests: ['{"command":"version+summary+pools+stats"}'],
    boardTemps: all, chipTemps: chips, fans: (s) => s.fans, poolIndexBase: 0,
  },
  {
    dialect: 'braiins',
    requests: [
      '{"command":"version+summary+pools+devs+fans+temps+tunerstatus"}',
      '{"command":"fans"}', '{"command":"temps"}', '{"command":"tunerstatus"}',
    ],
    secondRequests: ['{"command":"version+summary+pools+devs"}', '{"command":"fans"}', '{"command":"temps"}', '{"command":"tunerstatus"}'],
    boardTemps: all, chipTemps: chips, fans: (s) => s.fans, poolIndexBase: 0,
  },
  {
    dialect: 'luxos',
    requests: ['{"command":"version+summary+pools+devs+fans+temps+power"}', '{"command":"fans"}', '{"command":"temps"}', '{"command":"power"}'],
    secondRequests: ['{"command":"version+summary+pools+devs"}', '{"command":"fans"}', '{"command":"temps"}', '{"command":"power"}'],
    boardTemps: all, chipTemps: chips, fans: (s) => s.fans, poolIndexBase: 0,
  },
];

function expectMatchesState(reading: MinerReading, sim: CgminerSimulator, contract: DialectContract): void {
  const s = sim.state;
  // Avalon reports a 30 s window and no 5 s one: the shortest window the firmware labels, never called "5s".
  const shortest = contract.dialect === 'avalon' ? reading.hashrateWindows.find((w) => w.label === '30s')?.hashrateHs : reading.hashrate5sHs;
  if (contract.dialect === 'avalon') expect(reading.hashrate5sHs).toBeUndefined();
  expect(shortest! / sim.totalHashrateHs()).toBeCloseTo(1, 6);
  expect(reading.boards).toHaveLength(s.boards.length);
  reading.boards.forEach((b, i) => expect(b.hashrateHs! / s.boards[i]!.hashrateHs).toBeCloseTo(1, 6));
  expect(reading.boards.map((b) => b.boardTempC)).toEqual(contract.boardTemps(s));
  expect(reading.boards.map((b) => b.chipTempC)).toEqual(contract.chipTemps(s));
  expect(reading.fans.map((f) => f.rpm)).toEqual(contract.fans(s));
  expect(reading.pools.map((p) => p.url)).toEqual(s.pools.map((p) => p.url));
  expect(reading.pools.map((p) => p.index)).toEqual(s.pools.map((_, i) => i + contract.poolIndexBase));
  expect(reading.pools.filter((p) => p.active).map((p) => p.url)).toEqual([s.pools[s.activePool]!.url]);
  expect(reading.pools.map((p) => p.status)).toEqual(s.pools.map(() => PoolStatus.POOL_STATUS_ALIVE));
  expect(reading.errors).toEqual([]);
}

describe.each(CONTRACTS)('dialect contract: $dialect driver against its simulator', (contract) => {
  let sim: CgminerSimulator;
  let endpoint: { host: string; port: number };

  beforeEach(async () => {
    sim = new CgminerSimulator({ dialect: contract.dialect, lifetimeMs: 15_000 });
    endpoint = await sim.start();
  });
  afterEach(() => sim.stop());

  it('reads exactly what the simulator reports, with the exact request bytes', async () => {
    const driver = driverRegistry.create(contract.dialect, endpoint);
    const reading = await driver.collect(ctx());
    expectMatchesState(reading, sim, contract);
    expect(reading.driver).toBe(contract.dialect);
    expect(reading.host).toBe(endpoint.host);
    expect(sim.requests.map((r) => r.toString('latin1'))).toEqual(contract.requests);
    sim.requests.length = 0;
    await driver.collect(ctx());
    expect(sim.requests.map((r) => r.toString('latin1'))).toEqual(contract.secondRequests);
  });

  it('is identified by the auto driver', async () => {
    const driver = driverRegistry.create('auto', endpoint) as CgminerFamilyDriver;
    const reading = await driver.collect(ctx());
    expect(driver.identification).toMatchObject({ dialect: contract.dialect, support: 'full' });
    expect(reading.driver).toBe(`auto:${contract.dialect}`);
    expectMatchesState(reading, sim, contract);
    expect(sim.requests[0]!.toString('latin1')).toBe('{"command":"version+summary+pools+devs+stats"}');
  });

  it('follows the firmware when a board dies and a pool fails over', async () => {
    const driver = driverRegistry.create(contract.dialect, endpoint);
    sim.state.boards[1]!.alive = false;
    sim.setPoolStatus(0, 'Dead');
    const reading = await driver.collect(ctx());
    const shortWindow = contract.dialect === 'avalon' ? reading.hashrateWindows.find((w) => w.label === '30s')?.hashrateHs : reading.hashrate5sHs;
    expect(shortWindow).toBeCloseTo(sim.totalHashrateHs(), -6);
    expect(reading.pools.find((p) => p.active)?.url).toBe(sim.state.pools[1]!.url);
    expect(reading.pools[0]!.status).toBe(PoolStatus.POOL_STATUS_DEAD);
  });

  it('advertises control capabilities that match what the firmware accepts', async () => {
    const driver = driverRegistry.create(contract.dialect, endpoint);
    expect(hasMinerControl(driver)).toBe(true);
    if (!hasMinerControl(driver)) return;
    const caps = driver.controlCapabilities();
    const result = await driver.control({ kind: 'switchpool', pool: contract.poolIndexBase + 1 }, ctx());
    if (caps.switchPool) {
      expect(result).toMatchObject({ ok: true });
      expect(sim.state.activePool).toBe(1);
    } else {
      expect(result.ok).toBe(false);
      expect(!result.ok && result.error.kind).toBe('unsupported');
      expect(sim.state.activePool).toBe(0);
    }
  });
});

describe('the generic driver registered as "cgminer" and the default simulator', () => {
  it('decode into exactly the hashrate, temperatures, fans and pools the simulator reports', async () => {
    const sim = new CgminerSimulator();
    const endpoint = await sim.start();
    try {
      const reading = await driverRegistry.create('cgminer', endpoint).collect(ctx());
      expect(reading.hashrate5sHs).toBe(sim.totalHashrateHs());
      expect(reading.boards.map((b) => b.boardTempC)).toEqual(sim.state.boards.map((b) => b.tempC));
      expect(reading.fans.map((f) => f.rpm)).toEqual(sim.state.fans);
      expect(reading.pools.map((p) => [p.url, p.user, p.active])).toEqual(sim.state.pools.map((p, i) => [p.url, p.user, i === sim.state.activePool]));
      expect(reading.vendor).toBe('cgminer');
      expect(reading.firmware).toBe('cgminer 4.11.1');
    } finally {
      await sim.stop();
    }
  });

  it('registers every dialect and auto', () => {
    for (const name of ['cgminer', 'antminer', 'whatsminer', 'avalon', 'braiins', 'luxos', 'auto']) {
      expect(driverRegistry.get(name)?.defaultPort).toBe(4028);
    }
  });
});

describe('the generic driver against the cgminer 2.x and bfgminer flavors', () => {
  it('cgminer 2.x: no joins (Code 14), one command per connection from then on; {"RESTART","id":1} is understood', async () => {
    const sim = new CgminerSimulator({ flavor: 'cgminer-2', lifetimeMs: 10_000 });
    const endpoint = await sim.start();
    try {
      const driver = driverRegistry.create('cgminer', endpoint) as CgminerFamilyDriver;
      const reading = await driver.collect(ctx());
      expect(reading.firmware).toBe('cgminer 2.11.4');
      expect(reading.hashrate5sHs).toBe(sim.totalHashrateHs());
      const singles = ['version', 'summary', 'pools', 'devs', 'stats'].map((c) => `{"command":"${c}"}`);
      expect(sim.requests.map((r) => r.toString())).toEqual(['{"command":"version+summary+pools+devs+stats+lcd"}', ...singles, '{"command":"lcd"}']);
      sim.requests.length = 0;
      await driver.collect(ctx());
      expect(sim.requests.map((r) => r.toString())).toEqual(singles);
      expect(await driver.control({ kind: 'restart' }, ctx())).toMatchObject({ ok: true, message: 'RESTART' });
    } finally {
      await sim.stop();
    }
  });

  it('bfgminer: PGA devices and 20 s windows; restart as a normal STATUS with Msg "RESTART"', async () => {
    const sim = new CgminerSimulator({ flavor: 'bfgminer', lifetimeMs: 10_000 });
    const endpoint = await sim.start();
    try {
      const driver = driverRegistry.create('auto', endpoint) as CgminerFamilyDriver;
      const reading = await driver.collect(ctx());
      expect(reading).toMatchObject({ driver: 'auto:cgminer', vendor: 'bfgminer', firmware: 'bfgminer 5.5.0' });
      // bfgminer's shortest window is "MHS 20s": a 20 s rate, not a 5 s one.
      expect(reading.hashrate5sHs).toBeUndefined();
      expect(reading.hashrateWindows.find((w) => w.label === '20s')).toEqual({ label: '20s', windowS: 20, hashrateHs: sim.totalHashrateHs() });
      expect(reading.boards.map((b) => b.index)).toEqual([0, 1, 2]);
      expect(await driver.control({ kind: 'restart' }, ctx())).toMatchObject({ ok: true, message: 'RESTART' });
    } finally {
      await sim.stop();
    }
  });
});

describe('quirks over the wire', () => {
  it('whatsminer M20S: the \\\' escape in summary decodes through the driver', async () => {
    const sim = new CgminerSimulator({ dialect: 'whatsminer', state: { model: 'Whatsminer M20S' }, lifetimeMs: 10_000 });
    const endpoint = await sim.start();
    try {
      const reading = await driverRegistry.create('auto', endpoint).collect(ctx());
      expect(reading).toMatchObject({ driver: 'auto:whatsminer', firmware: 'btminer 20200917.22.REL', model: 'Whatsminer M20S' });
    } finally {
      await sim.stop();
    }
  });

  it('antminer S9: "}{" stats, slots 6-8 and fans on fan5/fan6 decode through the driver', async () => {
    const sim = new CgminerSimulator({ dialect: 'antminer', state: { model: 'Antminer S9', fans: [3720, 2400] }, lifetimeMs: 10_000 });
    const endpoint = await sim.start();
    try {
      const reading = await driverRegistry.create('antminer', endpoint).collect(ctx());
      expect(reading.boards).toHaveLength(3);
      expect(reading.fans).toEqual([{ index: 5, rpm: 3720, percent: undefined }, { index: 6, rpm: 2400, percent: undefined }]);
      expect(reading.hashrate5sHs! / sim.totalHashrateHs()).toBeCloseTo(1, 6);
    } finally {
      await sim.stop();
    }
  });

  it('antminer L3+: the simulator labels MH/s as GHS and the driver reads MH/s', async () => {
    const boards = [0, 1, 2, 3].map(() => ({ hashrateHs: 126e6, tempC: 46, chipTempC: 55, chips: 72, hwErrors: 0, alive: true }));
    const sim = new CgminerSimulator({ dialect: 'antminer', state: { model: 'Antminer L3+', boards }, lifetimeMs: 10_000 });
    const endpoint = await sim.start();
    try {
      const reading = await driverRegistry.create('antminer', endpoint).collect(ctx());
      expect(reading.hashrate5sHs).toBeCloseTo(504e6, -4);
      expect(reading.algorithm).toBe('scrypt');
    } finally {
      await sim.stop();
    }
  });
});
