/** The last N lines of a process's output, for "tail on request". */
export class LogRing {
  private readonly lines: string[] = [];
  /** The unfinished last line per stream, so stdout and stderr never merge into one line. */
  private readonly partials = new Map<string, string>();
  private dropped = 0;

  constructor(readonly capacity = 1_000, private readonly maxLineLength = 4_096) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`log capacity must be a positive integer, got ${capacity}`);
  }

  /** Adds a chunk of one stream's output; a line split across chunks is joined. */
  write(chunk: string, stream = 'stdout'): void {
    const text = (this.partials.get(stream) ?? '') + chunk;
    const parts = text.split(/\r?\n/);
    let partial = parts.pop() ?? '';
    for (const line of parts) this.push(line);
    if (partial.length > this.maxLineLength) {
      this.push(partial);
      partial = '';
    }
    this.partials.set(stream, partial);
  }

  /** Keeps the lines that never got their newline (the process exited). */
  flush(): void {
    for (const partial of this.partials.values()) if (partial !== '') this.push(partial);
    this.partials.clear();
  }

  /** Adds a line of our own (start, exit), marked so it stands out from the miner's. */
  note(line: string): void {
    this.flush();
    this.push(`[rigwarden] ${line}`);
  }

  /** The last n lines (all kept lines by default), oldest first. */
  tail(n = this.capacity): string[] {
    return n <= 0 ? [] : this.lines.slice(-n);
  }

  /** Lines that fell out of the buffer since it was created. */
  droppedLines(): number {
    return this.dropped;
  }

  private push(line: string): void {
    const clean = line.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '').slice(0, this.maxLineLength);
    this.lines.push(clean);
    if (this.lines.length > this.capacity) {
      this.lines.shift();
      this.dropped++;
    }
  }
}
