import { DriverError, type DriverErrorContext, type DriverErrorKind } from '@rigwarden/drivers-core';

/** API v3 reply codes (pyasic BTMinerAPICode): 0 OK, -1 command error, -2 invalid command, -3 invalid JSON, -4 access denied, -5 out of memory. */
export const V3_CODE = { ok: 0, commandError: -1, invalidCommand: -2, invalidJson: -3, accessDenied: -4, outOfMemory: -5 } as const;

export interface WhatsminerV3ErrorContext extends DriverErrorContext {
  /** The miner's own reply code (`code`) and message (`msg`), when it answered. */
  minerCode?: number;
  minerMessage?: string;
}

/**
 * The Whatsminer API v3 driver's errors: a DriverError (so the agent and policies treat it like any driver's)
 * that names the host, the v3 command and, when the miner answered, its `code` and `msg`.
 */
export class WhatsminerV3Error extends DriverError {
  readonly minerCode: number | undefined;
  readonly minerMessage: string | undefined;

  constructor(kind: DriverErrorKind, message: string, context: WhatsminerV3ErrorContext, options?: { cause?: unknown }) {
    super(kind, message, {
      ...context,
      ...(context.minerCode !== undefined ? { statusLetter: context.minerCode === 0 ? 'S' : 'E', statusCode: context.minerCode } : {}),
      ...(context.minerMessage !== undefined ? { statusMsg: context.minerMessage } : {}),
    }, options);
    this.minerCode = context.minerCode;
    this.minerMessage = context.minerMessage;
  }
}

/** The error kind for a v3 reply code other than 0. */
export function kindForCode(code: number): DriverErrorKind {
  switch (code) {
    case V3_CODE.accessDenied: return 'access_denied';
    case V3_CODE.invalidCommand: return 'unsupported';
    case V3_CODE.invalidJson: return 'bad_request';
    default: return 'miner_error';
  }
}
