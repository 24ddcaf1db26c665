import { MAX_DOCUMENT_CHARS, MAX_IDENTIFIER_CHARS, MAX_LIST_ITEMS, MAX_STATUS_DETAILS_CHARS, MAX_TEXT_CHARS, boundedDetails, requestBoundsViolation } from './request-bounds';

describe('request-bounds', () => {
  it.each<[string, unknown, string | undefined]>([
    ['an empty request', {}, undefined],
    ['a rig id at the bound', { rigId: 'r'.repeat(MAX_IDENTIFIER_CHARS) }, undefined],
    ['a rig id past the bound', { rigId: 'r'.repeat(MAX_IDENTIFIER_CHARS + 1) }, `rig_id: ${MAX_IDENTIFIER_CHARS + 1} characters; at most ${MAX_IDENTIFIER_CHARS}`],
    ['a nested target rig id', { target: { rigId: 'r'.repeat(300), minerId: 'm1' } }, 'target.rig_id: 300 characters; at most 256'],
    ['a reason within the text bound', { reason: 'w'.repeat(MAX_TEXT_CHARS) }, undefined],
    ['a reason past it', { reason: 'w'.repeat(MAX_TEXT_CHARS + 1) }, `reason: ${MAX_TEXT_CHARS + 1} characters; at most ${MAX_TEXT_CHARS}`],
    ['a fleet YAML of 1 MB', { yaml: 'y'.repeat(1_000_000) }, undefined],
    ['a dry run\'s fleet YAML of 100 kB (a document, not text)', { rigId: 'r1', fleetYaml: 'y'.repeat(100_000) }, undefined],
    ['a fleet YAML past the document bound', { yaml: 'y'.repeat(MAX_DOCUMENT_CHARS + 1) }, `yaml: ${MAX_DOCUMENT_CHARS + 1} characters; at most ${MAX_DOCUMENT_CHARS}`],
    ['a pool password past the text bound', { pools: [{ url: 'stratum+tcp://a:1', password: 'p'.repeat(5000) }] }, 'pools[0].password: 5000 characters; at most 4096'],
    ['too many rig ids', { selector: { rigIds: Array<string>(MAX_LIST_ITEMS + 1).fill('a') } }, `selector.rig_ids: ${MAX_LIST_ITEMS + 1} items; at most ${MAX_LIST_ITEMS}`],
    ['a label key past the text bound', { selector: { labels: { ['k'.repeat(5000)]: 'v' } } }, 'selector.labels: a key of 5000 characters; at most 4096'],
    ['a rig id in a selector list past the identifier bound', { selector: { rigIds: ['a', 'b'.repeat(257)] } }, 'selector.rig_ids[1]: 257 characters; at most 256'],
    ['dates and bytes are not walked', { since: new Date(0), payload: Buffer.alloc(10) }, undefined],
  ])('%s', (_name, request, expected) => {
    expect(requestBoundsViolation(request)).toBe(expected);
  });

  it('never includes the offending value', () => {
    expect(requestBoundsViolation({ rigId: `SECRET${'x'.repeat(1000)}` })).not.toContain('SECRET');
  });

  it('cuts status details to what a trailer can carry', () => {
    expect(boundedDetails('short')).toBe('short');
    const cut = boundedDetails('d'.repeat(100_000));
    expect(cut.length).toBeLessThanOrEqual(MAX_STATUS_DETAILS_CHARS);
    expect(cut).toMatch(/\(cut at 1024 characters\)$/);
  });
});
