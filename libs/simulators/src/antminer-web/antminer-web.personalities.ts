/**
 * Stock Antminer firmware generations as their web UI shows them, built from the recorded replies in
 * shared/fixtures/web/antminer-stock (key sets, value types, spacing, blank lines): the simulator renders these.
 */
export type AntminerWebGeneration = 'json' | 'form';

export interface AntminerWebPersonality {
  name: string;
  /** How set_miner_conf.cgi takes writes: JSON (config has bitmain-pwth) or form-encoded _ant_* fields. */
  generation: AntminerWebGeneration;
  systemInfo: Record<string, string>;
  /** The stored config, in the firmware's key order. null prints as a key with no value ("bitmain-fan-ctrl" : ,). */
  conf: Record<string, unknown>;
  /** "hand": the CGI's own printing (`"key" : value`, the lone `,` line); "pretty": indented JSON (S21-era). */
  confStyle: 'hand' | 'pretty';
  /** Two blank lines before the config's `{` (S19 49.0.1.3, T17+ 2020). */
  leadingBlankLines: boolean;
  /** "web": stats.cgi / summary.cgi / pools.cgi (2019+); "none": the older UI's pages are not simulated (404). */
  liveEndpoints: 'web' | 'none';
  /** The summary.cgi STATUS shape: an array (S19 2023, S21 2024 recordings) or an object (the miningos mock). */
  summaryStatus: 'array' | 'object';
  minerVersion: string;
  compileTime: string;
  /** Nominal GH/s of the whole machine, split over the chains. */
  rateGhs: number;
  chains: number;
  chipsPerChain: number;
  fans: number;
}

const pools = (users: string): Record<string, string>[] => [
  { url: 'stratum+tcp://pool-a.example:3333', user: `${users}`, pass: 'x' },
  { url: 'stratum+tcp://pool-b.example:25', user: `${users}`, pass: 'x' },
  { url: 'stratum+tcp://pool-c.example:443', user: `${users}`, pass: 'x' },
];

const API = {
  'api-listen': true, 'api-network': true, 'api-groups': 'A:stats:pools:devs:summary:version', 'api-allow': 'A:0/0,W:*',
};

/** S19 (BMMiner 1.0.0, Miner 49.0.1.3, Dec 2020): hand-printed config after two blank lines; JSON writes. */
export const S19_2020: AntminerWebPersonality = {
  name: 's19-2020',
  generation: 'json',
  systemInfo: {
    minertype: 'Antminer S19', nettype: 'DHCP', netdevice: 'eth0', macaddr: '02:00:00:00:19:01', hostname: 'Antminer',
    ipaddress: '127.0.0.1', netmask: '255.255.255.0', gateway: '', dnsservers: '', system_mode: 'GNU/Linux',
    system_kernel_version: 'Linux 4.6.0-xilinx-g77a5f591 #2 SMP PREEMPT Mon May 25 19:58:33 CST 2020',
    system_filesystem_version: 'Fri Dec 11 17:37:21 CST 2020', firmware_type: 'Release',
  },
  conf: {
    pools: pools('farm.s19'), ...API,
    'bitmain-fan-ctrl': false, 'bitmain-fan-pwm': '100', 'bitmain-use-vil': true, 'bitmain-freq': '675', 'bitmain-voltage': '1400',
    'bitmain-ccdelay': '0', 'bitmain-pwth': '0', 'bitmain-work-mode': '0', 'bitmain-freq-level': '100',
  },
  confStyle: 'hand', leadingBlankLines: true, liveEndpoints: 'web', summaryStatus: 'array',
  minerVersion: '49.0.1.3', compileTime: 'Fri Dec 11 17:37:21 CST 2020', rateGhs: 95_000, chains: 3, chipsPerChain: 76, fans: 4,
};

/** S21 (Jul 2024): pretty-printed replies, serial number, bitmain-hashrate-percent. */
export const S21_2024: AntminerWebPersonality = {
  name: 's21-2024',
  generation: 'json',
  systemInfo: {
    minertype: 'Antminer S21', nettype: 'DHCP', netdevice: 'eth0', macaddr: '02:00:00:00:21:01', hostname: 'Antminer',
    ipaddress: '127.0.0.1', netmask: '255.255.255.0', gateway: '', dnsservers: '', system_mode: 'GNU/Linux',
    system_kernel_version: 'Linux 4.9.113 #1 SMP PREEMPT Thu Jul 11 17:01:13 CST 2024',
    system_filesystem_version: 'Thu Jul 11 16:38:25 CST 2024', firmware_type: 'Release', serinum: 'SMTTSIMULATED0001',
  },
  conf: {
    pools: pools('farm.s21'), ...API,
    'bitmain-fan-ctrl': false, 'bitmain-fan-pwm': '100', 'bitmain-use-vil': true, 'bitmain-freq': '490', 'bitmain-voltage': '1320',
    'bitmain-ccdelay': '0', 'bitmain-pwth': '3', 'bitmain-work-mode': '0', 'bitmain-hashrate-percent': '100', 'bitmain-freq-level': '100',
  },
  confStyle: 'pretty', leadingBlankLines: false, liveEndpoints: 'web', summaryStatus: 'array',
  minerVersion: 'uart_trans.1.3', compileTime: 'Thu Jul 11 16:38:25 CST 2024', rateGhs: 200_000, chains: 3, chipsPerChain: 108, fans: 4,
};

/** S19 Pro never configured: every value "" and "bitmain-fan-ctrl" : , (invalid JSON). */
export const S19PRO_UNCONFIGURED: AntminerWebPersonality = {
  ...S19_2020,
  name: 's19pro-unconfigured',
  systemInfo: { ...S19_2020.systemInfo, minertype: 'Antminer S19 Pro', system_filesystem_version: 'Mon Jun 1 20:27:44 CST 2020' },
  conf: {
    pools: [0, 1, 2].map(() => ({ url: '', user: '', pass: '' })), ...API,
    'bitmain-fan-ctrl': null, 'bitmain-fan-pwm': '', 'bitmain-use-vil': true, 'bitmain-freq': '', 'bitmain-voltage': '',
    'bitmain-ccdelay': '', 'bitmain-pwth': '', 'bitmain-work-mode': '', 'bitmain-freq-level': '',
  },
  leadingBlankLines: false,
};

/** T17+ (Miner b023.0.1.3, Jun 2020): has bitmain-work-mode but no bitmain-pwth, so form writes; "bitmain-freq" : "O". */
export const T17PLUS_2020: AntminerWebPersonality = {
  name: 't17plus-2020',
  generation: 'form',
  systemInfo: {
    minertype: 'Antminer T17+', nettype: 'DHCP', netdevice: 'eth0', macaddr: '02:00:00:00:17:01', hostname: 'Antminer',
    ipaddress: '127.0.0.1', netmask: '255.255.255.0', gateway: '', dnsservers: '', system_mode: 'GNU/Linux',
    system_kernel_version: 'Linux 4.6.0-xilinx-gff8137b-dirty #25 SMP PREEMPT Fri Nov 23 15:30:52 CST 2018',
    system_filesystem_version: 'Tue Jun 2 10:21:07 CST 2020', firmware_type: 'Release',
  },
  conf: {
    pools: pools('farm.t17'), ...API, 'bitmain-use-vil': true, 'bitmain-work-mode': '0', 'bitmain-freq': 'O', 'bitmain-voltage': '1950',
  },
  confStyle: 'hand', leadingBlankLines: true, liveEndpoints: 'none', summaryStatus: 'object',
  minerVersion: 'b023.0.1.3', compileTime: 'Tue Jun 2 10:21:07 CST 2020', rateGhs: 64_000, chains: 3, chipsPerChain: 44, fans: 4,
};

/** L3+ (Aug 2017): every number a string, no work mode, no fan keys; form writes. */
export const L3PLUS_2017: AntminerWebPersonality = {
  name: 'l3plus-2017',
  generation: 'form',
  systemInfo: {
    minertype: 'Antminer L3+', nettype: 'DHCP', netdevice: 'eth0', macaddr: '02:00:00:00:03:01', hostname: 'antMiner',
    ipaddress: '127.0.0.1', netmask: '255.255.255.0', gateway: '', dnsservers: '', curtime: '16:00:59', uptime: '1',
    loadaverage: '0.79, 0.21, 0.07', mem_total: '251180', mem_used: '48104', mem_free: '203076', mem_buffers: '0', mem_cached: '0',
    system_mode: 'GNU/Linux', ant_hwv: '1.0.1.3', system_kernel_version: 'Linux 3.8.13 #22 SMP Tue Dec 2 15:26:11 CST 2014',
    system_filesystem_version: 'Fri Aug 25 17:28:57 CST 2017', cgminer_version: '4.9.0',
  },
  conf: { pools: pools('farm.l3'), ...API, 'bitmain-freq': '384' },
  confStyle: 'hand', leadingBlankLines: false, liveEndpoints: 'none', summaryStatus: 'object',
  minerVersion: '1.0.1.3', compileTime: 'Fri Aug 25 17:28:57 CST 2017', rateGhs: 0.504, chains: 4, chipsPerChain: 72, fans: 2,
};

export const ANTMINER_WEB_PERSONALITIES: Readonly<Record<string, AntminerWebPersonality>> = Object.freeze({
  [S19_2020.name]: S19_2020,
  [S21_2024.name]: S21_2024,
  [S19PRO_UNCONFIGURED.name]: S19PRO_UNCONFIGURED,
  [T17PLUS_2020.name]: T17PLUS_2020,
  [L3PLUS_2017.name]: L3PLUS_2017,
});
