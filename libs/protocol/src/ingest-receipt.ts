import { commandOutcomeToJSON, type CommandResult, type RigEvent } from './generated/rigwarden/v1/command';
import { IngestReceipt } from './generated/rigwarden/v1/telemetry';
import { ProtocolError } from './protocol-error';
import { isValidRigId } from './topics';

/**
 * The keys that name one queued agent message in an IngestReceipt (docs/protocol.md, "Receipts"): the agent keeps a
 * message until a receipt carries its key. Snapshots are named by rig and seq, events by id, results by command and
 * outcome (a command has at most one result per outcome).
 */
export function snapshotReceiptKey(rigId: string, seq: number): string {
  return `t\u0000${rigId}\u0000${seq}`;
}

export function eventReceiptKey(event: Pick<RigEvent, 'eventId'>): string {
  return `e\u0000${event.eventId}`;
}

export function resultReceiptKey(result: Pick<CommandResult, 'commandId' | 'outcome'>): string {
  return `r\u0000${resultKeyText(result)}`;
}

/** The result key as a receipt carries it: "<command_id>/<outcome name>". */
export function resultKeyText(result: Pick<CommandResult, 'commandId' | 'outcome'>): string {
  return `${result.commandId}/${commandOutcomeToJSON(result.outcome)}`;
}

/** Every message key a receipt confirms (the agent's side of the keys above). */
export function receiptKeys(receipt: IngestReceipt): string[] {
  const keys: string[] = [];
  for (const range of receipt.snapshots) {
    // A receipt names at most what one batch stored: a range wider than that is not ours to walk.
    if (range.last < range.first || range.last - range.first > 100_000) continue;
    for (let seq = range.first; seq <= range.last; seq++) keys.push(snapshotReceiptKey(range.rigId, seq));
  }
  for (const id of receipt.eventIds) keys.push(`e\u0000${id}`);
  for (const key of receipt.resultKeys) keys.push(`r\u0000${key}`);
  return keys;
}

export function decodeIngestReceipt(payload: Buffer | string): IngestReceipt {
  let value: unknown;
  try {
    value = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch (err) {
    throw new ProtocolError(`IngestReceipt payload is not JSON: ${(err as Error).message}`, undefined, { cause: err });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ProtocolError('IngestReceipt payload must be a JSON object');
  const receipt = IngestReceipt.fromJSON(value);
  for (const range of receipt.snapshots) {
    if (!isValidRigId(range.rigId)) throw new ProtocolError(`IngestReceipt: rigId ${JSON.stringify(range.rigId)} is invalid`, 'snapshots.rigId');
    if (!Number.isSafeInteger(range.first) || !Number.isSafeInteger(range.last) || range.first < 1 || range.last < range.first) {
      throw new ProtocolError(`IngestReceipt: seq range ${range.first}..${range.last} of rig ${range.rigId} is invalid`, 'snapshots');
    }
  }
  return receipt;
}

/**
 * Collects what one batch stored, per agent, and renders one receipt per agent with each rig's seqs as ranges.
 * The controller fills one per batch write and publishes it after the commit.
 */
export class ReceiptBook {
  private readonly agents = new Map<string, { seqs: Map<string, number[]>; events: string[]; results: string[] }>();

  get empty(): boolean {
    return this.agents.size === 0;
  }

  private of(agentId: string): { seqs: Map<string, number[]>; events: string[]; results: string[] } {
    let entry = this.agents.get(agentId);
    if (!entry) {
      entry = { seqs: new Map(), events: [], results: [] };
      this.agents.set(agentId, entry);
    }
    return entry;
  }

  snapshot(agentId: string, rigId: string, seq: number): void {
    if (agentId === '') return;
    const seqs = this.of(agentId).seqs;
    const list = seqs.get(rigId);
    if (list) list.push(seq);
    else seqs.set(rigId, [seq]);
  }

  event(agentId: string, event: Pick<RigEvent, 'eventId'>): void {
    if (agentId !== '') this.of(agentId).events.push(event.eventId);
  }

  result(agentId: string, result: Pick<CommandResult, 'commandId' | 'outcome'>): void {
    if (agentId !== '') this.of(agentId).results.push(resultKeyText(result));
  }

  /** Adds everything `other` holds (a failed batch's receipts go with the batch that retries it). */
  merge(other: ReceiptBook): void {
    for (const [agentId, entry] of other.agents) {
      const mine = this.of(agentId);
      for (const [rigId, seqs] of entry.seqs) {
        const list = mine.seqs.get(rigId);
        if (list) for (const s of seqs) list.push(s);
        else mine.seqs.set(rigId, [...seqs]);
      }
      mine.events.push(...entry.events);
      mine.results.push(...entry.results);
    }
  }

  receipts(at: Date): IngestReceipt[] {
    const out: IngestReceipt[] = [];
    for (const [agentId, entry] of this.agents) {
      const snapshots: IngestReceipt['snapshots'] = [];
      for (const [rigId, seqs] of entry.seqs) {
        seqs.sort((a, b) => a - b);
        let first = seqs[0]!;
        let last = first;
        for (let i = 1; i < seqs.length; i++) {
          const s = seqs[i]!;
          if (s <= last + 1) { last = Math.max(last, s); continue; }
          snapshots.push({ rigId, first, last });
          first = last = s;
        }
        snapshots.push({ rigId, first, last });
      }
      out.push({ agentId, snapshots, eventIds: entry.events, resultKeys: entry.results, at });
    }
    return out;
  }
}
