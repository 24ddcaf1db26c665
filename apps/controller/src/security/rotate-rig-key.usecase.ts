import { randomBytes } from 'node:crypto';
import { isValidRigId } from '@rigwarden/protocol';
import { RigKeyFile, SecretBytes, addKeyToRigKeyFile, retireKeyInRigKeyFile, wrapKey, type SigningKey } from '@rigwarden/security';
import type { Clock, Logger } from '@rigwarden/shared';
import type { AuditStore } from '../persistence/ports/audit.port';
import type { CommandDispatcher } from '../commands/command-dispatcher.service';
import type { CommandRecord } from '../commands/command-repository';
import { FleetError } from '../fleet/fleet-error';

export type RotationStep = 'delivering' | 'confirmed' | 'switched' | 'retired' | 'failed';

export interface RotationProgress {
  step: RotationStep;
  oldKeyId: string;
  newKeyId: string;
  message: string;
}

export interface RotateRigKeyCommand {
  rigId: string;
  /** Give up (the old key stays in use) when the agent has not confirmed within this (default 60 s). */
  timeoutSeconds?: number;
  /** "apikey:<id>" of the operator, for the command and the audit log. */
  principal: string;
  keyId: string;
}

export interface RotateRigKeyOptions {
  /** The agents' freshness window: the new key is valid from `now - windowMs`, so an agent whose clock is behind accepts it. */
  windowMs: number;
  /** Pause between switching to the new key and retiring the old one. */
  retireGraceMs: number;
}

const FOREVER = 8_640_000_000_000_000;

/**
 * Rotates a rig's command key without downtime, over the signed command channel:
 *
 *   1. delivering: a new 256-bit secret, wrapped (AES-256-GCM) under the key in use, travels in a signed RotateKey
 *      command; the agent unwraps it and adds it to its key file.
 *   2. confirmed: the agent answered SUCCEEDED; 3. switched: the controller adds the key to its own key file, and the
 *      newest key signs every command from then on (the old one still verifies on the agent).
 *   4. retired: a RetireKey command, signed with the new key, retires the old key on the agent; once it confirms, the
 *      controller marks it retired too. Any other key still active (an interrupted rotation) is retired the same way.
 *
 * A failure before step 3 leaves the old key in use everywhere; after it, the old key is only retired once the agent
 * confirms. Every step is audited (action rigkey.rotate). Commands sent meanwhile are unaffected: each attempt is
 * signed with the key in force when it is published, and the agent holds both keys across the switch.
 */
export class RotateRigKeyUseCase {
  private readonly running = new Set<string>();

  constructor(
    private readonly keysFile: string,
    private readonly dispatcher: CommandDispatcher,
    private readonly audit: AuditStore,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: RotateRigKeyOptions = { windowMs: 30_000, retireGraceMs: 1_000 },
  ) {}

  async execute(command: RotateRigKeyCommand, onProgress: (progress: RotationProgress) => void): Promise<RotationProgress> {
    const { rigId } = command;
    if (!isValidRigId(rigId)) throw new FleetError('invalid_argument', `rig_id: not a valid rig id: ${JSON.stringify(rigId)}`, 'rig_id');
    const timeoutSeconds = command.timeoutSeconds || 60;
    if (timeoutSeconds > 3600) throw new FleetError('invalid_argument', `timeout_seconds: at most 3600, got ${timeoutSeconds}`, 'timeout_seconds');
    const now = this.clock.now();
    let old: SigningKey;
    /** Every key the rotation retires: the one in use and any other still active (left by an interrupted rotation). */
    let retiring: string[];
    try {
      const ring = new RigKeyFile(this.keysFile).keyRing();
      old = ring.signingKey(rigId, now);
      retiring = ring.list(rigId, now).filter((k) => k.state === 'active').map((k) => k.id);
    } catch {
      throw new FleetError('failed_precondition', `rig ${rigId} has no active command key in ${this.keysFile}; add one (see docs/security.md) before rotating`, 'rig_id');
    }
    if (this.running.has(rigId)) throw new FleetError('failed_precondition', `a key rotation for rig ${rigId} is already running`, 'rig_id');
    this.running.add(rigId);
    const lifetime = old.expires >= FOREVER ? undefined : old.expires - old.notBefore;
    const fresh: SigningKey = {
      id: `k-${new Date(now).toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(4).toString('hex')}`,
      secret: SecretBytes.generate(),
      created: now,
      notBefore: now - this.options.windowMs,
      expires: lifetime === undefined ? FOREVER : now + lifetime,
    };
    const report = async (step: RotationStep, message: string): Promise<RotationProgress> => {
      const progress = { step, oldKeyId: old.id, newKeyId: fresh.id, message };
      await this.audit.append({
        principal: command.principal, keyId: command.keyId, action: 'rigkey.rotate', target: rigId, outcome: step,
        detail: { oldKeyId: old.id, newKeyId: fresh.id, message },
      });
      (step === 'failed' ? this.logger.warn : this.logger.info)(`rig key rotation: ${step}`, { rig: rigId, oldKeyId: old.id, newKeyId: fresh.id, message });
      onProgress(progress);
      return progress;
    };
    try {
      await report('delivering', `sending key ${fresh.id} wrapped under ${old.id}`);
      const wrapped = Buffer.from(JSON.stringify(wrapKey(fresh, old, rigId)), 'utf8');
      const delivered = await this.send(command, {
        $case: 'rotateKey',
        value: { newKeyId: fresh.id, wrappedSecret: wrapped, notBefore: new Date(fresh.notBefore), expiresAt: new Date(Math.min(fresh.expires, FOREVER)) },
      }, timeoutSeconds, `rotate the command key of rig ${rigId} to ${fresh.id}`);
      if (delivered.state !== 'SUCCEEDED') {
        return await report('failed', `the agent did not take key ${fresh.id} (${delivered.state}: ${delivered.cause || 'no cause'}); ${old.id} stays in use`);
      }
      await report('confirmed', `the agent holds key ${fresh.id}`);
      addKeyToRigKeyFile(this.keysFile, rigId, fresh);
      await report('switched', `commands for ${rigId} are signed with ${fresh.id} from now on`);
      await new Promise((resolve) => setTimeout(resolve, this.options.retireGraceMs));
      for (const keyId of retiring) {
        const retired = await this.send(command, { $case: 'retireKey', value: { keyId } }, timeoutSeconds, `retire key ${keyId} of rig ${rigId}`);
        if (retired.state !== 'SUCCEEDED') {
          return await report('failed', `the agent did not retire ${keyId} (${retired.state}: ${retired.cause || 'no cause'}); it still accepts it, retry the rotation`);
        }
        retireKeyInRigKeyFile(this.keysFile, rigId, keyId);
      }
      return await report('retired', `key${retiring.length > 1 ? 's' : ''} ${retiring.join(', ')} ${retiring.length > 1 ? 'are' : 'is'} retired on the agent and the controller`);
    } catch (err) {
      if (err instanceof FleetError) throw err;
      return await report('failed', (err as Error).message);
    } finally {
      this.running.delete(rigId);
    }
  }

  private async send(command: RotateRigKeyCommand, payload: CommandRecord['payload'], timeoutSeconds: number, reason: string): Promise<CommandRecord> {
    const record = await this.dispatcher.dispatch({
      rigId: command.rigId, minerId: '', payload, reason, requestedBy: `operator:${command.keyId || command.principal}`, timeoutMs: timeoutSeconds * 1000,
    });
    return (await this.dispatcher.waitFor(record.id)) ?? record;
  }
}
