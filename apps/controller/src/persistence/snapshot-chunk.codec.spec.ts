import { MinerSnapshot } from '@rigwarden/protocol';
import { decodeSnapshotChunk, encodeSnapshotChunk } from './snapshot-chunk.codec';

const T0 = Date.parse('2026-12-04T10:00:00Z');

/** A simulated S19-like miner polled every 5 s: 3 boards, 4 fans, 2 pools, counters that grow, readings that wander. */
function simulated(seq: number): string {
  const wobble = (base: number, spread: number, k: number): number => Math.round((base + spread * Math.sin(seq * 0.37 + k)) * 100) / 100;
  const accepted = 1000 + seq * 3;
  return JSON.stringify(MinerSnapshot.toJSON(MinerSnapshot.fromPartial({
    rigId: 'rig-0042', minerId: 'antminer-1', host: '10.0.4.42', port: 4028, vendor: 'bitmain', model: 'Antminer S19 Pro',
    firmware: '2023-01-01', uptimeS: 86_400 + seq * 5, hashrate5sHs: wobble(110e12, 2e12, 0), hashrateAvgHs: wobble(110e12, 3e11, 1),
    accepted, rejected: Math.floor(seq / 40), stale: 0, hwErrors: Math.floor(seq / 90), powerW: wobble(3250, 25, 2),
    boards: [0, 1, 2].map((index) => ({ index, hashrateHs: wobble(36.6e12, 1e12, index), boardTempC: wobble(62, 2, index), chipTempC: wobble(78, 2.5, index), chips: 114, status: 1, frequencyMhz: 675 })),
    fans: [0, 1, 2, 3].map((index) => ({ index, rpm: Math.round(wobble(5400, 120, index)), percent: 70 })),
    pools: [0, 1].map((index) => ({ index, url: `stratum+tcp://pool${index}.example.com:3333`, user: 'farm.rig0042', status: 1, active: index === 0, accepted: index === 0 ? accepted : 0, rejected: 0 })),
    collectedAt: new Date(T0 + seq * 5_000), seq, agentId: 'agent-7', driver: 'cgminer', algorithm: 'sha256d',
  })));
}

describe('snapshot chunk codec', () => {
  it('gives back every text byte for byte, in order', () => {
    const texts = Array.from({ length: 120 }, (_, i) => simulated(i + 1));
    expect(decodeSnapshotChunk(encodeSnapshotChunk(texts))).toEqual(texts);
  });

  it('keeps NULLs, non-numeric fields, key sets that change, odd text and non-canonical JSON as they were', () => {
    const texts = [
      '{"rigId":"r1","seq":"1","hashrate5sHs":null,"boards":[]}',
      '{"rigId":"r1","seq":"2","powerW":3100.5,"fans":[{"index":0,"rpm":"NaN"}],"note":"é \\u0000 \\"q\\" 𝄞"}',
      '{ "rigId" : "r1",\n  "seq": "3" }',
      '',
      `{"rigId":"r1","seq":"4","big":${'9'.repeat(40)},"x":1e400}`,
    ];
    expect(decodeSnapshotChunk(encodeSnapshotChunk(texts))).toEqual(texts);
    expect(decodeSnapshotChunk(encodeSnapshotChunk([]))).toEqual([]);
  });

  it('keeps texts longer than one varint byte can count', () => {
    const long = `{"x":"${'a'.repeat(70_000)}"}`;
    expect(decodeSnapshotChunk(encodeSnapshotChunk([long, 'b']))).toEqual([long, 'b']);
  });

  it('takes well under 100 bytes per simulated snapshot in a chunk of 10 minutes (about 70 B of 1,250 B of JSON)', () => {
    const texts = Array.from({ length: 120 }, (_, i) => simulated(i + 1));
    const blob = encodeSnapshotChunk(texts);
    const raw = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
    expect(raw / texts.length).toBeGreaterThan(800);
    expect(blob.length / texts.length).toBeLessThan(100);
  });

  it('refuses a blob of an unknown format, a truncated one and trailing bytes', () => {
    expect(() => decodeSnapshotChunk(Buffer.alloc(0))).toThrow(/unknown format/);
    expect(() => decodeSnapshotChunk(Buffer.from([9, 1, 2]))).toThrow(/unknown format 9/);
    const good = encodeSnapshotChunk(['{"a":1}']);
    expect(() => decodeSnapshotChunk(good.subarray(0, good.length - 2))).toThrow();
  });
});
