import { ControllerConfigError, loadControllerConfig } from './controller-config';

describe('controller command line (node util.parseArgs)', () => {
  it('takes --flag value and --flag=value, the last of a repeated flag, and switches', () => {
    const config = loadControllerConfig(['--data-dir', '/tmp/rw-a', '--grpc=127.0.0.1:7001', '--grpc', '127.0.0.1:7002', '--mqtt-allow-anonymous'], {});
    expect(config.dataDir).toBe('/tmp/rw-a');
    expect(config.grpc).toMatchObject({ host: '127.0.0.1', port: 7002 });
    expect(config.embeddedBroker.allowAnonymous).toBe(true);
  });

  it.each([
    [['--bogus'], /^unknown argument "--bogus"\n\nusage: rigwarden-controller/],
    [['-x'], /^unknown argument "-x"\n\n/],
    [['stray'], /^unknown argument "stray"\n\n/],
    [['--fleet'], /^--fleet needs a value$/],
    [['--mqtt-allow-anonymous=yes'], /^--mqtt-allow-anonymous takes no value$/],
    [['--help'], /^usage: rigwarden-controller/],
    [['-h'], /^usage: rigwarden-controller/],
  ])('%j: %s', (argv, message) => {
    expect(() => loadControllerConfig(argv, {})).toThrow(ControllerConfigError);
    expect(() => loadControllerConfig(argv, {})).toThrow(message);
  });
});
