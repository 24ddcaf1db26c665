import type { ControlCapabilities, MinerReading } from '@rigwarden/drivers-core';
import type { CgminerReply } from '../cgminer.client';

export type DialectName = 'cgminer' | 'antminer' | 'whatsminer' | 'avalon' | 'braiins' | 'luxos';

/** The decoded replies of one collect, by command name ("summary", "pools", "stats", ...). */
export type CollectedReplies = Partial<Record<string, CgminerReply>>;

/**
 * One firmware family's way of answering the cgminer API: which commands to read
 * and how to turn the replies into a MinerReading in H/s, °C and W. Pure: no I/O,
 * so the fixture tests exercise exactly what the driver runs.
 */
export interface CgminerDialect {
  readonly name: DialectName;
  readonly description: string;
  /** Read commands for one collect, in the order they are joined. */
  readonly collectCommands: readonly string[];
  /** Commands whose failure fails the collect; the others are best effort. */
  readonly requiredCommands: readonly string[];
  /** A command to ask instead when the firmware does not know one (Code 14), e.g. edevs -> devs on older btminer. */
  readonly fallbacks?: Readonly<Record<string, string>>;
  /** What the firmware lets a client do through this API. */
  readonly capabilities: ControlCapabilities;
  decode(replies: CollectedReplies): MinerReading;
}
