import { CommandOutcome, type CommandEnvelope } from '@rigwarden/protocol';
import {
  SecurityError, addKeyToRigKeyFile, retireKeyInRigKeyFile, unwrapKey, type KeyResolver, type WrappedKey,
} from '@rigwarden/security';
import type { Clock, Logger } from '@rigwarden/shared';
import type { ExecutionResult } from './command-executor';

const ok = (cause: string): ExecutionResult => ({ outcome: CommandOutcome.COMMAND_OUTCOME_SUCCEEDED, cause });
const failed = (cause: string): ExecutionResult => ({ outcome: CommandOutcome.COMMAND_OUTCOME_FAILED, cause });

/** Is this one of the key rotation commands (they change the agent's key file, not a miner)? */
export function isRigKeyCommand(envelope: CommandEnvelope): boolean {
  return envelope.payload?.$case === 'rotateKey' || envelope.payload?.$case === 'retireKey';
}

/**
 * Key rotation on the agent, reached only through a verified envelope: `rotate-key` unwraps the new secret (it
 * travels AES-256-GCM-wrapped under a key this rig already holds) and adds it to the key file; `retire-key` marks an
 * old key retired. Each change is one atomic rename of the key file, which the verifier re-reads on its next command.
 * Results and logs name key ids only, never secret material.
 */
export class RigKeyCommands {
  constructor(
    private readonly keysFile: string,
    private readonly keys: KeyResolver,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  execute(envelope: CommandEnvelope): ExecutionResult {
    const rigId = envelope.rigId;
    const payload = envelope.payload;
    try {
      if (payload?.$case === 'rotateKey') {
        let wrapped: WrappedKey;
        try {
          wrapped = JSON.parse(Buffer.from(payload.value.wrappedSecret).toString('utf8')) as WrappedKey;
        } catch {
          return failed('rotate-key: wrapped_secret is not a wrapped key (JSON of wrapKey)');
        }
        if (wrapped?.keyId !== payload.value.newKeyId) return failed(`rotate-key: new_key_id ${payload.value.newKeyId} does not match the wrapped key ${String(wrapped?.keyId)}`);
        const key = unwrapKey(wrapped, this.keys, rigId, this.clock.now());
        const change = addKeyToRigKeyFile(this.keysFile, rigId, key);
        this.logger.info('command key added by rotation', { rig: rigId, keyId: key.id, wrappedUnder: wrapped.wrappingKeyId, change, file: this.keysFile });
        return ok(change === 'added' ? `key ${key.id} added for rig ${rigId}` : `key ${key.id} was already present for rig ${rigId}`);
      }
      if (payload?.$case === 'retireKey') {
        const change = retireKeyInRigKeyFile(this.keysFile, rigId, payload.value.keyId);
        this.logger.info('command key retired', { rig: rigId, keyId: payload.value.keyId, change, file: this.keysFile });
        return ok(change === 'retired' ? `key ${payload.value.keyId} retired for rig ${rigId}` : `key ${payload.value.keyId} was already retired for rig ${rigId}`);
      }
      return failed('not a key rotation command');
    } catch (err) {
      if (err instanceof SecurityError) return failed(`${payload?.$case === 'rotateKey' ? 'rotate-key' : 'retire-key'}: ${err.message}`);
      return failed(`cannot change the key file ${this.keysFile}: ${(err as Error).message}`);
    }
  }
}
