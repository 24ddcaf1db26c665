import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { createLogger, systemClock } from '@rigwarden/shared';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/controller-config';
import { ROLLUP_STORE, type RollupStore } from './ports/rollup.port';

const EVERY_MS = 60_000;
/** Each pass recomputes the last few hours, so late (store-and-forward) snapshots still land in their buckets. */
const LOOKBACK_MS = 3 * 3_600_000;

/** Runs the rollups and retention (the config's, --retention-*) once a minute. */
@Injectable()
export class RollupJob implements OnModuleInit, OnModuleDestroy {
  private readonly logger = createLogger('controller.rollups');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(
    @Inject(ROLLUP_STORE) private readonly rollups: RollupStore,
    @Inject(CONTROLLER_CONFIG) private readonly config: Pick<ControllerConfig, 'retention'>,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => { this.running = this.runOnce(); }, EVERY_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  async runOnce(): Promise<void> {
    const now = systemClock.now();
    try {
      const result = await this.rollups.rollUpAndPrune(now, now - LOOKBACK_MS, this.config.retention);
      this.logger.debug('rollups done', { ...result });
    } catch (err) {
      this.logger.error('rollups failed; will retry in a minute', { error: err as Error });
    }
  }
}
