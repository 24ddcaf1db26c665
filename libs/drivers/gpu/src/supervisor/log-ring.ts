/** The last N lines of a process's output, for "tail on request". */
export class LogRing {
  private readonly lines: string[] = [];
  private partial = '';
  private dropped = 0;

  constructor(readonly capacity = 1_000, private readonly maxLineLength = 4_096) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`log capacity must be a positive integer, got ${capacity}`);
  }

  /** Adds a chunk of output; a line split across chunks is joined. */
  write(chunk: string): void {
    const text = this.partial + chunk;
    const parts = text.split(/\r?\n/);
    this.partial = parts.pop() ?? '';
    if (this.partial.length > this.maxLineLength) {
      this.push(this.partial);
      this.partial = '';
    }
    for (const line of parts) this.push(line);
  }

  /** Keeps a line that never got its newline (the process exited). */
  flush(): void {
    if (this.partial !== '') this.push(this.partial);
    this.partial = '';
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
