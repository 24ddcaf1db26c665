/**
 * A stand-in agent for the "no orphans" test: it supervises one miner (a shell that
 * starts a grandchild), prints both pids as JSON, and waits to be killed. Bundled
 * with esbuild and run as a real process by miner-process.supervisor.spec.ts.
 */
import { MinerProcessSupervisor } from '../miner-process.supervisor';

const supervisor = new MinerProcessSupervisor({
  name: 'orphan-test',
  command: { file: '/bin/sh', args: ['-c', 'sleep 300 & echo "grandchild $!"; wait'] },
  stopGraceMs: 1_000,
  onEvent: (event) => {
    if (event.type !== 'started') return;
    const timer = setInterval(() => {
      const line = supervisor.tail().find((l) => l.startsWith('grandchild '));
      if (!line) return;
      clearInterval(timer);
      process.stdout.write(`${JSON.stringify({ miner: event.pid, grandchild: Number(line.split(' ')[1]) })}\n`);
    }, 20);
  },
});
supervisor.start();
setInterval(() => undefined, 1_000);
