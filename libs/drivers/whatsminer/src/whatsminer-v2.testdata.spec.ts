import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { checkStatus, decodeReply, whatsminerSession } from '@rigwarden/drivers-cgminer';

// The API v2 path (TCP 4028, token + AES envelopes) lives in @rigwarden/drivers-cgminer and stays there; these
// are the v2 replies of ../shared/fixtures/web, all synthetic (proto-fleet), decoded with that code.
const V2 = join(__dirname, '..', 'testdata', 'whatsminer-m60svk40-apiv2-synthetic');
const context = { host: 'testdata', port: 4028, command: 'replay' };
const read = (file: string): string => readFileSync(join(V2, file), 'latin1');

describe('whatsminer API v2 recorded replies (testdata/, synthetic)', () => {
  const files = readdirSync(V2).filter((f) => f.endsWith('.json'));

  it('three replies, each with its provenance saying synthetic', () => {
    expect(files.sort()).toEqual(['privileged__set_low_power.json', 'privileged__update_pools.json', 'rpc__get_token.json']);
    for (const f of files) expect(read(f.replace(/\.json$/, '.source.txt'))).toMatch(/classification: synthetic/);
  });

  it.each(files)('%s is a success envelope (STATUS S, Code 0) the v2 status check accepts', (f) => {
    const reply = decodeReply(read(f), context);
    expect(reply['STATUS']).toBe('S');
    expect(reply['Code']).toBe(0);
    expect(() => checkStatus(reply, context)).not.toThrow();
  });

  it('get_token: Msg {salt,time,newsalt} gives the AES key sha256(md5-crypt(password, $1$salt$) field 3)', () => {
    const msg = decodeReply(read('rpc__get_token.json'), context)['Msg'] as { salt: string; time: string; newsalt: string };
    expect(msg).toEqual({ salt: 'abcdefgh', time: '1741500000', newsalt: '12345678' });
    // `openssl passwd -1 -salt abcdefgh admin` = $1$abcdefgh$l/LAqC8oJERu7Cmx6trtY/; sha256 of that field:
    expect(whatsminerSession('admin', msg).aesKey.toString('hex')).toBe('82973047b2f41349e09622da616b962de94aeac6bad21285bc35c6769dd97fe5');
  });
});
