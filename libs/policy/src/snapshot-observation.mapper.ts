import type { Board, BoardStatus, MinerSnapshot, Pool, PoolStatus } from '@rigwarden/protocol';
import type { BoardObservation, BoardState, EpochMs, PoolObservation, PoolState, RigObservation } from './policy-types';
import { phantomReason } from './phantom-device.detector';

// Values of the generated enums, spelled out so this lib only imports protocol types (no runtime code).
// `satisfies` keeps the tables complete if the .proto grows a value.
const POOL_STATES = {
  0: 'unknown',
  1: 'alive',
  2: 'dead',
  3: 'disabled',
  4: 'rejecting',
  5: 'unknown',
} as const satisfies Record<PoolStatus, PoolState>;

const BOARD_STATES = {
  0: 'unknown',
  1: 'ok',
  2: 'dead',
  3: 'disabled',
} as const satisfies Record<BoardStatus, BoardState>;

/** Sensors report 0 (absent) or 255/-1 (broken); neither is a temperature to act on. */
export function plausibleTempC(value: number | undefined): number | undefined {
  return value !== undefined && Number.isFinite(value) && value > 0 && value < 150 ? value : undefined;
}

function poolState(status: PoolStatus): PoolState {
  return (POOL_STATES as Record<number, PoolState>)[status] ?? 'unknown';
}

function boardState(status: BoardStatus): BoardState {
  return (BOARD_STATES as Record<number, BoardState>)[status] ?? 'unknown';
}

function observePool(pool: Pool): PoolObservation {
  return {
    index: pool.index,
    url: pool.url,
    user: pool.user,
    state: poolState(pool.status),
    active: pool.active,
    priority: pool.priority,
    accepted: pool.accepted,
    rejected: pool.rejected,
    stale: pool.stale,
    lastShareAt: pool.lastShareTime?.getTime(),
  };
}

function observeBoard(board: Board): BoardObservation {
  const chip = plausibleTempC(board.chipTempC);
  const pcb = plausibleTempC(board.boardTempC);
  const temps = [chip, pcb].filter((t): t is number => t !== undefined);
  return {
    index: board.index,
    state: boardState(board.status),
    hashrateHs: board.hashrateHs,
    tempC: temps.length > 0 ? Math.max(...temps) : undefined,
    hwErrors: board.hwErrors,
    name: board.name || undefined,
    pciBusId: board.pciBusId || undefined,
  };
}

/**
 * Slims a MinerSnapshot down to what the policies read. `receivedAt` stands in for a missing collectedAt.
 * A snapshot with errors and no data at all is an unreachable miner.
 */
export function observeSnapshot(snapshot: MinerSnapshot, receivedAt?: EpochMs): RigObservation {
  const hasData =
    snapshot.hashrate5sHs !== undefined ||
    snapshot.uptimeS !== undefined ||
    snapshot.boards.length > 0 ||
    snapshot.pools.length > 0 ||
    snapshot.fans.length > 0;
  // Phantom devices (impossible values) are kept apart: no policy reads them, so they are neither dead nor missing.
  const judged = snapshot.boards.map((board) => ({ board, phantom: phantomReason(board) }));
  const realBoards = judged.filter((j) => j.phantom === undefined).map((j) => j.board);
  const phantomBoards = judged
    .filter((j) => j.phantom !== undefined)
    .map((j) => ({ index: j.board.index, reason: j.phantom!, ...(j.board.name ? { name: j.board.name } : {}) }));
  const boards = realBoards.map(observeBoard);
  const boardHwErrors = realBoards.map((b) => b.hwErrors);
  const summedHwErrors = boardHwErrors.every((e): e is number => e !== undefined) && boardHwErrors.length > 0
    ? boardHwErrors.reduce((sum, e) => sum + e, 0)
    : undefined;
  return {
    at: snapshot.collectedAt?.getTime() ?? receivedAt ?? 0,
    seq: snapshot.seq,
    rigId: snapshot.rigId,
    minerId: snapshot.minerId,
    ...(snapshot.agentId ? { agentId: snapshot.agentId } : {}),
    reachable: snapshot.errors.length === 0 || hasData,
    errorKinds: snapshot.errors.map((e) => e.kind),
    uptimeS: snapshot.uptimeS,
    hashrateHs: snapshot.hashrate5sHs,
    hwErrors: snapshot.hwErrors ?? summedHwErrors,
    boards,
    ...(phantomBoards.length > 0 ? { phantomBoards } : {}),
    fans: snapshot.fans.map((f) => ({ index: f.index, rpm: f.rpm, percent: f.percent })),
    pools: snapshot.pools.map(observePool),
  };
}
