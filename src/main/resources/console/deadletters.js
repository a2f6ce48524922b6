// Failed events (the dead letters page), like Segment's Event Delivery: dead letters grouped by error with a sample
// request and response, each letter listed, replay with a confirmation, its progress and its outcome (delivered,
// failed again, still pending). Uses app.js's helpers (h, show, act, actionButton, toast, fmt, ago, session).
'use strict';

// The console API's JSON, or an Error carrying the server's message (a bad filter is a 400 that names it).
async function dlApi(path) {
  const r = await fetch('/console/api' + path, { credentials: 'same-origin' });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch (e) { /* not JSON */ }
  if (!r.ok) throw new Error((json && (json.error || json.title)) || (path + ': HTTP ' + r.status));
  return json;
}

function hiddenPayload() {
  return 'Payload hidden: ' + (session.tokenConfigured ? 'log in to see it.' : 'only shown to local clients.');
}

async function failedEventsView() {
  const params = new URLSearchParams(location.search);
  const o = await api('/overview');
  const sync = h('select', { id: 'dl-sync' }, h('option', { value: '' }, 'all syncs'), (o.syncs || []).map(s => h('option', { value: s.id }, s.id)));
  sync.value = params.get('sync') || '';
  const since = h('input', { id: 'dl-since', placeholder: 'since (1h, 2026-12-01T10:00:00Z)', value: params.get('since') || '' });
  const kind = h('select', { id: 'dl-kind' }, ['', 'http_4xx', 'http_5xx', 'function', 'other'].map(k => h('option', { value: k }, k || 'all kinds')));
  kind.value = params.get('kind') || '';
  const count = h('span', { id: 'dl-count', class: 'muted' });
  const error = h('p', { id: 'dl-error', class: 'bad', hidden: true });
  const groups = h('div', { class: 'scroll', id: 'dl-groups' });
  const table = h('div', { class: 'scroll' });
  const confirmBox = h('div', { id: 'replay-confirm-box', class: 'confirm', hidden: true });
  const outcome = h('div', { id: 'replay-outcome', class: 'card', hidden: true });
  let letters = [];
  const selected = new Set();

  async function load() {
    const q = new URLSearchParams({ sync: sync.value, since: since.value, kind: kind.value });
    history.replaceState(null, '', '/dead-letters?' + q);
    let r, g;
    try {
      [r, g] = await Promise.all([dlApi('/dead-letters?' + q), dlApi('/dead-letters/groups?' + new URLSearchParams({ sync: sync.value, since: since.value }))]);
    } catch (e) {
      // never the old list under a filter that failed: it would look like the answer
      error.textContent = 'Cannot list dead letters: ' + e.message;
      error.hidden = false;
      letters = [];
      count.textContent = '';
      groups.replaceChildren();
      table.replaceChildren();
      return;
    }
    error.hidden = true;
    letters = r.letters || [];
    selected.clear();
    count.textContent = letters.length + ' dead letter(s)';
    renderGroups(g.groups || []);
    table.replaceChildren(h('table', {},
      h('tr', {}, h('th', {}, ''), h('th', {}, 'Sync'), h('th', {}, 'Message'), h('th', {}, 'Error'), h('th', {}, 'Status'), h('th', {}, 'Attempts'), h('th', {}, 'Failed'), h('th', {}, '')),
      letters.map(d => {
        const box = h('input', { type: 'checkbox', onchange: e => { e.target.checked ? selected.add(d.id) : selected.delete(d.id); } });
        const detail = h('tr', { hidden: true }, h('td', { colspan: 8 }, h('pre', {}, d.event ? JSON.stringify(d.event, null, 2) : hiddenPayload())));
        const tr = h('tr', { class: 'dl', 'data-message-id': d.messageId },
          h('td', {}, box), h('td', {}, d.sync), h('td', {}, h('a', { href: '#', onclick: e => { e.preventDefault(); detail.hidden = !detail.hidden; } }, d.messageId)),
          h('td', {}, d.error, ' ', h('span', { class: 'pill muted' }, d.kind)), h('td', {}, d.statusCode || '–'), h('td', {}, d.attempts), h('td', {}, ago(d.failedAt)),
          h('td', {}, actionButton('Replay', { class: 'secondary' }, async () => confirmReplay('1 dead letter (' + d.messageId + ')', { ids: [d.id] }))));
        return [tr, detail];
      })));
  }

  function renderGroups(list) {
    if (!list.length) { groups.replaceChildren(h('p', { class: 'muted' }, 'No failed events.')); return; }
    groups.replaceChildren(h('table', {},
      h('tr', {}, h('th', {}, 'Error'), h('th', {}, 'Sync'), h('th', {}, 'Status'), h('th', {}, 'Events'), h('th', {}, 'First seen'), h('th', {}, 'Last seen'), h('th', {}, '')),
      list.map(g => {
        const sample = h('tr', { hidden: true, class: 'dl-sample' }, h('td', { colspan: 7 },
          h('div', { class: 'muted' }, 'Sample request (the event as accepted)'),
          h('pre', {}, g.sample && g.sample.request ? JSON.stringify(g.sample.request, null, 2) : hiddenPayload()),
          h('div', { class: 'muted' }, 'Sample response (the destination\'s answer)'),
          h('pre', {}, g.sample && g.sample.response !== undefined ? g.sample.response : g.reason)));
        const label = g.count + ' event' + (g.count === 1 ? '' : 's') + ' of ' + g.sync;
        const tr = h('tr', { class: 'dl-group', 'data-sync': g.sync, 'data-status': g.statusCode || '', 'data-count': g.count },
          h('td', {}, h('a', { href: '#', onclick: e => { e.preventDefault(); sample.hidden = !sample.hidden; } }, g.reason), ' ', h('span', { class: 'pill muted' }, g.kind)),
          h('td', {}, g.sync), h('td', {}, g.statusCode || '–'), h('td', { class: 'bad' }, fmt(g.count, 0)),
          h('td', {}, ago(g.firstSeen)), h('td', {}, ago(g.lastSeen)),
          h('td', {}, actionButton('Replay ' + fmt(g.count, 0) + '…', { class: 'secondary replay-group' },
            async () => confirmReplay(label + (g.idsComplete ? '' : ' (the newest ' + g.ids.length + ')'), { ids: g.ids }))));
        return [tr, sample];
      })));
  }

  // Replay only after a confirmation naming what is replayed.
  function confirmReplay(what, body) {
    confirmBox.replaceChildren('Replay ' + what + '? They go back to delivery through the retry queue. ',
      actionButton('Confirm replay', { id: 'replay-confirm' }, async () => { confirmBox.hidden = true; await replay(body); }), ' ',
      h('button', { class: 'secondary', id: 'replay-cancel', onclick: () => { confirmBox.hidden = true; } }, 'Cancel'));
    confirmBox.hidden = false;
  }

  async function replay(body) {
    outcome.hidden = false;
    outcome.replaceChildren(h('div', { class: 'label' }, 'Replay'), h('div', { id: 'replay-progress' }, 'Replaying…'));
    const r = await act('/admin/dlq/replay', body);
    const head = 'Rerun ' + r.replayed + ' dead letter(s): ' + r.handedBack + ' back in delivery'
      + (r.failedAgain ? ', ' + r.failedAgain + ' failed in their function again' : '') + '.';
    toast(head);
    await load();
    const ids = r.ids || [];
    if (!ids.length) { outcome.replaceChildren(h('div', { class: 'label' }, 'Replay'), h('div', { id: 'replay-progress' }, head)); return; }
    const started = Date.now();
    // Follows the replayed letters until none is pending (or a minute passed): delivered, failed again, pending.
    while (true) {
      const sum = { delivered: 0, failedAgain: 0, pending: 0, gone: 0 };
      for (let i = 0; i < ids.length; i += 1000) {
        const o = await dlApi('/dead-letters/outcome?ids=' + ids.slice(i, i + 1000).join(','));
        for (const k of Object.keys(sum)) sum[k] += o[k] || 0;
      }
      const done = sum.pending === 0;
      outcome.replaceChildren(h('div', { class: 'label' }, 'Replay ' + (done ? 'finished' : 'in progress')),
        h('div', { id: 'replay-progress' }, head),
        h('div', { id: 'replay-result', 'data-done': done ? 'true' : 'false' },
          h('span', { class: 'ok', id: 'replay-delivered' }, fmt(sum.delivered, 0) + ' delivered'), ' · ',
          h('span', { class: sum.failedAgain ? 'bad' : 'muted', id: 'replay-failed' }, fmt(sum.failedAgain, 0) + ' failed again'), ' · ',
          h('span', { class: 'muted', id: 'replay-pending' }, fmt(sum.pending, 0) + ' still pending'),
          sum.gone ? ' · ' + sum.gone + ' pruned' : ''));
      if (done || Date.now() - started > 60000 || !document.body.contains(outcome)) break;
      await new Promise(resolve => setTimeout(resolve, 1000));
    }
    await load();
  }

  [sync, kind].forEach(f => f.addEventListener('change', load));
  since.addEventListener('change', load);
  show(h('h1', {}, 'Failed events'),
    h('div', { class: 'filters' }, sync, since, kind, count),
    error,
    h('div', { class: 'filters' },
      actionButton('Replay selected…', { id: 'replay-selected', class: 'secondary' }, async () => confirmReplay(selected.size + ' selected dead letter(s)', { ids: [...selected] })),
      actionButton('Replay all matching…', { id: 'replay-all' }, async () => {
        // With a kind filter the matching set is what is listed; otherwise the store selects by sync and time.
        const what = letters.length + (letters.length >= 200 ? '+' : '') + ' dead letter(s)' + (sync.value ? ' of ' + sync.value : '');
        confirmReplay(what, kind.value ? { ids: letters.map(d => d.id) } : { sync: sync.value || null, since: since.value || null });
      })),
    confirmBox, outcome,
    h('h2', {}, 'By error'), groups,
    h('h2', {}, 'Dead letters'), table);
  await load();
}
