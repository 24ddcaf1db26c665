import { createLogger } from '@rigwarden/shared';
import { BrokerRefusals } from './broker-refusals';

describe('broker refusals', () => {
  it('broker-refusals: counts every refusal and logs each client and topic once, with who and what', () => {
    const lines: string[] = [];
    const refusals = new BrokerRefusals(createLogger('test', { write: (line) => lines.push(line), level: 'debug' }));
    for (let i = 0; i < 3; i++) refusals.record({ reason: 'publish', principal: 'agent-a', clientId: 'c-1', what: 'rigwarden/v1/rigs/rig-b1/telemetry' });
    refusals.record({ reason: 'publish', principal: 'agent-a', clientId: 'c-1', what: 'rigwarden/v1/rigs/rig-b1/state' });
    refusals.record({ reason: 'subscribe', principal: 'agent-a', clientId: 'c-1', what: '#' });
    expect(Object.fromEntries(refusals.snapshot())).toEqual({ bad_credentials: 0, anonymous: 0, client_id_taken: 0, will: 0, publish: 4, subscribe: 1 });
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain('principal=agent-a clientId=c-1 topic=rigwarden/v1/rigs/rig-b1/telemetry');
    expect(lines[2]).toContain('reason=subscribe');
  });
});
