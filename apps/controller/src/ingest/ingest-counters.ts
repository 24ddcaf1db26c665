/** Ingest outcome counters, exported later as Prometheus metrics. */
export interface IngestCounters {
  received: number;
  stored: number;
  duplicates: number;
  invalid: number;
  states: number;
  events: number;
  results: number;
  agentStatus: number;
  flushes: number;
  flushErrors: number;
  /** Refused because the payload was larger than its topic allows (also counted in invalid). */
  oversize: number;
  /** Ingest receipts published to agents (one per agent per batch). */
  receipts: number;
  /** Results and events refused: a bad or missing signature from a rig that has a key (not stored, not acted on). */
  signatureRejected: number;
  /** Results and events accepted unverified: from a rig that has no key at all. */
  unverified: number;
  /** With the ingest feed: snapshots other controllers of the shared group stored and announced to this one. */
  heardElsewhere: number;
  /** With the ingest feed: batches this controller stored but could not announce (the others read them later). */
  announceErrors: number;
}

export function emptyIngestCounters(): IngestCounters {
  return { received: 0, stored: 0, duplicates: 0, invalid: 0, states: 0, events: 0, results: 0, agentStatus: 0, flushes: 0, flushErrors: 0, oversize: 0, receipts: 0, signatureRejected: 0, unverified: 0, heardElsewhere: 0, announceErrors: 0 };
}
