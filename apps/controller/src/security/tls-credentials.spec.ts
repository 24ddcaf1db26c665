import { loadControllerConfig } from '../config/controller-config';
import { grpcServerCredentials, mqttTlsOptions } from './tls-credentials';

describe('TLS and broker login options of the controller', () => {
  it.each([
    [['--grpc-tls-cert', 'c.pem'], /--grpc-tls-cert and --grpc-tls-key go together/],
    [['--grpc-tls-key', 'k.pem'], /--grpc-tls-cert and --grpc-tls-key go together/],
    [['--grpc-tls-ca', 'ca.pem'], /--grpc-tls-ca needs --grpc-tls-cert and --grpc-tls-key/],
    [['--mqtt-cert', 'c.pem'], /--mqtt-cert and --mqtt-key go together/],
    [['--mqtt-username', 'rigwarden-controller'], /--mqtt-username and its password .* go together/],
    [['--mqtt-username', 'u', '--mqtt-password-file', '/nonexistent/pw'], /--mqtt-password-file \/nonexistent\/pw: cannot read it \(ENOENT\)/],
  ])('refuses %j', (argv, message) => {
    expect(() => loadControllerConfig(argv, {})).toThrow(message);
  });

  it('reads the files from flags or the environment, as absolute paths', () => {
    const config = loadControllerConfig(['--grpc-tls-cert', 'c.pem', '--grpc-tls-key', 'k.pem'], { RIGWARDEN_GRPC_TLS_CA: '/etc/rw/ca.pem', RIGWARDEN_MQTT_CA: '/etc/rw/mqtt-ca.pem' });
    expect(config.grpcTls).toEqual({ certFile: `${process.cwd()}/c.pem`, keyFile: `${process.cwd()}/k.pem`, caFile: '/etc/rw/ca.pem' });
    expect(config.mqttTls).toEqual({ caFile: '/etc/rw/mqtt-ca.pem' });
    expect(loadControllerConfig([], {}).grpcTls).toBeUndefined();
  });

  it('takes the broker login from flags, a password file or the environment', () => {
    expect(loadControllerConfig(['--mqtt-username', 'ctl'], { RIGWARDEN_MQTT_PASSWORD: 'pw' }).mqttAuth).toEqual({ username: 'ctl', password: 'pw' });
    expect(loadControllerConfig([], { RIGWARDEN_MQTT_USERNAME: 'ctl', RIGWARDEN_MQTT_PASSWORD: 'pw' }).mqttAuth).toEqual({ username: 'ctl', password: 'pw' });
    expect(loadControllerConfig([], {}).mqttAuth).toBeUndefined();
  });

  it('keeps the pepper and audit key in <data-dir>/controller-secrets.json unless told otherwise', () => {
    expect(loadControllerConfig(['--data-dir', '/srv/rw'], {}).secretsFile).toBe('/srv/rw/controller-secrets.json');
    expect(loadControllerConfig(['--data-dir', '/srv/rw'], { RIGWARDEN_SECRETS_FILE: '/etc/rw/secrets.json' }).secretsFile).toBe('/etc/rw/secrets.json');
    expect(loadControllerConfig(['--secrets-file', '/run/rw.json'], { RIGWARDEN_SECRETS_FILE: '/etc/rw/secrets.json' }).secretsFile).toBe('/run/rw.json');
  });

  it('names the flag and the file it cannot read', () => {
    expect(() => grpcServerCredentials({ grpcTls: { certFile: '/nonexistent/c.pem', keyFile: '/nonexistent/k.pem' } })).toThrow('--grpc-tls-cert /nonexistent/c.pem: cannot read it (ENOENT)');
    expect(() => mqttTlsOptions({ mqttTls: { caFile: '/nonexistent/ca.pem' } })).toThrow('--mqtt-ca /nonexistent/ca.pem: cannot read it (ENOENT)');
    expect(mqttTlsOptions({})).toEqual({});
  });
});
