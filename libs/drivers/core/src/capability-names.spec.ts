import { capabilityNames } from './capability-names';
import type { MinerDriver, MinerReading } from './driver';
import { NO_CONTROL, type ControlCapabilities } from './miner-control.capability';
import type { PowerMode } from './power-mode.capability';

const base = (name: string): MinerDriver => ({
  name, endpoint: { host: '127.0.0.1', port: 4028 },
  collect: () => Promise.reject(new Error('not collected in this test')) as Promise<MinerReading>,
});
const control = (caps: Partial<ControlCapabilities>) => ({
  controlCapabilities: (): ControlCapabilities => ({ ...NO_CONTROL, ...caps }),
  control: () => Promise.reject(new Error('unused')),
  setPools: () => Promise.reject(new Error('unused')),
});
const noop = (): Promise<void> => Promise.resolve();
/** A driver with optional methods that the guards look for. */
const as = <T extends MinerDriver>(driver: T): MinerDriver => driver;

describe('capabilityNames', () => {
  it('a driver that only collects reads only', () => {
    expect(capabilityNames(base('t-rex'))).toEqual(['read']);
  });

  it('MinerControl flags decide pools and restart, even when restartMiner/switchPool methods exist (stock Antminer over cgminer: no writes)', () => {
    const driver = { ...base('cgminer'), ...control({}), restartMiner: noop, switchPool: noop };
    expect(capabilityNames(driver)).toEqual(['read']);
    const open = { ...base('cgminer'), ...control({ switchPool: true, setPools: true, restart: true, frequency: true }), restartMiner: noop };
    expect(capabilityNames(open)).toEqual(['read', 'switch-pool', 'set-pools', 'restart', 'overclock']);
  });

  it('without MinerControl, the PoolControl and Restartable methods count', () => {
    expect(capabilityNames(as({ ...base('gpu'), restartMiner: noop, switchPool: noop }))).toEqual(['read', 'switch-pool', 'restart']);
  });

  it('optional interfaces each add their name; power-mode only when the miner offers a mode', () => {
    let modes: PowerMode[] = [];
    const driver = {
      ...base('antminer-web'), ...control({ setPools: true, switchPool: true }),
      rebootMiner: noop, setFaultLight: noop, setPowerTargetW: noop, setPowerMode: noop, powerModes: () => modes,
    };
    expect(capabilityNames(driver)).toEqual(['read', 'switch-pool', 'set-pools', 'reboot', 'power-target', 'fault-light']);
    modes = ['normal', 'low'];
    expect(capabilityNames(driver)).toContain('power-mode');
  });

  it("a driver's operations() narrows the guards: no password, reads only; with one, its own names map to ours", () => {
    let operations = ['read'];
    const driver = {
      ...base('whatsminer-v3'), ...control({ setPools: true, restart: true }), operations: () => operations,
      restartMiner: noop, rebootMiner: noop, setFaultLight: noop, setPowerTargetW: noop, setPowerMode: noop, powerModes: (): PowerMode[] => ['normal'],
    };
    expect(capabilityNames(driver)).toEqual(['read']);
    operations = ['read', 'set-pools', 'power-mode', 'power-limit', 'restart', 'reboot', 'fault-light'];
    expect(capabilityNames(driver)).toEqual(['read', 'set-pools', 'restart', 'reboot', 'power-mode', 'power-target', 'fault-light']);
  });

  it('GPU tuners give overclock only when there is at least one', () => {
    expect(capabilityNames(as({ ...base('gpu'), gpuTuners: () => [] }))).toEqual(['read']);
    expect(capabilityNames({ ...base('gpu'), gpuTuners: () => [{}] } as unknown as MinerDriver)).toEqual(['read', 'overclock']);
  });
});
