import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DriverError, driverRegistry, type CollectContext } from '@rigwarden/drivers-core';
import { BoardStatus } from '@rigwarden/protocol';
import { GpuMinerSimulator, TeamRedMinerSimulator, type GpuMinerFlavor } from '@rigwarden/simulators';
import { GminerDriver } from './gminer.driver';
import { LolminerDriver } from './lolminer.driver';
import { TeamRedMinerDriver } from './teamredminer.driver';
import { TrexDriver } from './trex.driver';
import { XmrigDriver } from './xmrig.driver';

const ctx = (): CollectContext => ({ signal: new AbortController().signal, deadlineMs: 5_000 });
const sims: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.stop()));
});

async function startSim(flavor: GpuMinerFlavor, extra: Partial<ConstructorParameters<typeof GpuMinerSimulator>[0]> = {}) {
  const sim = new GpuMinerSimulator({ flavor, now: () => 1_700_000_000_000, ...extra });
  sims.push(sim);
  const address = await sim.start();
  return { sim, address };
}

describe('GPU miner HTTP drivers against the simulators', () => {
  it('registers t-rex, lolminer, gminer, xmrig and teamredminer with their default ports', () => {
    expect(driverRegistry.names()).toEqual(expect.arrayContaining(['t-rex', 'lolminer', 'gminer', 'xmrig', 'teamredminer']));
    expect(driverRegistry.get('t-rex')?.defaultPort).toBe(4067);
    expect(driverRegistry.create('xmrig', { host: '127.0.0.1', port: 1 }).name).toBe('xmrig');
  });

  it('t-rex: one board per GPU with the PCI bus id built from pci_domain/pci_bus/pci_id', async () => {
    const { address } = await startSim('t-rex');
    const reading = await new TrexDriver(address).collect(ctx());
    expect(reading).toMatchObject({ host: '127.0.0.1', port: address.port, driver: 't-rex', vendor: 't-rex', algorithm: 'ethash', uptimeS: 600 });
    expect(reading.boards.map((b) => [b.index, b.pciBusId, b.hashrateHs, b.boardTempC, b.fanPercent, b.powerW, b.accepted])).toEqual([
      [0, '0000:01:00.0', 60e6, 60, 70, 120, 100],
      [1, '0000:02:00.0', 61e6, 61, 71, 121, 101],
    ]);
  });

  it('t-rex with an API password: logs in for a sid, sends it, and logs in again once after the sid expires', async () => {
    const { sim, address } = await startSim('t-rex', { password: 's3cret' });
    const driver = new TrexDriver({ ...address, options: { password: 's3cret' } });
    await driver.collect(ctx());
    await driver.collect(ctx());
    sim.expireSessions();
    await driver.collect(ctx());
    expect(sim.requests.map((r) => r.url)).toEqual([
      '/login?password=s3cret', '/summary?sid=sid1', '/summary?sid=sid1', '/summary?sid=sid1', '/login?password=s3cret', '/summary?sid=sid2',
    ]);
  });

  it('t-rex with a wrong password fails with access_denied and no secret in the message', async () => {
    const { address } = await startSim('t-rex', { password: 's3cret' });
    const err = await new TrexDriver({ ...address, options: { password: 'hunter2-bad' } }).collect(ctx()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DriverError);
    expect((err as DriverError).kind).toBe('access_denied');
    expect((err as DriverError).message).not.toContain('hunter2-bad');
  });

  it('t-rex behind a password without one configured says which option to set', async () => {
    const { address } = await startSim('t-rex', { password: 's3cret' });
    await expect(new TrexDriver(address).collect(ctx())).rejects.toThrow(/options\.password/);
  });

  it('lolminer multi-algorithm shape: Performance_Factor to H/s, per-worker shares, clocks', async () => {
    const { address } = await startSim('lolminer');
    const reading = await new LolminerDriver(address).collect(ctx());
    expect(reading).toMatchObject({ firmware: 'lolMiner 1.76', hashrate5sHs: 121e6, accepted: 201, rejected: 1, powerW: 241 });
    expect(reading.boards[1]).toMatchObject({
      index: 1, pciBusId: '0000:02:00.0', hashrateHs: 61e6, boardTempC: 61, fanPercent: 71, powerW: 121, coreClockMhz: 1500, memoryClockMhz: 7000, accepted: 101, rejected: 1,
    });
  });

  it('lolminer legacy shape over HTTP', async () => {
    const { address } = await startSim('lolminer-legacy');
    const reading = await new LolminerDriver(address).collect(ctx());
    expect(reading.boards.map((b) => [b.pciBusId, b.hashrateHs])).toEqual([['0000:01:00.0', 60e6], ['0000:02:00.0', 61e6]]);
    expect(reading.rejected).toBe(1);
  });

  it('gminer: H/s speed unit, fan and clocks', async () => {
    const { address } = await startSim('gminer');
    const reading = await new GminerDriver(address).collect(ctx());
    expect(reading).toMatchObject({ hashrate5sHs: 121e6, accepted: 201, rejected: 1, firmware: 'GMiner 3.44' });
    expect(reading.boards[0]).toMatchObject({ pciBusId: '0000:01:00.0', fanPercent: 70, coreClockMhz: 1500 });
  });

  it('gminer: a recorded reply with two leading blank lines decodes over a real socket', async () => {
    const body = readFileSync(join(__dirname, '../../testdata/gminer-older/stat.json'), 'utf8');
    expect(body.startsWith('\n\n')).toBe(true);
    const { address } = await startSim('gminer', { recordedReplies: { '/stat': body } });
    const reading = await new GminerDriver(address).collect(ctx());
    expect(reading.boards).toHaveLength(4);
  });

  it('xmrig: bearer token on both requests, GPUs from /2/backends', async () => {
    const { sim, address } = await startSim('xmrig', { accessToken: 'tok' });
    const reading = await new XmrigDriver({ ...address, options: { accessToken: 'tok' } }).collect(ctx());
    expect(sim.requests.map((r) => [r.url, r.headers['authorization']])).toEqual([['/2/summary', 'Bearer tok'], ['/2/backends', 'Bearer tok']]);
    expect(reading).toMatchObject({ algorithm: 'randomx', hashrate5sHs: 121e6 });
    expect(reading.boards.map((b) => b.pciBusId)).toEqual(['0000:01:00.0', '0000:02:00.0']);
  });

  it('xmrig: a wrong token is access_denied (HTTP 401)', async () => {
    const { address } = await startSim('xmrig', { accessToken: 'tok' });
    await expect(new XmrigDriver({ ...address, options: { accessToken: 'nope' } }).collect(ctx())).rejects.toMatchObject({ kind: 'access_denied' });
  });

  it('xmrig 2.x: /2/summary is 404, the driver falls back to GET / and stays there', async () => {
    const { sim, address } = await startSim('xmrig-legacy');
    const driver = new XmrigDriver(address);
    await driver.collect(ctx());
    const reading = await driver.collect(ctx());
    expect(sim.requests.map((r) => r.url)).toEqual(['/2/summary', '/', '/']);
    expect(reading.boards).toHaveLength(2);
  });

  it('xmrig: a broken /2/backends keeps the summary reading and reports the backends error', async () => {
    const { address } = await startSim('xmrig', { recordedReplies: { '/2/backends': '<html>502</html>' } });
    const reading = await new XmrigDriver(address).collect(ctx());
    expect(reading.hashrate5sHs).toBe(121e6);
    expect(reading.boards).toEqual([]);
    expect(reading.errors).toEqual([expect.objectContaining({ kind: 'parse', command: 'GET /2/backends' })]);
  });

  it('a reply in a unit the decoder does not know is a parse error naming the request', async () => {
    const body = JSON.stringify({ Software: 'lolMiner 1.0', Session: { Performance_Summary: 1, Performance_Unit: 'bogo/s' }, GPUs: [] });
    const { address } = await startSim('lolminer', { recordedReplies: { '/summary': body } });
    await expect(new LolminerDriver(address).collect(ctx())).rejects.toMatchObject({ kind: 'parse', message: expect.stringMatching(/GET \/summary: lolMiner: unknown Performance_Unit "bogo\/s"/) });
  });

  it('fault "GPU lost": that GPU hashes 0, its board is dead and its sensors absent (never 0 °C)', async () => {
    const { sim, address } = await startSim('t-rex');
    sim.loseGpu(1);
    const reading = await new TrexDriver(address).collect(ctx());
    expect(reading.boards[1]).toMatchObject({ status: BoardStatus.BOARD_STATUS_DEAD, hashrateHs: 0, boardTempC: undefined, powerW: undefined });
    expect(reading.boards[0]?.status).toBe(BoardStatus.BOARD_STATUS_OK);
    expect(reading.powerW).toBeUndefined();
  });

  it('fault "hashrate collapse": hashrates fall to the collapse factor', async () => {
    const { sim, address } = await startSim('gminer');
    sim.fault = 'hashrate-collapse';
    const reading = await new GminerDriver(address).collect(ctx());
    expect(reading.hashrate5sHs).toBeCloseTo(121e6 * 0.05, 0);
  });

  it('fault "API hang": the collect fails with a timeout within the configured deadline', async () => {
    const { sim, address } = await startSim('lolminer');
    sim.fault = 'api-hang';
    const started = Date.now();
    const err = await new LolminerDriver({ ...address, options: { timeoutMs: 300 } }).collect(ctx()).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'timeout' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('an aborted collect stops at once', async () => {
    const { sim, address } = await startSim('xmrig');
    sim.fault = 'api-hang';
    const controller = new AbortController();
    const pending = new XmrigDriver(address).collect({ signal: controller.signal, deadlineMs: 5_000 });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({ kind: 'aborted' });
  });

  it('nothing listening is unreachable', async () => {
    const { sim, address } = await startSim('gminer');
    await sim.stop();
    await expect(new GminerDriver(address).collect(ctx())).rejects.toMatchObject({ kind: 'unreachable' });
  });

  it('teamredminer through the cgminer client: GPUs with bus ids from devdetails, pool algorithm', async () => {
    const sim = new TeamRedMinerSimulator({ now: () => 1_700_000_000_000 });
    sims.push(sim);
    const address = await sim.start();
    sim.gpus[0]!.lost = true;
    const reading = await new TeamRedMinerDriver(address).collect(ctx());
    expect(sim.requests.map((r) => JSON.parse(r).command)).toEqual(['summary', 'devs', 'pools', 'devdetails', 'version']);
    expect(reading).toMatchObject({ driver: 'teamredminer', firmware: 'teamredminer 0.10.21', algorithm: 'ethash', uptimeS: 600 });
    expect(reading.boards.map((b) => [b.index, b.pciBusId, b.name, b.hashrateHs, b.status])).toEqual([
      [0, '0000:01:00.0', 'AMD Radeon RX 6800', 0, BoardStatus.BOARD_STATUS_DEAD],
      [1, '0000:02:00.0', 'AMD Radeon RX 6800', 61e6, BoardStatus.BOARD_STATUS_OK],
    ]);
    expect(reading.pools[0]).toMatchObject({ active: true, url: 'stratum+tcp://pool.example:4444' });
  });
});
