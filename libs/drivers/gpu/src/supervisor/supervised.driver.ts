import {
  DriverError, type CollectContext, type MinerDriver, type MinerEndpoint, type MinerReading, type MiningSwitch, type Restartable,
} from '@rigwarden/drivers-core';
import type { MinerProcessSupervisor } from './miner-process.supervisor';

/**
 * A miner driver whose miner process the agent runs: RestartMiner restarts the
 * process through the supervisor, and a collect while the process is down says
 * so (with the last exit and the log tail) instead of a bare "connection refused".
 */
export class SupervisedDriver implements MinerDriver, Restartable, MiningSwitch {
  readonly name: string;
  readonly endpoint: MinerEndpoint;

  constructor(private readonly inner: MinerDriver, readonly supervisor: MinerProcessSupervisor, private readonly tailLines = 5) {
    this.name = inner.name;
    this.endpoint = inner.endpoint;
  }

  async collect(ctx: CollectContext): Promise<MinerReading> {
    const status = this.supervisor.status();
    if (status.state !== 'running' || status.pid === undefined) {
      const exit = status.lastExit;
      const why = exit ? `last ${exit.reason}: ${exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`}` : 'not started';
      throw new DriverError('unreachable', `miner process is ${status.state} (${why}); log tail: ${JSON.stringify(this.supervisor.tail(this.tailLines))}`,
        { host: this.endpoint.host, port: this.endpoint.port, command: 'collect' });
    }
    return this.inner.collect(ctx);
  }

  async restartMiner(): Promise<void> {
    await this.supervisor.restart();
  }

  /** The local safety watchdog's stop: the miner process is stopped (SIGTERM, then SIGKILL) and not restarted. */
  async stopMining(): Promise<void> {
    await this.supervisor.stop();
  }

  async resumeMining(): Promise<void> {
    this.supervisor.start();
  }
}
