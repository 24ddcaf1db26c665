import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes, type Client, type PublishPacket } from 'aedes';
import type { BrokerUser } from '@rigwarden/security';
import { createLogger } from '@rigwarden/shared';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/controller-config';
import { BrokerAuthority, type BrokerPrincipal } from './broker-authority';
import { BrokerRefusals } from './broker-refusals';
import { BrokerUsersWatcher } from './broker-users.watcher';

/** Where a refused publish goes instead of its topic: no principal may subscribe to it, nothing is retained. */
const DISCARDED_TOPIC = '$rigwarden/refused';

/**
 * The MQTT broker for a single-machine install: aedes (MQTT 3.1.1) in-process.
 * Not started when MQTT_URL points at a real broker such as Mosquitto.
 *
 * Every client logs in: the controller with a login made at start and held in memory (given to its own MQTT client
 * in the URL brokerUrl() returns), agents with the users file (--broker-users). Each may publish and subscribe only
 * as @rigwarden/security's broker ACL allows (the rules `rigctl broker-config` writes for Mosquitto). A refused
 * publish is acknowledged and dropped, as Mosquitto does, so that one rig missing from the users file does not cut
 * its agent's other rigs off; a refused subscription gets SUBACK 0x80; a last will on a foreign topic refuses the
 * CONNECT.
 */
@Injectable()
export class EmbeddedBrokerService implements OnApplicationShutdown {
  private readonly logger = createLogger('controller.broker');
  private broker: Aedes | undefined;
  private server: Server | undefined;
  private url: string | undefined;
  private listening: string | undefined;
  private readonly authority: BrokerAuthority;
  readonly refusals = new BrokerRefusals(this.logger);
  private readonly principals = new WeakMap<Client, BrokerPrincipal>();
  private readonly users: BrokerUsersWatcher;

  constructor(@Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig) {
    this.authority = new BrokerAuthority({
      topicRoot: config.topicRoot, controllerClientId: config.mqttClientId, allowAnonymous: config.embeddedBroker.allowAnonymous,
    });
    this.users = new BrokerUsersWatcher(config.embeddedBroker.usersFile, this.logger, (users, reread) => this.applyUsers(users, reread),
      { quietWhenMissing: config.embeddedBroker.allowAnonymous });
  }

  /**
   * The URL the controller's own clients use: MQTT_URL, or the embedded broker (started on first call) with the
   * controller's login in it (the logger and the ready file redact it).
   */
  async brokerUrl(): Promise<string> {
    if (this.config.mqttUrl) return this.config.mqttUrl;
    if (!this.url) {
      this.listening = await this.start();
      this.url = this.listening.replace('mqtt://', `mqtt://${this.authority.controllerUsername}:${this.authority.controllerPassword}@`);
    }
    return this.url;
  }

  /** Where the embedded broker listens, without credentials (what agents are told); undefined with MQTT_URL or before start. */
  get listenUrl(): string | undefined {
    return this.listening;
  }

  private async start(): Promise<string> {
    const { host, port, fallbackToFreePort } = this.config.embeddedBroker;
    this.users.start();
    const broker = await Aedes.createBroker({
      authenticate: (client, username, password, done) => {
        const will = this.willOf(client);
        const outcome = this.authority.authenticate(client.id, username, password, will?.topic);
        if (!outcome.ok) {
          this.refuse(client, username || '(anonymous)', outcome.reason, outcome.reason === 'will' ? will?.topic ?? '' : outcome.message);
          return done(Object.assign(new Error(outcome.message), { returnCode: outcome.returnCode }), false);
        }
        this.principals.set(client, outcome.principal);
        done(null, true);
      },
      authorizePublish: (client, packet, done) => {
        const principal = client ? this.principals.get(client) : undefined;
        // `$` topics ($SYS) are the broker's own, for anonymous clients too (aedes's default hook says the same).
        const allowed = principal !== undefined && !packet.topic.startsWith('$') && (principal.acl === undefined || principal.acl.mayPublish(packet.topic));
        if (allowed) return done(null);
        if (client) this.refuse(client, principal?.name ?? '(unknown)', 'publish', packet.topic);
        else this.refusals.record({ reason: 'will', principal: '(gone)', clientId: '', what: packet.topic });
        this.discard(packet);
        done(null);
      },
      authorizeSubscribe: (client, subscription, done) => {
        const principal = this.principals.get(client);
        if (principal && (principal.acl === undefined || principal.acl.maySubscribe(subscription.topic))) return done(null, subscription);
        this.refuse(client, principal?.name ?? '(unknown)', 'subscribe', subscription.topic);
        done(null, null);
      },
    });
    broker.on('clientDisconnect', (client) => {
      const principal = this.principals.get(client);
      if (principal && client.clean) this.authority.releaseClientId(client.id, principal);
    });
    this.broker = broker;
    const listen = (p: number): Promise<Server> => new Promise((resolve, reject) => {
      const server = createServer(broker.handle);
      server.once('error', reject);
      server.listen(p, host, () => { server.off('error', reject); resolve(server); });
    });
    try {
      this.server = await listen(port);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || !fallbackToFreePort) {
        await new Promise<void>((resolve) => broker.close(() => resolve()));
        this.broker = undefined;
        this.users.stop();
        throw new Error(`embedded MQTT broker cannot listen on ${host}:${port} (${(err as NodeJS.ErrnoException).code}); pass --mqtt-port or set MQTT_URL`);
      }
      this.server = await listen(0);
      this.logger.warn(`port ${port} is taken; embedded broker took a free port instead`, { port: (this.server.address() as AddressInfo).port });
    }
    const actual = (this.server.address() as AddressInfo).port;
    if (this.authority.allowAnonymous) {
      this.logger.warn('--mqtt-allow-anonymous: the embedded broker lets any local client without a username publish and read every topic (tests only)');
    }
    this.logger.info('embedded MQTT broker listening', { url: `mqtt://${host}:${actual}`, agents: this.authority.agentCount, usersFile: this.config.embeddedBroker.usersFile });
    return `mqtt://${host}:${actual}`;
  }

  private willOf(client: Client): PublishPacket | undefined {
    // aedes keeps the CONNECT's will here until the session is set up; authenticate runs in between.
    return (client as unknown as { _will?: PublishPacket | null })._will ?? undefined;
  }

  private discard(packet: PublishPacket): void {
    packet.topic = DISCARDED_TOPIC;
    packet.retain = false;
  }

  private refuse(client: Client, principal: string, reason: Parameters<BrokerRefusals['record']>[0]['reason'], what: string): void {
    const remote = (client.conn as { remoteAddress?: string } | undefined)?.remoteAddress;
    this.refusals.record({ reason, principal, clientId: client.id, what, remoteAddress: remote });
  }

  /** A good read of the users file: the new agents; connections of changed or removed ones log in again (or not at all). */
  private applyUsers(users: BrokerUser[], reread: boolean): void {
    const file = this.config.embeddedBroker.usersFile;
    const { changed, refused } = this.authority.setAgents(users);
    for (const agentId of refused) {
      this.logger.error(`broker users file: the agent id "${agentId}" is the controller's own login: left out`, { file });
    }
    if (reread) this.logger.info('broker users file re-read', { file, agents: this.authority.agentCount, changed: changed.length });
    if (changed.length === 0 || !this.broker) return;
    const gone = new Set(changed);
    // aedes keeps its connected clients by id (untyped in aedes.d.ts).
    for (const client of Object.values((this.broker as unknown as { clients: Record<string, Client> }).clients)) {
      const principal = this.principals.get(client);
      if (principal?.kind === 'agent' && gone.has(principal.name)) client.close();
    }
  }

  // After onModuleDestroy, so that the controller's own clients have disconnected first.
  async onApplicationShutdown(): Promise<void> {
    this.users.stop();
    const server = this.server;
    const broker = this.broker;
    this.server = undefined;
    this.broker = undefined;
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
