import type { CgminerSimState, SimPool } from '../../cgminer-simulator';
import { CGMINER_JOINABLE, type CgminerPersonality, type SimContext, type SimReply } from '../personality';
import { digits, encodeCgminerJson, fixed, trimmed } from './cgminer-json.writer';
import type { RealProgramModel } from './real-program.model';
import { REAL_PROGRAM_PROFILES, type RealProgram } from './real-program.profile';

/**
 * The replies of cgminer 4.11.1 without devices, cgminer 2.11.4 mining on the CPU and bfgminer 5.5.0 mining on the
 * CPU: keys in their order, numbers in their formats, their codes and their quirks, taken from the exact bytes in
 * testdata/cgminer-real (copied from shared/fixtures/cgminer-real). Counters, times and rates come from the state
 * and the program model; what cannot change (block hash, notify flags) is the recorded text.
 */

type Body = Record<string, unknown>;

const json = (body: Body): SimReply => ({ body, raw: encodeCgminerJson(body) });

/** Pool host as "Stratum URL" shows it ("127.0.0.1" for stratum+tcp://127.0.0.1:3333). */
function stratumHost(url: string): string {
  return /^[a-z+]+:\/\/([^:/]+)/.exec(url)?.[1] ?? url;
}

function poolId(parameter: string | undefined): boolean {
  return parameter !== undefined && parameter.trim() !== '';
}

/** Work done so far on a pool, as a plausible Getworks/Works/Discarded triple (cgminer counts jobs it received). */
function jobCounts(ctx: SimContext, model: RealProgramModel, pool: SimPool): { getworks: number; works: number; discarded: number } {
  const elapsed = model.elapsedS(ctx.nowS() * 1000);
  const connected = pool.stratumActive === true || pool.accepted > 0;
  return { getworks: connected ? 2 + Math.floor(elapsed / 60) : 0, works: connected ? 2 + Math.floor(elapsed / 30) : 0, discarded: connected ? Math.floor(elapsed / 2) : 0 };
}

interface Shared {
  readonly program: RealProgram;
  readonly model: RealProgramModel;
}

function base(shared: Shared, read: CgminerPersonality['read'], extra: Partial<CgminerPersonality> = {}): CgminerPersonality {
  const profile = REAL_PROGRAM_PROFILES[shared.program];
  return {
    dialect: 'cgminer',
    description: () => profile.description,
    joinable: CGMINER_JOINABLE,
    read,
    privileged(ctx: SimContext, command: string, parameter: string | undefined): SimReply | undefined {
      // The real programs answer a missing pool id with Code 25 (fixtures 35-switchpool-missing-param).
      if (['switchpool', 'enablepool', 'disablepool', 'removepool'].includes(command) && !poolId(parameter)) {
        return json({ STATUS: [ctx.status('E', 25, 'Missing pool id parameter')], id: 1 });
      }
      return undefined;
    },
    restartReply: (ctx: SimContext) => ({ body: { STATUS: 'RESTART', id: 1 }, raw: profile.restartReply.replace('{when}', String(ctx.nowS())) }),
    quitReply: (ctx: SimContext) => ({ body: { STATUS: 'BYE', id: 1 }, raw: profile.quitReply.replace('{when}', String(ctx.nowS())) }),
    ...extra,
  };
}

function invalid(ctx: SimContext): SimReply {
  return json({ STATUS: [ctx.status('E', 14, 'Invalid command')], id: 1 });
}

const BLOCK_HASH = '00000000000000000002a7c4c1e48d76c5a37902165a270156b7a8d72728a054';

function check(ctx: SimContext, parameter: string | undefined, known: (command: string) => boolean): SimReply {
  const exists = parameter !== undefined && known(parameter);
  return json({ STATUS: [ctx.status('S', 72, 'Check command')], CHECK: [{ Exists: exists ? 'Y' : 'N', Access: exists ? 'Y' : 'N' }], id: 1 });
}

function poolStats(ctx: SimContext, model: RealProgramModel, first: number, withCalls: Body): Body[] {
  const s = ctx.state;
  return s.pools.map((p, i) => {
    const diff = p.stratumActive || p.accepted > 0 ? (p.workDifficulty ?? 0) : 0;
    return {
      STATS: first + i, ID: `POOL${i}`, Elapsed: model.elapsedS(ctx.nowS() * 1000), ...withCalls,
      'Pool Calls': 0, 'Pool Attempts': 0, 'Pool Wait': fixed(0, 6), 'Pool Max': fixed(0, 6), 'Pool Min': fixed(99999999, 6), 'Pool Av': fixed(0, 6),
      'Work Had Roll Time': false, 'Work Can Roll': false, 'Work Had Expire': false, 'Work Roll Time': 0,
      'Work Diff': fixed(diff, 8), 'Min Diff': fixed(diff, 8), 'Max Diff': fixed(diff, 8), 'Min Diff Count': diff ? 2 + p.accepted : 0, 'Max Diff Count': diff ? 2 + p.accepted : 0,
      'Times Sent': 2 + p.accepted, 'Bytes Sent': 139 + 130 * p.accepted, 'Times Recv': 2 + p.accepted, 'Bytes Recv': 148 + 120 * p.accepted,
      'Net Bytes Sent': 139 + 130 * p.accepted, 'Net Bytes Recv': 148 + 120 * p.accepted,
    };
  });
}

/** cgminer 4.11.1 built without any device driver finding hardware: 0 H/s, never asks for work, "No ASCs". */
export function cgminer411NoDevicesPersonality(model: RealProgramModel): CgminerPersonality {
  const shared: Shared = { program: 'cgminer-4.11.1-no-devices', model };
  const nowMs = (ctx: SimContext): number => ctx.nowS() * 1000;
  const known = new Set(['version', 'config', 'summary', 'pools', 'devs', 'edevs', 'stats', 'estats', 'devdetails', 'coin', 'notify', 'asccount', 'pgacount', 'lcd', 'usbstats', 'check', 'privileged', 'switchpool', 'enablepool', 'disablepool', 'addpool', 'removepool', 'poolpriority', 'poolquota', 'zero', 'restart', 'quit']);
  const noAscs = (ctx: SimContext): SimReply => json({ STATUS: [ctx.status('E', 10, 'No ASCs')], id: 1 });
  return base(shared, (ctx, command, parameter) => {
    const s = ctx.state;
    const elapsed = model.elapsedS(nowMs(ctx));
    const da = s.pools.reduce((a, p) => a + (p.difficultyAccepted ?? 0), 0);
    switch (command) {
      case 'version':
        return json({ STATUS: [ctx.status('S', 22, 'CGMiner versions')], VERSION: [{ CGMiner: '4.11.1', API: '3.7' }], id: 1 });
      case 'config':
        return json({ STATUS: [ctx.status('S', 33, 'CGMiner config')], CONFIG: [{ 'ASC Count': 0, 'PGA Count': 0, 'Pool Count': s.pools.length, Strategy: 'Failover', 'Log Interval': 5, 'Device Code': 'AVA BAS ICA ', OS: 'Linux', Hotplug: 5 }], id: 1 });
      case 'summary': {
        const mhs = (w?: number): unknown => fixed(model.averageHs(nowMs(ctx), w) / 1e6, 2);
        return json({
          STATUS: [ctx.status('S', 11, 'Summary')],
          SUMMARY: [{
            Elapsed: elapsed, 'MHS av': mhs(), 'MHS 5s': mhs(5_000), 'MHS 1m': mhs(60_000), 'MHS 5m': mhs(300_000), 'MHS 15m': mhs(900_000),
            'Found Blocks': 0, Getworks: 3 + Math.floor(elapsed / 60), Accepted: s.accepted, Rejected: s.rejected, 'Hardware Errors': 0, Utility: fixed(0, 2),
            Discarded: Math.floor(elapsed / 2), Stale: s.stale, 'Get Failures': 0, 'Local Work': 3 + Math.floor(elapsed / 2), 'Remote Failures': 0, 'Network Blocks': 1,
            'Total MH': fixed(model.totalMh(nowMs(ctx)), 4), 'Work Utility': fixed(0, 2), 'Difficulty Accepted': fixed(da, 8), 'Difficulty Rejected': fixed(0, 8),
            'Difficulty Stale': fixed(0, 8), 'Best Share': 0, 'Device Hardware%': fixed(0, 4), 'Device Rejected%': fixed(0, 4), 'Pool Rejected%': fixed(0, 4),
            'Pool Stale%': fixed(0, 4), 'Last getwork': ctx.nowS(),
          }],
          id: 1,
        });
      }
      case 'pools':
        return json({
          STATUS: [ctx.status('S', 7, `${s.pools.length} Pool(s)`)],
          POOLS: s.pools.map((p, i) => {
            const jobs = jobCounts(ctx, model, p);
            const active = p.stratumActive === true;
            const diff = active || jobs.getworks > 0 ? (p.workDifficulty ?? 0) : 0;
            return {
              POOL: i, URL: p.url, Status: p.status, Priority: p.priority, Quota: 1, 'Long Poll': 'N', Getworks: jobs.getworks, Accepted: p.accepted,
              Rejected: p.rejected, Works: jobs.works, Discarded: jobs.discarded, Stale: p.stale, 'Get Failures': 0, 'Remote Failures': 0, User: p.user,
              'Last Share Time': p.lastShareTime, 'Diff1 Shares': p.diff1Shares ?? 0, 'Proxy Type': '', Proxy: '', 'Difficulty Accepted': fixed(p.difficultyAccepted ?? 0, 8),
              'Difficulty Rejected': fixed(0, 8), 'Difficulty Stale': fixed(0, 8), 'Last Share Difficulty': fixed(p.lastShareDifficulty ?? 0, 8),
              'Work Difficulty': fixed(diff, 8), 'Has Stratum': true, 'Stratum Active': active, 'Stratum URL': active ? stratumHost(p.url) : '',
              'Stratum Difficulty': fixed(active ? (p.workDifficulty ?? 0) : 0, 8), 'Has Vmask': false, 'Has GBT': false, 'Best Share': 0,
              'Pool Rejected%': fixed(0, 4), 'Pool Stale%': fixed(0, 4), 'Bad Work': 0, 'Current Block Height': active ? 800001 : 0,
              'Current Block Version': active ? 536870912 : 0,
            };
          }),
          id: 1,
        });
      case 'devs': case 'edevs': case 'devdetails': case 'notify':
        return noAscs(ctx);
      case 'stats':
        return json({ STATUS: [ctx.status('S', 70, 'CGMiner stats')], STATS: poolStats(ctx, model, 0, { Calls: 0, Wait: fixed(0, 6), Max: fixed(0, 6), Min: fixed(99999999, 6) }), id: 1 });
      case 'estats':
        return json({ STATUS: [ctx.status('S', 70, 'CGMiner stats')], STATS: [], id: 1 });
      case 'coin':
        return json({ STATUS: [ctx.status('S', 78, 'CGMiner coin')], COIN: [{ 'Hash Method': 'sha256', 'Current Block Time': fixed(468.248375, 6), 'Current Block Hash': BLOCK_HASH, LP: true, 'Network Difficulty': fixed(53911173001054.58593750, 8) }], id: 1 });
      case 'asccount':
        return json({ STATUS: [ctx.status('S', 104, 'ASC count')], ASCS: [{ Count: 0 }], id: 1 });
      case 'pgacount':
        return json({ STATUS: [ctx.status('S', 59, 'PGA count')], PGAS: [{ Count: 0 }], id: 1 });
      case 'lcd': {
        const current = s.pools[s.activePool];
        return json({
          STATUS: [ctx.status('S', 125, 'LCD')],
          LCD: [{
            Elapsed: elapsed, 'GHS av': fixed(0, 2), 'GHS 5m': fixed(0, 2), 'GHS 5s': fixed(0, 2), Temperature: fixed(0, 2),
            'Last Share Difficulty': fixed(current?.lastShareDifficulty ?? 0, 8), 'Last Share Time': current?.lastShareTime ?? 0, 'Best Share': 0,
            'Last Valid Work': 0, 'Found Blocks': 0, 'Current Pool': current?.url ?? '', User: current?.user ?? '',
          }],
          id: 1,
        });
      }
      case 'usbstats':
        return json({ STATUS: [ctx.status('I', 88, 'No USB Statistics')], id: 1 });
      case 'check':
        return check(ctx, parameter, (c) => known.has(c));
      case 'privileged':
        return json({ STATUS: [ctx.status('S', 46, 'Privileged access OK')], id: 1 });
      default:
        // cgminer 4.11.1's Code 14 has no Description key (29-invalid-command).
        return undefined;
    }
  });
}

/** The uninitialised second CPU of cgminer 2.11.4 (05-devs.response), byte for byte. */
const PHANTOM_CPU1 = {
  CPU: 1, 'MHS av': fixed(0, 2), 'MHS 5s': fixed(0, 2), Accepted: 1701146671, Rejected: 1969368434, Utility: digits('3925373577.70'),
  'Last Share Pool': 812005680, 'Last Share Time': digits('7221068133453555255'), 'Total MH': fixed(0, 4), 'Diff1 Work': 959918386,
  'Difficulty Accepted': fixed(0, 8),
  'Difficulty Rejected': digits('1105918427286961001995795994607876667081621411633011234383325217812809430834689710173336187439705546419482464552764680091335471520540265676073733900617069759544950784.00000000'),
  'Last Share Difficulty': fixed(0, 8), 'Last Valid Work': digits('3763100756231599921'),
};

/** cgminer 2.11.4 mining on the CPU (sse2_64), with the phantom second CPU its API reports. No joins, no lcd. */
export function cgminer2114CpuPersonality(model: RealProgramModel): CgminerPersonality {
  const shared: Shared = { program: 'cgminer-2.11.4-cpu', model };
  const nowMs = (ctx: SimContext): number => ctx.nowS() * 1000;
  const known = new Set(['version', 'config', 'summary', 'pools', 'devs', 'stats', 'devdetails', 'coin', 'notify', 'pgacount', 'usbstats', 'check', 'privileged', 'switchpool', 'enablepool', 'disablepool', 'addpool', 'removepool', 'poolpriority', 'restart', 'quit']);
  return base(shared, (ctx, command, parameter) => {
    const s = ctx.state;
    const elapsed = model.elapsedS(nowMs(ctx));
    const da = s.pools.reduce((a, p) => a + (p.difficultyAccepted ?? 0), 0);
    const av = model.averageHs(nowMs(ctx)) / 1e6;
    switch (command) {
      case 'version':
        return json({ STATUS: [ctx.status('S', 22, 'CGMiner versions')], VERSION: [{ CGMiner: '2.11.4', API: '1.25' }], id: 1 });
      case 'config':
        return json({
          STATUS: [ctx.status('S', 33, 'CGMiner config')],
          CONFIG: [{ 'GPU Count': 0, 'ASC Count': 0, 'PGA Count': 0, 'CPU Count': 2, 'Pool Count': s.pools.length, ADL: 'N', 'ADL in use': 'N', Strategy: 'Failover', 'Log Interval': 5, 'Device Code': 'CPU ', OS: 'Linux', 'Failover-Only': false, ScanTime: 60, Queue: 1, Expiry: 120, Hotplug: 'None' }],
          id: 1,
        });
      case 'summary':
        return json({
          STATUS: [ctx.status('S', 11, 'Summary')],
          SUMMARY: [{
            Elapsed: elapsed, Algorithm: 'sse2_64', 'MHS av': fixed(av, 2), 'Found Blocks': 0, Getworks: 3 + Math.floor(elapsed / 60), Accepted: s.accepted,
            Rejected: s.rejected, 'Hardware Errors': 0, Utility: fixed(elapsed > 0 ? (s.accepted * 60) / elapsed : 0, 2), Discarded: Math.floor(elapsed / 30),
            Stale: s.stale, 'Get Failures': 0, 'Local Work': 8 + Math.floor(elapsed / 4), 'Remote Failures': 0, 'Network Blocks': 1,
            'Total MH': fixed(model.totalMh(nowMs(ctx)), 4), 'Work Utility': fixed(0, 2), 'Difficulty Accepted': fixed(da, 8), 'Difficulty Rejected': fixed(0, 8),
            'Difficulty Stale': fixed(0, 8), 'Best Share': 0,
          }],
          id: 1,
        });
      case 'pools':
        return json({
          STATUS: [ctx.status('S', 7, `${s.pools.length} Pool(s)`)],
          POOLS: s.pools.map((p, i) => {
            const jobs = jobCounts(ctx, model, p);
            const active = p.stratumActive === true;
            return {
              POOL: i, URL: p.url, Status: p.status, Priority: p.priority, 'Long Poll': 'N', Getworks: jobs.getworks, Accepted: p.accepted, Rejected: p.rejected,
              Discarded: jobs.discarded, Stale: p.stale, 'Get Failures': 0, 'Remote Failures': 0, User: p.user, 'Last Share Time': p.lastShareTime,
              // cgminer 2.x keeps Diff1 Shares as a whole number of difficulty-1 shares.
              'Diff1 Shares': Math.floor(p.diff1Shares ?? 0), 'Proxy Type': '', Proxy: '', 'Difficulty Accepted': fixed(p.difficultyAccepted ?? 0, 8), 'Difficulty Rejected': fixed(0, 8),
              'Difficulty Stale': fixed(0, 8), 'Last Share Difficulty': fixed(p.lastShareDifficulty ?? 0, 8), 'Has Stratum': true, 'Stratum Active': active,
              'Stratum URL': active ? stratumHost(p.url) : '', 'Has GBT': false, 'Best Share': 0,
            };
          }),
          id: 1,
        });
      case 'devs': {
        const active = s.pools[s.activePool];
        return json({
          STATUS: [ctx.status('S', 9, '2 CPU(s)')],
          DEVS: [{
            CPU: 0, 'MHS av': fixed(av, 2), 'MHS 5s': fixed(model.averageHs(nowMs(ctx), 5_000) / 1e6, 2), Accepted: s.accepted, Rejected: s.rejected,
            Utility: fixed(elapsed > 0 ? (s.accepted * 60) / elapsed : 0, 2), 'Last Share Pool': s.accepted > 0 ? s.activePool : -1,
            'Last Share Time': s.accepted > 0 ? (active?.lastShareTime ?? 0) : 0, 'Total MH': fixed(model.totalMh(nowMs(ctx)), 4), 'Diff1 Work': s.accepted,
            'Difficulty Accepted': fixed(da, 8), 'Difficulty Rejected': fixed(0, 8), 'Last Share Difficulty': fixed(active?.lastShareDifficulty ?? 0, 8),
            'Last Valid Work': s.accepted > 0 ? (active?.lastShareTime ?? 0) : 0,
          }, PHANTOM_CPU1],
          id: 1,
        });
      }
      case 'stats': {
        const cpu = { STATS: 0, ID: 'CPU0', Elapsed: elapsed, Calls: 196000 * elapsed, Wait: fixed(0.022 * elapsed, 6), Max: fixed(0.001199, 6), Min: fixed(0, 6) };
        return json({ STATUS: [ctx.status('S', 70, 'CGMiner stats')], STATS: [cpu, ...poolStats(ctx, model, 1, { Calls: 0, Wait: fixed(0, 6), Max: fixed(0, 6), Min: fixed(99999999, 6) })], id: 1 });
      }
      case 'devdetails':
        return json({ STATUS: [ctx.status('S', 69, 'Device Details')], DEVDETAILS: [{ DEVDETAILS: 0, Name: 'CPU', ID: 0, Driver: 'cpu', Kernel: 'sse2_64', Model: '', 'Device Path': '' }], id: 1 });
      case 'coin':
        return json({ STATUS: [ctx.status('S', 78, 'CGMiner coin')], COIN: [{ 'Hash Method': 'sha256', 'Current Block Time': fixed(s.startedAtS + 0.836204, 6), 'Current Block Hash': BLOCK_HASH, LP: false, 'Network Difficulty': fixed(53911173001054.58593750, 8) }], id: 1 });
      case 'notify':
        return json({
          STATUS: [ctx.status('S', 60, 'Notify')],
          NOTIFY: [{
            NOTIFY: 0, Name: 'CPU', ID: 0, 'Last Well': ctx.nowS(), 'Last Not Well': 0, 'Reason Not Well': 'None', '*Thread Fail Init': 0, '*Thread Zero Hash': 0,
            '*Thread Fail Queue': 0, '*Dev Sick Idle 60s': 0, '*Dev Dead Idle 600s': 0, '*Dev Nostart': 0, '*Dev Over Heat': 0, '*Dev Thermal Cutoff': 0,
            '*Dev Comms Error': 0, '*Dev Throttle': 0,
          }],
          id: 1,
        });
      case 'pgacount':
        return json({ STATUS: [ctx.status('S', 59, 'PGA count')], PGAS: [{ Count: 0 }], id: 1 });
      case 'usbstats':
        return json({ STATUS: [ctx.status('I', 88, 'No USB Statistics')], id: 1 });
      case 'check':
        return check(ctx, parameter, (c) => known.has(c));
      case 'privileged':
        return json({ STATUS: [ctx.status('S', 46, 'Privileged access OK')], id: 1 });
      default:
        return invalid(ctx); // with Description (06-edevs, 14-lcd, 29-invalid-command)
    }
  }, {
    // No multi-commands: "summary+pools" is Code 14, with Description (24-multi-summary+pools).
    rawRequest(ctx: SimContext, request: string): string | undefined {
      const m = /"command"\s*:\s*"([^"]*)"/.exec(request);
      if (m && m[1]!.includes('+')) return invalid(ctx).raw;
      return undefined;
    },
  });
}

/** bfgminer 5.5.0 mining on one CPU thread (sse4_64): "Miner" in VERSION, 20 s windows, PGA devices, Code 257 replies. */
export function bfgminer550CpuPersonality(model: RealProgramModel): CgminerPersonality {
  const shared: Shared = { program: 'bfgminer-5.5.0-cpu', model };
  const nowMs = (ctx: SimContext): number => ctx.nowS() * 1000;
  const known = new Set(['version', 'config', 'summary', 'pools', 'devs', 'stats', 'devdetails', 'coin', 'notify', 'pgacount', 'check', 'privileged', 'switchpool', 'enablepool', 'disablepool', 'addpool', 'removepool', 'poolpriority', 'poolquota', 'zero', 'restart', 'quit']);
  return base(shared, (ctx, command, parameter) => {
    const s = ctx.state;
    const elapsed = model.elapsedS(nowMs(ctx));
    const da = s.pools.reduce((a, p) => a + (p.difficultyAccepted ?? 0), 0);
    const av = model.averageHs(nowMs(ctx)) / 1e6;
    const m20 = model.averageHs(nowMs(ctx), 20_000) / 1e6;
    const utility = elapsed > 0 ? (s.accepted * 60) / elapsed : 0;
    const active = s.pools[s.activePool];
    const lastShare = s.pools.reduce((a, p) => Math.max(a, p.lastShareTime), 0);
    switch (command) {
      case 'version':
        return json({ STATUS: [ctx.status('S', 22, 'BFGMiner versions')], VERSION: [{ Miner: 'bfgminer 5.5.0-34-g866fd36f', CGMiner: '5.5.0-34-g866fd36f', API: '3.1' }], id: 1 });
      case 'config':
        return json({
          STATUS: [ctx.status('S', 33, 'BFGMiner config')],
          CONFIG: [{ 'PGA Count': 1, 'Pool Count': s.pools.length, ADL: 'N', 'ADL in use': 'N', Strategy: 'Failover', 'Log Interval': 20, 'Device Code': 'CPU', OS: 'Linux', 'Failover-Only': false, ScanTime: 60, Queue: 1, Expiry: 120, 'Coinbase-Sig': '(null)' }],
          id: 1,
        });
      case 'summary':
        return json({
          STATUS: [ctx.status('S', 11, 'Summary')],
          SUMMARY: [{
            Elapsed: elapsed, Algorithm: 'sse4_64', 'MHS av': fixed(av, 3), 'MHS 20s': fixed(m20, 3), 'Found Blocks': 0, Getworks: 3 + Math.floor(elapsed / 60),
            Accepted: s.accepted, Rejected: s.rejected, 'Hardware Errors': 0, Utility: fixed(utility, 3), Discarded: 3 + Math.floor(elapsed / 60), Stale: s.stale,
            'Get Failures': 0, 'Local Work': 11 + Math.floor(elapsed / 2), 'Remote Failures': 0, 'Network Blocks': 1, 'Total MH': fixed(model.totalMh(nowMs(ctx)), 4),
            'Diff1 Work': trimmed(da), 'Work Utility': fixed(elapsed > 0 ? (da * 60) / elapsed : 0, 3), 'Difficulty Accepted': trimmed(da), 'Difficulty Rejected': trimmed(0),
            'Difficulty Stale': trimmed(0), 'Best Share': trimmed(da > 0 ? 0.00498352 : 0), 'Device Hardware%': fixed(0, 4), 'Device Rejected%': fixed(0, 4),
            'Pool Rejected%': fixed(0, 4), 'Pool Stale%': fixed(0, 4), 'Last getwork': ctx.nowS(),
          }],
          id: 1,
        });
      case 'pools':
        return json({
          STATUS: [ctx.status('S', 7, `${s.pools.length} Pool(s)`)],
          POOLS: s.pools.map((p, i) => {
            const jobs = jobCounts(ctx, model, p);
            const stratum = p.stratumActive === true;
            return {
              POOL: i, URL: p.url, Status: p.status, Priority: p.priority, Quota: 1, 'Mining Goal': 'default', 'Long Poll': 'N', Getworks: jobs.getworks,
              Accepted: p.accepted, Rejected: p.rejected, Works: p.accepted, Discarded: jobs.discarded, Stale: p.stale, 'Get Failures': 0, 'Remote Failures': 0,
              User: p.user, 'Last Share Time': p.lastShareTime, 'Diff1 Shares': trimmed(p.diff1Shares ?? 0), Proxy: '',
              'Difficulty Accepted': trimmed(p.difficultyAccepted ?? 0), 'Difficulty Rejected': trimmed(0), 'Difficulty Stale': trimmed(0),
              'Last Share Difficulty': trimmed(p.lastShareDifficulty ?? 0), 'Has Stratum': true, 'Stratum Active': stratum, 'Stratum URL': stratum ? stratumHost(p.url) : '',
              'Best Share': trimmed(p.accepted > 0 ? 0.00498352 : 0), 'Pool Rejected%': fixed(0, 4), 'Pool Stale%': fixed(0, 4),
            };
          }),
          id: 1,
        });
      case 'devs':
        return json({
          STATUS: [ctx.status('S', 9, '1 PGA(s)')],
          DEVS: [{
            PGA: 0, Name: 'CPU', ID: 0, Enabled: 'Y', Status: 'Alive', 'Device Elapsed': elapsed, 'MHS av': fixed(av, 3), 'MHS 20s': fixed(m20, 3),
            'MHS rolling': fixed(m20, 3), Accepted: s.accepted, Rejected: s.rejected, 'Hardware Errors': 0, Utility: fixed(utility, 3), Stale: 0,
            'Last Share Pool': s.accepted > 0 ? s.activePool : -1, 'Last Share Time': lastShare, 'Total MH': fixed(model.totalMh(nowMs(ctx)), 4),
            'Diff1 Work': trimmed(da), 'Work Utility': fixed(elapsed > 0 ? (da * 60) / elapsed : 0, 3), 'Difficulty Accepted': trimmed(da),
            'Difficulty Rejected': trimmed(0), 'Difficulty Stale': trimmed(0), 'Last Share Difficulty': trimmed(active?.lastShareDifficulty ?? 0),
            'Last Valid Work': lastShare, 'Device Hardware%': fixed(0, 4), 'Device Rejected%': fixed(0, 4),
          }],
          id: 1,
        });
      case 'stats': {
        const calls = { Calls: 2 + s.accepted, Wait: fixed(0.000077, 6), Max: fixed(0.000066, 6), Min: fixed(0.000011, 6) };
        return json({ STATUS: [ctx.status('S', 70, 'BFGMiner stats')], STATS: [{ STATS: 0, ID: 'CPU0', Elapsed: elapsed, ...calls }, ...poolStats(ctx, model, 1, calls)], id: 1 });
      }
      case 'devdetails':
        return json({ STATUS: [ctx.status('S', 69, 'Device Details')], DEVS: [{ DEVDETAILS: 0, Name: 'CPU', ID: 0, Processors: 1, Driver: 'cpu', Kernel: 'sse4_64', 'Target Temperature': 89, 'Cutoff Temperature': 95 }], id: 1 });
      case 'coin':
        return json({ STATUS: [ctx.status('S', 78, 'BFGMiner coin')], COIN: [{ 'Hash Method': 'sha256', 'Current Block Time': s.startedAtS, 'Current Block Hash': BLOCK_HASH, LP: true, 'Network Difficulty': fixed(53911995632823.88281250, 8), 'Difficulty Accepted': trimmed(da) }], id: 1 });
      case 'notify':
        return json({
          STATUS: [ctx.status('S', 60, 'Notify')],
          NOTIFY: [{
            NOTIFY: 0, Name: 'CPU', ID: 0, 'Last Not Well': 0, 'Reason Not Well': 'None', '*Thread Fail Init': 0, '*Thread Zero Hash': 0, '*Thread Fail Queue': 0,
            '*Dev Sick Idle 60s': 0, '*Dev Dead Idle 600s': 0, '*Dev Nostart': 0, '*Dev Over Heat': 0, '*Dev Thermal Cutoff': 0, '*Dev Comms Error': 0, '*Dev Throttle': 0,
          }],
          id: 1,
        });
      case 'pgacount':
        return json({ STATUS: [ctx.status('S', 59, 'PGA count')], PGAS: [{ Count: 1 }], id: 1 });
      case 'check':
        return check(ctx, parameter, (c) => known.has(c));
      case 'privileged':
        return json({ STATUS: [ctx.status('S', 46, 'Privileged access OK')], id: 1 });
      default:
        return invalid(ctx); // edevs, estats, lcd, asccount, usbstats: Code 14 with Description
    }
  });
}

export function realProgramPersonality(program: RealProgram, model: RealProgramModel): CgminerPersonality {
  switch (program) {
    case 'cgminer-4.11.1-no-devices': return cgminer411NoDevicesPersonality(model);
    case 'cgminer-2.11.4-cpu': return cgminer2114CpuPersonality(model);
    case 'bfgminer-5.5.0-cpu': return bfgminer550CpuPersonality(model);
  }
}

/** The state a real program starts with: its version, and the devices it has (none; two CPUs, one real; one CPU). */
export function realProgramState(program: RealProgram): Partial<CgminerSimState> {
  const cpu = (hashrateHs: number): CgminerSimState['boards'][number] => ({ hashrateHs, tempC: 0, hwErrors: 0, alive: true });
  switch (program) {
    case 'cgminer-4.11.1-no-devices': return { software: '4.11.1', model: 'cgminer 4.11.1 (no devices)', boards: [], fans: [] };
    case 'cgminer-2.11.4-cpu': return { software: '2.11.4', model: 'cgminer 2.11.4 (CPU)', boards: [cpu(2.3e6)], fans: [] };
    case 'bfgminer-5.5.0-cpu': return { software: '5.5.0', model: 'bfgminer 5.5.0 (CPU)', boards: [cpu(0.5e6)], fans: [] };
  }
}
