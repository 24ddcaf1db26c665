import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';

/** First byte of an encoded chunk: the format, so that a later one can be read beside this one. */
const FORMAT_BROTLI_TEXTS = 1;

/**
 * A chunk of one rig's raw snapshots (their proto3 JSON texts, oldest first) as one blob: a format byte, then brotli
 * of the count, each text's UTF-8 length (varints) and the texts one after another. Consecutive snapshots of a rig
 * differ in a few numbers, so brotli's window finds the rest in the previous ones; every text comes back byte for
 * byte as stored (NULLs, non-numeric fields, keys that come and go are whatever the text holds).
 */
export function encodeSnapshotChunk(texts: readonly string[]): Buffer {
  const bodies = texts.map((t) => Buffer.from(t, 'utf8'));
  const header: number[] = [];
  writeVarint(header, bodies.length);
  for (const b of bodies) writeVarint(header, b.length);
  const plain = Buffer.concat([Buffer.from(header), ...bodies]);
  const packed = brotliCompressSync(plain, {
    params: {
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
      [constants.BROTLI_PARAM_QUALITY]: 11,
      [constants.BROTLI_PARAM_LGWIN]: 22,
      [constants.BROTLI_PARAM_SIZE_HINT]: plain.length,
    },
  });
  return Buffer.concat([Buffer.from([FORMAT_BROTLI_TEXTS]), packed]);
}

/** The texts of a chunk, in the order they were encoded. Throws on a blob that is no chunk of a known format. */
export function decodeSnapshotChunk(blob: Uint8Array): string[] {
  if (blob.length === 0 || blob[0] !== FORMAT_BROTLI_TEXTS) throw new Error(`snapshot chunk: unknown format ${blob.length === 0 ? '(empty)' : String(blob[0])}`);
  const plain = brotliDecompressSync(blob.subarray(1));
  const at = { pos: 0 };
  const count = readVarint(plain, at);
  const lengths: number[] = [];
  for (let i = 0; i < count; i++) lengths.push(readVarint(plain, at));
  const texts: string[] = [];
  for (const n of lengths) {
    if (at.pos + n > plain.length) throw new Error('snapshot chunk: truncated');
    texts.push(plain.toString('utf8', at.pos, at.pos + n));
    at.pos += n;
  }
  if (at.pos !== plain.length) throw new Error('snapshot chunk: trailing bytes');
  return texts;
}

function writeVarint(out: number[], n: number): void {
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

function readVarint(buf: Buffer, at: { pos: number }): number {
  let v = 0;
  let scale = 1;
  for (;;) {
    if (at.pos >= buf.length) throw new Error('snapshot chunk: truncated');
    const b = buf[at.pos++]!;
    v += (b & 0x7f) * scale;
    if (b < 0x80) return v;
    scale *= 0x80;
    if (scale > 2 ** 49) throw new Error('snapshot chunk: varint too long');
  }
}
