/**
 * A stand-alone fake GPU miner process: serves one miner's HTTP API from a
 * GpuMinerSimulator and prints hashrate lines like a miner. Used by the supervisor
 * tests (bundled with esbuild and run as the supervised command line).
 *   --flavor t-rex|lolminer|gminer|xmrig  --port N  --gpus N  --report-ms N
 */
import { GpuMinerSimulator, defaultSimGpus, type GpuMinerFlavor } from './gpu-miner-simulator';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] ?? fallback : fallback;
}

async function main(): Promise<void> {
  const flavor = arg('--flavor', 't-rex') as GpuMinerFlavor;
  const sim = new GpuMinerSimulator({ flavor, port: Number(arg('--port', '0')), state: { gpus: defaultSimGpus(Number(arg('--gpus', '2'))) } });
  const { host, port } = await sim.start();
  process.stdout.write(`API listening on ${host}:${port}\n`);
  const report = setInterval(() => {
    for (const g of sim.state.gpus) process.stdout.write(`GPU${g.index}: ${(sim.view(g).hashrateHs / 1e6).toFixed(2)} MH/s, ${g.tempC}C\n`);
  }, Number(arg('--report-ms', '500')));
  const shutdown = (): void => {
    clearInterval(report);
    process.stdout.write('shutting down\n');
    void sim.stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
});
