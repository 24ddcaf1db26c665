import type { CgminerSimState } from '../cgminer-simulator';

/** Nominal operating point of the model: 650 MHz chips, fans at 5,500 RPM, a 35 °C chip-over-ambient rise. */
const NOMINAL_MHZ = 650;
const NOMINAL_RPM = 5500;
const NOMINAL_RISE_C = 35;

/**
 * A small steady-state thermal model: each board's chip temperature is ambient
 * plus a rise that grows with its frequency and shrinks with airflow; the PCB
 * sits at 60 % of that rise. Failed fans (0 RPM) leave a trickle of airflow, so an
 * overheat follows a fan failure. Only applied when `ambientC` is set, so states
 * built by hand keep the temperatures they were given.
 */
export function applyThermals(state: CgminerSimState): void {
  if (state.ambientC === undefined) return;
  const working = state.fans.filter((rpm) => rpm > 0);
  const airflow = Math.max(0.15, working.reduce((a, b) => a + b, 0) / Math.max(1, state.fans.length) / NOMINAL_RPM);
  for (const board of state.boards) {
    const load = board.alive ? (board.frequencyMhz ?? NOMINAL_MHZ) / NOMINAL_MHZ : 0.05;
    const rise = NOMINAL_RISE_C * load / Math.pow(airflow, 0.7);
    board.chipTempC = Math.round((state.ambientC + rise) * 10) / 10;
    board.tempC = Math.round((state.ambientC + rise * 0.6) * 10) / 10;
    // bmminer-style protection: a board over the limit stops hashing and stays off until the miner is revived.
    if (state.overheatShutdownC !== undefined && board.alive && board.chipTempC > state.overheatShutdownC) board.alive = false;
  }
}
