import { requireRigId, timeRange } from './request-arguments';

describe('request arguments', () => {
  it.each([['rig-1', true], ['s19.row1:07', true], ['', false], ['bad/id', false], ['-lead', false]])('rig id %j valid: %s', (rigId, ok) => {
    if (ok) expect(requireRigId(rigId)).toBe(rigId);
    else expect(() => requireRigId(rigId)).toThrow(expect.objectContaining({ kind: 'invalid_argument', field: 'rig_id' }));
  });

  it('names the field it was given', () => {
    expect(() => requireRigId('a b', 'target.rig_id')).toThrow(/target\.rig_id "a b" is not a valid rig id/);
  });

  const NOW = Date.UTC(2026, 11, 1, 12);
  it.each<[string, { from?: Date; to?: Date }, { from: number; to: number } | RegExp]>([
    ['defaults: the span before now', {}, { from: NOW - 3_600_000, to: NOW }],
    ['from only: up to now', { from: new Date(NOW - 60_000) }, { from: NOW - 60_000, to: NOW }],
    ['to only: the span before it', { to: new Date(NOW - 60_000) }, { from: NOW - 3_660_000, to: NOW - 60_000 }],
    ['from after to', { from: new Date(NOW), to: new Date(NOW - 1) }, /from \(.*\) must be before to/],
    ['from equal to to', { from: new Date(NOW), to: new Date(NOW) }, /must be before/],
  ])('time range: %s', (_name, request, expected) => {
    if (expected instanceof RegExp) expect(() => timeRange(request, NOW, 3_600_000)).toThrow(expected);
    else expect(timeRange(request, NOW, 3_600_000)).toEqual(expected);
  });
});
