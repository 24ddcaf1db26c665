import { AntminerWebSimulator, UNAUTHORIZED_PAGE, type AntminerWebSimulatorOptions } from '@rigwarden/simulators';
import { AntminerWebClient } from './antminer-web.client';

/** The simulator's own firmware semantics, through a real digest client: they are what catch a driver that drops a field. */
describe('AntminerWebSimulator', () => {
  let sim: AntminerWebSimulator;
  let target: { host: string; port: number };
  let client: AntminerWebClient;
  let clock = 1_000_000;

  async function boot(options: AntminerWebSimulatorOptions): Promise<void> {
    sim = new AntminerWebSimulator({ lifetimeMs: 10_000, now: () => clock, ...options });
    target = await sim.start();
    client = new AntminerWebClient({ ...target, user: 'root', password: 'root' });
  }
  afterEach(() => sim.stop());

  const post = async (endpoint: string, body: string): Promise<string> => (await client.request({ method: 'POST', endpoint, body, timeoutMs: 2_000 })).body;
  const get = async (endpoint: string): Promise<string> => (await client.request({ method: 'GET', endpoint, timeoutMs: 2_000 })).body;

  it('without credentials: 401, the digest challenge with lighttpd\'s realm and qop, and the XHTML page', async () => {
    await boot({ personality: 's19-2020' });
    const res = await fetch(`http://${target.host}:${target.port}/cgi-bin/get_system_info.cgi`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Digest realm="antMiner Configuration", qop="auth", nonce="[0-9a-f]{32}"/);
    expect(await res.text()).toBe(UNAUTHORIZED_PAGE);
  });

  it('prints the config as the CGI does: blank lines first, " : " spacing, the lone "," after the pools', async () => {
    await boot({ personality: 's19-2020' });
    const text = await get('get_miner_conf.cgi');
    expect(text.startsWith('\n\n{\n"pools" : [\n{\n"url" : "stratum+tcp://pool-a.example:3333",\n')).toBe(true);
    expect(text).toContain('\n}\n]\n,\n"api-listen" : true,\n');
    expect(text.endsWith('"bitmain-freq-level" : "100"\n}\n')).toBe(true);
  });

  it('JSON write: the whole config; what the body leaves out is reset, and only an integer miner-mode sets the mode', async () => {
    await boot({ personality: 's19-2020' });
    sim.state.conf['bitmain-work-mode'] = '1';
    expect(await post('set_miner_conf.cgi', '{"bitmain-fan-ctrl":true,"bitmain-fan-pwm":"70"}')).toBe('{"stats":"success","code":"M000","msg":"OK!"}');
    expect(sim.state.conf).toMatchObject({ 'bitmain-work-mode': '0', 'bitmain-fan-ctrl': true, 'bitmain-fan-pwm': '70', 'bitmain-freq-level': '100' });
    expect((sim.state.conf['pools'] as { url: string }[]).map((p) => p.url)).toEqual(['', '', '']);
    await post('set_miner_conf.cgi', '{"bitmain-work-mode":1,"miner-mode":"1"}');
    expect(sim.state.conf['bitmain-work-mode']).toBe('0');
    await post('set_miner_conf.cgi', '{"miner-mode":3}');
    expect(sim.state.conf['bitmain-work-mode']).toBe('3');
    expect(await post('set_miner_conf.cgi', 'not json')).toContain('"code":"M001"');
  });

  it('lying: M000 for a work-mode write that changes nothing', async () => {
    await boot({ personality: 's21-2024', lying: true });
    expect(await post('set_miner_conf.cgi', '{"miner-mode":1,"pools":[]}')).toContain('M000');
    expect(sim.state.conf['bitmain-work-mode']).toBe('0');
  });

  it('form write: _ant_* fields; without _ant_freq the frequency is emptied; answered "ok"', async () => {
    await boot({ personality: 't17plus-2020' });
    expect(await post('set_miner_conf.cgi', '_ant_pool1url=a%3A1&_ant_pool1user=u&_ant_pool1pw=p&_ant_work_mode=254')).toBe('ok');
    expect(sim.state.conf).toMatchObject({ 'bitmain-freq': '', 'bitmain-voltage': '', 'bitmain-work-mode': '254' });
    expect((sim.state.conf['pools'] as { url: string }[])[0]).toEqual({ url: 'a:1', user: 'u', pass: 'p' });
  });

  it('a pool change restarts mining for miningRestartMs: no hashrate until then', async () => {
    await boot({ personality: 's19-2020', miningRestartMs: 120_000 });
    const rate = async (): Promise<number> => (JSON.parse(await get('summary.cgi')) as { SUMMARY: { rate_5s: number }[] }).SUMMARY[0]!.rate_5s;
    expect(await rate()).toBe(95_000);
    await post('set_miner_conf.cgi', '{"miner-mode":0,"freq-level":"100","pools":[{"url":"b:2","user":"u","pass":""}]}');
    expect(await rate()).toBe(0);
    clock += 120_000;
    expect(await rate()).toBe(95_000);
  });
});
