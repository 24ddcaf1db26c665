import type { EpochMs, NeighbourhoodStatus, RigObservation } from './policy-types';

/**
 * Groups the latest observation of every rig by the agent that collected it and counts the unreachable ones:
 * the `neighbourhood` each rig's PolicyInput can carry. Readings older than `staleAfterMs` at `now` count as
 * unreachable too (their agent is not delivering). Rigs without an agent id form no neighbourhood.
 */
export function neighbourhoods(
  latestByRig: Iterable<RigObservation>,
  now: EpochMs,
  staleAfterMs: number,
): Map<string, NeighbourhoodStatus> {
  const byAgent = new Map<string, { rigs: string[]; unreachable: number }>();
  for (const o of latestByRig) {
    if (!o.agentId) continue;
    const group = byAgent.get(o.agentId) ?? { rigs: [], unreachable: 0 };
    group.rigs.push(o.rigId);
    if (!o.reachable || now - o.at > staleAfterMs) group.unreachable++;
    byAgent.set(o.agentId, group);
  }
  const byRig = new Map<string, NeighbourhoodStatus>();
  for (const group of byAgent.values()) {
    for (const rigId of group.rigs) byRig.set(rigId, { rigs: group.rigs.length, unreachable: group.unreachable });
  }
  return byRig;
}
