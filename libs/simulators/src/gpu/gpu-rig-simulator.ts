import { FakeNvidiaSmi, defaultFakeNvidiaGpu, type FakeNvidiaState } from './fake-nvidia-smi';
import { GpuMinerSimulator, defaultSimGpus, type GpuMinerFlavor, type GpuMinerSimState, type SimGpu } from './gpu-miner-simulator';

/**
 * A whole NVIDIA rig: one GPU list drives both the miner's HTTP API and the fake
 * nvidia-smi, so a fault shows where it would on a real rig (a lost GPU hashes 0
 * in the miner and is "GPU is lost" in nvidia-smi).
 */
export class GpuRigSimulator {
  private constructor(readonly miner: GpuMinerSimulator, readonly nvidiaSmi: FakeNvidiaSmi) {}

  static async start(options: { flavor: GpuMinerFlavor; gpus?: SimGpu[]; state?: Partial<GpuMinerSimState>; now?: () => number } = { flavor: 't-rex' }): Promise<GpuRigSimulator> {
    const gpus = options.gpus ?? defaultSimGpus(2);
    const miner = new GpuMinerSimulator({ flavor: options.flavor, state: { ...options.state, gpus }, now: options.now });
    await miner.start();
    const rig = new GpuRigSimulator(miner, await FakeNvidiaSmi.create());
    await rig.sync();
    return rig;
  }

  get gpus(): SimGpu[] {
    return this.miner.state.gpus;
  }

  address(): { host: string; port: number } {
    return this.miner.address();
  }

  /** Writes the GPUs' state into the fake nvidia-smi's state file. */
  async sync(extra: (state: FakeNvidiaState) => void = () => undefined): Promise<void> {
    await this.nvidiaSmi.update((state) => {
      state.gpus = this.gpus.map((g) => ({
        ...(state.gpus.find((n) => n.index === g.index) ?? defaultFakeNvidiaGpu(g.index)),
        index: g.index,
        pciBusId: `0000${g.pciBusId}`.toUpperCase().replace(/^0+(?=[0-9A-F]{8}:)/, ''),
        name: g.name,
        tempC: g.tempC,
        fanPercent: g.fanPercent,
        powerDrawW: g.powerW,
        smClockMhz: g.coreClockMhz,
        memClockMhz: g.memoryClockMhz,
        lost: g.lost,
      }));
      extra(state);
    });
  }

  async loseGpu(index: number): Promise<void> {
    this.miner.loseGpu(index);
    await this.sync();
  }

  async stop(): Promise<void> {
    await this.miner.stop();
    await this.nvidiaSmi.remove();
  }
}
