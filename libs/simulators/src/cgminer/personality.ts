import type { CgminerSimState } from '../cgminer-simulator';

/** The firmware families the simulator can impersonate. */
export type SimDialect = 'cgminer' | 'antminer' | 'whatsminer' | 'avalon' | 'braiins' | 'luxos';

/**
 * A reply: `body` is the JSON object (also used for the plain-text form); `raw`,
 * when set, is the exact JSON text to send instead, quirks included (bmminer's "}{").
 */
export interface SimReply {
  body: Record<string, unknown>;
  raw?: string;
}

/** What a personality may read and use from the simulator core. */
export interface SimContext {
  readonly state: CgminerSimState;
  nowS(): number;
  /** A STATUS entry in this firmware's words (its Description). */
  status(letter: string, code: number, msg: string): Record<string, unknown>;
  totalHashrateHs(): number;
  /** Runs a core privileged command (pool commands, restart, quit, ascset) after the personality's own checks. */
  control(command: string, parameter: string | undefined): SimReply;
}

/**
 * One firmware's way of answering: its read commands and, where it differs, its
 * write path (Whatsminer's encrypted API, LuxOS's sessions, stock Antminer's Code 45).
 */
export interface CgminerPersonality {
  readonly dialect: SimDialect;
  /** STATUS Description, e.g. "cgminer 4.11.1", "btminer", "BOSminer 0.2.0-d360818". */
  description(state: CgminerSimState): string;
  /** Commands cgminer lets a client join with "+". */
  readonly joinable: ReadonlySet<string>;
  /** Answers a read command; undefined when this firmware does not know it (Code 14). */
  read(ctx: SimContext, command: string, parameter: string | undefined): SimReply | undefined;
  /** Privileged commands: undefined lets the core run it; a reply refuses or replaces it. */
  privileged?(ctx: SimContext, command: string, parameter: string | undefined): SimReply | undefined;
  /** The reply to a successful `restart`, in this firmware's words (they differ between forks). */
  restartReply?(ctx: SimContext): SimReply;
  /** The reply to `quit` ({"STATUS":"BYE","id":1} by default). */
  quitReply?(ctx: SimContext): SimReply;
  /** Whole-request hook for non-cgminer request shapes ({"cmd":...}, {"enc":...}). */
  rawRequest?(ctx: SimContext, request: string): string | undefined;
}

export const CGMINER_JOINABLE: ReadonlySet<string> = new Set(['version', 'summary', 'pools', 'devs', 'edevs', 'stats', 'estats', 'config', 'coin', 'devdetails']);

export function reply(body: Record<string, unknown>): SimReply {
  return { body };
}

/** Fixed-point string the way cgminer prints doubles with %.2f. */
export function fixed(value: number, digits = 2): string {
  return value.toFixed(digits);
}
