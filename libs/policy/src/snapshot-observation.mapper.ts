import type { Board, BoardStatus, HashrateWindow, MinerSnapshot, Pool, PoolStatus } from '@rigwarden/protocol';
import type {
  BoardObservation,
  BoardState,
  EpochMs,
  HashrateWindowObservation,
  PoolObservation,
  PoolState,
  RigObservation,
} from './policy-types';
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
    ...(pool.stratumActive !== undefined ? { stratumActive: pool.stratumActive } : {}),
    ...(finiteAtLeastZero(pool.lastShareDifficulty) !== undefined ? { lastShareDifficulty: pool.lastShareDifficulty } : {}),
    ...(finiteAtLeastZero(pool.difficultyAccepted) !== undefined ? { difficultyAccepted: pool.difficultyAccepted } : {}),
    ...(pool.getworks !== undefined ? { getworks: pool.getworks } : {}),
    ...(finiteAtLeastZero(pool.diff1Shares) !== undefined ? { diff1Shares: pool.diff1Shares } : {}),
    ...(pool.activeEvidence ? { activeEvidence: pool.activeEvidence } : {}),
  };
}

function finiteAtLeastZero(value: number | undefined): number | undefined {
  return value !== undefined && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** The miner's windows by its own labels, shortest first ("av" last); impossible values left out. */
function observeWindows(windows: readonly HashrateWindow[]): HashrateWindowObservation[] {
  return windows
    .filter((w) => finiteAtLeastZero(w.hashrateHs) !== undefined)
    .map((w) => ({ label: w.label, ...(w.windowS !== undefined ? { windowS: w.windowS } : {}), hashrateHs: w.hashrateHs }))
    .sort((a, b) => (a.windowS ?? Number.POSITIVE_INFINITY) - (b.windowS ?? Number.POSITIVE_INFINITY));
}

/**
 * The miner's current hashrate: its 5 s window, else its shortest labelled window (bfgminer reports 20 s and
 * av only: its "MHS 20s" is the current rate, not the average).
 */
function currentHashrate(snapshot: MinerSnapshot, windows: readonly HashrateWindowObservation[]): number | undefined {
  const fiveS = finiteAtLeastZero(snapshot.hashrate5sHs);
  if (fiveS !== undefined) return fiveS;
  return windows.find((w) => w.windowS !== undefined)?.hashrateHs;
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
    (snapshot.hashrateWindows ?? []).length > 0 ||
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
  const windows = observeWindows(snapshot.hashrateWindows ?? []);
  const avg = finiteAtLeastZero(snapshot.hashrateAvgHs) ?? windows.find((w) => w.label === 'av')?.hashrateHs;
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
    hashrateHs: currentHashrate(snapshot, windows),
    ...(windows.length > 0 ? { hashrateWindows: windows } : {}),
    ...(avg !== undefined ? { hashrateAvgHs: avg } : {}),
    ...(snapshot.currentPoolUrl ? { currentPoolUrl: snapshot.currentPoolUrl } : {}),
    ...(snapshot.software ? { software: snapshot.software } : {}),
    ...(snapshot.driver ? { driver: snapshot.driver } : {}),
    ...((snapshot.capabilities ?? []).length > 0 ? { capabilities: [...snapshot.capabilities] } : {}),
    hwErrors: snapshot.hwErrors ?? summedHwErrors,
    boards,
    ...(phantomBoards.length > 0 ? { phantomBoards } : {}),
    fans: snapshot.fans.map((f) => ({ index: f.index, rpm: f.rpm, percent: f.percent })),
    pools: snapshot.pools.map(observePool),
  };
}
