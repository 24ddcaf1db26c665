import { join } from 'node:path';
import { ControllerConfigError, loadControllerConfig } from './controller-config';

describe('controller config: the embedded broker\'s logins', () => {
  it('controller-config: the users file defaults to <data-dir>/broker-users.yaml and anonymous clients are refused', () => {
    const config = loadControllerConfig(['--data-dir', '/tmp/rw-x'], {});
    expect(config.embeddedBroker).toMatchObject({ usersFile: join('/tmp/rw-x', 'broker-users.yaml'), allowAnonymous: false });
  });

  it('controller-config: --broker-users (or RIGWARDEN_BROKER_USERS) and --mqtt-allow-anonymous', () => {
    expect(loadControllerConfig(['--broker-users', '/etc/rw/users.yaml', '--mqtt-allow-anonymous'], {}).embeddedBroker)
      .toMatchObject({ usersFile: '/etc/rw/users.yaml', allowAnonymous: true });
    expect(loadControllerConfig([], { RIGWARDEN_BROKER_USERS: '/etc/rw/u.yaml' }).embeddedBroker.usersFile).toBe('/etc/rw/u.yaml');
  });

  it('controller-config: both flags are refused with an external broker, whose own configuration decides', () => {
    expect(() => loadControllerConfig(['--mqtt-url', 'mqtt://127.0.0.1:1883', '--mqtt-allow-anonymous'], {})).toThrow(ControllerConfigError);
    expect(() => loadControllerConfig(['--mqtt-allow-anonymous'], { MQTT_URL: 'mqtt://h:1883' })).toThrow('--mqtt-allow-anonymous is for the embedded broker');
    expect(() => loadControllerConfig(['--broker-users', 'u.yaml'], { MQTT_URL: 'mqtt://h:1883' })).toThrow('--broker-users is for the embedded broker');
  });
});
