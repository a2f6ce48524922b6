// The Sluice operator console: plain JavaScript, no build, no external resources. Every page is rendered from
// /console/api JSON; actions go to the /admin API with the session's CSRF token. Text from the server is only ever
// inserted as text (never as HTML).
'use strict';

const view = document.getElementById('view');
let session = { tokenConfigured: false, authenticated: false, payloads: false };
let timers = [];

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}

async function api(path) {
  const r = await fetch('/console/api' + path, { credentials: 'same-origin' });
  if (!r.ok) throw new Error(path + ': HTTP ' + r.status);
  return r.json();
}

async function act(path, body) {
  const r = await fetch(path, {
    method: 'POST', credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': session.csrf || '' },
    body: body === undefined ? '' : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch (e) { /* not JSON */ }
  if (!r.ok) throw new Error((json && json.error) || ('HTTP ' + r.status));
  return json;
}

function toast(message) {
  const t = document.getElementById('toast');
  t.textContent = message;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 4000);
}

// Every poll of a page goes through here: a failed poll marks what is shown as stale ("disconnected since …"),
// so figures from a server that died are never shown as current; the next good poll clears it.
const connection = { lostAt: null };
function every(ms, fn) {
  const run = async () => {
    try { await fn(); connected(); } catch (e) { disconnected(e); }
  };
  run();
  timers.push(setInterval(run, ms));
}

function connected() {
  if (connection.lostAt === null) return;
  connection.lostAt = null;
  document.body.classList.remove('stale');
  document.getElementById('conn').hidden = true;
}

function disconnected(e) {
  if (connection.lostAt === null) connection.lostAt = new Date();
  document.body.classList.add('stale');
  const banner = document.getElementById('conn');
  banner.hidden = false;
  banner.textContent = 'Disconnected since ' + connection.lostAt.toLocaleTimeString() + ' (' + e.message
    + '): the figures below are from then, not current. Retrying…';
}

function canAct() { return session.authenticated; }

function actionButton(label, attrs, onclick) {
  const b = h('button', Object.assign({}, attrs, {
    disabled: !canAct(),
    title: canAct() ? null : (session.tokenConfigured ? 'Log in to act' : 'Read-only: set admin.token to enable actions'),
  }), label);
  b.addEventListener('click', async () => {
    b.disabled = true;
    try { await onclick(); } catch (e) { toast('Failed: ' + e.message); } finally { b.disabled = !canAct(); }
  });
  return b;
}

function fmt(n, digits) {
  if (n === undefined || n === null) return '–';
  if (typeof n !== 'number') return String(n);
  return n.toLocaleString(undefined, { maximumFractionDigits: digits === undefined ? 1 : digits });
}

function agoText(iso) {
  if (!iso) return '–';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return s + ' s ago';
  if (s < 3600) return Math.round(s / 60) + ' min ago';
  return new Date(iso).toLocaleString();
}

// A relative time that stays true: every such label is refreshed each second, also while a page is paused.
function ago(iso) {
  return h('span', { class: 'ago', 'data-at': iso || null, title: iso || null }, agoText(iso));
}
setInterval(() => document.querySelectorAll('.ago[data-at]').forEach(el => { el.textContent = agoText(el.dataset.at); }), 1000);

// Milliseconds as a person reads them: 850 ms, 4.2 s, 1 min 32 s (not "91,626 ms").
function duration(ms) {
  if (ms === undefined || ms === null) return '–';
  if (ms < 1000) return fmt(ms, 0) + ' ms';
  if (ms < 60000) return fmt(ms / 1000, 1) + ' s';
  const m = Math.floor(ms / 60000);
  return m + ' min ' + Math.round((ms % 60000) / 1000) + ' s';
}

function seconds(s) {
  if (!s) return '0 s';
  if (s < 120) return s + ' s';
  if (s < 7200) return Math.round(s / 60) + ' min';
  return Math.round(s / 3600) + ' h';
}

// An SVG line chart of [[epochMillis, value], ...] over the last hour: a y axis (0 and the maximum, with the
// unit), an x axis (-60 min … now) and the value under the pointer (also keyboard-free: the title lists the last one).
function chart(points, title, unit) {
  const ns = 'http://www.w3.org/2000/svg';
  const W = 300, H = 90, L = 34, B = 14, T = 6;
  const el = (tag, attrs, text) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const svg = el('svg', { class: 'chart', viewBox: '0 0 ' + W + ' ' + H, role: 'img' });
  svg.append(el('title', {}, title));
  const end = Date.now(), start = end - 3600 * 1000;
  const max = Math.max(...(points || []).map(p => p[1]), 0);
  const top = max > 0 ? niceMax(max) : 1;
  const x = t => L + ((t - start) / (end - start)) * (W - L - 2);
  const y = v => T + (1 - v / top) * (H - T - B);
  svg.append(el('line', { class: 'axis', x1: L, y1: T, x2: L, y2: H - B }), el('line', { class: 'axis', x1: L, y1: H - B, x2: W - 2, y2: H - B }));
  svg.append(el('text', { class: 'tick', x: L - 3, y: T + 6, 'text-anchor': 'end' }, short(top)));
  if (unit) svg.append(el('text', { class: 'tick unit', x: L + 3, y: T + 6 }, unit));
  svg.append(el('text', { class: 'tick', x: L - 3, y: H - B, 'text-anchor': 'end' }, '0'));
  svg.append(el('text', { class: 'tick', x: L, y: H - 2 }, '-60 min'), el('text', { class: 'tick', x: (L + W) / 2, y: H - 2, 'text-anchor': 'middle' }, '-30 min'),
    el('text', { class: 'tick', x: W - 2, y: H - 2, 'text-anchor': 'end' }, 'now'));
  if (points && points.length > 1) {
    svg.append(el('path', { class: 'line', d: points.map((p, i) => (i ? 'L' : 'M') + x(p[0]).toFixed(1) + ' ' + y(p[1]).toFixed(1)).join(' ') }));
    const cursor = el('line', { class: 'cursor', x1: 0, y1: T, x2: 0, y2: H - B, visibility: 'hidden' });
    const label = el('text', { class: 'hover', x: 0, y: T + 8, visibility: 'hidden' });
    svg.append(cursor, label);
    svg.addEventListener('mousemove', ev => {
      const box = svg.getBoundingClientRect();
      const t = start + ((ev.clientX - box.left) / box.width * W - L) / (W - L - 2) * (end - start);
      let best = points[0];
      for (const p of points) if (Math.abs(p[0] - t) < Math.abs(best[0] - t)) best = p;
      const px = x(best[0]);
      cursor.setAttribute('x1', px); cursor.setAttribute('x2', px); cursor.setAttribute('visibility', 'visible');
      label.textContent = fmt(best[1]) + (unit ? ' ' + unit : '') + ' at ' + new Date(best[0]).toLocaleTimeString();
      label.setAttribute('x', px > W / 2 ? px - 4 : px + 4);
      label.setAttribute('text-anchor', px > W / 2 ? 'end' : 'start');
      label.setAttribute('visibility', 'visible');
      svg.dataset.hover = label.textContent;
    });
    svg.addEventListener('mouseleave', () => { cursor.setAttribute('visibility', 'hidden'); label.setAttribute('visibility', 'hidden'); });
  } else {
    svg.append(el('text', { class: 'tick', x: (L + W) / 2, y: H / 2, 'text-anchor': 'middle' }, 'no data yet'));
  }
  return svg;
}

function niceMax(v) {
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

function short(v) {
  return v >= 1e6 ? (v / 1e6) + 'M' : v >= 1e3 ? (v / 1e3) + 'k' : String(v);
}

function spark(points, title, unit) { return chart(points, title, unit); }

function card(label, value, extra, attrs) {
  return h('div', Object.assign({ class: 'card' }, attrs || {}), h('div', { class: 'label' }, label), h('div', { class: 'stat' }, value), extra || null);
}

function chartCard(label, series, unit) {
  const last = series && series.length ? series[series.length - 1][1] : 0;
  const value = unit === 'ms' ? duration(last) : fmt(last) + (unit ? ' ' + unit : '');
  return card(label, value, chart(series, label + ' (last hour)', unit));
}

// Replaces the page's content; null children (optional parts) are left out.
function show(...nodes) {
  view.replaceChildren(...nodes.flat().filter(n => n !== null && n !== undefined && n !== false));
}

// ---- session ------------------------------------------------------------------------------------------------

async function loadSession() {
  session = await api('/session');
  const box = document.getElementById('session');
  box.replaceChildren();
  if (session.authenticated) {
    box.append(h('span', { id: 'who' }, 'operator'), h('button', { class: 'secondary', id: 'logout', onclick: async () => {
      await fetch('/console/logout', { method: 'POST', credentials: 'same-origin' });
      location.href = '/';
    } }, 'Log out'));
  } else if (session.tokenConfigured) {
    box.append(h('a', { href: '/login', id: 'login-link' }, 'Log in'));
  } else {
    box.append(h('span', { title: 'admin.token is not set' }, 'read-only' + (session.payloads ? ' (local: payloads visible)' : '')));
  }
}

function loginView() {
  const failed = new URLSearchParams(location.search).has('failed');
  show(h('h1', {}, 'Log in'),
    session.tokenConfigured ? h('form', { class: 'login', method: 'post', action: '/console/login' },
      h('label', { for: 'token' }, 'Admin token (admin.token)'),
      h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'current-password', required: true }),
      failed ? h('p', { class: 'bad', id: 'login-failed' }, 'That is not the admin token.') : null,
      h('button', { id: 'login-button', type: 'submit' }, 'Log in'))
      : h('p', {}, 'No admin.token is configured: the console is read-only and needs no login.'));
}

// ---- overview -----------------------------------------------------------------------------------------------

// Key columns (sync, state) stay visible on a phone: the first is sticky, the optional ones ('opt') are left out.
function syncTable(syncs) {
  return h('div', { class: 'scroll' }, h('table', { class: 'keyed' },
    h('tr', {}, h('th', {}, 'Sync'), h('th', {}, 'State'), h('th', { class: 'opt' }, 'Route'), h('th', {}, 'Failed (1 min)'),
      h('th', { class: 'opt' }, 'Delivered'), h('th', {}, 'Delivered/s'), h('th', {}, 'Backlog / age'), h('th', {}, 'Dead letters')),
    syncs.map(syncRow)));
}

function syncRow(s) {
  return h('tr', { 'data-sync': s.id, 'data-state': s.state },
    h('td', {}, h('a', { href: '/syncs/' + encodeURIComponent(s.id) }, s.id)),
    h('td', {}, stateBadge(s.state)),
    h('td', { class: 'opt' }, s.source + ' → ' + s.destination),
    h('td', { class: s.errorRatePercent >= 50 ? 'bad' : s.errorRatePercent > 0 ? 'warn' : null }, s.errorRatePercent === undefined ? '–' : fmt(s.errorRatePercent) + ' %'),
    h('td', { class: 'opt' }, fmt(s.deliveredTotal, 0)),
    h('td', {}, fmt(s.deliveredPerSec)),
    h('td', { class: s.ageSeconds >= 60 ? 'warn' : null }, s.lagEvents === undefined ? '–' : fmt(s.lagEvents, 0) + ' / ' + seconds(s.ageSeconds)),
    h('td', { class: s.deadLetters ? 'bad' : null }, fmt(s.deadLetters, 0)));
}

function stateBadge(state) {
  const cls = state === 'failing' || state === 'held' ? 'bad' : state === 'paused' || state === 'retrying' ? 'warn'
    : state === 'idle' || state === 'delivering' ? 'ok' : 'muted';
  return h('span', { class: 'pill ' + cls }, state || 'unknown');
}

// The overview leads with what is wrong, worst first; "All clear" only when nothing is.
function problemList(problems) {
  if (!problems.length) return h('div', { id: 'problems', class: 'problems clear', 'data-count': 0 }, h('span', { class: 'ok' }, 'All clear: no problem seen'));
  return h('div', { id: 'problems', class: 'problems', 'data-count': problems.length },
    h('ul', {}, problems.map(p => h('li', { class: 'problem ' + p.severity, 'data-kind': p.kind, 'data-severity': p.severity },
      h('span', { class: 'pill' }, p.severity), ' ', h('a', { href: p.link }, p.text)))));
}

function alarmList(alarms) {
  const active = (alarms || []).filter(a => a.active);
  return active.length ? h('span', { class: 'bad' }, active.map(a => a.alarm).join(', ')) : h('span', { class: 'ok' }, 'none');
}

// Re-renders only when the data changed, so that a click is not lost on an element just replaced.
function changed(state, data) {
  const key = JSON.stringify(data);
  if (state.last === key) return false;
  state.last = key;
  return true;
}

async function overviewView() {
  const state = {};
  every(2000, async () => {
    const o = await api('/overview');
    if (!changed(state, o)) return;
    const hist = o.history || {};
    const sum = suffix => {
      const byTime = new Map();
      for (const [k, pts] of Object.entries(hist)) if (k.startsWith('source.') && k.endsWith(suffix)) for (const p of pts) byTime.set(p[0], (byTime.get(p[0]) || 0) + p[1]);
      return [...byTime.entries()].sort((a, b) => a[0] - b[0]);
    };
    // the queue database could not be read: its figures are unknown (shown as –), never 0
    const queueUnknown = (o.syncs || []).some(s => s.queueReadable === false);
    const backlog = queueUnknown ? null : (o.syncs || []).reduce((a, s) => a + (s.lagEvents || 0), 0);
    const oldest = (o.syncs || []).reduce((a, s) => Math.max(a, s.ageSeconds || 0), 0);
    const dead = queueUnknown ? null : (o.syncs || []).reduce((a, s) => a + (s.deadLetters || 0), 0);
    show(h('h1', {}, 'Overview'),
      problemList(o.problems || []),
      h('div', { class: 'grid' },
        chartCard('Accepted events/s', sum('.accepted'), 'events/s'),
        chartCard('Rejected events/s', sum('.rejected'), 'events/s'),
        chartCard('End-to-end p50', hist['latency.p50'], 'ms'),
        chartCard('End-to-end p99', hist['latency.p99'], 'ms'),
        card('Backlog (events)', h('span', { id: 'overview-backlog' }, fmt(backlog, 0)), h('div', { class: 'muted' }, queueUnknown ? 'queue database unreadable' : 'oldest ' + seconds(oldest))),
        card('Dead letters', fmt(dead, 0), null, { id: 'overview-dead' }),
        card('Alarms', alarmList(o.alarms)),
        card('Kafka', o.kafka.reachable ? h('span', { class: 'ok' }, 'reachable') : h('span', { class: 'bad' }, 'unavailable'), h('div', { class: 'muted' }, o.kafka.detail))),
      h('h2', {}, 'Sources'),
      h('div', { class: 'scroll' }, h('table', {},
        h('tr', {}, h('th', {}, 'Source'), h('th', {}, 'Accepted'), h('th', {}, 'Rejected'), h('th', {}, 'Accepted/s'), h('th', { class: 'opt' }, 'Last hour')),
        (o.sources || []).map(s => h('tr', {},
          h('td', {}, h('a', { href: '/sources/' + encodeURIComponent(s.id), 'data-source': s.id }, s.id)),
          h('td', {}, fmt(s.acceptedTotal, 0)), h('td', {}, fmt(s.rejectedTotal, 0)), h('td', {}, fmt(s.acceptedPerSec)),
          h('td', { class: 'opt' }, spark(hist['source.' + s.id + '.accepted'], s.id + ' accepted events/s', 'events/s')))))),
      h('h2', {}, 'Syncs'),
      syncTable(o.syncs || []),
      h('p', { class: 'muted' }, 'Rates and latency are this process\'s; backlog, dead letters and the debugger cover every process.'));
  });
}

// ---- source and live debugger -------------------------------------------------------------------------------

async function sourceView(id) {
  const s = await api('/sources/' + encodeURIComponent(id));
  const seen = new Set();
  const expanded = new Set();
  const items = [];
  let paused = false;
  const held = [];
  const list = h('div', { id: 'live-list' });
  const status = h('span', { id: 'live-status', class: 'muted' }, 'connecting…');
  const typeFilter = h('select', { id: 'filter-type' }, ['', 'track', 'identify', 'page', 'screen', 'group', 'alias', 'rejection', 'violation']
    .map(t => h('option', { value: t }, t || 'all types')));
  const nameFilter = h('input', { id: 'filter-event', placeholder: 'event name' });
  const userFilter = h('input', { id: 'filter-user', placeholder: 'user id (prefix)' });
  const textFilter = h('input', { id: 'filter-text', type: 'search', placeholder: 'search payloads' });
  const pauseButton = h('button', { class: 'secondary', id: 'live-pause' }, 'Pause');
  pauseButton.addEventListener('click', () => {
    paused = !paused;
    pauseButton.textContent = paused ? 'Resume (' + held.length + ' waiting)' : 'Pause';
    if (!paused) { held.splice(0).forEach(add); render(); }
  });
  [typeFilter, nameFilter, userFilter, textFilter].forEach(f => f.addEventListener('input', render));

  function matches(it) {
    const r = it.record || {};
    const type = it.kind === 'event' ? r.type : it.kind;
    if (typeFilter.value && type !== typeFilter.value) return false;
    if (nameFilter.value && !String(r.event || r.eventName || '').toLowerCase().includes(nameFilter.value.toLowerCase())) return false;
    if (userFilter.value && !String(r.userId || '').startsWith(userFilter.value) && !String(r.anonymousId || '').startsWith(userFilter.value)) return false;
    // free text over the whole stored item (payload, rule, message), case-insensitive
    if (textFilter.value && !JSON.stringify(r).toLowerCase().includes(textFilter.value.toLowerCase())) return false;
    return true;
  }

  function eventOf(messageId) {
    return items.find(i => i.kind === 'event' && i.record.messageId === messageId);
  }

  // The value at a violation's JSON path ($.properties.total) in the event, when its payload is visible.
  function valueAt(record, path) {
    if (!record || !path || !path.startsWith('$')) return undefined;
    let v = record;
    for (const part of path.slice(1).split(/[.\[\]]/).filter(Boolean)) {
      if (v === null || typeof v !== 'object' || !(part in v)) return undefined;
      v = v[part];
    }
    return v;
  }

  function violationsOf(messageId) {
    return items.filter(i => i.kind === 'violation' && i.record.messageId === messageId);
  }

  function row(it) {
    const r = it.record || {};
    let title, meta;
    if (it.kind === 'rejection') {
      title = 'Rejected ' + (r.status || '') + ': ' + r.rule;
      meta = (r.index !== undefined ? 'event ' + r.index + ' · ' : '') + (r.message || '') + (r.sourceId === 'unknown' ? ' · unknown source' : '');
    } else if (it.kind === 'violation') {
      title = 'Contract ' + r.action + ': ' + r.rule + ' at ' + r.path;
      const event = eventOf(r.messageId);
      const value = event ? valueAt(event.record, r.path) : undefined;
      meta = (r.eventName || r.eventType || '') + ' · ' + (r.message || '')
        + (value !== undefined ? ' · value ' + JSON.stringify(value) : '')
        + (r.messageId ? ' · event ' + r.messageId : '');
    } else {
      title = r.type + (r.event ? ' “' + r.event + '”' : r.name ? ' ' + r.name : '');
      meta = (r.userId ? 'user ' + r.userId + ' · ' : r.anonymousId ? 'anon ' + r.anonymousId + ' · ' : '') + (r.messageId || '');
    }
    const el = h('div', { class: 'item', 'data-kind': it.kind, 'data-message-id': r.messageId || '', 'data-rule': r.rule || null },
      h('strong', {}, title), h('span', { class: 'meta' }, meta + ' · ', ago(it.receivedAt)));
    const toggle = () => {
      if (el.querySelector('.detail')) { el.querySelector('.detail').remove(); expanded.delete(keyOf(it)); return; }
      expanded.add(keyOf(it));
      const detail = h('div', { class: 'detail', onclick: ev => ev.stopPropagation() });
      if (it.kind === 'violation' && r.messageId) {
        detail.append(h('a', { href: '#', class: 'to-event', onclick: ev => {
          ev.preventDefault();
          const target = list.querySelector('.item[data-kind=event][data-message-id="' + CSS.escape(r.messageId) + '"]');
          if (target) { target.scrollIntoView({ block: 'center' }); if (!target.querySelector('.detail')) target.click(); }
          else toast('The event ' + r.messageId + ' is not in the list (filtered out or older than the kept items)');
        } }, 'Show the event ' + r.messageId));
      }
      if (it.kind === 'event') {
        const v = violationsOf(r.messageId);
        detail.append(h('div', { class: 'muted' }, s.contract ? (v.length ? 'Contract: ' + v.length + ' violation(s): ' + v.map(x => {
          const value = valueAt(r, x.record.path);
          return x.record.rule + ' ' + x.record.path + (value !== undefined ? ' = ' + JSON.stringify(value) : '') + ' (' + x.record.action + ')';
        }).join(', ') : 'Contract: passed') : 'No contract on this source',
          ' · partition ' + it.partition + ', offset ' + it.offset));
      }
      detail.append(h('pre', {}, it.redacted ? 'Payload hidden: ' + (session.tokenConfigured ? 'log in to see it.' : 'only shown to local clients.') + '\n' + JSON.stringify(r, null, 2) : JSON.stringify(r, null, 2)));
      if (it.kind === 'event' && !it.redacted) {
        detail.append(h('button', { class: 'secondary', onclick: ev => {
          ev.stopPropagation();
          sessionStorage.setItem('sluice.sample', JSON.stringify(r));
          location.href = '/functions';
        } }, 'Try a function on this event'));
      }
      el.append(detail);
    };
    el.addEventListener('click', toggle);
    if (expanded.has(keyOf(it))) toggle(); // stays open when new items re-render the list
    return el;
  }

  function keyOf(it) {
    return it.kind + ':' + it.partition + ':' + it.offset + ':' + (it.record.messageId || '') + ':' + (it.record.rule || '') + (it.record.path || '');
  }

  function add(it) {
    const key = keyOf(it);
    if (seen.has(key)) return;
    seen.add(key);
    items.push(it);
    if (items.length > 500) items.shift();
  }

  function render() {
    const shown = items.filter(matches).slice(-200).reverse();
    list.replaceChildren(...shown.map(row));
    if (!shown.length) list.append(h('p', { class: 'muted' }, 'No events yet. Send one: curl -u WRITE_KEY: -H "Content-Type: application/json" -d \'{"type":"track","event":"Hello","userId":"me"}\' http://localhost:8080/v1/track'));
  }

  const stream = new EventSource('/console/api/sources/' + encodeURIComponent(id) + '/live');
  timers.push({ close: () => stream.close() });
  stream.addEventListener('hello', e => { status.textContent = 'live' + (JSON.parse(e.data).payloads ? '' : ' (payloads hidden)'); });
  for (const kind of ['event', 'rejection', 'violation']) {
    stream.addEventListener(kind, e => {
      const it = JSON.parse(e.data);
      if (paused) { held.push(it); pauseButton.textContent = 'Resume (' + held.length + ' waiting)'; return; }
      add(it);
      render();
    });
  }
  stream.addEventListener('dropped', e => toast(e.data + ' items dropped: the page could not keep up'));
  stream.onerror = () => { status.textContent = 'reconnecting…'; };

  // The counters, charts and syncs above the debugger refresh on their own; the debugger list is not re-rendered.
  const summary = h('div', {});
  const summaryState = {};
  const drawSummary = src => {
    if (!changed(summaryState, src)) return;
    const hist = src.history || {};
    summary.replaceChildren(h('div', { class: 'grid' },
      card('Accepted', h('span', { id: 'source-accepted' }, fmt(src.acceptedTotal, 0))), card('Rejected', h('span', { id: 'source-rejected' }, fmt(src.rejectedTotal, 0))),
      chartCard('Accepted events/s', hist['source.' + src.id + '.accepted'], 'events/s'), chartCard('Rejected events/s', hist['source.' + src.id + '.rejected'], 'events/s')),
      h('h2', {}, 'Syncs'),
      syncTable(src.syncs || []));
  };
  drawSummary(s);
  show(h('h1', {}, 'Source ', h('span', { id: 'source-id' }, s.id)),
    summary,
    h('h2', {}, 'Live event debugger ', status),
    h('div', { class: 'filters' }, typeFilter, nameFilter, userFilter, textFilter, pauseButton),
    list);
  render();
  timers.push(setInterval(async () => {
    try { drawSummary(await api('/sources/' + encodeURIComponent(id))); connected(); } catch (e) { disconnected(e); }
  }, 3000));
}

// ---- sync ---------------------------------------------------------------------------------------------------

async function syncView(id) {
  const state = {};
  every(2000, async () => {
    const s = await api('/syncs/' + encodeURIComponent(id));
    if (!changed(state, s)) return;
    const hist = s.history || {};
    const health = s.destinationHealth || {};
    show(h('h1', {}, 'Sync ', h('span', {}, s.id), ' ', h('span', { id: 'sync-state' }, stateBadge(s.state))),
      h('p', { class: 'muted' }, h('a', { href: '/sources/' + encodeURIComponent(s.source) }, s.source), ' → ', s.destination,
        ' (' + (s.destinationType || '?') + ')', s.function ? ' · with a function' : '',
        s.functionState ? h('span', { id: 'function-state', class: s.functionState === 'healthy' ? 'ok' : 'bad' }, ' (' + s.functionState + ')') : '',
        s.paused ? [' · paused by ' + s.pausedBy + ' ', ago(s.pausedAt)] : '',
        ' · ', h('a', { href: '/syncs/' + encodeURIComponent(s.id) + '/accounting', id: 'sync-accounting' }, 'Delivery accounting')),
      h('div', { class: 'filters' },
        s.paused ? actionButton('Resume delivery', { id: 'resume-sync' }, async () => { await act('/admin/syncs/' + encodeURIComponent(id) + '/resume'); toast('Resumed'); })
          : actionButton('Pause delivery', { id: 'pause-sync', class: 'danger' }, async () => { await act('/admin/syncs/' + encodeURIComponent(id) + '/pause'); toast('Paused: planning continues, nothing is delivered'); }),
        actionButton('Replay dead letters', { id: 'replay-sync', class: 'secondary' }, async () => {
          const r = await act('/admin/dlq/replay', { sync: id });
          toast('Rerun ' + r.replayed + ' dead letter(s): ' + r.handedBack + ' back in delivery' + (r.failedAgain ? ', ' + r.failedAgain + ' failed again' : ''));
        })),
      h('div', { class: 'grid' },
        card('Delivered', h('span', { id: 'delivered-total' }, fmt(s.deliveredTotal, 0))),
        chartCard('Delivered/s', hist['sync.' + s.id + '.delivered'], 'events/s'),
        card('Lag', h('span', { id: 'sync-lag' }, fmt(s.lagEvents, 0) + ' events'), h('div', { class: 'muted' }, seconds(s.ageSeconds) + ' behind'
          + (s.unplannedEvents ? ' · ' + fmt(s.unplannedEvents, 0) + ' not planned yet' : ''))),
        card('Failed deliveries (1 min)', h('span', { id: 'sync-error-rate', class: s.errorRatePercent >= 50 ? 'bad' : s.errorRatePercent > 0 ? 'warn' : 'ok' }, fmt(s.errorRatePercent) + ' %'),
          h('div', { class: 'muted' }, fmt(s.failed1m, 0) + ' failed, ' + fmt(s.delivered1m, 0) + ' delivered · '
            + fmt(s.retriedEvents1m, 0) + ' events to the retry queue')),
        chartCard('Backlog (events)', hist['sync.' + s.id + '.backlog'], 'events'),
        card('Batches', fmt(s.pending, 0) + ' pending', h('div', { class: 'muted' }, fmt(s.running, 0) + ' running · ' + fmt(s.failing, 0) + ' failed, retrying · ' + fmt(s.deadBatches, 0) + ' dead')),
        card('Retry queue', fmt(s.retryDepth, 0), h('div', { class: 'muted' }, 'oldest ' + seconds(s.oldestRetrySeconds))),
        card('Dead letters', h('a', { href: '/dead-letters?sync=' + encodeURIComponent(s.id), id: 'sync-dead' }, fmt(s.deadLetters, 0))),
        card('Destination', health.circuit ? h('span', { class: health.circuit === 'closed' ? 'ok' : 'bad', id: 'circuit' }, 'circuit ' + health.circuit) : '–',
          h('div', { class: 'muted' }, (health.inFlight !== undefined ? health.inFlight + ' in flight · ' : '') + 'worker concurrency ' + s.workerConcurrency)),
        card('Batch delivery', s.batchDelivery ? duration(s.batchDelivery.meanMs) + ' mean' : '–',
          h('div', { class: 'muted' }, (s.batchDelivery ? 'max ' + duration(s.batchDelivery.maxMs) + ' · ' : '') + 'end-to-end p99 ' + duration(s.p99Ms)))),
      h('h2', {}, 'Last error'),
      s.lastError ? h('pre', { id: 'last-error' }, s.lastError + '\n(', ago(s.lastErrorAt), ', ' + s.lastErrorAt + ')') : h('p', { class: 'muted' }, 'none'));
  });
}

// ---- dead letters -------------------------------------------------------------------------------------------

async function deadLettersView() {
  return failedEventsView(); // deadletters.js
}

// ---- database -----------------------------------------------------------------------------------------------

async function databaseView() {
  let confirming = null;
  const state = {};
  async function render(force) {
    const d = await api('/database');
    if (!changed(state, [d, confirming]) && !force) return;
    if (!d.present) {
      show(h('h1', {}, 'Database'), h('p', { class: 'muted' }, 'This process does not use the queue database; open the console of a planner or worker.'));
      return;
    }
    const roleClass = r => r === 'writer' ? 'ok' : r === 'reader' ? 'muted' : 'bad';
    const confirmBox = confirming ? h('div', { class: 'confirm', id: 'db-confirm-box' },
      confirming === 'pause' ? 'Pause every queue-database write in every Sluice process? Collectors keep accepting events.' : 'Resume queue-database writes?',
      ' ', actionButton(confirming === 'pause' ? 'Confirm pause' : 'Confirm resume', { id: 'db-confirm', class: confirming === 'pause' ? 'danger' : null }, async () => {
        await act(confirming === 'pause' ? '/admin/db/pause' : '/admin/db/resume');
        toast(confirming === 'pause' ? 'Pause requested' : 'Resumed');
        confirming = null;
        await render();
      }), ' ', h('button', { class: 'secondary', onclick: () => { confirming = null; render(); } }, 'Cancel')) : null;
    show(h('h1', {}, 'Database'),
      h('div', { class: 'grid' },
        card('Writer', h('span', { id: 'writer' }, d.writer || (d.gate.writer || '–')), h('div', { class: 'muted' }, 'endpoint ' + d.endpoint.label + ': ', h('span', { class: roleClass(d.endpoint.role), id: 'endpoint-role' }, d.endpoint.role))),
        card('Write gate', h('span', { id: 'gate-state', class: d.gate.writable ? 'ok' : 'warn' }, d.gate.writable ? 'open' : 'held'),
          h('div', { class: 'muted' }, d.gate.heldBecause || 'writes go ahead', ' · this process: ' + d.gate.thisProcess)),
        card('Alarms', alarmList(d.alarms)),
        card('Failover', h('span', { id: 'safe-to-fail-over', class: d.safeToFailOver ? 'ok' : 'muted' }, d.safeToFailOver ? 'safe to fail over' : 'not safe to fail over'),
          h('div', { class: 'muted' }, d.safeReason || ''))),
      h('div', { class: 'filters' },
        d.pauseRequested ? actionButton('Resume database writes…', { id: 'db-resume' }, async () => { confirming = 'resume'; await render(); })
          : actionButton('Pause database writes…', { id: 'db-pause', class: 'danger' }, async () => { confirming = 'pause'; await render(); })),
      confirmBox,
      h('h2', {}, 'Instances'),
      h('div', { class: 'scroll' }, h('table', { id: 'instances' }, h('tr', {}, h('th', {}, 'Instance'), h('th', {}, 'Role')),
        (d.instances || []).map(i => h('tr', { 'data-instance': i.label, 'data-role': i.role }, h('td', {}, i.label), h('td', { class: roleClass(i.role) }, i.role))))),
      (d.instances || []).length ? null : h('p', { class: 'muted' }, 'No postgres.instances configured: only the endpoint is watched.'),
      h('h2', {}, 'Writer history'),
      h('div', { class: 'scroll' }, h('table', { id: 'writer-history' }, h('tr', {}, h('th', {}, 'When'), h('th', {}, 'From'), h('th', {}, 'To')),
        (d.writerHistory || []).slice().reverse().map(c => h('tr', {}, h('td', {}, c.at), h('td', {}, c.from || '(first seen)'), h('td', {}, c.to))))),
      h('h2', {}, 'Processes (quiesce reports)'),
      h('div', { class: 'scroll' }, h('table', { id: 'processes' }, h('tr', {}, h('th', {}, 'Process'), h('th', {}, 'Roles'), h('th', {}, 'State'), h('th', {}, 'Writer it sees'), h('th', {}, 'Held because'), h('th', {}, 'Reported')),
        (d.processes || []).map(p => h('tr', { class: p.live ? null : 'muted' }, h('td', {}, p.id), h('td', {}, p.roles), h('td', { class: p.state === 'quiesced' ? 'ok' : null }, p.state + (p.live ? '' : ' (silent)')),
          h('td', {}, p.writer || '–'), h('td', {}, p.heldBecause || '–'), h('td', {}, ago(p.at)))))));
  }
  every(1500, () => { if (!confirming) render(); });
}

// ---- functions ----------------------------------------------------------------------------------------------

async function functionsView() {
  const f = await api('/functions');
  const sample = sessionStorage.getItem('sluice.sample');
  const defaultEvent = { type: 'track', event: 'Order Completed', userId: 'user-1', messageId: 'sample-1', properties: { revenue: 42 } };
  const code = h('textarea', { id: 'fn-code', rows: 14 });
  code.value = 'function transform(event, context) {\n  event.properties = Object.assign({}, event.properties, { checked: true });\n  return event;\n}\n';
  const event = h('textarea', { id: 'fn-event', rows: 10 });
  event.value = sample ? JSON.stringify(JSON.parse(sample), null, 2) : JSON.stringify(defaultEvent, null, 2);
  const settings = h('textarea', { id: 'fn-settings', rows: 3 });
  settings.value = '{}';
  const output = h('pre', { id: 'fn-output' }, 'Run the function to see its output.');
  const pick = h('select', { id: 'fn-sync' }, h('option', { value: '' }, 'your own code'), (f.functions || []).map(x => h('option', { value: x.sync }, 'sync ' + x.sync)));
  pick.addEventListener('change', () => {
    const chosen = (f.functions || []).find(x => x.sync === pick.value);
    if (chosen && chosen.code !== undefined) {
      code.value = chosen.code;
      settings.value = JSON.stringify(chosen.settings || {}, null, 2);
    } else if (chosen) {
      // Without payload access the sync's code is hidden: never leave the sample in place as if it were the sync's.
      code.value = '';
      code.placeholder = 'The code of sync ' + chosen.sync + ' is hidden: ' + (session.tokenConfigured ? 'log in to see it.' : 'only shown to local clients.');
      settings.value = '{}';
    }
  });
  show(h('h1', {}, 'Functions'),
    h('p', { class: 'muted' }, sample ? 'Using the event picked in the debugger.' : 'Paste an event, or pick one in a source\'s live debugger.'),
    h('div', { class: 'filters' }, pick),
    h('h2', {}, 'Code'), code, h('h2', {}, 'Event'), event, h('h2', {}, 'Settings'), settings,
    h('div', { class: 'filters' }, actionButton('Run', { id: 'fn-run' }, async () => {
      const r = await act('/admin/functions/test', { source: code.value, event: JSON.parse(event.value), settings: JSON.parse(settings.value || '{}') });
      output.textContent = JSON.stringify(r, null, 2);
    })),
    h('h2', {}, 'Result'), output,
    h('h2', {}, 'Per sync'), h('div', { id: 'fn-stats' }));
  functionStats(document.getElementById('fn-stats')); // accounting.js
}

// ---- routing ------------------------------------------------------------------------------------------------

async function route() {
  timers.forEach(t => (t.close ? t.close() : clearInterval(t)));
  timers = [];
  const path = location.pathname;
  const section = path === '/' ? 'overview' : path.split('/')[1];
  document.querySelectorAll('nav a').forEach(a => a.classList.toggle('active', a.dataset.nav === section));
  let m;
  try {
    if (path === '/') await overviewView();
    else if (path === '/login') loginView();
    else if ((m = path.match(/^\/sources\/([^/]+)$/))) await sourceView(decodeURIComponent(m[1]));
    else if ((m = path.match(/^\/syncs\/([^/]+)$/))) await syncView(decodeURIComponent(m[1]));
    else if ((m = path.match(/^\/syncs\/([^/]+)\/accounting$/))) await accountingView(decodeURIComponent(m[1])); // accounting.js
    else if (path === '/dead-letters') await deadLettersView();
    else if (path === '/database') await databaseView();
    else if (path === '/functions') await functionsView();
    else if (path === '/backfills') await backfillsView(); // replay.js
    else if (path === '/privacy') await privacyView(); // privacy.js
    else show(h('h1', {}, 'Not found'));
  } catch (e) {
    show(h('h1', {}, 'Error'), h('p', { class: 'bad' }, e.message));
  }
}

loadSession().then(route, e => { show(h('p', { class: 'bad' }, 'Cannot reach the console API: ' + e.message)); });
