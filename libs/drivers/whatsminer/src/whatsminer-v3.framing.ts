/**
 * API v3 framing, both directions: a 4-byte little-endian unsigned length, then that many bytes of UTF-8 JSON
 * (asic-rs v3 rpc.rs, pyasic BTMinerV3RPCAPI struct "<I", miningos wm-api-v3.js).
 */
export const FRAME_HEADER_BYTES = 4;
/** Larger than any reply seen (get.device.info is about 1.3 kB); a bigger prefix is garbage, not a reply. */
export const MAX_FRAME_BYTES = 1024 * 1024;

export function encodeFrame(body: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(body), 'utf8');
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  header.writeUInt32LE(json.length, 0);
  return Buffer.concat([header, json]);
}

export type FrameProgress =
  | { state: 'incomplete'; have: number; want: number | undefined }
  | { state: 'too-large'; want: number }
  | { state: 'complete'; body: Buffer; rest: Buffer };

/** Accumulates bytes until one whole frame is in. */
export class FrameReader {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly maxBytes = MAX_FRAME_BYTES) {}

  push(chunk: Buffer): FrameProgress {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    return this.progress();
  }

  progress(): FrameProgress {
    if (this.buffer.length < FRAME_HEADER_BYTES) return { state: 'incomplete', have: this.buffer.length, want: undefined };
    const want = this.buffer.readUInt32LE(0);
    if (want > this.maxBytes) return { state: 'too-large', want };
    const have = this.buffer.length - FRAME_HEADER_BYTES;
    if (have < want) return { state: 'incomplete', have, want };
    return {
      state: 'complete',
      body: this.buffer.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + want),
      rest: this.buffer.subarray(FRAME_HEADER_BYTES + want),
    };
  }
}
