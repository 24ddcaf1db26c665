import { loadControllerConfig } from '../config/controller-config';
import { grpcServerCredentials, mqttTlsOptions } from './tls-credentials';

describe('TLS options of the controller', () => {
  it.each([
    [['--grpc-tls-cert', 'c.pem'], /--grpc-tls-cert and --grpc-tls-key go together/],
    [['--grpc-tls-key', 'k.pem'], /--grpc-tls-cert and --grpc-tls-key go together/],
    [['--grpc-tls-ca', 'ca.pem'], /--grpc-tls-ca needs --grpc-tls-cert and --grpc-tls-key/],
    [['--mqtt-cert', 'c.pem'], /--mqtt-cert and --mqtt-key go together/],
  ])('refuses %j', (argv, message) => {
    expect(() => loadControllerConfig(argv, {})).toThrow(message);
  });

  it('reads the files from flags or the environment, as absolute paths', () => {
    const config = loadControllerConfig(['--grpc-tls-cert', 'c.pem', '--grpc-tls-key', 'k.pem'], { RIGWARDEN_GRPC_TLS_CA: '/etc/rw/ca.pem', RIGWARDEN_MQTT_CA: '/etc/rw/mqtt-ca.pem' });
    expect(config.grpcTls).toEqual({ certFile: `${process.cwd()}/c.pem`, keyFile: `${process.cwd()}/k.pem`, caFile: '/etc/rw/ca.pem' });
    expect(config.mqttTls).toEqual({ caFile: '/etc/rw/mqtt-ca.pem' });
    expect(loadControllerConfig([], {}).grpcTls).toBeUndefined();
  });

  it('names the flag and the file it cannot read', () => {
    expect(() => grpcServerCredentials({ grpcTls: { certFile: '/nonexistent/c.pem', keyFile: '/nonexistent/k.pem' } })).toThrow('--grpc-tls-cert /nonexistent/c.pem: cannot read it (ENOENT)');
    expect(() => mqttTlsOptions({ mqttTls: { caFile: '/nonexistent/ca.pem' } })).toThrow('--mqtt-ca /nonexistent/ca.pem: cannot read it (ENOENT)');
    expect(mqttTlsOptions({})).toEqual({});
  });
});
