import { RigSelector } from '@rigwarden/protocol';
import { FleetError } from './fleet-error';
import { matchesSelector, validateSelector, type SelectableRig } from './rig-selector';

const rig: SelectableRig = { rigId: 'r-1', online: true, labels: { row: '1', site: 'a' }, miners: [{ model: 'Antminer S19j Pro' }] };
const sel = (partial: Partial<RigSelector>): RigSelector => RigSelector.fromPartial(partial);

describe('rig selector', () => {
  it.each<[string, RigSelector | undefined, string | undefined, boolean]>([
    ['no selector selects every rig', undefined, undefined, true],
    ['an empty selector selects every rig', sel({}), undefined, true],
    ['its id among rig_ids', sel({ rigIds: ['r-0', 'r-1'] }), undefined, true],
    ['its id not among rig_ids', sel({ rigIds: ['r-2'] }), undefined, false],
    ['its group', sel({ group: 'g' }), 'g', true],
    ['another group', sel({ group: 'g' }), 'h', false],
    ['a group when the rig has none', sel({ group: 'g' }), undefined, false],
    ['all labels equal', sel({ labels: { row: '1', site: 'a' } }), undefined, true],
    ['one label different', sel({ labels: { row: '1', site: 'b' } }), undefined, false],
    ['a label it lacks', sel({ labels: { rack: '7' } }), undefined, false],
    ['status online', sel({ status: 'online' }), undefined, true],
    ['status offline', sel({ status: 'offline' }), undefined, false],
    ['a model substring, any case', sel({ model: 's19J' }), undefined, true],
    ['another model', sel({ model: 'M30' }), undefined, false],
    ['every field matching (AND)', sel({ rigIds: ['r-1'], group: 'g', labels: { row: '1' }, status: 'online', model: 'S19' }), 'g', true],
    ['every field but one matching', sel({ rigIds: ['r-1'], group: 'g', labels: { row: '1' }, status: 'offline', model: 'S19' }), 'g', false],
  ])('%s', (_label, selector, group, expected) => {
    expect(matchesSelector(rig, group, selector)).toBe(expected);
  });

  it('matches the model label too', () => {
    expect(matchesSelector({ rigId: 'x', online: false, labels: { model: 'L7' } }, undefined, sel({ model: 'l7', status: 'offline' }))).toBe(true);
  });

  it.each([
    [sel({ status: 'up' }), 'selector.status'],
    [sel({ labels: { row: '' } }), 'selector.labels'],
    [sel({ rigIds: [''] }), 'selector.rig_ids'],
  ])('refuses a bad selector naming the field (%#)', (selector, field) => {
    let err: unknown;
    try {
      validateSelector(selector);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FleetError);
    expect(err).toMatchObject({ kind: 'invalid_argument', field });
    expect((err as Error).message).toContain(field);
  });
});
