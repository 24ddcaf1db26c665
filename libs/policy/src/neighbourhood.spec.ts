import { neighbourhoods } from './neighbourhood';
import { SEC, T0, obs } from './testing/policy-fixtures';

const reading = (rigId: string, agentId: string | undefined, reachable = true, at = T0) => ({ ...obs(at, { reachable }), rigId, ...(agentId ? { agentId } : {}) });

describe('neighbourhood', () => {
  it('neighbourhood: rigs are grouped by the agent that read them, unreachable ones counted', () => {
    const result = neighbourhoods([
      reading('r1', 'agent-a'), reading('r2', 'agent-a', false), reading('r3', 'agent-a', false), reading('r4', 'agent-b'),
    ], T0, 30 * SEC);
    expect(Object.fromEntries(result)).toEqual({
      r1: { rigs: 3, unreachable: 2 },
      r2: { rigs: 3, unreachable: 2 },
      r3: { rigs: 3, unreachable: 2 },
      r4: { rigs: 1, unreachable: 0 },
    });
  });

  it('neighbourhood: a stale reading counts as unreachable', () => {
    const result = neighbourhoods([reading('r1', 'a'), reading('r2', 'a', true, T0 - 60 * SEC)], T0, 30 * SEC);
    expect(result.get('r1')).toEqual({ rigs: 2, unreachable: 1 });
  });

  it('neighbourhood: rigs without an agent id form no neighbourhood', () => {
    expect(neighbourhoods([reading('r1', undefined)], T0, 30 * SEC).size).toBe(0);
  });
});
