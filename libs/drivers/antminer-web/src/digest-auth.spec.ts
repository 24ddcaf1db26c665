import { digestAuthorization, parseAuthParams, parseDigestChallenge } from './digest-auth';
import { fillEmptyValues, FirmwareJsonError, parseFirmwareJson } from './firmware-json';

describe('digest-auth', () => {
  it('computes the RFC 2617 section 3.5 example response (MD5, qop=auth)', () => {
    const challenge = parseDigestChallenge('Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"')!;
    const header = digestAuthorization(challenge, { user: 'Mufasa', password: 'Circle Of Life' }, { method: 'GET', uri: '/dir/index.html', nc: 1, cnonce: '0a4f113b' });
    expect(header).toContain('response="6629fae49393a05397450978507c4ef1"');
    expect(header).toContain('qop=auth, nc=00000001, cnonce="0a4f113b"');
    expect(header).toContain('opaque="5ccc069c403ebaf9f0171e9517f40e41"');
  });

  it('answers a challenge without qop in the RFC 2069 form', () => {
    const challenge = parseDigestChallenge('Digest realm="antMiner Configuration", nonce="abc"')!;
    const header = digestAuthorization(challenge, { user: 'root', password: 'root' }, { method: 'GET', uri: '/cgi-bin/x.cgi', nc: 1 });
    expect(header).not.toContain('qop=');
    expect(header).toMatch(/response="[0-9a-f]{32}"/);
  });

  it('parses quoted values with commas and escapes, tokens, stale, and refuses other schemes', () => {
    expect(parseAuthParams('a="x, y", b=tok, c="q\\"d"')).toEqual(new Map([['a', 'x, y'], ['b', 'tok'], ['c', 'q"d']]));
    expect(parseDigestChallenge('Digest realm="r", nonce="n", stale=TRUE')).toMatchObject({ realm: 'r', nonce: 'n', stale: true });
    expect(parseDigestChallenge('Basic realm="r"')).toBeUndefined();
    expect(parseDigestChallenge('Digest realm="r"')).toBeUndefined();
  });
});

describe('firmware-json', () => {
  it('reads a key with no value as null and names it; values with ":" and "," inside strings are untouched', () => {
    const text = '{\n"api-allow" : "A:0/0,W:*",\n"bitmain-fan-ctrl" : ,\n"odd" : "x : ,",\n"last" :\n}';
    expect(parseFirmwareJson(text)).toEqual({ value: { 'api-allow': 'A:0/0,W:*', 'bitmain-fan-ctrl': null, odd: 'x : ,', last: null }, emptyKeys: ['bitmain-fan-ctrl', 'last'] });
  });

  it('leaves valid JSON alone, blank lines before it included', () => {
    expect(parseFirmwareJson('\n\n{"a" : 1}\n')).toEqual({ value: { a: 1 }, emptyKeys: [] });
    expect(fillEmptyValues('{"a":"b"}').emptyKeys).toEqual([]);
  });

  it('any other invalid text is a parse error, not guessed at', () => {
    expect(() => parseFirmwareJson('{"a" : 1,}')).toThrow(FirmwareJsonError);
    expect(() => parseFirmwareJson("{'a': 1}")).toThrow(FirmwareJsonError);
    expect(() => parseFirmwareJson('')).toThrow('empty body');
  });
});
