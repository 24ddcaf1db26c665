import { join } from 'node:path';
import { DriverError, driverRegistry, type MinerDriver } from '@rigwarden/drivers-core';
import { scanCgminer, scanRigId } from '@rigwarden/drivers-cgminer';
import { FileTuningDefaultsStore, MinerProcessSupervisor, SupervisedDriver, discoverGpuTuners, restoreAllDefaults } from '@rigwarden/drivers-gpu';
import type { GpuTuner } from '@rigwarden/drivers-core';
import { createPduOutlet, PduError } from '@rigwarden/drivers-pdu';
import { FileNonceStore, RigMessageSigner } from '@rigwarden/security';
import { AgentStatus, RigEvent, RigTopics, encodeJson } from '@rigwarden/protocol';
import type { Clock, Logger } from '@rigwarden/shared';
import { labelsForRig, type AgentConfig } from './config/agent-config';
import { ConfigError } from './config/config-error';
import { mergeSameMachineEntries } from './config/same-machine.merge';
import { CommandExecutor, type CommandTarget } from './commands/command-executor';
import { CommandHandler } from './commands/command-handler';
import { CommandJournal } from './commands/command-journal';
import { LeaseEpochs } from './commands/lease-epochs';
import { openRigKeys } from './commands/rig-keys';
import { RigKeyCommands } from './commands/rig-key.commands';
import { CollectorRuntime, type ScheduledMiner } from './runtime/collector-runtime';
import { DiskQueue } from './telemetry/disk-queue';
import { SeqStore } from './telemetry/seq-store';
import { TelemetryPublisher } from './telemetry/telemetry-publisher';
import { FieldWarningTracker } from './telemetry/field-warning.tracker';
import { SafetyWatchdog } from './safety/safety-watchdog';

export const AGENT_VERSION = '0.1.0';

/**
 * Builds one driver per configured machine (a stock Antminer's web UI and cgminer API listed apart are one miner:
 * mergeSameMachineEntries), refusing unknown drivers and bad driver options with the key path.
 */
export function buildMiners(config: AgentConfig, logger?: Logger): ScheduledMiner[] {
  const { miners, notes } = mergeSameMachineEntries(config.miners);
  for (const note of notes) logger?.info('one machine listed twice: merged', { note });
  return miners.map((m) => {
    const i = config.miners.indexOf(config.miners.find((c) => c.rig === m.rig && c.id === m.id)!);
    if (!driverRegistry.get(m.driver)) {
      throw new ConfigError(config.file, `miners[${i}].driver`, `unknown driver "${m.driver}"; available: ${driverRegistry.names().join(', ')}`);
    }
    let driver: MinerDriver;
    try {
      driver = driverRegistry.create(m.driver, { host: m.host, port: m.port, options: m.options });
    } catch (err) {
      if (err instanceof DriverError) throw new ConfigError(config.file, `miners[${i}].options`, err.message);
      throw err;
    }
    if (m.process) {
      const [file, ...args] = m.process.command;
      const inner = driver;
      const supervisor = new MinerProcessSupervisor({
        name: `${m.rig}/${m.id}`,
        command: { file: file!, args, cwd: m.process.cwd, env: { ...process.env, ...m.process.env } },
        probe: (signal) => inner.collect({ signal, deadlineMs: 5_000 }),
        logger: logger?.child(`miner.${m.rig}`),
      });
      driver = new SupervisedDriver(inner, supervisor);
    }
    return { rigId: m.rig, minerId: m.id, driver };
  });
}

/** Rig-level command targets: the rig's miners, its reboot command and its PDU outlet. */
export function buildTargets(config: AgentConfig, miners: ScheduledMiner[]): Map<string, CommandTarget> {
  const targets = new Map<string, CommandTarget>();
  for (const m of miners) {
    const target = targets.get(m.rigId) ?? { rigId: m.rigId, miners: [] };
    target.miners.push(m);
    targets.set(m.rigId, target);
  }
  for (const [rigId, settings] of Object.entries(config.rigs)) {
    const target = targets.get(rigId)!;
    target.rebootCommand = settings.rebootCommand;
    if (settings.pdu) {
      try {
        target.outlet = createPduOutlet(settings.pdu, `rigs.${rigId}.pdu`);
      } catch (err) {
        if (err instanceof PduError) throw new ConfigError(config.file, `rigs.${rigId}.pdu`, err.message);
        throw err;
      }
    }
  }
  return targets;
}

/**
 * The running agent: collectors, the MQTT side with its outbox, and the periodic
 * status message. The composition root (main.ts) builds one and starts it.
 */
export class Agent {
  readonly runtime: CollectorRuntime;
  readonly publisher: TelemetryPublisher;
  readonly outbox: DiskQueue;
  /** Command results and events: sent before the telemetry outbox. */
  readonly priorityOutbox: DiskQueue;
  readonly commands: CommandHandler;
  readonly safety: SafetyWatchdog;
  readonly fieldWarnings: FieldWarningTracker;
  private readonly nonces: FileNonceStore;
  private statusTimer: NodeJS.Timeout | undefined;
  private readonly startedAt: number;
  private readonly rigIds: string[];

  private readonly supervised: SupervisedDriver[];
  private gpuTuners: readonly GpuTuner[] = [];
  private readonly targets: Map<string, CommandTarget>;
  private readonly byKey: Map<string, ScheduledMiner>;
  private scanTimers: NodeJS.Timeout[] = [];
  private scanning: Promise<void> = Promise.resolve();
  private readonly scanAbort = new AbortController();

  constructor(private readonly config: AgentConfig, private readonly clock: Clock, private readonly logger: Logger, miners = buildMiners(config, logger)) {
    this.supervised = miners.map((m) => m.driver).filter((d): d is SupervisedDriver => d instanceof SupervisedDriver);
    this.startedAt = clock.now();
    this.rigIds = [...new Set(miners.map((m) => m.rigId))];
    this.outbox = new DiskQueue(join(config.agent.dataDir, 'outbox'), { ...config.outbox, clock });
    // Results and events wait apart and go first: a backlog of snapshots never holds a command's result back.
    this.priorityOutbox = new DiskQueue(join(config.agent.dataDir, 'outbox-priority'), {
      maxBytes: Math.min(config.outbox.maxBytes, 16 << 20), maxAgeMs: config.outbox.maxAgeMs, clock,
    });
    this.publisher = new TelemetryPublisher({
      ...config.mqtt,
      agentId: config.agent.id,
      agentVersion: AGENT_VERSION,
      labelsFor: (rigId) => labelsForRig(config, rigId),
      rigIds: [...this.rigIds],
      clock,
      logger: logger.child('mqtt'),
      seq: new SeqStore(config.agent.dataDir, () => clock.now()),
      topics: new RigTopics(config.mqtt.topicRoot),
      outbox: this.outbox,
      priorityOutbox: this.priorityOutbox,
    });
    const topics = new RigTopics(config.mqtt.topicRoot);
    const keys = openRigKeys(config.security.keysFile);
    // Results and events are signed with the rig key, so the controller can refuse forged ones.
    const signer = new RigMessageSigner(() => keys.keyRing());
    if (keys.keyCount === 0) logger.warn('no command keys: every command will be refused until the keys file exists', { file: config.security.keysFile });
    this.nonces = FileNonceStore.open({ path: join(config.agent.dataDir, 'nonces.journal'), now: clock.now() });
    this.commands = new CommandHandler({
      rigIds: [...this.rigIds],
      topics,
      keys,
      nonces: this.nonces,
      journal: new CommandJournal(join(config.agent.dataDir, 'commands.journal')),
      leaseEpochs: new LeaseEpochs(join(config.agent.dataDir, 'lease-epochs.json')),
      executor: new CommandExecutor((this.targets = buildTargets(config, miners)), config.profiles, 60_000, () => this.gpuTuners),
      keyCommands: new RigKeyCommands(config.security.keysFile, keys, clock, logger.child('keys')),
      clock,
      logger: logger.child('commands'),
      windowMs: config.security.commandWindowMs,
      send: (topic, payload) => this.publisher.send(topic, payload),
      subscribe: (topic, handler) => this.publisher.subscribe(topic, handler),
      signer,
    });
    this.safety = new SafetyWatchdog(config.safety, (event) => {
      this.publisher.send(topics.rig(event.rigId, 'events'), encodeJson(RigEvent, signer.signEvent(event, clock.now())).toString('utf8'));
    }, clock, logger.child('safety'));
    const byKey = new Map(miners.map((m) => [`${m.rigId}/${m.minerId}`, m]));
    this.byKey = byKey;
    const fieldWarnings = (this.fieldWarnings = new FieldWarningTracker(logger.child('sanitize')));
    this.runtime = new CollectorRuntime(miners, {
      ...config.poll,
      clock,
      logger: logger.child('runtime'),
      onOutcome: (outcome) => {
        fieldWarnings.observe(outcome.rigId, outcome.minerId, outcome.reading?.fieldWarnings);
        // The local watchdog first: an overheating miner is acted on whatever becomes of its telemetry.
        const miner = byKey.get(`${outcome.rigId}/${outcome.minerId}`);
        if (miner) this.safety.observe(miner, outcome);
        try {
          this.publisher.publishOutcome(outcome);
        } catch (err) {
          // The sanitizer leaves nothing that cannot encode; if something still does, say which rig, and keep polling.
          this.publisher.counters.publishErrors++;
          logger.error('cannot encode a snapshot; it is not sent', { rig: outcome.rigId, miner: outcome.minerId, error: err as Error });
        }
      },
    });
  }

  async start(): Promise<void> {
    if (this.config.gpu.tuning) {
      // The defaults each GPU had are recorded (and kept on disk) before any change, and restored at shutdown.
      this.gpuTuners = await discoverGpuTuners({
        ...this.config.gpu, defaultsStore: new FileTuningDefaultsStore(join(this.config.agent.dataDir, 'gpu-defaults.json')),
      });
      this.logger.info('GPU tuning enabled', { gpus: this.gpuTuners.length });
    }
    for (const d of this.supervised) d.supervisor.start();
    this.commands.start();
    await this.publisher.connect();
    this.runtime.start();
    this.startScans();
    this.statusTimer = setInterval(() => this.publisher.publishStatus(this.status(true)), this.config.status.intervalMs);
    this.statusTimer.unref();
    this.publisher.publishStatus(this.status(true));
    this.logger.info('agent running', {
      agent: this.config.agent.id, miners: this.config.miners.length, rigs: this.rigIds.length,
      broker: this.config.mqtt.url, intervalMs: this.config.poll.intervalMs, queued: this.publisher.queued,
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.statusTimer);
    for (const t of this.scanTimers) clearInterval(t);
    this.scanAbort.abort();
    await this.scanning;
    await this.runtime.stop();
    await this.commands.idle();
    await this.safety.idle();
    await Promise.all(this.supervised.map((d) => d.supervisor.stop()));
    // One GPU at a time, as profiles are applied: the driver tools are not made for concurrent calls.
    for (const tuner of this.gpuTuners) {
      for (const err of await restoreAllDefaults([tuner])) this.logger.error('could not restore a GPU default', { error: err });
    }
    await this.publisher.close(this.status(false));
    this.nonces.close();
  }

  /** Starts polling a miner found by a scan, as its own rig. */
  addMiner(miner: ScheduledMiner): void {
    const key = `${miner.rigId}/${miner.minerId}`;
    if (this.byKey.has(key)) return;
    this.byKey.set(key, miner);
    if (!this.rigIds.includes(miner.rigId)) this.rigIds.push(miner.rigId);
    const target = this.targets.get(miner.rigId) ?? { rigId: miner.rigId, miners: [] };
    target.miners.push(miner);
    this.targets.set(miner.rigId, target);
    this.publisher.addRig(miner.rigId);
    this.commands.addRig(miner.rigId);
    this.runtime.add(miner);
    this.logger.info('miner found by scan', { rig: miner.rigId, host: miner.driver.endpoint.host, port: miner.driver.endpoint.port, driver: miner.driver.name });
  }

  /** One pass over every scan range; resolves when done. Exposed for tests. */
  scanOnce(): Promise<void> {
    this.scanning = this.scanning.then(async () => {
      for (const entry of this.config.scan) {
        const known = new Set([...this.byKey.values()].map((m) => `${m.driver.endpoint.host}:${m.driver.endpoint.port}`));
        try {
          // Credentials reach the vendors' own APIs only when the entry's options hold them; the web UI gets none.
          const credentials = pickCredentials(entry.options);
          for await (const result of scanCgminer({
            targets: entry.ranges, port: entry.port, webPort: entry.webPort, apiPorts: entry.ports, signal: this.scanAbort.signal,
            ...(credentials ? { credentials } : {}),
          })) {
            if (result.class !== 'identified') continue;
            // driver: auto takes the driver that can control the miner (a stock Antminer's web UI, Braiins OS+ gRPC,
            // Whatsminer API v3), else its cgminer API read as auto; a named driver is used as named.
            const pick = entry.driver === 'auto' ? result.label?.driver : undefined;
            const port = pick && driverRegistry.get(pick.name) ? pick.port : result.port;
            const driverName = pick && driverRegistry.get(pick.name) ? pick.name : entry.driver;
            if (known.has(`${result.host}:${result.port}`) || known.has(`${result.host}:${port}`)) continue;
            const rigId = scanRigId(entry.rigPrefix, result.host, result.port, entry.port);
            const options = { ...entry.options, ...(driverName === pick?.name ? pick.options : {}) };
            let driver;
            try {
              driver = driverRegistry.create(driverName, { host: result.host, port, options });
            } catch (err) {
              this.logger.warn('miner found by scan not added', { host: result.host, port, driver: driverName, error: err as Error });
              continue;
            }
            this.addMiner({ rigId, minerId: `${result.host}:${port}`, driver });
          }
        } catch (err) {
          if (!this.scanAbort.signal.aborted) this.logger.warn('scan failed', { ranges: entry.ranges.join(' '), error: err as Error });
        }
      }
    });
    return this.scanning;
  }

  private startScans(): void {
    if (this.config.scan.length === 0) return;
    void this.scanOnce();
    const minutes = Math.min(...this.config.scan.map((s) => s.intervalMinutes).filter((m) => m > 0));
    if (Number.isFinite(minutes)) {
      const timer = setInterval(() => void this.scanOnce(), minutes * 60_000);
      timer.unref();
      this.scanTimers.push(timer);
    }
  }

  status(online: boolean): AgentStatus {
    const counters = this.runtime.counterSnapshot();
    const telemetry = this.outbox.stats();
    const priority = this.priorityOutbox.stats();
    const outbox = {
      depth: telemetry.depth + priority.depth, bytes: telemetry.bytes + priority.bytes, droppedFull: telemetry.droppedFull + priority.droppedFull,
      droppedExpired: telemetry.droppedExpired + priority.droppedExpired, droppedCorrupt: telemetry.droppedCorrupt + priority.droppedCorrupt,
    };
    return AgentStatus.fromPartial({
      agentId: this.config.agent.id,
      agentVersion: AGENT_VERSION,
      online,
      startedAt: new Date(this.startedAt),
      at: new Date(this.clock.now()),
      rigIds: this.rigIds,
      drivers: Object.entries(counters).map(([driver, c]) => ({
        driver, successes: c.successes, errors: c.errors, timeouts: c.timeouts, skipped: c.skipped,
        lastDurationMs: c.lastDurationMs, totalDurationMs: c.totalDurationMs,
      })),
      outbox: {
        depth: outbox.depth, bytes: outbox.bytes, droppedFull: outbox.droppedFull,
        droppedExpired: outbox.droppedExpired, droppedCorrupt: outbox.droppedCorrupt,
      },
      fieldWarnings: this.fieldWarnings.snapshot(),
    });
  }
}

/** The user and password a scan entry's options give, for the vendors' own APIs; undefined when it gives none. */
function pickCredentials(options: Readonly<Record<string, unknown>>): { user?: string; password?: string } | undefined {
  const user = typeof options['user'] === 'string' ? options['user'] : undefined;
  const password = typeof options['password'] === 'string' ? options['password'] : undefined;
  if (user === undefined && password === undefined) return undefined;
  return { ...(user !== undefined ? { user } : {}), ...(password !== undefined ? { password } : {}) };
}
