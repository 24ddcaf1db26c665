/**
 * Real-process scenarios: rigwarden-simfarm (stratum pools + simulated miners + control port), the built controller
 * (embedded broker, or MQTT_URL) with a fleet file, and the built agent reading the farm. Faults go in through the
 * farm's control port; what the miners did comes back from it; why comes from rigctl events.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { farmControl, type FarmFault, type FarmSpec, type RigState } from '@rigwarden/simulators';
import { makeTempDir, runNode, startNode, waitFor, type RunningProcess, type TempDir } from '@rigwarden/testing';

const root = join(__dirname, '..');
export const bin = (name: string): string => join(root, 'bin', `${name}.js`);

export interface ScenarioEvent {
  kind: string;
  reason: string;
  source: string;
  message: string;
  at?: string;
}

export interface ScenarioOptions {
  farm: FarmSpec;
  /** The fleet file, given the farm's pool URLs by name and the pool user the miners work as. */
  fleet: (pools: Record<string, string>, poolUser: string) => string;
  pollMs: number;
  /** More controller arguments (e.g. --database postgres://...). */
  controllerArgs?: string[];
}

interface FarmReady {
  control: string;
  pools: Record<string, string>;
  poolUser: string;
}

export class Scenario {
  private constructor(
    readonly dir: TempDir,
    readonly control: string,
    readonly grpc: string,
    private readonly processes: { farm: RunningProcess; controller: RunningProcess; agent: RunningProcess },
  ) {}

  static async start(name: string, o: ScenarioOptions): Promise<Scenario> {
    const dir = makeTempDir(`rigwarden-${name}-`);
    const started: RunningProcess[] = [];
    try {
      const topicRoot = `e2e-${name}-${randomBytes(4).toString('hex')}/v1`;
      const env = { RIGWARDEN_TOPIC_ROOT: topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-${topicRoot}`, LOG_LEVEL: process.env['SCENARIO_LOG_LEVEL'] ?? 'warn' };
      const keysFile = join(dir.path, 'keys.json');
      const keys = Object.fromEntries(o.farm.rigs.map((r) => [r.id, [{ id: 'k1', secret: randomBytes(32).toString('base64url') }]]));
      writeFileSync(keysFile, JSON.stringify({ rigs: keys }), { mode: 0o600 });
      writeFileSync(join(dir.path, 'farm.json'), JSON.stringify(o.farm));

      const farmReady = join(dir.path, 'farm.ready.json');
      const agentConfig = join(dir.path, 'agent.yaml');
      const farm = startNode(bin('rigwarden-simfarm'), ['--farm', join(dir.path, 'farm.json'), '--ready-file', farmReady, '--agent-config', agentConfig,
        '--agent-id', `agent-${name}`, '--agent-data-dir', join(dir.path, 'agent'), '--interval-ms', String(o.pollMs), '--keys-file', keysFile], env);
      started.push(farm);
      const ready = await waitFor('the simulated farm', () => readJson<FarmReady>(farmReady, farm), 20_000, 50);

      const fleet = join(dir.path, 'fleet.yaml');
      writeFileSync(fleet, o.fleet(ready.pools, ready.poolUser));
      const controllerReady = join(dir.path, 'controller.ready.json');
      const controller = startNode(bin('rigwarden-controller'), ['--data-dir', dir.path, '--grpc', '127.0.0.1:0', '--ready-file', controllerReady,
        '--fleet', fleet, '--keys-file', keysFile, ...(o.controllerArgs ?? []), ...(process.env['MQTT_URL'] ? [] : ['--mqtt-port', '0', '--mqtt-allow-anonymous'])], env);
      started.push(controller);
      const endpoints = await waitFor('the controller', () => readJson<{ grpc: string; mqtt: string }>(controllerReady, controller), 30_000, 50);

      const agent = startNode(bin('rigwarden-agent'), ['run', '--config', agentConfig], { ...env, MQTT_URL: endpoints.mqtt });
      started.push(agent);
      return new Scenario(dir, ready.control, endpoints.grpc, { farm, controller, agent });
    } catch (err) {
      for (const p of started.reverse()) await p.stop('SIGTERM', 5000);
      dir.remove();
      throw err;
    }
  }

  rig<T extends RigState = RigState>(id: string): Promise<T> {
    return farmControl<T>(this.control, 'GET', `/rigs/${encodeURIComponent(id)}`);
  }

  async fault(fault: FarmFault): Promise<number> {
    await farmControl(this.control, 'POST', '/faults', fault);
    return Date.now();
  }

  /** Polls the farm until `probe` returns a value; the probe sees the rig's state as its simulator has it. */
  waitForRig<R, T extends RigState = RigState>(what: string, id: string, probe: (rig: T) => R | undefined, timeoutMs: number): Promise<R> {
    return waitFor(what, async () => probe(await this.rig<T>(id)), timeoutMs, 100).catch((err: Error) => {
      throw new Error(`${err.message}\n--- agent ---\n${this.processes.agent.output().slice(-3000)}\n--- controller ---\n${this.processes.controller.output().slice(-3000)}`);
    });
  }

  /** The rig's events through rigctl (the real CLI against the gRPC API), oldest first. */
  async events(rigId: string): Promise<ScenarioEvent[]> {
    const token = join(this.dir.path, 'admin.token');
    const env = existsSync(token) ? { RIGWARDEN_API_KEY_FILE: token } : {};
    const { code, stdout, stderr } = await runNode(bin('rigctl'), ['--server', this.grpc, 'events', rigId, '--json', '--limit', '200'], env);
    if (code !== 0) throw new Error(`rigctl events ${rigId} failed (${code}): ${stderr}`);
    return ((JSON.parse(stdout) as { events?: ScenarioEvent[] }).events ?? []).reverse();
  }

  async stop(): Promise<void> {
    const { agent, farm, controller } = this.processes;
    await agent.stop('SIGTERM', 5000);
    await farm.stop('SIGTERM', 5000);
    await controller.stop('SIGINT', 5000);
    this.dir.remove();
  }
}

function readJson<T>(file: string, proc: RunningProcess): T | undefined {
  if (proc.child.exitCode !== null) throw new Error(`exited early:\n${proc.output()}`);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined; // partly written
  }
}

/** Fleet-wide policy parameters scaled down for tests that must finish in seconds. */
export const FAST_FRESHNESS = '  freshness: { staleAfterMs: 5000, maxGapMs: 3000 }';

/** One line of the test's report, printed so the run's log carries the numbers. */
export function report(scenario: string, numbers: Record<string, number | string>): void {
  console.log(`[scenario ${scenario}] ${Object.entries(numbers).map(([k, v]) => `${k}=${v}`).join(' ')}`);
}
