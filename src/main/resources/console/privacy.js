// The privacy page (docs/privacy.md): suppress, unsuppress and delete requests, each with its state per target
// (the suppressions topic, the queue database, each destination). Reads and acts through the admin API, so it needs
// a logged-in session. Loaded after app.js and uses its helpers; text from the server is inserted only as text.
'use strict';

async function privacyGet(path) {
  const r = await fetch(path, { credentials: 'same-origin', headers: { 'X-CSRF-Token': session.csrf || '' } });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch (e) { /* not JSON */ }
  if (!r.ok) throw new Error((json && json.error) || ('HTTP ' + r.status));
  return json;
}

function privacyTargets(targets) {
  return h('ul', { class: 'targets' }, (targets || []).map(t =>
    h('li', { 'data-target': t.target },
      h('span', { class: 'pill ' + (t.status === 'done' ? 'ok' : t.status === 'failed' ? 'bad' : t.status === 'skipped' ? 'muted' : 'warn') }, t.status),
      ' ', t.target,
      t.reason ? h('span', { class: 'muted' }, ' — ' + t.reason) : null,
      t.status === 'failed' && t.nextAttemptAt ? h('span', { class: 'muted' }, ' (attempt ' + t.attempts + ', next ' + ago(t.nextAttemptAt) + ')') : null)));
}

function privacyForm(reload) {
  const type = h('select', { id: 'privacy-type' },
    h('option', { value: 'suppress' }, 'suppress'), h('option', { value: 'unsuppress' }, 'unsuppress'), h('option', { value: 'delete' }, 'delete'));
  const ids = h('textarea', { id: 'privacy-ids', rows: 4, placeholder: 'userIds or anonymousIds, one per line (at most 5,000)' });
  const submit = actionButton('Submit request', { id: 'privacy-submit' }, async () => {
    const userIds = ids.value.split('\n').map(s => s.trim()).filter(s => s.length > 0);
    const r = await act('/admin/privacy/requests', { type: type.value, userIds: userIds });
    toast('Privacy request ' + r.id + ' created');
    ids.value = '';
    await reload();
  });
  return h('div', { class: 'privacy-form' }, h('label', { for: 'privacy-type' }, 'Request'), type, ids, submit);
}

async function privacyView() {
  if (!session.authenticated) {
    show(h('h1', {}, 'Privacy'), h('p', { class: 'muted' }, session.tokenConfigured
      ? 'Privacy requests are audit data: log in to see them.'
      : 'Privacy requests go through the admin API: set admin.token and log in.'));
    return;
  }
  const list = h('tbody', { id: 'privacy-rows' });
  const reload = async () => {
    const requests = await privacyGet('/admin/privacy/requests?limit=100');
    list.replaceChildren(...requests.map(r => h('tr', { 'data-request': String(r.id) },
      h('td', {}, String(r.id)),
      h('td', {}, r.type),
      h('td', {}, h('span', { class: 'pill ' + (r.state === 'done' ? 'ok' : r.state === 'failed' ? 'bad' : 'warn') }, r.state)),
      h('td', {}, fmt(r.userCount, 0)),
      h('td', {}, r.requestedBy),
      h('td', { title: r.requestedAt }, ago(r.requestedAt)),
      h('td', {}, privacyTargets(r.targets)))));
  };
  show(h('h1', {}, 'Privacy'),
    h('p', { class: 'muted' }, 'Suppressed people are dropped by every collector; deletion removes their rows from warehouses, the retry queue and dead letters, and calls webhook deletion URLs. The events topic keeps events until its retention.'),
    privacyForm(reload),
    h('table', {}, h('thead', {}, h('tr', {}, ['#', 'type', 'state', 'ids', 'by', 'when', 'per target'].map(c => h('th', {}, c)))), list));
  every(3000, () => reload().catch(e => toast('Privacy requests: ' + e.message)));
}
