/**
 * `npm run gpu:probe` (see tools/gpu-probe.mjs): prints what this machine's
 * nvidia-smi and amdgpu sysfs report, through the agent's own sensor code.
 *   --nvidia-smi <path>  --drm-root <dir>  --timeout-ms <n>  --json
 */
import { formatGpuProbe, probeGpus } from './gpu-probe';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const timeout = arg('--timeout-ms');
  const report = await probeGpus({
    nvidiaSmiPath: arg('--nvidia-smi'),
    amdgpuDrmRoot: arg('--drm-root'),
    timeoutMs: timeout ? Number(timeout) : undefined,
  });
  process.stdout.write(`${process.argv.includes('--json') ? JSON.stringify(report, null, 2) : formatGpuProbe(report)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`gpu:probe failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
