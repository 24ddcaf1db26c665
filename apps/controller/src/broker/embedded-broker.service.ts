import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes } from 'aedes';
import { createLogger } from '@rigwarden/shared';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/controller-config';

/**
 * The MQTT broker for a single-machine install: aedes (MQTT 3.1.1) in-process.
 * Not started when MQTT_URL points at a real broker such as Mosquitto.
 */
@Injectable()
export class EmbeddedBrokerService implements OnApplicationShutdown {
  private readonly logger = createLogger('controller.broker');
  private broker: Aedes | undefined;
  private server: Server | undefined;
  private url: string | undefined;

  constructor(@Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig) {}

  /** The URL clients should use: MQTT_URL, or the embedded broker (started on first call). */
  async brokerUrl(): Promise<string> {
    if (this.config.mqttUrl) return this.config.mqttUrl;
    if (!this.url) this.url = await this.start();
    return this.url;
  }

  private async start(): Promise<string> {
    const { host, port, fallbackToFreePort } = this.config.embeddedBroker;
    const broker = await Aedes.createBroker();
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
        throw new Error(`embedded MQTT broker cannot listen on ${host}:${port} (${(err as NodeJS.ErrnoException).code}); pass --mqtt-port or set MQTT_URL`);
      }
      this.server = await listen(0);
      this.logger.warn(`port ${port} is taken; embedded broker took a free port instead`, { port: (this.server.address() as AddressInfo).port });
    }
    const actual = (this.server.address() as AddressInfo).port;
    this.logger.info('embedded MQTT broker listening', { url: `mqtt://${host}:${actual}` });
    return `mqtt://${host}:${actual}`;
  }

  // After onModuleDestroy, so that the controller's own clients have disconnected first.
  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    const broker = this.broker;
    this.server = undefined;
    this.broker = undefined;
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
