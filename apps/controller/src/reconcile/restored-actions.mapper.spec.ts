import type { PolicyActionRow } from '../persistence/event-repository';
import { restoredActions } from './restored-actions.mapper';

const T = Date.UTC(2026, 0, 5, 8, 0, 0);

function row(kind: string, source: string, extra: Partial<PolicyActionRow> = {}): PolicyActionRow {
  return { kind, reason: 'miner-unreachable', at: T, source, command_id: '', command_state: null, command_payload: null, ...extra };
}

describe('restoredActions: a policy history rebuilt from stored events and commands', () => {
  it.each([
    ['a ladder step with its succeeded command', row('policy.restart-miner', 'watchdog', { command_id: 'c1', command_state: 'SUCCEEDED', command_payload: '{"restartMiner":{}}' }),
      { kind: 'restart-miner', by: 'watchdog', id: 'c1', outcome: 'succeeded', params: {} }],
    ['a command still in flight is pending', row('policy.reboot-host', 'watchdog', { command_id: 'c2', command_state: 'SENT', command_payload: '{"rebootHost":{}}' }),
      { kind: 'reboot-host', id: 'c2', outcome: 'pending' }],
    ['a command that timed out', row('policy.power-cycle', 'watchdog', { command_id: 'c3', command_state: 'TIMED_OUT', command_payload: '{"powerCycle":{}}' }),
      { kind: 'power-cycle', outcome: 'timed-out' }],
    ['a quarantine (no command)', row('policy.quarantine', 'watchdog', { reason: 'ladder-exhausted' }),
      { kind: 'quarantine', by: 'watchdog', reason: 'ladder-exhausted', params: {} }],
    ['an operator release', row('operator.release', 'operator', { reason: 'replaced the PSU' }),
      { kind: 'release', by: 'operator', reason: 'replaced the PSU', params: {} }],
    ['a thermal step down keeps its profile and direction', row('policy.apply-profile', 'thermal', { reason: 'temperature-high', command_id: 'c4', command_state: 'SUCCEEDED', command_payload: '{"applyProfile":{"profile":"eco"}}' }),
      { kind: 'apply-profile', by: 'thermal', params: { profile: 'eco', direction: 'down' } }],
    ['a thermal step up after recovery', row('policy.apply-profile', 'thermal', { reason: 'temperature-recovered', command_state: 'SUCCEEDED', command_payload: '{"applyProfile":{"profile":"normal"}}', command_id: 'c5' }),
      { params: { profile: 'normal', direction: 'up' } }],
    ['a resume keeps its profile', row('policy.resume-mining', 'thermal', { command_id: 'c6', command_state: 'SUCCEEDED', command_payload: '{"applyProfile":{"profile":"normal"}}' }),
      { kind: 'resume-mining', params: { profile: 'normal' } }],
    ['a pool switch keeps its pool index', row('policy.switch-pool', 'failover', { reason: 'active-pool-dead', command_id: 'c7', command_state: 'FAILED', command_payload: '{"switchPool":{"poolIndex":2}}' }),
      { kind: 'switch-pool', by: 'failover', outcome: 'failed', params: { poolIndex: 2 } }],
    ['a pool switch stored with its decision\'s parameters keeps the pool it left (schema v10)', row('policy.switch-pool', 'failover', {
      reason: 'active-pool-silent', command_id: 'c8', command_state: 'SUCCEEDED', command_payload: '{"switchPool":{"poolIndex":1}}',
      params: '{"poolIndex":1,"url":"stratum+tcp://b:3333","user":"w","fromUrl":"stratum+tcp://a:3333","fromPoolIndex":0}',
    }), { kind: 'switch-pool', outcome: 'succeeded', params: { poolIndex: 1, url: 'stratum+tcp://b:3333', user: 'w', fromUrl: 'stratum+tcp://a:3333', fromPoolIndex: 0 } }],
    ['a restart recorded timed out but observed to have run is succeeded, with its cause', row('policy.restart-miner', 'watchdog', {
      command_id: 'c9', command_state: 'TIMED_OUT', command_payload: '{"restartMiner":{}}', command_cause: 'no result within 10000 ms', command_observed: 'succeeded-observed',
    }), { kind: 'restart-miner', outcome: 'succeeded', cause: 'no result within 10000 ms' }],
  ])('%s', (_name, input, expected) => {
    expect(restoredActions([input])).toEqual([expect.objectContaining({ at: T, ...expected })]);
  });

  it('an event without a command has no id and no outcome (treated as done)', () => {
    const [action] = restoredActions([row('policy.alert', 'watchdog', { reason: 'neighbourhood-outage' })]);
    expect(action).not.toHaveProperty('id');
    expect(action).not.toHaveProperty('outcome');
  });

  it('skips events that are not decisions of a known policy, and survives a malformed payload', () => {
    const rows = [
      row('policy.restart-miner', 'someone-else'),
      row('agent.local_watchdog_stop', 'agent'),
      row('policy.apply-profile', 'thermal', { command_id: 'c8', command_state: 'SUCCEEDED', command_payload: '{not json' }),
    ];
    expect(restoredActions(rows)).toEqual([expect.objectContaining({ kind: 'apply-profile', params: { direction: 'down' } })]);
  });

  it('keeps the order of the rows', () => {
    const rows = [row('policy.restart-miner', 'watchdog', { at: T }), row('policy.reboot-host', 'watchdog', { at: T + 1 }), row('operator.release', 'operator', { at: T + 2 })];
    expect(restoredActions(rows).map((a) => a.kind)).toEqual(['restart-miner', 'reboot-host', 'release']);
  });
});
