// Delivery accounting of one sync (/syncs/{id}/accounting) and the functions' counters (on the Functions page).
// Every received event has one fate: received (+ replayed + backfilled) = delivered + dropped by the function + filtered +
// blocked by the contract + discarded + dead-lettered + pending (+ in transit). Uses app.js's helpers.
'use strict';

const ACCOUNTING_TERMS = [
  ['delivered', 'Delivered', 'ok'],
  ['functionDropped', 'Dropped by the function', 'muted'],
  ['filtered', 'Filtered out by the sync', 'muted'],
  ['blocked', 'Blocked by the contract', 'warn'],
  ['discarded', 'Discarded', 'muted'],
  ['deadLettered', 'Dead-lettered', 'bad'],
  ['pending', 'Pending now (queue and retry queue)', 'muted'],
  ['inTransit', 'In transit (across the range\'s edges, or not yet added by a worker)', 'muted'],
];

function ms(v) {
  if (v === null || v === undefined) return '–';
  if (typeof v !== 'number') return String(v);
  return v >= 60000 ? (v / 60000).toLocaleString(undefined, { maximumFractionDigits: 1 }) + ' min'
    : v >= 1000 ? (v / 1000).toLocaleString(undefined, { maximumFractionDigits: 1 }) + ' s' : v + ' ms';
}

// A line chart with axes: time along x (labels at both ends and the middle), events per step along y (0 and max),
// each point's values in its hover title.
function trendChart(points, series, stepSeconds) {
  const ns = 'http://www.w3.org/2000/svg';
  const W = 640, H = 180, L = 48, B = 24, T = 8, R = 8;
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'trend');
  svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
  svg.setAttribute('role', 'img');
  const el = (tag, attrs, text) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    svg.append(e);
    return e;
  };
  if (!points.length) { el('text', { x: L, y: H / 2 }, 'No events in this range'); return svg; }
  const t0 = Date.parse(points[0].at), t1 = Date.parse(points[points.length - 1].at) + stepSeconds * 1000;
  const max = Math.max(1, ...points.flatMap(p => series.map(s => p[s.key])));
  const x = t => L + ((t - t0) / Math.max(1, t1 - t0)) * (W - L - R);
  const y = v => H - B - (v / max) * (H - B - T);
  el('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, class: 'axis' });
  el('line', { x1: L, y1: T, x2: L, y2: H - B, class: 'axis' });
  el('text', { x: L - 4, y: T + 8, 'text-anchor': 'end', class: 'tick' }, fmt(max, 0));
  el('text', { x: L - 4, y: H - B, 'text-anchor': 'end', class: 'tick' }, '0');
  el('text', { x: 2, y: T + 20, class: 'tick' }, 'events');
  for (const t of [t0, (t0 + t1) / 2, t1]) {
    const d = new Date(t);
    el('text', { x: x(t), y: H - 6, 'text-anchor': 'middle', class: 'tick' },
      stepSeconds >= 3600 ? d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' }) + ' ' + d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
        : d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' }));
  }
  for (const s of series) {
    const d = points.map((p, i) => (i ? 'L' : 'M') + x(Date.parse(p.at)).toFixed(1) + ' ' + y(p[s.key]).toFixed(1)).join(' ');
    el('path', { d, class: 'series ' + s.cls });
    for (const p of points) {
      const c = el('circle', { cx: x(Date.parse(p.at)).toFixed(1), cy: y(p[s.key]).toFixed(1), r: 3, class: 'series ' + s.cls });
      const title = document.createElementNS(ns, 'title');
      title.textContent = new Date(p.at).toLocaleString() + ' (' + Math.round(stepSeconds / 60) + ' min): '
        + series.map(z => z.label + ' ' + fmt(p[z.key], 0)).join(', ');
      c.append(title);
    }
  }
  return svg;
}

async function accountingView(id) {
  const params = new URLSearchParams(location.search);
  let range = params.get('range') || '1h';
  const state = {};
  const picker = h('div', { class: 'filters', id: 'acct-range' }, ['1h', '24h', '7d'].map(r => h('button', {
    class: r === range ? null : 'secondary', 'data-range': r,
    onclick: () => { range = r; history.replaceState(null, '', '?range=' + r); state.last = null; render(); },
  }, 'Last ' + r)));
  async function render() {
    const a = await api('/syncs/' + encodeURIComponent(id) + '/accounting?range=' + encodeURIComponent(range));
    if (!changed(state, a)) return;
    picker.querySelectorAll('button').forEach(b => b.className = b.dataset.range === range ? '' : 'secondary');
    if (!a.database) { show(h('h1', {}, 'Delivery accounting'), h('p', { class: 'muted' }, 'This process has no queue database: open the console of a planner or worker.')); return; }
    const f = a.failures || {};
    const lat = a.latency || {};
    const row = (key, label, cls) => h('tr', { 'data-term': key }, h('td', {}, label), h('td', { class: 'num ' + (a[key] ? cls : 'muted'), id: 'acct-' + key }, fmt(a[key], 0)));
    show(h('h1', {}, 'Delivery accounting ', h('span', {}, a.sync)),
      h('p', { class: 'muted' }, h('a', { href: '/syncs/' + encodeURIComponent(a.sync) }, 'Sync ' + a.sync), ' · source ', a.source,
        ' · ' + new Date(a.from).toLocaleString() + ' – ' + new Date(a.to).toLocaleString() + ' · from the queue database: every process, kept across restarts'),
      picker,
      h('div', { class: 'grid' },
        card('Received', h('span', { id: 'acct-received' }, fmt(a.received, 0)), h('div', { class: 'muted' }, [a.replayed ? '+ ' + fmt(a.replayed, 0) + ' replayed from dead letters' : 'events of the source', a.backfilled ? ' · + ' + fmt(a.backfilled, 0) + ' backfilled' : ''])),
        card('Failure rate', h('span', { id: 'acct-failure-rate', class: f.rate > 0.5 ? 'bad' : f.rate > 0 ? 'warn' : 'ok' }, (100 * (f.rate || 0)).toLocaleString(undefined, { maximumFractionDigits: 2 }) + ' %'),
          h('div', { class: 'muted', id: 'acct-failures' }, fmt(f.total, 0) + ' failed: ' + fmt(f.http4xx, 0) + ' 4xx · ' + fmt(f.http5xx, 0) + ' 5xx · ' + fmt(f.network, 0) + ' network')),
        card('Latency p95 / p99', h('span', { id: 'acct-latency' }, lat.measured ? '≤ ' + ms(lat.p95AtMostMs) + ' / ≤ ' + ms(lat.p99AtMostMs) : '–'), h('div', { class: 'muted' }, 'received → delivered'))),
      h('h2', {}, 'Where the received events went'),
      h('div', { class: 'scroll' }, h('table', { id: 'acct-table' },
        h('tr', {}, h('th', {}, 'Fate'), h('th', {}, 'Events')),
        row('received', 'Received' + (a.replayed ? ' (+ ' + fmt(a.replayed, 0) + ' replayed)' : '') + (a.backfilled ? ' (+ ' + fmt(a.backfilled, 0) + ' backfilled)' : ''), ''),
        ACCOUNTING_TERMS.map(([k, label, cls]) => row(k, '= ' + label, cls)))),
      h('h2', {}, 'Trend'),
      trendChart(a.trend || [], [
        { key: 'received', label: 'received', cls: 's-received' },
        { key: 'delivered', label: 'delivered', cls: 's-delivered' },
        { key: 'failed', label: 'failed', cls: 's-failed' },
        { key: 'deadLettered', label: 'dead-lettered', cls: 's-dead' },
      ], a.stepSeconds),
      h('p', { class: 'muted legend' }, h('span', { class: 's-received' }, '■ received'), ' ', h('span', { class: 's-delivered' }, '■ delivered'), ' ',
        h('span', { class: 's-failed' }, '■ failed attempts'), ' ', h('span', { class: 's-dead' }, '■ dead-lettered'), ' · events per ' + Math.round(a.stepSeconds / 60) + ' min'));
  }
  every(3000, render);
}

// The Functions page's per-sync counters (this process's, since it started).
async function functionStats(el) {
  if (!el) return;
  const f = await api('/functions/stats');
  const list = f.functions || [];
  el.replaceChildren(list.length ? h('div', { class: 'scroll' }, h('table', { id: 'fn-stats-table' },
    h('tr', {}, ['Sync', 'Invocations', 'Errors', 'Drops', 'Timeouts', 'Reloads', 'Rejected reloads', 'Mean time'].map(t => h('th', {}, t))),
    list.map(s => h('tr', { 'data-sync': s.sync },
      h('td', {}, s.sync), h('td', {}, fmt(s.invocations, 0)), h('td', { class: s.errors ? 'bad' : null }, fmt(s.errors, 0)),
      h('td', {}, fmt(s.drops, 0)), h('td', { class: s.timeouts ? 'bad' : null }, fmt(s.timeouts, 0)), h('td', {}, fmt(s.reloads, 0)),
      h('td', { class: s.rejectedReloads ? 'warn' : null }, fmt(s.rejectedReloads, 0)), h('td', {}, ms(s.meanMs))))))
    : h('p', { class: 'muted' }, 'No sync has a function.'),
  h('p', { class: 'muted' }, 'Counted by this process since it started; dropped events of every process are in each sync\'s delivery accounting.'));
}
