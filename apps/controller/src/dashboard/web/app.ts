/// <reference lib="dom" />
/**
 * The Rigwarden dashboard: plain TypeScript, bundled by tools/build.mjs into dist/controller/web/app.js and served
 * by the controller. Views: fleet (overview + virtualised rig table), rig (charts, pools, boards, events, commands,
 * actions) and the event log. Data: the JSON API under /api/ with the API key as a Bearer token (kept in
 * sessionStorage), live updates from /api/stream (Server-Sent Events, opened with a short-lived ticket).
 */

// ---------- types (the API's JSON) ----------
type RigStatus = 'online' | 'offline' | 'quarantined';
interface RigSummary {
  rigId: string; status: RigStatus; group: string; model: string; vendor: string; algorithm: string; miners: number;
  hashrateHs: number | null; maxTempC: number | null; powerW: number | null; fanMinRpm: number | null; activePool: string;
  errors: number; lastSeen: number | null; labels: Record<string, string>;
  liveness?: string; livenessMessage?: string; program?: string; hashrateWindow?: string;
}
interface HotDevice { rigId: string; minerId: string; board: number; name: string; tempC: number }
interface DashEvent { seq?: number; eventId: string; rigId: string; kind: string; severity: string; reason: string; message: string; at: number | null; source: string }
interface Alert { rule: string; rigId: string; severity: string; reason: string; summary: string; since: number; lastAt: number; occurrences: number }
interface Overview {
  rigs: { total: number; online: number; offline: number; quarantined: number };
  hashrateByAlgorithm: Record<string, number>; powerW: number; hottest: HotDevice[]; groups: string[]; models: string[];
  alerts?: Alert[];
  alertCount?: number;
}
interface Command {
  commandId: string; rigId: string; minerId: string; type: string; state: string; attempts: number; createdAt: number;
  deadline: number; finishedAt: number | null; cause: string; requestedBy: string; reason: string;
}
interface FleetChange { rigs: RigSummary[]; reload: boolean; changed: number; overview: Overview }
interface SeriesPoint { at: number; hashrateHs: number | null; tempMaxC: number | null; powerW: number | null; fanMinRpm: number | null }
interface PoolJson {
  index?: number; url?: string; user?: string; status?: string; priority?: number; active?: boolean; accepted?: string; rejected?: string; lastShareTime?: string;
  stratumActive?: boolean; activeEvidence?: string;
}
interface BoardJson {
  index?: number; name?: string; hashrateHs?: number; boardTempC?: number; chipTempC?: number; chips?: number; status?: string;
  fanPercent?: number; powerW?: number; hwErrors?: string; frequencyMhz?: number; pciBusId?: string; phantomReason?: string;
}
interface MinerJson {
  minerId: string; vendor?: string; model?: string; firmware?: string; algorithm?: string; hashrate5sHs?: number; hashrateAvgHs?: number;
  powerW?: number; uptimeS?: string; boards?: BoardJson[]; fans?: Array<{ index?: number; rpm?: number; percent?: number }>; pools?: PoolJson[];
  errors?: Array<{ kind?: string; message?: string }>; collectedAt?: string;
  software?: string; softwareVersion?: string; hashrateWindows?: Array<{ label?: string; windowS?: number; hashrateHs?: number }>;
  fieldWarnings?: Array<{ field?: string; value?: string; reason?: string }>;
  /** What the miner accepts, as its agent found it; absent or empty: unknown (the agent decides). */
  capabilities?: string[];
}
interface RigDetail {
  summary: RigSummary;
  rig: { rigId: string; online?: boolean; miners?: MinerJson[]; labels?: Record<string, string>; fieldWarningCounts?: Array<{ field?: string; reason?: string; count?: string }> };
  profiles: string[];
}

/** Whether to offer an action needing `capability` on this miner: its agent lists it, or lists nothing (unknown). */
function minerCan(m: MinerJson | undefined, capability: string): boolean {
  const caps = m?.capabilities ?? [];
  return caps.length === 0 || caps.includes(capability);
}

// ---------- small DOM helpers ----------
type Child = Node | string | number | null | undefined | false;
function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | boolean | ((e: Event) => void)> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (v === true) el.setAttribute(k, '');
    else if (v !== false) el.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}
const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const SVG = 'http://www.w3.org/2000/svg';
function svg(tag: string, attrs: Record<string, string | number>): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

// ---------- formatting ----------
const UNITS = ['H/s', 'kH/s', 'MH/s', 'GH/s', 'TH/s', 'PH/s', 'EH/s'];
function fmtHash(hs: number | null | undefined): string {
  if (hs === null || hs === undefined) return '–';
  let v = hs;
  let i = 0;
  while (v >= 1000 && i < UNITS.length - 1) { v /= 1000; i++; }
  return `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${UNITS[i]}`;
}
const fmtNum = (v: number | null | undefined, unit: string, digits = 0): string => (v === null || v === undefined ? '–' : `${v.toFixed(digits)} ${unit}`);
function fmtAgo(ms: number | null | undefined): string {
  if (!ms) return '–';
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(ms).toLocaleString();
}
const fmtTime = (ms: number | null | undefined): string => (ms ? new Date(ms).toLocaleTimeString() : '–');

// ---------- API ----------
const KEY_STORAGE = 'rigwarden.apiKey';
let apiKey = sessionStorage.getItem(KEY_STORAGE) ?? '';
let canOperate = false;

class ApiError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(path, {
    ...init,
    headers: { authorization: `Bearer ${apiKey}`, ...(init.body ? { 'content-type': 'application/json' } : {}), ...(init.headers ?? {}) },
  });
  const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
  if (!res.ok) {
    const message = body.error?.message ?? `${res.status} ${res.statusText}`;
    if (res.status === 401) signOut(message);
    throw new ApiError(res.status, message);
  }
  return body as T;
}

function toast(text: string, kind: 'ok' | 'error' | 'info' = 'info'): void {
  const el = h('div', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status', title: 'Click to dismiss', onclick: () => el.remove() }, text);
  const box = $('toasts');
  box.append(el);
  while (box.children.length > 3) box.firstElementChild?.remove();
  setTimeout(() => el.remove(), kind === 'error' ? 8000 : 4000);
}

// ---------- live stream ----------
type StreamHandler = { rigs?: (c: FleetChange) => void; event?: (e: DashEvent) => void; command?: (c: Command) => void; hello?: (o: Overview) => void };
const streamHandlers = new Set<StreamHandler>();
let source: EventSource | undefined;
let reconnectTimer: number | undefined;

async function connectStream(): Promise<void> {
  source?.close();
  const live = $('live');
  live.hidden = false;
  live.textContent = 'connecting';
  live.className = 'live';
  try {
    const { ticket } = await api<{ ticket: string }>('/api/stream-ticket', { method: 'POST' });
    const es = new EventSource(`/api/stream?ticket=${encodeURIComponent(ticket)}`);
    source = es;
    es.addEventListener('hello', (m) => {
      live.textContent = 'live';
      live.className = 'live on';
      const { overview } = JSON.parse((m as MessageEvent).data) as { overview: Overview };
      for (const hd of streamHandlers) hd.hello?.(overview);
    });
    es.addEventListener('rigs', (m) => { const c = JSON.parse((m as MessageEvent).data) as FleetChange; for (const hd of streamHandlers) hd.rigs?.(c); });
    es.addEventListener('event', (m) => { const e = JSON.parse((m as MessageEvent).data) as DashEvent; for (const hd of streamHandlers) hd.event?.(e); });
    es.addEventListener('command', (m) => { const c = JSON.parse((m as MessageEvent).data) as Command; for (const hd of streamHandlers) hd.command?.(c); });
    es.onerror = () => {
      // The ticket only opens a stream: reconnect with a fresh one.
      es.close();
      live.textContent = 'reconnecting';
      live.className = 'live off';
      window.clearTimeout(reconnectTimer);
      reconnectTimer = window.setTimeout(() => void connectStream(), 2000);
    };
  } catch {
    live.textContent = 'offline';
    live.className = 'live off';
    if (apiKey) reconnectTimer = window.setTimeout(() => void connectStream(), 3000);
  }
}

// ---------- sign-in ----------
function signOut(message?: string): void {
  apiKey = '';
  sessionStorage.removeItem(KEY_STORAGE);
  source?.close();
  window.clearTimeout(reconnectTimer);
  renderSignIn(message);
}

function renderSignIn(message?: string): void {
  $('nav').hidden = true;
  $('sign-out').hidden = true;
  $('live').hidden = true;
  const input = h('input', { id: 'api-key', type: 'password', name: 'apiKey', required: true, autocomplete: 'current-password', placeholder: 'rwk_…', spellcheck: 'false' });
  const error = h('p', { class: 'error', id: 'sign-in-error', role: 'alert' }, message ?? '');
  const form = h('form', { class: 'card sign-in', id: 'sign-in' },
    h('h1', {}, 'Sign in'),
    h('p', {}, 'Paste a Rigwarden API key. A read key shows the fleet; an operate key can also restart miners, switch pools and apply profiles. The controller wrote an admin key to ', h('code', {}, '<data-dir>/admin.token'), ' on its first start.'),
    h('label', { for: 'api-key' }, 'API key'), input, error,
    h('button', { type: 'submit' }, 'Sign in'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void (async () => {
      apiKey = input.value.trim();
      try {
        const session = await api<{ scope: string; canOperate: boolean; principal: string }>('/api/session');
        sessionStorage.setItem(KEY_STORAGE, apiKey);
        canOperate = session.canOperate;
        start();
      } catch (err) {
        apiKey = '';
        renderSignIn((err as Error).message);
      }
    })();
  });
  $('main').replaceChildren(form);
  input.focus();
}

// ---------- router ----------
let cleanup: (() => void) | undefined;
function route(): void {
  cleanup?.();
  cleanup = undefined;
  const hash = location.hash || '#/';
  const rig = /^#\/rigs\/(.+)$/.exec(hash);
  for (const a of document.querySelectorAll<HTMLAnchorElement>('[data-nav]')) {
    a.classList.toggle('active', (a.dataset['nav'] === 'events') === hash.startsWith('#/events') && !rig);
  }
  if (rig) cleanup = renderRig(decodeURIComponent(rig[1]!));
  else if (hash.startsWith('#/events')) cleanup = renderEventLog();
  else cleanup = renderFleet();
}

function start(): void {
  $('nav').hidden = false;
  $('sign-out').hidden = false;
  void connectStream();
  route();
}

// ---------- fleet view ----------
const ROW_HEIGHT = 40;
const BLOCK = 200;
const OVERSCAN = 8;
interface Column { key: keyof RigSummary; label: string; render: (s: RigSummary) => Node | string; cls?: string }
const COLUMNS: Column[] = [
  { key: 'rigId', label: 'Rig', render: (s) => h('a', { href: `#/rigs/${encodeURIComponent(s.rigId)}` }, s.rigId) },
  {
    key: 'status', label: 'Status',
    // The controller's verdict when it is not plain online (stale, miner-unreachable), its reason on hover.
    render: (s) => h('span', { class: `badge ${s.status}`, title: s.livenessMessage ?? '' }, s.status === 'quarantined' || !s.liveness || s.liveness === s.status ? s.status : s.liveness),
  },
  { key: 'hashrateHs', label: 'Hashrate', render: (s) => fmtHash(s.hashrateHs), cls: 'num' },
  { key: 'maxTempC', label: 'Temp', render: (s) => h('span', { class: (s.maxTempC ?? 0) >= 85 ? 'hot' : '' }, fmtNum(s.maxTempC, '°C', 1)), cls: 'num' },
  { key: 'powerW', label: 'Power', render: (s) => fmtNum(s.powerW, 'W'), cls: 'num opt' },
  { key: 'fanMinRpm', label: 'Fan min', render: (s) => fmtNum(s.fanMinRpm, 'rpm'), cls: 'num opt' },
  { key: 'group', label: 'Group', render: (s) => s.group || '–', cls: 'opt' },
  { key: 'model', label: 'Model', render: (s) => s.model || '–', cls: 'opt' },
  { key: 'lastSeen', label: 'Last seen', render: (s) => fmtAgo(s.lastSeen), cls: 'opt2' },
];

function renderOverview(container: HTMLElement, o: Overview): void {
  const algos = Object.entries(o.hashrateByAlgorithm).sort((a, b) => b[1] - a[1]);
  container.replaceChildren(
    h('div', { class: 'card stat', 'data-testid': 'stat-online' }, h('span', { class: 'label' }, 'Online'), h('strong', { class: 'ok' }, o.rigs.online.toLocaleString()), h('span', { class: 'sub' }, `of ${o.rigs.total.toLocaleString()} rigs`)),
    h('div', { class: 'card stat', 'data-testid': 'stat-offline' }, h('span', { class: 'label' }, 'Offline'), h('strong', { class: o.rigs.offline ? 'bad' : '' }, o.rigs.offline)),
    h('div', { class: 'card stat', 'data-testid': 'stat-quarantined' }, h('span', { class: 'label' }, 'Quarantined'), h('strong', { class: o.rigs.quarantined ? 'warn' : '' }, o.rigs.quarantined)),
    h('div', { class: 'card stat', 'data-testid': 'stat-hashrate' }, h('span', { class: 'label' }, 'Hashrate'),
      ...(algos.length ? algos.map(([a, v]) => h('div', { class: 'algo' }, h('strong', {}, fmtHash(v)), ' ', h('span', { class: 'sub' }, a))) : [h('strong', {}, '–')]),
      h('span', { class: 'sub' }, `${(o.powerW / 1000).toFixed(1)} kW`)),
    h('div', { class: 'card list', 'data-testid': 'hottest' }, h('span', { class: 'label' }, 'Hottest devices'),
      o.hottest.length ? h('ol', {}, ...o.hottest.map((d) => h('li', {}, h('a', { href: `#/rigs/${encodeURIComponent(d.rigId)}` }, d.rigId), ` ${d.name} `, h('span', { class: d.tempC >= 85 ? 'hot' : '' }, `${d.tempC.toFixed(1)} °C`)))) : h('p', { class: 'sub' }, 'no temperatures yet')),
    h('div', { class: 'card list alerts', 'data-testid': 'alerts' }, h('span', { class: 'label' }, `Active alerts${o.alertCount ? ` (${o.alertCount})` : ''}`),
      o.alerts && o.alerts.length ? h('ul', {}, ...o.alerts.slice(0, 6).map((a) => h('li', { class: a.severity, 'data-rule': a.rule, title: `${a.summary} (since ${new Date(a.since).toLocaleString()}, ${a.occurrences}×)` },
        h('a', { href: `#/rigs/${encodeURIComponent(a.rigId)}` }, a.rigId), ' ', h('code', {}, a.rule), ' ', a.reason))) : h('p', { class: 'sub' }, 'none firing')),
  );
}

function renderFleet(): () => void {
  const cards = h('section', { class: 'overview', 'aria-label': 'Fleet overview' });
  const q = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const state = { sort: q.get('sort') ?? 'rigId', dir: q.get('dir') ?? 'asc', status: q.get('status') ?? '', group: q.get('group') ?? '', model: q.get('model') ?? '', text: q.get('q') ?? '' };
  const groupSel = h('select', { id: 'filter-group', 'aria-label': 'Group' }, h('option', { value: '' }, 'All groups'));
  const modelInput = h('input', { id: 'filter-model', type: 'search', placeholder: 'Model', 'aria-label': 'Model', list: 'models' });
  const modelList = h('datalist', { id: 'models' });
  const statusSel = h('select', { id: 'filter-status', 'aria-label': 'Status' }, ...['', 'online', 'offline', 'quarantined'].map((s) => h('option', { value: s }, s || 'Any status')));
  const textInput = h('input', { id: 'filter-text', type: 'search', placeholder: 'Search rig, pool, label', 'aria-label': 'Search' });
  statusSel.value = state.status;
  modelInput.value = state.model;
  textInput.value = state.text;
  const count = h('span', { class: 'count', id: 'rig-count' });
  const header = h('div', { class: 'rig-row head', role: 'row' });
  const spacer = h('div', { class: 'spacer' });
  const viewport = h('div', { class: 'rig-viewport', id: 'rig-viewport', role: 'rowgroup' }, spacer);
  const table = h('div', { class: 'rig-table card', role: 'table', 'aria-label': 'Rigs' }, header, viewport);
  $('main').replaceChildren(cards,
    h('section', { class: 'filters' }, textInput, statusSel, groupSel, modelInput, modelList, count), table);

  let total = 0;
  let generation = 0;
  const blocks = new Map<number, RigSummary[]>();
  const loading = new Set<number>();

  const renderHeader = (): void => {
    header.replaceChildren(...COLUMNS.map((c) => h('button', {
      class: `cell sort ${c.cls ?? ''} ${state.sort === c.key ? `sorted ${state.dir}` : ''}`, role: 'columnheader', 'data-sort': c.key,
      'aria-sort': state.sort === c.key ? (state.dir === 'asc' ? 'ascending' : 'descending') : 'none',
      onclick: () => {
        if (state.sort === c.key) state.dir = state.dir === 'asc' ? 'desc' : 'asc';
        else { state.sort = c.key; state.dir = c.cls?.includes('num') ? 'desc' : 'asc'; }
        reset();
      },
    }, c.label)));
  };
  const params = (offset: number): string => {
    const p = new URLSearchParams({ sort: state.sort, dir: state.dir, offset: String(offset), limit: String(BLOCK) });
    if (state.status) p.set('status', state.status);
    if (state.group) p.set('group', state.group);
    if (state.model) p.set('model', state.model);
    if (state.text) p.set('q', state.text);
    return p.toString();
  };
  const loadBlock = async (b: number): Promise<void> => {
    if (loading.has(b)) return;
    loading.add(b);
    const gen = generation;
    try {
      const page = await api<{ total: number; rigs: RigSummary[] }>(`/api/rigs?${params(b * BLOCK)}`);
      if (gen !== generation) return;
      total = page.total;
      blocks.set(b, page.rigs);
      count.textContent = `${total.toLocaleString()} rig${total === 1 ? '' : 's'}`;
      spacer.style.height = `${total * ROW_HEIGHT}px`;
      draw();
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) toast(`Cannot load rigs: ${(err as Error).message}`, 'error');
    } finally {
      loading.delete(b);
    }
  };
  const rowNodes = new Map<number, HTMLElement>();
  const draw = (): void => {
    const first = Math.max(0, Math.floor(viewport.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(total - 1, Math.ceil((viewport.scrollTop + viewport.clientHeight) / ROW_HEIGHT) + OVERSCAN);
    for (const [i, node] of rowNodes) if (i < first || i > last) { node.remove(); rowNodes.delete(i); }
    for (let i = first; i <= last; i++) {
      const b = Math.floor(i / BLOCK);
      const s = blocks.get(b)?.[i - b * BLOCK];
      if (!s) { void loadBlock(b); continue; }
      const row = h('div', { class: `rig-row ${s.status}`, role: 'row', 'data-testid': 'rig-row', 'data-rig': s.rigId },
        ...COLUMNS.map((c) => h('div', { class: `cell ${c.cls ?? ''}`, role: 'cell' }, c.render(s))));
      row.style.transform = `translateY(${i * ROW_HEIGHT}px)`;
      const old = rowNodes.get(i);
      if (old) old.replaceWith(row);
      else viewport.append(row);
      rowNodes.set(i, row);
    }
  };
  const reset = (): void => {
    generation++;
    blocks.clear();
    loading.clear();
    for (const n of rowNodes.values()) n.remove();
    rowNodes.clear();
    renderHeader();
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries({ sort: state.sort, dir: state.dir, status: state.status, group: state.group, model: state.model, q: state.text })) if (v) p.set(k, v);
    history.replaceState(null, '', `#/${p.toString() ? `?${p}` : ''}`);
    void loadBlock(Math.floor(viewport.scrollTop / ROW_HEIGHT / BLOCK));
  };
  let scheduled = false;
  viewport.addEventListener('scroll', () => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => { scheduled = false; draw(); });
  }, { passive: true });
  const onResize = (): void => draw();
  window.addEventListener('resize', onResize);
  let typing: number | undefined;
  const onFilter = (): void => {
    window.clearTimeout(typing);
    typing = window.setTimeout(() => {
      Object.assign(state, { status: statusSel.value, group: groupSel.value, model: modelInput.value.trim(), text: textInput.value.trim() });
      viewport.scrollTop = 0;
      reset();
    }, 200);
  };
  for (const el of [statusSel, groupSel]) el.addEventListener('change', onFilter);
  for (const el of [modelInput, textInput]) el.addEventListener('input', onFilter);

  let lastAlerts: Alert[] = [];
  let lastAlertCount = 0;
  const applyOverview = (o: Overview): void => {
    lastAlerts = o.alerts ?? lastAlerts;
    lastAlertCount = o.alertCount ?? lastAlertCount;
    renderOverview(cards, o);
    const groups = ['', ...o.groups];
    if (groupSel.options.length !== groups.length || groups.some((g, i) => groupSel.options[i]!.value !== g)) {
      groupSel.replaceChildren(...groups.map((g) => h('option', { value: g }, g || 'All groups')));
      groupSel.value = state.group;
    }
    modelList.replaceChildren(...o.models.map((m) => h('option', { value: m })));
  };
  const loadOverview = async (): Promise<void> => {
    try { applyOverview(await api<Overview>('/api/overview')); } catch { /* shown by the table's error */ }
  };
  let refetch: number | undefined;
  let overviewTimer: number | undefined;
  const handler: StreamHandler = {
    hello: () => void loadOverview(),
    rigs: (change) => {
      // Rows in view change in place at once; the page is re-read shortly after (sort order, new rigs).
      for (const s of change.rigs) {
        for (const [b, rows] of blocks) {
          const i = rows.findIndex((r) => r.rigId === s.rigId);
          if (i >= 0) { rows[i] = s; blocks.set(b, rows); }
        }
      }
      draw();
      // Throttled, not debounced: a fleet that changes every second must still be re-read.
      if (refetch === undefined) {
        refetch = window.setTimeout(() => {
          refetch = undefined;
          generation++;
          blocks.clear();
          loading.clear();
          void loadBlock(Math.floor(viewport.scrollTop / ROW_HEIGHT / BLOCK));
          void loadOverview();
        }, change.reload ? 200 : 1000);
      }
      renderOverview(cards, { ...change.overview, alerts: lastAlerts, alertCount: lastAlertCount });
    },
    // A new event can fire or resolve an alert: re-read the overview (alerts included), at most every 700 ms.
    event: () => {
      if (overviewTimer !== undefined) return;
      overviewTimer = window.setTimeout(() => { overviewTimer = undefined; void loadOverview(); }, 700);
    },
  };
  streamHandlers.add(handler);
  renderHeader();
  void loadOverview();
  reset();
  return () => {
    streamHandlers.delete(handler);
    window.removeEventListener('resize', onResize);
    window.clearTimeout(refetch);
    window.clearTimeout(overviewTimer);
  };
}

// ---------- charts ----------
function chart(title: string, points: SeriesPoint[], pick: (p: SeriesPoint) => number | null, format: (v: number) => string, testid: string, resolution: string): HTMLElement {
  const W = 320;
  const H = 110;
  const P = 4;
  const values = points.map((p) => ({ at: p.at, v: pick(p) })).filter((p): p is { at: number; v: number } => p.v !== null);
  const box = h('figure', { class: 'card chart', 'data-testid': testid });
  const latest = values.length ? format(values[values.length - 1]!.v) : 'no data';
  box.append(h('figcaption', {}, h('span', {}, title), h('strong', {}, latest)));
  const el = svg('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': `${title} chart` });
  if (values.length >= 1) {
    const t0 = values[0]!.at;
    const t1 = Math.max(values[values.length - 1]!.at, t0 + 1);
    let lo = Math.min(...values.map((p) => p.v));
    let hi = Math.max(...values.map((p) => p.v));
    if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
    const x = (t: number): number => P + ((t - t0) / (t1 - t0)) * (W - 2 * P);
    const y = (v: number): number => H - P - ((v - lo) / (hi - lo)) * (H - 2 * P);
    const d = values.map((p, i) => `${i ? 'L' : 'M'}${x(p.at).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
    el.append(svg('path', { d: `${d} L${x(values[values.length - 1]!.at).toFixed(1)},${H - P} L${x(t0).toFixed(1)},${H - P} Z`, class: 'area' }));
    el.append(svg('path', { d, class: 'line' }));
    if (values.length === 1) el.append(svg('circle', { cx: x(values[0]!.at), cy: y(values[0]!.v), r: 3, class: 'dot' }));
    box.append(el, h('div', { class: 'axis' }, h('span', {}, format(lo)), h('span', {}, `${fmtTime(t0)} – ${fmtTime(t1)}`), h('span', {}, format(hi))));
  } else {
    box.append(h('p', { class: 'sub' }, points.length === 0 ? 'No telemetry in this range.'
      : resolution === 'raw' ? 'This rig does not report it.' : 'Rollups keep hashrate and temperature only: pick 6 h or less for fans and power.'));
  }
  return box;
}

// ---------- confirm dialog ----------
function confirmAction(text: string): Promise<string | undefined> {
  const dialog = $<HTMLDialogElement>('confirm');
  $('confirm-text').textContent = text;
  const reason = $<HTMLInputElement>('confirm-reason');
  reason.value = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok' ? reason.value.trim() : undefined), { once: true });
    dialog.returnValue = '';
    dialog.showModal();
    reason.focus();
  });
}

async function runAction(rigId: string, body: Record<string, unknown>, what: string): Promise<void> {
  const reason = await confirmAction(`${what} on rig ${rigId}?`);
  if (reason === undefined) return;
  try {
    const { command } = await api<{ command: Command }>(`/api/rigs/${encodeURIComponent(rigId)}/actions`, { method: 'POST', body: JSON.stringify({ ...body, reason }) });
    toast(`${what}: command ${command.commandId.slice(0, 8)} ${command.state.toLowerCase()}`, 'info');
  } catch (err) {
    toast(`${what} refused: ${(err as Error).message}`, 'error');
  }
}

/** Release a quarantine: not a command, an operator.release event; the reason (what was fixed) is required. */
async function releaseQuarantine(rigId: string): Promise<void> {
  const reason = await confirmAction(`Release the quarantine of rig ${rigId}? The policies act on it again and the watchdog ladder starts over from restart-miner. Say what you fixed.`);
  if (reason === undefined) return;
  try {
    await api<{ event: DashEvent }>(`/api/rigs/${encodeURIComponent(rigId)}/actions`, { method: 'POST', body: JSON.stringify({ action: 'release', reason }) });
    toast(`Rig ${rigId} released from quarantine`, 'info');
  } catch (err) {
    toast(`Release refused: ${(err as Error).message}`, 'error');
  }
}

// ---------- rig view ----------
function commandRow(c: Command): HTMLElement {
  const stateCls = c.state === 'SUCCEEDED' ? 'ok' : ['FAILED', 'REJECTED', 'TIMED_OUT'].includes(c.state) ? 'bad' : 'pending';
  return h('li', { class: 'command', 'data-testid': 'command', 'data-command': c.commandId, 'data-state': c.state },
    h('span', { class: `badge ${stateCls}` }, c.state.toLowerCase().replace('_', ' ')), ' ', h('strong', {}, c.type), ' ',
    h('span', { class: 'sub' }, `${fmtTime(c.createdAt)} by ${c.requestedBy}`), h('br'),
    h('span', { class: 'reason' }, c.reason || '(no reason given)'), c.cause ? h('span', { class: 'cause' }, ` — ${c.cause}`) : null);
}

function eventRow(e: DashEvent): HTMLElement {
  return h('li', { class: `event ${e.severity}`, 'data-testid': 'event', 'data-kind': e.kind },
    h('span', { class: `badge ${e.severity}` }, e.severity), ' ', h('code', {}, e.kind), ' ', h('strong', {}, e.reason), ' ',
    h('span', { class: 'sub' }, `${fmtTime(e.at)} · ${e.source}`), h('br'), h('span', {}, e.message));
}

function renderRig(rigId: string): () => void {
  const main = $('main');
  main.replaceChildren(h('p', { class: 'sub' }, `Loading ${rigId}…`));
  let range = '1h';
  let detail: RigDetail | undefined;
  const charts = h('section', { class: 'charts', 'aria-label': 'Charts' });
  const eventsList = h('ul', { class: 'events', id: 'rig-events' });
  const commandsList = h('ul', { class: 'commands', id: 'rig-commands' });
  const body = h('div', { class: 'rig-body' });

  const loadCharts = async (): Promise<void> => {
    try {
      const { points, resolution } = await api<{ points: SeriesPoint[]; resolution: string }>(`/api/rigs/${encodeURIComponent(rigId)}/telemetry?range=${range}`);
      charts.replaceChildren(
        chart(`Hashrate (${resolution})`, points, (p) => p.hashrateHs, fmtHash, 'chart-hashrate', resolution),
        chart('Hottest temperature', points, (p) => p.tempMaxC, (v) => `${v.toFixed(1)} °C`, 'chart-temp', resolution),
        chart('Slowest fan', points, (p) => p.fanMinRpm, (v) => `${Math.round(v)} rpm`, 'chart-fan', resolution),
        chart('Power', points, (p) => p.powerW, (v) => `${Math.round(v)} W`, 'chart-power', resolution));
    } catch (err) {
      charts.replaceChildren(h('p', { class: 'error' }, `Cannot load charts: ${(err as Error).message}`));
    }
  };
  const loadLists = async (): Promise<void> => {
    const [ev, cmd] = await Promise.all([
      api<{ events: DashEvent[] }>(`/api/rigs/${encodeURIComponent(rigId)}/events?limit=30`).catch(() => ({ events: [] })),
      api<{ commands: Command[] }>(`/api/rigs/${encodeURIComponent(rigId)}/commands?limit=30`).catch(() => ({ commands: [] })),
    ]);
    eventsList.replaceChildren(...(ev.events.length ? ev.events.map(eventRow) : [h('li', { class: 'sub' }, 'No events yet.')]));
    commandsList.replaceChildren(...(cmd.commands.length ? cmd.commands.map(commandRow) : [h('li', { class: 'sub' }, 'No commands yet.')]));
  };
  const drawBody = (): void => {
    if (!detail) return;
    const s = detail.summary;
    const miners = detail.rig.miners ?? [];
    const actions = h('div', { class: 'actions' });
    if (canOperate) {
      if (s.status === 'quarantined') {
        actions.append(h('button', { id: 'action-release', class: 'warn', onclick: () => void releaseQuarantine(rigId) }, 'Release quarantine'));
      }
      const first = miners[0];
      if (minerCan(first, 'restart')) {
        actions.append(h('button', { id: 'action-restart', onclick: () => void runAction(rigId, { action: 'restart' }, 'Restart the miner') }, 'Restart miner'));
      }
      if (first && minerCan(first, 'fault-light') && (first.capabilities ?? []).length > 0) {
        actions.append(
          h('button', { id: 'action-light-on', class: 'secondary', onclick: () => void runAction(rigId, { action: 'fault-light', minerId: first.minerId, on: true }, 'Blink the locate light') }, 'Locate light on'),
          h('button', { id: 'action-light-off', class: 'secondary', onclick: () => void runAction(rigId, { action: 'fault-light', minerId: first.minerId, on: false }, 'Turn the locate light off') }, 'Light off'));
      }
      if (first && minerCan(first, 'power-mode') && (first.capabilities ?? []).length > 0) {
        const mode = h('select', { id: 'power-mode-select', 'aria-label': 'Power mode' }, ...['normal', 'low', 'sleep'].map((p) => h('option', { value: p }, p)));
        actions.append(mode, h('button', { id: 'action-power-mode', class: 'secondary', onclick: () => void runAction(rigId, { action: 'power-mode', minerId: first.minerId, mode: mode.value }, `Set power mode ${mode.value}`) }, 'Set power mode'));
      }
      if (detail.profiles.length) {
        const sel = h('select', { id: 'profile-select', 'aria-label': 'Profile' }, ...detail.profiles.map((p) => h('option', { value: p }, p)));
        actions.append(sel, h('button', { class: 'secondary', onclick: () => void runAction(rigId, { action: 'apply-profile', profile: sel.value }, `Apply profile ${sel.value}`) }, 'Apply profile'));
      }
    } else {
      actions.append(h('span', { class: 'sub' }, 'Read-only key: sign in with an operate key to send commands.'));
    }
    body.replaceChildren(
      h('section', { class: 'rig-head card' },
        h('div', {}, h('h1', {}, rigId), h('span', { class: `badge ${s.status}`, 'data-testid': 'rig-status' }, s.status), ' ',
          h('span', { class: 'sub' }, [s.model, s.program, s.group && `group ${s.group}`, `seen ${fmtAgo(s.lastSeen)}`].filter(Boolean).join(' · ')),
          s.livenessMessage ? h('p', { class: 'sub', 'data-testid': 'rig-liveness' }, `${s.liveness ?? s.status}: ${s.livenessMessage}`) : null,
          (detail.rig.fieldWarningCounts ?? []).length ? h('p', { class: 'sub', 'data-testid': 'refused-counts' },
            `Refused by the agent since it started: ${(detail.rig.fieldWarningCounts ?? []).map((w) => `${w.field} (${w.reason}) ×${w.count}`).join(', ')}`) : null),
        h('dl', { class: 'kv' },
          h('dt', {}, 'Hashrate'), h('dd', {}, fmtHash(s.hashrateHs), s.hashrateWindow ? h('span', { class: 'sub' }, ` (${s.hashrateWindow})`) : null), h('dt', {}, 'Hottest'), h('dd', {}, fmtNum(s.maxTempC, '°C', 1)),
          h('dt', {}, 'Power'), h('dd', {}, fmtNum(s.powerW, 'W')), h('dt', {}, 'Slowest fan'), h('dd', {}, fmtNum(s.fanMinRpm, 'rpm'))),
        actions),
      ...miners.map((m) => h('section', { class: 'card miner' },
        h('h2', {}, `Miner ${m.minerId}`, h('span', { class: 'sub', 'data-testid': 'miner-program' }, ` ${[m.software ? [m.software, m.softwareVersion].filter(Boolean).join(' ') : '', m.software ? '' : m.vendor, m.model, m.software ? '' : m.firmware, m.algorithm].filter(Boolean).join(' · ')}`)),
        (m.hashrateWindows ?? []).length ? h('p', { class: 'sub', 'data-testid': 'hashrate-windows' }, `Hashrate: ${(m.hashrateWindows ?? []).map((w) => `${fmtHash(w.hashrateHs ?? null)} (${w.label ?? '?'})`).join(', ')}`) : null,
        (m.errors ?? []).length ? h('p', { class: 'error' }, (m.errors ?? []).map((e) => `${e.kind}: ${e.message}`).join('; ')) : null,
        (m.fieldWarnings ?? []).length ? h('p', { class: 'error', 'data-testid': 'field-warnings' }, `Refused values: ${(m.fieldWarnings ?? []).map((w) => `${w.field} = ${JSON.stringify(w.value ?? '')} (${w.reason})`).join('; ')}`) : null,
        h('h3', {}, 'Pools'),
        h('table', { class: 'pools', 'data-testid': 'pools' }, h('thead', {}, h('tr', {}, ...['#', 'URL', 'User', 'Status', 'Accepted', ''].map((t) => h('th', { class: t === 'Accepted' ? 'num' : t === 'User' ? 'opt' : '' }, t)))),
          h('tbody', {}, ...(m.pools ?? []).map((p) => h('tr', { class: p.active ? 'active' : '', 'data-testid': p.active ? 'pool-active' : 'pool' },
            h('td', {}, p.index ?? 0), h('td', { class: 'url' }, p.url ?? ''), h('td', { class: 'opt' }, p.user ?? ''),
            h('td', { title: p.stratumActive === undefined ? '' : `Stratum ${p.stratumActive ? 'up' : 'down'}${p.activeEvidence ? `; in use by ${p.activeEvidence}` : ''}` },
              p.active ? h('span', { class: 'badge online' }, 'active') : (p.status ?? '').replace('POOL_STATUS_', '').toLowerCase()),
            h('td', { class: 'num' }, p.accepted ?? '–'),
            h('td', {}, canOperate && !p.active && minerCan(m, 'switch-pool') ? h('button', { class: 'small secondary', onclick: () => void runAction(rigId, { action: 'switch-pool', minerId: m.minerId, poolIndex: p.index ?? 0 }, `Switch to pool ${p.index ?? 0} (${p.url})`) }, 'Switch') : ''))))),
        h('h3', {}, (m.boards ?? []).some((b) => b.pciBusId || b.name) ? 'GPUs' : 'Boards'),
        h('table', { class: 'boards', 'data-testid': 'boards' }, h('thead', {}, h('tr', {}, ...['#', 'Name', 'Hashrate', 'Board', 'Chip', 'Chips', 'Fan', 'Power', 'Status'].map((t, i) => h('th', { class: `${i >= 2 && i <= 7 ? 'num' : ''} ${i >= 5 && i <= 7 ? 'opt' : ''}` }, t)))),
          h('tbody', {}, ...(m.boards ?? []).map((b) => h('tr', {},
            h('td', {}, b.index ?? 0), h('td', {}, b.name || b.pciBusId || '–'), h('td', { class: 'num' }, fmtHash(b.hashrateHs)),
            h('td', { class: `num ${(b.boardTempC ?? 0) >= 85 ? 'hot' : ''}` }, fmtNum(b.boardTempC, '°C', 1)), h('td', { class: `num ${(b.chipTempC ?? 0) >= 95 ? 'hot' : ''}` }, fmtNum(b.chipTempC, '°C', 1)),
            h('td', { class: 'num opt' }, b.chips ?? '–'), h('td', { class: 'num opt' }, fmtNum(b.fanPercent, '%')), h('td', { class: 'num opt' }, fmtNum(b.powerW, 'W')),
            h('td', b.phantomReason ? { 'data-testid': 'phantom', title: b.phantomReason } : {}, b.phantomReason ? `phantom (ignored): ${b.phantomReason}` : (b.status ?? '').replace('BOARD_STATUS_', '').toLowerCase() || '–'))))),
        (m.fans ?? []).length ? h('p', { class: 'sub fans' }, `Fans: ${(m.fans ?? []).map((f) => (f.rpm !== undefined ? `${f.rpm} rpm` : `${f.percent ?? '?'} %`)).join(', ')}`) : null)),
    );
  };
  const load = async (): Promise<void> => {
    try {
      detail = await api<RigDetail>(`/api/rigs/${encodeURIComponent(rigId)}`);
      drawBody();
    } catch (err) {
      body.replaceChildren(h('p', { class: 'error' }, (err as Error).message));
    }
  };
  const ranges = h('div', { class: 'ranges', role: 'group', 'aria-label': 'Chart range' }, ...['15m', '1h', '6h', '24h', '7d'].map((r) => h('button', {
    class: `small ${r === range ? '' : 'secondary'}`, 'data-range': r,
    onclick: (e: Event) => {
      range = r;
      for (const b of ranges.querySelectorAll('button')) b.classList.toggle('secondary', b !== e.currentTarget);
      void loadCharts();
    },
  }, r)));
  main.replaceChildren(h('p', {}, h('a', { href: '#/' }, '← Fleet')), body, h('div', { class: 'chart-head' }, h('h2', {}, 'Telemetry'), ranges), charts,
    h('div', { class: 'two' }, h('section', { class: 'card' }, h('h2', {}, 'Recent events'), eventsList), h('section', { class: 'card' }, h('h2', {}, 'Commands'), commandsList)));
  void load();
  void loadCharts();
  void loadLists();
  let chartTimer: number | undefined;
  const handler: StreamHandler = {
    rigs: (c) => {
      const s = c.rigs.find((r) => r.rigId === rigId);
      if (s || c.reload) {
        void load();
        chartTimer ??= window.setTimeout(() => { chartTimer = undefined; void loadCharts(); }, 5000);
      }
    },
    event: (e) => {
      if (e.rigId !== rigId) return;
      eventsList.querySelector('li.sub')?.remove();
      eventsList.prepend(eventRow(e));
    },
    command: (c) => {
      if (c.rigId !== rigId) return;
      commandsList.querySelector('li.sub')?.remove();
      const existing = commandsList.querySelector(`[data-command="${CSS.escape(c.commandId)}"]`);
      if (existing) existing.replaceWith(commandRow(c));
      else commandsList.prepend(commandRow(c));
      if (c.finishedAt) toast(`${c.type} on ${c.rigId}: ${c.state.toLowerCase()}${c.cause ? ` (${c.cause})` : ''}`, c.state === 'SUCCEEDED' ? 'ok' : 'error');
    },
  };
  streamHandlers.add(handler);
  return () => { streamHandlers.delete(handler); window.clearTimeout(chartTimer); };
}

// ---------- event log ----------
function renderEventLog(): () => void {
  const list = h('ul', { class: 'events', id: 'event-log' });
  const sev = h('select', { id: 'event-severity', 'aria-label': 'Severity' }, h('option', { value: '' }, 'All severities'), h('option', { value: 'warning,critical' }, 'Warnings and critical'), h('option', { value: 'critical' }, 'Critical'));
  const kind = h('input', { id: 'event-kind', type: 'search', placeholder: 'Kind prefix (policy., safety.)', 'aria-label': 'Kind' });
  const rig = h('input', { id: 'event-rig', type: 'search', placeholder: 'Rig id', 'aria-label': 'Rig' });
  const matches = (e: DashEvent): boolean => (!sev.value || sev.value.split(',').includes(e.severity)) && e.kind.startsWith(kind.value.trim()) && (!rig.value.trim() || e.rigId === rig.value.trim());
  const row = (e: DashEvent): HTMLElement => {
    const li = eventRow(e);
    li.prepend(h('a', { href: `#/rigs/${encodeURIComponent(e.rigId)}` }, e.rigId), ' ');
    return li;
  };
  const load = async (): Promise<void> => {
    const p = new URLSearchParams({ limit: '300' });
    if (sev.value) p.set('severity', sev.value);
    if (kind.value.trim()) p.set('kind', kind.value.trim());
    if (rig.value.trim()) p.set('rig', rig.value.trim());
    try {
      const { events } = await api<{ events: DashEvent[] }>(`/api/events?${p}`);
      list.replaceChildren(...(events.length ? events.map(row) : [h('li', { class: 'sub' }, 'No events match.')]));
    } catch (err) {
      list.replaceChildren(h('li', { class: 'error' }, (err as Error).message));
    }
  };
  let typing: number | undefined;
  for (const el of [sev, kind, rig]) el.addEventListener(el === sev ? 'change' : 'input', () => { window.clearTimeout(typing); typing = window.setTimeout(() => void load(), 250); });
  $('main').replaceChildren(h('h1', {}, 'Event log'), h('section', { class: 'filters' }, sev, kind, rig), h('section', { class: 'card' }, list));
  void load();
  const handler: StreamHandler = {
    event: (e) => {
      if (!matches(e)) return;
      list.querySelector('li.sub')?.remove();
      list.prepend(row(e));
      while (list.children.length > 500) list.lastElementChild?.remove();
    },
  };
  streamHandlers.add(handler);
  return () => streamHandlers.delete(handler);
}

// ---------- boot ----------
window.addEventListener('hashchange', () => { if (apiKey) route(); });
$('sign-out').addEventListener('click', () => signOut());
if (apiKey) {
  void api<{ canOperate: boolean }>('/api/session').then((s) => { canOperate = s.canOperate; start(); }).catch((err: Error) => renderSignIn(err.message));
} else {
  renderSignIn();
}
