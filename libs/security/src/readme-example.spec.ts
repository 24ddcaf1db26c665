import { signedCommandsExample } from '../examples/signed-commands.example';

describe('readme-example', () => {
  it('readme-example: signs, verifies, refuses replays across a restart, rotates with overlap, rate-limits events', () => {
    expect(signedCommandsExample()).toEqual([
      't+0.2s cmd-1: accepted (key k1)',
      't+0.4s cmd-1 again: rejected replayed_nonce',
      't+5s cmd-1 after restart: rejected replayed_nonce',
      '1000 replays: 3 security events reported, the rest counted as suppressed',
      't+11s cmd-3 (new key): accepted (key k2)',
      't+12s cmd-2 (old key, in flight: overlap): accepted (key k1)',
      't+80s cmd-4 signed with retired k1: rejected retired_key',
    ]);
  });
});
