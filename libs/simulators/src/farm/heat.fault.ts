import type { CgminerSimState } from '../cgminer-simulator';

/** How an overheating board behaves: hot while the miner runs at or above a work mode, cooling below it. */
export interface HeatParams {
  /** Chip temperature the board heads for while overheating at a high work mode. */
  hotC: number;
  /** ... and once the work mode is stepped down below `hotFromWorkMode`. */
  coolC: number;
  /** Work modes at or above this one overheat (firmware modes: 0 low, 1 normal, 2 high). A rig that never set one runs at 1. */
  hotFromWorkMode: number;
  /** How fast the chip temperature moves towards its target, °C per second. */
  rampCPerS: number;
}

export const DEFAULT_HEAT: HeatParams = { hotC: 88, coolC: 64, hotFromWorkMode: 1, rampCPerS: 1 };

/** The PCB sensor sits this far under the chips. */
const PCB_BELOW_CHIP_C = 8;

/**
 * An overheating rig (blocked intake, failed AC): while `active`, the hottest chip temperature heads for `hotC` at
 * the high work modes and for `coolC` once stepped down; when cleared it returns to where it started. Moves at
 * `rampCPerS` so a policy sees a ramp, not a jump.
 */
export class HeatFault {
  active = false;
  private baseline: number[] | undefined;

  constructor(private readonly state: CgminerSimState, readonly params: HeatParams = DEFAULT_HEAT) {}

  start(): void {
    this.baseline ??= this.state.boards.map((b) => b.chipTempC ?? b.tempC + PCB_BELOW_CHIP_C);
    this.active = true;
  }

  stop(): void {
    this.active = false;
  }

  /** True while the fault is on or the boards are still on their way back to their starting temperatures. */
  get engaged(): boolean {
    return this.active || this.baseline !== undefined;
  }

  /** Where the chips are heading right now. */
  targetC(boardIndex: number): number | undefined {
    if (this.active) return (this.state.workMode ?? 1) >= this.params.hotFromWorkMode ? this.params.hotC : this.params.coolC;
    return this.baseline?.[boardIndex];
  }

  /** Moves every board `elapsedMs` further towards its target. */
  tick(elapsedMs: number): void {
    if (!this.engaged) return;
    const step = this.params.rampCPerS * (elapsedMs / 1000);
    let settled = true;
    this.state.boards.forEach((board, i) => {
      const target = this.targetC(i);
      if (target === undefined) return;
      const chip = board.chipTempC ?? board.tempC + PCB_BELOW_CHIP_C;
      const next = Math.abs(target - chip) <= step ? target : chip + Math.sign(target - chip) * step;
      if (next !== target) settled = false;
      board.chipTempC = Math.round(next * 10) / 10;
      board.tempC = Math.round((next - PCB_BELOW_CHIP_C) * 10) / 10;
    });
    if (!this.active && settled) this.baseline = undefined;
  }
}
