/**
 * TLS with real processes and certificates the test makes: the built controller serves gRPC with mutual TLS
 * (--grpc-tls-cert/--grpc-tls-key/--grpc-tls-ca) and reaches an mqtts:// broker that requires a client certificate
 * (--mqtt-ca/--mqtt-cert/--mqtt-key); rigctl connects with --tls-ca/--tls-cert/--tls-key and an API key. Without the
 * client certificate, or in plaintext, rigctl gets nowhere.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Aedes } from 'aedes';
import { makeTempDir, makeTestCertificates, runNode, startNode, waitFor, type RunningProcess, type TempDir } from '@rigwarden/testing';

const root = join(__dirname, '..');
const bin = (name: string): string => join(root, 'bin', `${name}.js`);
jest.setTimeout(60_000);

describe('TLS for gRPC (mutual) and MQTT, with certificates made by the test', () => {
  let dir: TempDir;
  let broker: Aedes;
  let server: Server;
  let controller: RunningProcess | undefined;
  const brokerClients: string[] = [];

  beforeAll(async () => {
    if (!existsSync(join(root, 'dist/controller/main.js'))) {
      const build = await runNode(join(root, 'tools/build.mjs'), [], {}, 60_000);
      if (build.code !== 0) throw new Error(`build failed: ${build.stderr}`);
    }
  });

  afterAll(async () => {
    await controller?.stop('SIGINT');
    await new Promise<void>((resolve) => (broker ? broker.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    dir?.remove();
  });

  it('serves rigctl over mutual TLS and ingests from an mqtts:// broker that checks client certificates', async () => {
    dir = makeTempDir('rigwarden-e2e-');
    const certs = makeTestCertificates(dir.path);
    broker = await Aedes.createBroker();
    server = createServer({ cert: certs.cert, key: certs.key, ca: certs.ca, requestCert: true, rejectUnauthorized: true }, (socket: TLSSocket) => {
      brokerClients.push(String(socket.getPeerCertificate().subject?.CN));
      broker.handle(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const mqttUrl = `mqtts://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const dataDir = join(dir.path, 'controller');
    const ready = join(dir.path, 'ready.json');
    const topicRoot = `e2e-tls-${randomBytes(4).toString('hex')}/v1`;
    controller = startNode(bin('rigwarden-controller'), [
      '--data-dir', dataDir, '--grpc', '127.0.0.1:0', '--ready-file', ready, '--mqtt-url', mqttUrl,
      '--grpc-tls-cert', certs.certFile, '--grpc-tls-key', certs.keyFile, '--grpc-tls-ca', certs.caFile,
      '--mqtt-ca', certs.caFile, '--mqtt-cert', certs.clientCertFile, '--mqtt-key', certs.clientKeyFile,
    ], { RIGWARDEN_TOPIC_ROOT: topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-${topicRoot}`, MQTT_URL: '', LOG_LEVEL: 'info' });
    const endpoints = await waitFor('the controller', () => {
      if (controller!.child.exitCode !== null) throw new Error(controller!.output());
      return existsSync(ready) ? JSON.parse(readFileSync(ready, 'utf8')) as { grpc: string; mqtt: string } : undefined;
    }, 30_000);
    expect(endpoints.mqtt).toBe(mqttUrl);
    expect(brokerClients).toContain('test-agent'); // the controller presented the client certificate
    expect(controller.output()).toMatch(/gRPC API listening .*tls=mutual/);

    const env = { RIGWARDEN_API_KEY_FILE: join(dataDir, 'admin.token') };
    // By name, as the certificate says (DNS:localhost): TLS server names are host names (RFC 6066), not addresses.
    const grpcByName = endpoints.grpc.replace('127.0.0.1', 'localhost');
    const rigctl = (args: string[]) => runNode(bin('rigctl'), ['--server', grpcByName, '--timeout', '3000', ...args, 'rigs', '--json'], env);
    const mutual = await rigctl(['--tls-ca', certs.caFile, '--tls-cert', certs.clientCertFile, '--tls-key', certs.clientKeyFile]);
    expect({ code: mutual.code, stderr: mutual.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(mutual.stdout)).toEqual({ rigs: [] });

    const noClientCert = await rigctl(['--tls-ca', certs.caFile]);
    expect(noClientCert.code).toBe(5); // rigctl's exit code for an unreachable controller: the handshake fails
    expect(noClientCert.stdout).toBe('');
    const plaintext = await rigctl([]);
    expect(plaintext.code).toBe(5);
    expect(plaintext.stderr).toMatch(/rigctl: (cannot reach the controller|the controller at)/);
  });
});
