import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { WhatsminerV3Simulator } from './whatsminer-v3.simulator';

/** Sends raw bytes on one connection and collects `frames` reply frames (each one's JSON body). */
function talk(port: number, payload: Buffer, frames: number): Promise<{ raw: Buffer; bodies: Record<string, unknown>[] }> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host: '127.0.0.1', port });
    let raw = Buffer.alloc(0);
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no ${frames} frames within 3 s (got ${raw.length} bytes)`)); }, 3000);
    socket.on('connect', () => socket.write(payload));
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      raw = Buffer.concat([raw, chunk]);
      const bodies: Record<string, unknown>[] = [];
      let at = 0;
      while (raw.length >= at + 4 && raw.length >= at + 4 + raw.readUInt32LE(at)) {
        const length = raw.readUInt32LE(at);
        bodies.push(JSON.parse(raw.subarray(at + 4, at + 4 + length).toString('utf8')) as Record<string, unknown>);
        at += 4 + length;
      }
      if (bodies.length >= frames) {
        clearTimeout(timer);
        socket.destroy();
        resolve({ raw, bodies });
      }
    });
  });
}

function frame(body: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(body));
  const header = Buffer.alloc(4);
  header.writeUInt32LE(json.length, 0);
  return Buffer.concat([header, json]);
}

function signed(cmd: string, param: unknown, password: string, salt: string, ts: number, account = 'super'): Buffer {
  const token = createHash('sha256').update(`${cmd}${password}${salt}${ts}`).digest('base64').slice(0, 8);
  return frame({ cmd, param, ts, account, token });
}

describe('WhatsminerV3Simulator on the wire', () => {
  let sim: WhatsminerV3Simulator;
  let port: number;
  beforeEach(async () => {
    sim = new WhatsminerV3Simulator({ password: 'pw', salt: 'S4lt', now: () => 1_773_869_570_000 });
    port = (await sim.start()).port;
  });
  afterEach(async () => {
    await sim.stop();
  });

  it('answers each frame with a little-endian length-prefixed reply, several frames on one connection', async () => {
    const { raw, bodies } = await talk(port, Buffer.concat([frame({ cmd: 'get.device.info', param: 'salt' }), frame({ cmd: 'get.miner.status', param: 'pools' })]), 2);
    const first = '{"code":0,"desc":"get.device.info","msg":{"salt":"S4lt"},"when":1773869570}';
    expect(raw.subarray(0, 4 + first.length)).toEqual(Buffer.concat([Buffer.from([first.length, 0, 0, 0]), Buffer.from(first)]));
    expect(bodies[1]).toMatchObject({ code: 0, desc: 'get.miner.status' });
    expect((bodies[1]!['msg'] as { pools: Record<string, unknown>[] }).pools.map((p) => p['stratum-active'])).toEqual([true, false, false]);
  });

  it('refuses a wrong token or another account with code -4 and changes nothing', async () => {
    const { bodies } = await talk(port, Buffer.concat([
      signed('set.miner.power_limit', 3000, 'not-pw', 'S4lt', 1_773_869_570),
      signed('set.miner.power_limit', 3000, 'pw', 'S4lt', 1_773_869_570, 'admin'),
    ]), 2);
    expect(bodies.map((b) => [b['code'], b['msg']])).toEqual([[-4, 'access denied'], [-4, 'access denied']]);
    expect(sim.state.powerLimitW).toBe(3600);
  });

  it('applies a correctly signed write; an unknown command is -2, a missing status param -1, a frame that is not JSON -3', async () => {
    const { bodies } = await talk(port, Buffer.concat([
      signed('set.miner.power_limit', 3000, 'pw', 'S4lt', 1_773_869_570),
      frame({ cmd: 'get.nothing' }),
      frame({ cmd: 'get.miner.status' }),
      Buffer.concat([Buffer.from([3, 0, 0, 0]), Buffer.from('{{{')]),
    ]), 4);
    expect(bodies.map((b) => b['code'])).toEqual([0, -2, -1, -3]);
    expect(sim.state.powerLimitW).toBe(3000);
  });

  it('a restart pauses hashing for restartPauseMs on its clock while the API keeps answering', async () => {
    let now = 1_773_869_570_000;
    const clocked = new WhatsminerV3Simulator({ password: 'pw', salt: 'S4lt', restartPauseMs: 60_000, now: () => now });
    const p = (await clocked.start()).port;
    try {
      await talk(p, signed('set.miner.service', 'restart', 'pw', 'S4lt', 1_773_869_570), 1);
      const paused = await talk(p, frame({ cmd: 'get.miner.status', param: 'summary' }), 1);
      expect((paused.bodies[0]!['msg'] as { summary: Record<string, unknown> }).summary['hash-realtime']).toBe(0);
      now += 60_000;
      const back = await talk(p, frame({ cmd: 'get.miner.status', param: 'summary' }), 1);
      expect((back.bodies[0]!['msg'] as { summary: Record<string, number> }).summary['hash-realtime']).toBeGreaterThan(100);
      expect(clocked.state.restarts).toBe(1);
    } finally {
      await clocked.stop();
    }
  });

  it('overheating: the chips head for hotC out of the low mode and for coolC in it, at the ramp rate, in edevs and summary', async () => {
    let now = 1_773_869_570_000;
    const clocked = new WhatsminerV3Simulator({ password: 'pw', salt: 'S4lt', now: () => now });
    const p = (await clocked.start()).port;
    const hottest = async (): Promise<[number, number]> => {
      const edevs = ((await talk(p, frame({ cmd: 'get.miner.status', param: 'edevs' }), 1)).bodies[0]!['msg'] as { edevs: Array<Record<string, number>> }).edevs;
      const summary = ((await talk(p, frame({ cmd: 'get.miner.status', param: 'summary' }), 1)).bodies[0]!['msg'] as { summary: Record<string, number> }).summary;
      return [edevs[2]!['chip-temp-max']!, summary['chip-temp-max']!];
    };
    try {
      expect(await hottest()).toEqual([82, 82]);
      clocked.overheat({ hotC: 92, coolC: 66, rampCPerS: 5 });
      now += 1_000;
      expect(await hottest()).toEqual([87, 87]);
      now += 10_000;
      expect(await hottest()).toEqual([92, 92]);
      await talk(p, signed('set.miner.mode', 'low', 'pw', 'S4lt', 1_773_869_581), 1);
      now += 2_000;
      expect(await hottest()).toEqual([82, 82]);
      now += 10_000;
      expect(await hottest()).toEqual([66, 66]);
      clocked.cool();
      now += 10_000;
      expect(await hottest()).toEqual([82, 82]);
    } finally {
      await clocked.stop();
    }
  });
});
