// The console's Backfills page (/backfills, docs/replay.md): the backfills with their progress, a form that runs a
// dry run and then starts a backfill, and pause / resume / cancel. Reads and acts through the /admin API with the
// session's CSRF token (app.js: h, act, toast, every, actionButton, canAct, show).
'use strict';

async function adminGet(path) {
  const r = await fetch(path, { credentials: 'same-origin', headers: { 'X-CSRF-Token': session.csrf || '' } });
  if (!r.ok) throw new Error(path + ': HTTP ' + r.status);
  return r.json();
}

async function backfillsView() {
  const o = await api('/overview');
  const sync = h('select', { id: 'bf-sync' }, (o.syncs || []).map(s => h('option', { value: s.id }, s.id)));
  const from = h('input', { id: 'bf-from', placeholder: 'from (2026-12-01T09:00:00Z)' });
  const to = h('input', { id: 'bf-to', placeholder: 'to (optional: the end now)' });
  const rate = h('input', { id: 'bf-rate', type: 'number', min: 1, value: 5000, title: 'events per second' });
  const result = h('p', { id: 'bf-result', class: 'muted' });
  const table = h('div', { id: 'bf-table', class: 'scroll' });

  function request(dryRun) {
    const body = { from: from.value.trim(), rate: Number(rate.value), dryRun };
    if (to.value.trim()) body.to = to.value.trim();
    return body;
  }

  async function dryRun() {
    const r = await act('/admin/syncs/' + encodeURIComponent(sync.value) + '/backfill', request(true));
    result.textContent = 'Dry run: ' + r.events + ' events in ' + r.batches + ' batches to ' + r.destination + '. Nothing was sent.';
  }

  async function start() {
    const r = await act('/admin/syncs/' + encodeURIComponent(sync.value) + '/backfill', request(false));
    toast('Backfill ' + r.id + ' started');
    await load();
  }

  async function change(id, what) {
    await act('/admin/backfills/' + id + '/' + what);
    toast('Backfill ' + id + ': ' + what);
    await load();
  }

  async function load() {
    if (!canAct()) {
      table.replaceChildren(h('p', { class: 'muted' }, session.tokenConfigured ? 'Log in to see and start backfills.' : 'Set admin.token to enable backfills.'));
      return;
    }
    const list = await adminGet('/admin/backfills');
    table.replaceChildren(list.length === 0 ? h('p', { class: 'muted' }, 'No backfills yet.') : h('table', {},
      h('tr', {}, ['Id', 'Sync', 'Window', 'Status', 'Planned', 'Delivered', 'Waiting', 'Dead', 'Offsets left', 'Rate', ''].map(t => h('th', {}, t))),
      list.map(b => h('tr', { class: 'backfill', 'data-id': b.id },
        h('td', {}, b.id), h('td', {}, b.sync), h('td', {}, b.from + ' – ' + (b.to || 'end at start')),
        h('td', {}, h('span', { class: 'pill' }, b.status)),
        h('td', {}, b.plannedEvents + ' events / ' + b.plannedBatches + ' batches'),
        h('td', {}, b.deliveredBatches), h('td', {}, b.unfinishedBatches), h('td', {}, b.deadBatches),
        h('td', {}, b.offsetsLeft), h('td', {}, b.rate + '/s'),
        h('td', {},
          b.status === 'planning' ? actionButton('Pause', { class: 'secondary' }, () => change(b.id, 'pause')) : null,
          b.status === 'paused' ? actionButton('Resume', { class: 'secondary' }, () => change(b.id, 'resume')) : null,
          b.status === 'planning' || b.status === 'paused' ? actionButton('Cancel', { class: 'danger' }, () => change(b.id, 'cancel')) : null)))));
  }

  show(h('h1', {}, 'Backfills'),
    h('p', { class: 'muted' }, 'Plan a window of the events topic again for one sync, as its own rate-limited lane beside live traffic (docs/replay.md). Re-running is safe: warehouses add no row they have, webhooks and Kafka get the same keys.'),
    h('div', { class: 'row' }, sync, from, to, rate,
      actionButton('Dry run', { id: 'bf-dry-run', class: 'secondary' }, dryRun),
      actionButton('Start backfill', { id: 'bf-start' }, start)),
    result, table);
  every(2000, () => load().catch(e => table.replaceChildren(h('p', { class: 'bad' }, e.message))));
}
