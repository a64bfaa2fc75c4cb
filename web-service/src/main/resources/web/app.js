// The console's only script: fetch JSON, follow server-sent events, render with the DOM API
// (textContent everywhere, so data from the outside world is never interpreted as HTML).
// Every page paints from a JSON read first and only then connects to its live stream.
const Eventscan = (() => {
  const $ = (id) => document.getElementById(id);

  /** el('td', {className: 'num'}, 'text', childNode...): properties, then text or nodes. */
  const el = (tag, props, ...children) => {
    const node = document.createElement(tag);
    Object.entries(props || {}).forEach(([key, value]) => {
      if (value == null) return;
      if (key.startsWith('aria-') || key.startsWith('data-') || key === 'role' || key === 'for') node.setAttribute(key, value);
      else node[key] = value;
    });
    children.flat().forEach((child) => {
      if (child == null || child === false) return;
      node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
    });
    return node;
  };
  const link = (href, text, props) => el('a', { href, ...props }, text);
  const row = (...cells) => el('tr', {}, cells.map((c) => (c instanceof Node && c.tagName === 'TD' ? c : el('td', {}, c))));
  const badge = (text) => el('span', { className: 'badge ' + text }, text);
  const number = (n) => (n == null ? '–' : Number(n).toLocaleString());
  // Times in the browser's zone; the full date only when it is not today.
  const when = (iso) => {
    if (!iso) return '';
    const d = new Date(iso);
    const today = new Date().toDateString() === d.toDateString();
    return today ? d.toLocaleTimeString() : d.toLocaleString();
  };
  const timeEl = (iso) => el('time', { dateTime: iso || '', title: iso ? new Date(iso).toString() : '' }, when(iso));
  const duration = (ms) => {
    if (ms == null || ms < 0) return '';
    if (ms < 1000) return Math.round(ms) + ' ms';
    if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 1 : 0) + ' s';
    const minutes = Math.floor(ms / 60000);
    return minutes + ' min ' + Math.round((ms % 60000) / 1000) + ' s';
  };
  /** Jackson writes a Duration as seconds (a number) or ISO 8601 (PT1.5S): milliseconds. */
  const durationMs = (value) => {
    if (typeof value === 'number') return value * 1000;
    const m = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?$/.exec(value || '');
    return m ? ((+m[1] || 0) * 3600 + (+m[2] || 0) * 60 + (+m[3] || 0)) * 1000 : 0;
  };
  const fact = (term, value) => el('div', {}, el('dt', {}, term), el('dd', {}, value ?? '–'));
  /** True when value differs from the last one seen under key: re-render only then (keeps focus). */
  const lastSeen = new Map();
  const changed = (key, value) => { const json = JSON.stringify(value); if (lastSeen.get(key) === json) return false; lastSeen.set(key, json); return true; };
  const setConnection = (text, live) => { const c = $('connection'); c.textContent = text; c.classList.toggle('live', !!live); };

  /** JSON pretty-printed into spans (keys, strings, numbers coloured), never as HTML. */
  const jsonView = (value, target) => {
    const out = target || el('pre', { className: 'code', tabIndex: 0 });
    out.replaceChildren();
    const text = JSON.stringify(value, null, 2) ?? 'null';
    const token = /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;
    let last = 0;
    for (let m; (m = token.exec(text));) {
      out.appendChild(document.createTextNode(text.slice(last, m.index)));
      const kind = m[1] ? (m[2] ? 'json-key' : 'json-string') : m[3] ? 'json-literal' : 'json-number';
      out.appendChild(el('span', { className: kind }, m[1] || m[3] || m[4]));
      if (m[2]) out.appendChild(document.createTextNode(m[2]));
      last = token.lastIndex;
    }
    out.appendChild(document.createTextNode(text.slice(last)));
    return out;
  };

  // With API_TOKEN set, the service answers 401 to changes and to internals: ask for the token
  // once, keep it for this browser session (sessionStorage), send it with every request.
  const TOKEN_KEY = 'eventscan.apiToken';
  let tokenPrompt = null;
  let tokenDeclined = false;
  const askToken = () => tokenPrompt ??= new Promise((resolve) => {
    const input = el('input', { id: 'api-token', type: 'password', autocomplete: 'off' });
    const dialog = el('dialog', { id: 'token-dialog', 'aria-labelledby': 'token-title' },
      el('form', { method: 'dialog' },
        el('h2', { id: 'token-title' }, 'API token'),
        el('p', { className: 'muted' }, 'This service needs its API token for changes and for internals. It is kept for this browser session only.'),
        el('label', {}, 'Token', input),
        el('div', { className: 'row actions' }, el('button', { id: 'api-token-submit', type: 'submit' }, 'Use token'))));
    document.body.appendChild(dialog);
    dialog.addEventListener('close', () => {
      const token = input.value.trim();
      dialog.remove(); tokenPrompt = null; tokenDeclined = !token;
      resolve(token || null);
    });
    dialog.showModal();
    input.focus();
  });
  const send = (url, options) => {
    const headers = { Accept: 'application/json', ...options.headers };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = 'Bearer ' + token;
    return fetch(url, { ...options, headers });
  };
  const request = async (url, options) => {
    let r = await send(url, options);
    // Background refreshes do not ask again once the user closed the dialog; clicks do.
    if (r.status === 401 && (options.method || !tokenDeclined)) {
      sessionStorage.removeItem(TOKEN_KEY);
      const token = await askToken();
      if (token) { sessionStorage.setItem(TOKEN_KEY, token); r = await send(url, options); }
    }
    const json = await r.json();
    if (!r.ok) throw new Error(json.error ? json.error.message : 'HTTP ' + r.status);
    return json;
  };
  const getJson = (url) => request(url, {});
  // Every change is sent as JSON, body or not: the service refuses anything else.
  const postJson = (url, body) => request(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body ?? {}) });
  const query = (params) => {
    const q = new URLSearchParams();
    Object.entries(params).forEach(([k, v]) => { if (v != null && v !== '') q.set(k, v); });
    const s = q.toString();
    return s ? '?' + s : '';
  };

  /** An EventSource that shows its state in the header; returns it (close() to stop). */
  const follow = (url, onEvent, extra) => {
    const source = new EventSource(url);
    source.onopen = () => setConnection('live', true);
    source.onerror = () => setConnection('reconnecting…', false);
    source.onmessage = (e) => onEvent(JSON.parse(e.data), e);
    Object.entries(extra || {}).forEach(([name, handler]) => source.addEventListener(name, (e) => handler(JSON.parse(e.data))));
    return source;
  };

  /** Calls fn now and every ms while the page is visible, never two at once. */
  const every = (ms, fn) => {
    let running = false;
    const tick = async () => {
      if (running || document.hidden) return;
      running = true;
      try { await fn(); } catch (e) { setConnection('refresh failed: ' + e.message, false); } finally { running = false; }
    };
    tick();
    return setInterval(tick, ms);
  };

  // Charts: uPlot (vendored from its WebJar), sized to their container, times in the local zone.
  const COLORS = ['#2457d6', '#e8590c', '#0ca678', '#ae3ec9', '#f59f00', '#1098ad', '#e03131', '#5c7cfa'];
  const chart = (container, series, options) => {
    const width = () => Math.max(200, container.clientWidth);
    const plot = new uPlot({
      width: width(),
      height: options?.height ?? 240,
      series: [{}, ...series.map((s, i) => ({ stroke: s.color ?? COLORS[i % COLORS.length], width: s.width ?? 1.5, fill: s.fill, label: s.label, points: { show: s.points ?? false, size: 7 }, paths: s.paths, scale: s.scale ?? 'y', value: s.value }))],
      axes: options?.axes ?? [{}, { size: 50 }],
      scales: { x: { time: options?.time ?? true }, ...(options?.scales ?? {}) },
      legend: { show: options?.legend ?? true },
      cursor: options?.cursor ?? {},
    }, options?.data ?? [[], ...series.map(() => [])], container);
    new ResizeObserver(() => plot.setSize({ width: width(), height: options?.height ?? 240 })).observe(container);
    return plot;
  };
  const bars = () => (uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.8, 40] }) : undefined);

  // ---------------------------------------------------------------- scans

  const FINAL = ['COMPLETED', 'FAILED', 'CANCELLED'];

  function analysesPage() {
    let cursor = null;
    const filters = () => ({ status: $('filter-status').value, target: $('filter-target').value.trim() });
    const readFilters = () => {
      const p = new URLSearchParams(location.search);
      $('filter-status').value = p.get('status') || '';
      $('filter-target').value = p.get('target') || '';
    };
    const scanRow = (s) => {
      const progress = el('td', {}, el('div', { className: 'bar inline', role: 'progressbar', 'aria-valuenow': s.progressPercent, 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-label': 'Progress of ' + s.target }, el('div', { style: 'width:' + s.progressPercent + '%' })), s.progressPercent + '%');
      return el('tr', { 'data-id': s.id },
        el('td', {}, link('/analyses/' + s.id, s.target)),
        el('td', {}, badge(s.status)), progress,
        el('td', { className: 'num' }, s.score ?? '–'),
        el('td', { className: 'wide' }, timeEl(s.requestedAt)));
    };
    const load = async (append) => {
      const { scans, nextCursor } = await getJson('/api/scans' + query({ ...filters(), limit: 25, cursor: append ? cursor : null }));
      cursor = nextCursor;
      const rows = scans.map(scanRow);
      if (append) $('scans').append(...rows); else $('scans').replaceChildren(...rows);
      $('scans-more').hidden = !nextCursor;
      $('scans-empty').hidden = $('scans').childElementCount > 0;
      $('list-count').textContent = $('scans').childElementCount + (nextCursor ? '+' : '') + ' shown';
    };
    $('new-scan').addEventListener('submit', async (event) => {
      event.preventDefault();
      $('form-error').textContent = '';
      try {
        const created = await postJson('/api/scans', { target: $('target').value, scanner: $('scanner').value, maxRetries: Number($('maxRetries').value) });
        window.location.href = '/analyses/' + created.id;
      } catch (e) { $('form-error').textContent = e.message; }
    });
    $('scan-filters').addEventListener('submit', (event) => {
      event.preventDefault();
      history.replaceState(null, '', location.pathname + query(filters()));
      load(false).catch((e) => { $('form-error').textContent = e.message; });
    });
    $('scans-more').addEventListener('click', () => load(true));
    readFilters();
    load(false).then(() => {
      // Live status: a scan event refreshes the first page (at most every half second).
      let pending = false;
      follow('/api/events/live?category=scan', () => {
        if (pending || cursor && $('scans').childElementCount > 25) return;
        pending = true;
        setTimeout(() => { pending = false; load(false).catch(() => {}); }, 500);
      });
    });
  }

  /** The steps of a scan as they happened, from its events: what ran, how long, what failed. */
  const timelineOf = (events) => {
    const items = [];
    const open = new Map();
    const start = (key, what, e) => { const item = { what, at: e.recordedAt, state: 'running', detail: '' }; open.set(key, item); items.push(item); return item; };
    const finish = (key, e, state, detail) => {
      const item = open.get(key);
      if (!item) return;
      item.state = state; item.ms = Date.parse(e.recordedAt) - Date.parse(item.at);
      if (detail) item.detail = detail;
      open.delete(key);
    };
    for (const e of events) {
      const d = e.data || {};
      switch (e.type) {
        case 'ScanRequested': items.push({ what: 'Requested', at: e.recordedAt, state: 'done', detail: d.target + ' with the ' + d.scanner + ' scanner, up to ' + d.maxRetries + ' retries' }); break;
        case 'DomainDiscoveryStarted': start('domains', 'Domain discovery' + (d.attempt > 1 ? ' (attempt ' + d.attempt + ')' : ''), e); break;
        case 'DomainsDiscovered': finish('domains', e, 'done', (d.domains || []).length + ' associated domains'); break;
        case 'SubdomainDiscoveryStarted': start('sub:' + d.domain, 'Subdomains of ' + d.domain + (d.attempt > 1 ? ' (attempt ' + d.attempt + ')' : ''), e); break;
        case 'SubdomainsDiscovered': finish('sub:' + d.domain, e, 'done', (d.findings || []).length + ' findings' + (d.wildcard ? ', wildcard DNS' : '')); break;
        case 'StepAttemptFailed': {
          const key = d.domain ? 'sub:' + d.domain : 'domains';
          const retry = d.nextRetryAt ? '; retry at ' + when(d.nextRetryAt) : '; no attempt left';
          if (open.has(key)) finish(key, e, 'failed', d.error + retry);
          else items.push({ what: 'Attempt ' + d.attempt + ' failed', at: e.recordedAt, state: 'failed', detail: d.error + retry });
          break;
        }
        case 'ScanCompleted': items.push({ what: 'Completed', at: e.recordedAt, state: 'done', detail: 'score ' + (d.score?.score ?? '') }); break;
        case 'ScanFailed': items.push({ what: 'Failed', at: e.recordedAt, state: 'failed', detail: d.reason }); break;
        case 'ScanCancelled': items.push({ what: 'Cancelled', at: e.recordedAt, state: 'failed', detail: d.reason }); break;
        default: items.push({ what: e.type, at: e.recordedAt, state: 'done', detail: '' });
      }
    }
    return items;
  };

  function analysisPage() {
    const id = location.pathname.split('/').pop();
    const events = [];
    let summary = null;
    let historyDrawn = false;
    $('export-json').href = '/api/scans/' + id + '/export?format=json';
    $('export-csv').href = '/api/scans/' + id + '/export?format=csv';
    $('stream-link').href = '/streams/scan-' + id;
    $('cancel').addEventListener('click', async () => {
      if (!confirm('Cancel this scan? Results that arrive later are ignored.')) return;
      try { await postJson('/api/scans/' + id + '/cancel'); } catch (e) { $('action-error').textContent = e.message; }
    });
    const showSummary = (s) => {
      summary = { ...summary, ...s };
      document.title = 'Scan of ' + s.target + ' · eventscan';
      $('title').textContent = 'Scan of ' + s.target;
      $('status').textContent = s.status; $('status').className = 'badge ' + s.status;
      $('step').textContent = FINAL.includes(s.status) ? (s.failureReason ?? '') : (s.currentStep ? 'Now: ' + s.currentStep : '');
      $('progress').style.width = (s.progressPercent ?? 0) + '%';
      $('progressbar').setAttribute('aria-valuenow', s.progressPercent ?? 0);
      // Actions only when they are valid: a final scan cannot be cancelled, exports need results.
      $('cancel').hidden = FINAL.includes(s.status);
      $('export-json').hidden = $('export-csv').hidden = s.status !== 'COMPLETED';
      $('facts').replaceChildren(
        fact('Scanner', s.scanner), fact('Requested', timeEl(s.requestedAt)),
        fact('Duration', s.durationMs != null ? duration(s.durationMs) : (s.startedAt ? 'running' : '–')),
        fact('Domains', s.domains ?? '–'), fact('Subdomains', s.subdomains ?? '–'),
        fact('Failed attempts', s.failedAttempts ?? '–'), fact('Max retries', s.maxRetries ?? '–'));
      $('score').textContent = s.score ?? '–';
      $('confidence').textContent = s.confidence != null ? 'confidence ' + Math.round(s.confidence * 100) + '%' : '';
      if (s.scoreBreakdown) {
        $('breakdown').replaceChildren(...s.scoreBreakdown.breakdown.map((c) => el('li', {}, el('span', {}, c.name), el('span', { className: 'pts' }, (c.points > 0 ? '+' : '') + c.points), el('span', { className: 'detail' }, c.detail))));
      } else if (!FINAL.includes(s.status)) {
        $('breakdown').replaceChildren(el('li', { className: 'muted' }, 'The score is computed when the scan completes.'));
      }
      if (!historyDrawn && s.target) { historyDrawn = true; drawHistory(s.target); }
    };
    const showFindings = (findings) => {
      const byDomain = new Map();
      findings.forEach((f) => { if (!byDomain.has(f.domain)) byDomain.set(f.domain, []); byDomain.get(f.domain).push(f); });
      $('findings-count').textContent = byDomain.size + ' domains, ' + findings.length + ' findings';
      $('findings').replaceChildren(...[...byDomain].map(([domain, rows], i) => el('details', { className: 'domain', open: i < 3 },
        el('summary', {}, el('span', {}, domain), el('span', { className: 'muted' }, rows.length + (rows.length === 1 ? ' subdomain' : ' subdomains'))),
        el('div', { className: 'table-wrap' }, el('table', {},
          el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Subdomain'), el('th', { scope: 'col' }, 'Type'), el('th', { scope: 'col' }, 'Value'))),
          el('tbody', {}, rows.map((f) => row(f.subdomain, f.recordType, f.value))))))));
      if (!findings.length) $('findings').replaceChildren(el('p', { className: 'empty' }, FINAL.includes(summary?.status) ? 'No findings.' : 'Findings appear as subdomains are discovered.'));
    };
    const showTimeline = () => {
      $('timeline').replaceChildren(...timelineOf(events).map((item) => el('li', { className: item.state },
        el('div', { className: 'head' }, el('span', { className: 'what' }, item.what), timeEl(item.at), el('span', { className: 'dur' }, item.ms != null ? duration(item.ms) : item.state === 'running' ? 'running…' : '')),
        item.detail ? el('div', { className: 'detail' + (item.state === 'failed' ? ' error-text' : '') }, item.detail) : null)));
    };
    const drawHistory = async (target) => {
      const { scans } = await getJson('/api/targets/' + encodeURIComponent(target) + '/history?limit=50');
      const scored = scans.filter((s) => s.score != null).reverse();
      if (scored.length < 2) { $('history-empty').hidden = false; $('history-chart').hidden = true; if (scored.length === 1) $('history-empty').textContent = 'One scored scan so far: ' + scored[0].score + '.'; return; }
      chart($('history-chart'), [{ label: 'Score', color: '#2457d6', width: 2, points: true }], { height: 180, data: [scored.map((s) => Date.parse(s.requestedAt) / 1000), scored.map((s) => s.score)], scales: { y: { range: [0, 100] } } });
    };
    const refresh = async () => {
      const s = await getJson('/api/scans/' + id);
      showSummary(s);
      if (s.findings) showFindings(s.findings);
    };
    // The timeline is rebuilt from the stream itself whenever the live stream signals a change
    // (an event or a summary): scan streams are short, and a re-read cannot skip or repeat.
    let reloading = false;
    let again = false;
    const reloadEvents = async () => {
      if (reloading) { again = true; return; }
      reloading = true;
      try {
        do {
          again = false;
          const body = await getJson('/api/scans/' + id + '/events');
          events.splice(0, events.length, ...body.events);
          showTimeline();
        } while (again);
      } finally { reloading = false; }
      reconcile();
    };
    // The stream is the truth, the summary can lag it: a live summary is the read model's as of
    // at most 5 s after its event, and one read while the read model was held back stays stale if
    // the scan ended meanwhile (its later summaries came with events the page already had). Once
    // the stream has ended the scan, read the summary again until the read model agrees.
    const ENDS = ['ScanCompleted', 'ScanFailed', 'ScanCancelled'];
    let reconciling = false;
    const reconcile = async () => {
      if (reconciling || FINAL.includes(summary?.status) || !events.some((e) => ENDS.includes(e.type))) return;
      reconciling = true;
      try {
        for (let tries = 0; tries < 30 && !FINAL.includes(summary?.status); tries++) {
          try { await refresh(); } catch (e) { /* the next try */ }
          if (!FINAL.includes(summary?.status)) await new Promise((resolve) => setTimeout(resolve, 1000));
        }
      } finally { reconciling = false; }
    };
    // First paint from the read model and the stream, then live.
    Promise.all([refresh(), reloadEvents()]).then(() => {
      follow('/api/scans/' + id + '/live', (event) => {
        reloadEvents();
        if (event.type === 'SubdomainsDiscovered') refresh();
      }, { summary: (s) => { showSummary(s); reloadEvents(); if (FINAL.includes(s.status)) refresh(); } });
    }).catch((e) => { $('status').textContent = 'not found'; $('action-error').textContent = e.message; });
  }

  // ---------------------------------------------------------------- monitor

  function monitorPage() {
    const opened = Date.now();
    let by = 'category';
    let plot = null;
    let rates = null; // { x: [epoch s], total: [], series: {name: []} } in events per second
    let thisSecond = 0;
    const sparks = new Map();
    let lagHistory = [];
    let rebuilding = false;

    const dayStart = () => { const d = new Date(); d.setHours(0, 0, 0, 0); return d.toISOString(); };
    const overview = async () => {
      const o = await getJson('/api/events/overview' + query({ dayStart: dayStart() }));
      $('total-events').textContent = number(o.totalEvents);
      $('events-today').textContent = number(o.eventsToday);
      $('streams').textContent = number(o.streams);
      $('open-failures').textContent = number(o.openFailures);
      const barrier = durationMs(o.barrierAge);
      $('barrier').textContent = duration(barrier) || '0 ms';
      const warn = barrier > 5000;
      $('barrier-card').classList.toggle('warning', warn);
      $('barrier-warning').hidden = !warn;
      showProjections(o.projections);
      showSubscriptions(o.subscriptions);
    };
    const showProjections = (projections) => {
      rebuilding = projections.some((p) => p.state === 'rebuilding');
      if (!changed('projections', projections)) return;
      $('projections').replaceChildren(...projections.map((p) => {
        const state = el('td', {}, badge(p.state));
        if (p.rebuildProgress != null) {
          const pct = Math.round(p.rebuildProgress * 100);
          state.append(el('div', { className: 'bar', role: 'progressbar', 'aria-label': 'Rebuild of ' + p.name, 'aria-valuenow': pct, 'aria-valuemin': 0, 'aria-valuemax': 100 }, el('div', { style: 'width:' + pct + '%' })), el('span', { className: 'muted' }, pct + '%'));
        }
        const actions = el('td', {}, el('div', { className: 'row' },
          el('button', { type: 'button', className: 'small secondary', 'aria-label': 'Rebuild ' + p.name, onclick: () => openReplay(p.name, false) }, 'Rebuild…'),
          el('button', { type: 'button', className: 'small secondary', 'aria-label': 'Replay ' + p.name + ' from a position', onclick: () => openReplay(p.name, true) }, 'Replay…')));
        return el('tr', { 'data-name': p.name }, el('td', {}, p.name), state, el('td', { className: 'num' }, number(p.lag)),
          el('td', { className: 'wide mono' }, p.position),
          el('td', { className: 'wide' }, p.lastRebuildStartedAt ? [timeEl(p.lastRebuildStartedAt), p.lastRebuildDuration != null ? ' (' + duration(durationMs(p.lastRebuildDuration)) + ')' : ''] : '–'), actions);
      }));
    };
    const showSubscriptions = (subscriptions) => {
      const body = $('subscriptions');
      const seen = new Set();
      subscriptions.forEach((s) => {
        seen.add(s.name);
        let tr = body.querySelector('tr[data-name="' + CSS.escape(s.name) + '"]');
        if (!tr) {
          const spark = el('div', { className: 'spark', role: 'img', 'aria-label': 'Lag of ' + s.name + ' over the last 15 minutes' });
          tr = el('tr', { 'data-name': s.name }, el('td', {}, s.name), el('td'), el('td', { className: 'num' }), el('td', {}, spark), el('td', { className: 'wide mono' }), el('td', { className: 'wide' }));
          body.appendChild(tr);
          // One time range and a zero floor for every row, so the sparklines compare at a glance.
          sparks.set(s.name, chart(spark, [{ label: 'lag', color: '#e8590c', fill: 'rgba(232,89,12,.12)' }], { height: 32, legend: false, cursor: { show: false }, axes: [{ show: false }, { show: false }],
            scales: { x: { time: true, range: () => [Date.now() / 1000 - 900, Date.now() / 1000] }, y: { range: (u, min, max) => [0, Math.max(1, max)] } } }));
          drawSpark(s.name);
        }
        const cells = tr.children;
        cells[1].replaceChildren(badge(s.state));
        cells[2].textContent = number(s.lag);
        cells[4].textContent = s.position;
        cells[5].replaceChildren(s.lastError ? el('span', { className: 'error-text' }, s.lastError) : el('span', { className: 'muted' }, s.lastError === undefined ? 'token needed' : 'none'));
      });
      [...body.children].forEach((tr) => { if (!seen.has(tr.dataset.name)) tr.remove(); });
    };
    const drawSpark = (name) => {
      const plotted = sparks.get(name);
      if (!plotted) return;
      const points = lagHistory.filter((s) => name in s.lags);
      plotted.setData([points.map((s) => Date.parse(s.at) / 1000), points.map((s) => s.lags[name])]);
    };
    const lags = async () => {
      lagHistory = (await getJson('/api/events/lag-history')).samples;
      sparks.forEach((_, name) => drawSpark(name));
    };

    // The rate chart: 15 minutes of 10-second buckets from the app's projection, then live.
    const loadRates = async () => {
      const r = await getJson('/api/events/rates' + query({ minutes: 15, by }));
      const step = r.bucketSeconds;
      const top = Object.entries(r.series).sort((a, b) => b[1].reduce((x, y) => x + y, 0) - a[1].reduce((x, y) => x + y, 0)).slice(0, 6).map(([name]) => name);
      rates = { step, x: r.starts.map((s) => Date.parse(s) / 1000), total: r.total.map((n) => n / step), series: Object.fromEntries(top.map((name) => [name, r.series[name].map((n) => n / step)])) };
      const container = $('chart');
      container.replaceChildren();
      plot = chart(container, [{ label: 'all', color: '#18202e', width: 2 }, ...top.map((name) => ({ label: name }))], { data: chartData() });
    };
    const chartData = () => [rates.x, rates.total, ...Object.values(rates.series)];
    const countLive = (event) => {
      if (!rates) return;
      const at = Date.parse(event.recordedAt);
      if (at < opened) return; // the tail's older events are in the history already
      const bucket = Math.floor(at / 1000 / rates.step) * rates.step;
      while (rates.x[rates.x.length - 1] < bucket) {
        rates.x.push(rates.x[rates.x.length - 1] + rates.step); rates.x.shift();
        rates.total.push(0); rates.total.shift();
        Object.values(rates.series).forEach((s) => { s.push(0); s.shift(); });
      }
      const i = rates.x.indexOf(bucket);
      if (i < 0) return;
      rates.total[i] += 1 / rates.step;
      const key = by === 'type' ? event.type : event.streamId.split('-')[0];
      if (rates.series[key]) rates.series[key][i] += 1 / rates.step;
    };
    $('chart-by').addEventListener('change', (e) => { by = e.target.value; loadRates(); });

    // Rebuild (from the start) or replay (after a position), each behind a dry run and a confirmation.
    let target = null;
    const openReplay = (name, fromPosition) => {
      target = { name, fromPosition };
      $('replay-title').textContent = (fromPosition ? 'Replay ' : 'Rebuild ') + name;
      $('replay-help').textContent = fromPosition
        ? 'Moves the projection back to a position and handles every event after it again. The read model is not emptied.'
        : 'Empties the read model and replays every event from the start. Reads may show partial data until it catches up.';
      $('replay-from-label').hidden = !fromPosition;
      $('replay-from').required = fromPosition;
      $('replay-plan').textContent = '';
      $('replay-confirm').textContent = fromPosition ? 'Replay' : 'Rebuild';
      $('replay-dialog').showModal();
      dryRun();
    };
    const replayQuery = (extra) => query({ from: target.fromPosition ? $('replay-from').value.trim() : null, ...extra });
    const dryRun = async () => {
      if (target.fromPosition && !$('replay-from').value.trim()) { $('replay-plan').textContent = 'Enter a position to see what would be replayed.'; return; }
      try {
        const plan = await postJson('/api/events/projections/' + encodeURIComponent(target.name) + '/rebuild' + replayQuery({ dryRun: true }));
        $('replay-plan').textContent = 'Dry run: ' + number(plan.events) + ' events would be replayed, up to ' + plan.upTo + '.';
      } catch (e) { $('replay-plan').textContent = e.message; }
    };
    $('replay-dry').addEventListener('click', dryRun);
    $('replay-dialog').addEventListener('close', async () => {
      if ($('replay-dialog').returnValue !== 'confirm') return;
      try {
        await postJson('/api/events/projections/' + encodeURIComponent(target.name) + '/rebuild' + replayQuery({}));
        await overview();
      } catch (e) { setConnection(e.message, false); }
    });

    // First paint: everything read before the live stream connects.
    Promise.all([overview(), loadRates(), lags()]).finally(() => {
      const feed = $('feed');
      follow('/api/events/live?tail=50', (event) => {
        countLive(event);
        if (Date.now() - Date.parse(event.recordedAt) < 5000) thisSecond++;
        const item = el('li', { className: feed.childElementCount > 0 && Date.parse(event.recordedAt) >= opened ? 'fresh' : '' },
          timeEl(event.recordedAt),
          el('span', {}, el('span', { className: 'type' }, event.type), ' ', link('/streams/' + encodeURIComponent(event.streamId) + '#v' + event.version, event.streamId)),
          el('span', { className: 'meta' }, event.position));
        feed.prepend(item);
        while (feed.childElementCount > 100) feed.lastChild.remove();
      });
      setInterval(() => { $('rate').textContent = number(thisSecond); thisSecond = 0; if (plot && rates) plot.setData(chartData()); }, 1000);
      let tick = 0;
      every(1000, async () => { tick++; if (rebuilding || tick % 3 === 0) await overview(); });
      setInterval(() => lags().catch(() => {}), 5000);
    });
  }

  // ---------------------------------------------------------------- event browser

  const eventRow = (e) => el('tr', {},
    el('td', { className: 'wide mono' }, e.position), el('td', {}, link('/events?type=' + encodeURIComponent(e.type), e.type, { title: 'Only ' + e.type + ' events' })),
    el('td', {}, link('/streams/' + encodeURIComponent(e.streamId) + '#v' + e.version, e.streamId)),
    el('td', { className: 'num' }, e.version), el('td', {}, timeEl(e.recordedAt)));

  function streamsPage() {
    let cursor = null;
    const params = () => ({ prefix: $('prefix').value.trim(), category: $('category').value.trim() });
    const load = async (append) => {
      const body = await getJson('/api/streams' + query({ ...params(), limit: 50, cursor: append ? cursor : null }));
      cursor = body.nextCursor;
      const rows = body.streams.map((s) => el('tr', {},
        el('td', {}, link('/streams/' + encodeURIComponent(s.streamId), s.streamId, { className: 'mono' }), s.deletedAt ? [' ', badge('deleted')] : null),
        el('td', {}, link('/streams?category=' + encodeURIComponent(s.category), s.category)),
        el('td', { className: 'num' }, s.version), el('td', { className: 'wide' }, timeEl(s.createdAt)), el('td', { className: 'wide' }, timeEl(s.updatedAt))));
      if (append) $('streams').append(...rows); else $('streams').replaceChildren(...rows);
      $('streams-more').hidden = !cursor;
      $('streams-empty').hidden = $('streams').childElementCount > 0;
    };
    const p = new URLSearchParams(location.search);
    $('prefix').value = p.get('prefix') || '';
    $('category').value = p.get('category') || '';
    $('stream-search').addEventListener('submit', (event) => {
      event.preventDefault();
      history.replaceState(null, '', location.pathname + query(params()));
      load(false).catch((e) => setConnection(e.message, false));
    });
    $('streams-more').addEventListener('click', () => load(true));
    load(false).catch((e) => setConnection(e.message, false));
  }

  function streamPage() {
    const streamId = decodeURIComponent(location.pathname.slice('/streams/'.length));
    const byEventId = new Map();
    let next = 1;
    $('stream-title').textContent = streamId;
    document.title = streamId + ' · eventscan';
    const open = (version) => {
      const item = $('v' + version);
      if (!item) return;
      item.querySelector('details').open = true;
      item.scrollIntoView({ block: 'start' });
      item.querySelector('summary').focus();
    };
    const highlight = (correlationId) => {
      document.querySelectorAll('#stream-events > li').forEach((li) => li.classList.toggle('highlight', li.dataset.correlation === correlationId));
    };
    const eventItem = (e) => {
      const links = el('div', { className: 'links' });
      if (e.correlationId) {
        links.append(el('span', {}, 'correlation ', el('button', { type: 'button', className: 'small secondary', title: 'Highlight the events of this correlation', onclick: () => highlight(e.correlationId) }, e.correlationId)));
      }
      if (e.causationId) {
        const cause = byEventId.get(e.causationId);
        links.append(el('span', {}, 'caused by ', cause ? link('#v' + cause.version, cause.type + ' v' + cause.version, { onclick: () => setTimeout(() => open(cause.version)) }) : el('span', { className: 'mono' }, e.causationId)));
      }
      links.append(link('/events' + query({ category: streamId.split('-')[0] }), 'in the global log'));
      return el('li', { id: 'v' + e.version, 'data-correlation': e.correlationId || '' }, el('details', {},
        el('summary', {}, el('span', { className: 'v' }, 'v' + e.version), el('span', { className: 'type' }, e.type), timeEl(e.recordedAt), el('span', { className: 'pos' }, e.position)),
        el('div', { className: 'body' }, links,
          el('h3', {}, 'Data'), jsonView(e.data),
          el('h3', {}, 'Metadata'), jsonView({ eventId: e.eventId, ...e.metadata }))));
    };
    const load = async () => {
      const body = await getJson('/api/streams/' + encodeURIComponent(streamId) + query({ from: next, limit: 200 }));
      body.events.forEach((e) => byEventId.set(e.eventId, e));
      if (body.info) {
        $('stream-facts').replaceChildren(...[fact('Version', body.info.version), fact('Category', body.info.category), fact('Created', timeEl(body.info.createdAt)), fact('Last event', timeEl(body.info.updatedAt)), body.info.deletedAt ? fact('Deleted', timeEl(body.info.deletedAt)) : null].filter(Boolean));
      }
      $('stream-events').append(...body.events.map(eventItem));
      next = body.nextVersion;
      $('stream-more').hidden = next == null;
    };
    $('stream-more').addEventListener('click', () => load());
    load().then(() => { if (location.hash.startsWith('#v')) open(location.hash.slice(2)); })
      .catch((e) => { $('stream-error').textContent = e.message; });
    window.addEventListener('hashchange', () => { if (location.hash.startsWith('#v')) open(location.hash.slice(2)); });
  }

  function eventsPage() {
    let page = null;
    let live = null;
    const params = () => ({ type: $('log-type').value.trim(), category: $('log-category').value.trim() });
    const show = (body) => {
      page = body;
      $('log').replaceChildren(...body.events.map(eventRow));
      $('log-empty').hidden = body.events.length > 0;
      $('log-older').hidden = !body.older;
      $('log-newer').hidden = !body.newer;
    };
    const load = async (position) => show(await getJson('/api/events' + query({ ...params(), limit: 50, ...position })));
    const stopFollowing = () => { if (live) { live.close(); live = null; setConnection('', false); } };
    const startFollowing = async () => {
      stopFollowing();
      await load({});
      const from = page.events.length ? page.events[0].position : null;
      live = follow('/api/events/live' + query({ ...params(), from }), (e) => {
        $('log').prepend(eventRow(e));
        $('log-empty').hidden = true;
        while ($('log').childElementCount > 200) $('log').lastChild.remove();
      });
    };
    const p = new URLSearchParams(location.search);
    $('log-type').value = p.get('type') || '';
    $('log-category').value = p.get('category') || '';
    $('log-filters').addEventListener('submit', (event) => {
      event.preventDefault();
      history.replaceState(null, '', location.pathname + query(params()));
      ($('follow').checked ? startFollowing() : load({})).catch((e) => setConnection(e.message, false));
    });
    $('follow').addEventListener('change', (e) => (e.target.checked ? startFollowing() : stopFollowing()));
    $('log-older').addEventListener('click', () => { $('follow').checked = false; stopFollowing(); load({ before: page.older }); });
    $('log-newer').addEventListener('click', () => { $('follow').checked = false; stopFollowing(); load({ after: page.newer }); });
    load({}).catch((e) => setConnection(e.message, false));
  }

  // ---------------------------------------------------------------- failures

  function failuresPage() {
    let failures = [];
    let selectedId = null;
    const checked = () => [...document.querySelectorAll('#failures input[type=checkbox]:checked')].map((box) => Number(box.value));
    const updateBulk = () => { const n = checked().length; $('retry-selected').disabled = n === 0; $('retry-selected').textContent = n ? 'Retry ' + n + ' selected' : 'Retry selected'; };
    const load = async () => {
      const body = await getJson('/api/events/failures' + query({ status: $('failure-status').value, subscription: $('failure-subscription').value, limit: 200 }));
      const keep = new Set(checked());
      failures = body.failures;
      if (!changed('failures', [failures, selectedId])) return;
      $('failures').replaceChildren(...failures.map((f) => {
        const box = el('input', { type: 'checkbox', value: f.id, checked: keep.has(f.id), disabled: f.status !== 'open', 'aria-label': 'Select failure ' + f.id });
        box.addEventListener('change', updateBulk);
        const open = el('button', { type: 'button', className: 'small secondary', 'aria-label': 'Show failure ' + f.id, onclick: () => showDetail(f.id) }, f.eventType);
        return el('tr', { 'data-id': f.id, className: f.id === selectedId ? 'selected' : '' }, el('td', {}, box), el('td', {}, f.subscription),
          el('td', {}, open, el('div', {}, link('/streams/' + encodeURIComponent(f.streamId), f.streamId, { className: 'muted' }))),
          el('td', { className: 'wide error-text' }, f.errorMessage), el('td', { className: 'num' }, f.attempts),
          el('td', { className: 'wide' }, timeEl(f.lastFailedAt)), el('td', {}, badge(f.status)));
      }));
      $('failures').setAttribute('aria-busy', 'false');
      $('failures-empty').hidden = failures.length > 0;
      updateBulk();
    };
    const subscriptions = async () => {
      const o = await getJson('/api/events/overview');
      const select = $('failure-subscription');
      const current = select.value || new URLSearchParams(location.search).get('subscription') || '';
      select.replaceChildren(el('option', { value: '' }, 'any'), ...o.subscriptions.map((s) => el('option', { value: s.name }, s.name)));
      select.value = current;
    };
    const showDetail = async (id) => {
      selectedId = id;
      document.querySelectorAll('#failures tr').forEach((tr) => tr.classList.toggle('selected', Number(tr.dataset.id) === id));
      const { failure: f, event } = await getJson('/api/events/failures/' + id);
      $('failure-detail').hidden = false;
      $('detail-title').textContent = 'Failure ' + f.id + ': ' + f.eventType + ' in ' + f.subscription;
      $('detail-status').textContent = f.status; $('detail-status').className = 'badge ' + f.status;
      $('detail-facts').replaceChildren(fact('Subscription', f.subscription), fact('Stream', link('/streams/' + encodeURIComponent(f.streamId) + (event ? '#v' + event.version : ''), f.streamId)),
        fact('Position', f.position), fact('Attempts', f.attempts), fact('First failed', timeEl(f.firstFailedAt)), fact('Last failed', timeEl(f.lastFailedAt)));
      $('detail-error').textContent = f.errorMessage;
      $('detail-stack').textContent = f.errorStack;
      jsonView(event ?? { note: 'the event is no longer readable' }, $('detail-event'));
      $('detail-retry').disabled = $('detail-resolve').disabled = f.status !== 'open';
      $('failure-detail').scrollIntoView({ block: 'nearest' });
    };
    const act = async (ids, action) => {
      const results = await Promise.allSettled(ids.map((id) => postJson('/api/events/failures/' + id + '/' + action)));
      const ok = results.filter((r) => r.status === 'fulfilled');
      const fixed = ok.filter((r) => r.value.status !== 'open').length;
      const errors = results.filter((r) => r.status === 'rejected').map((r) => r.reason.message);
      $('failures-result').textContent = (action === 'retry'
        ? fixed + ' of ' + ids.length + ' retried successfully' + (ok.length > fixed ? ', ' + (ok.length - fixed) + ' failed again' : '')
        : fixed + ' resolved') + (errors.length ? '; ' + errors.join('; ') : '') + '.';
      await load();
      if (selectedId != null) await showDetail(selectedId);
    };
    $('detail-retry').addEventListener('click', () => act([selectedId], 'retry'));
    $('detail-resolve').addEventListener('click', () => act([selectedId], 'resolve'));
    $('retry-selected').addEventListener('click', () => act(checked(), 'retry'));
    $('select-all').addEventListener('change', (e) => { document.querySelectorAll('#failures input[type=checkbox]:not(:disabled)').forEach((box) => { box.checked = e.target.checked; }); updateBulk(); });
    $('failure-filters').addEventListener('submit', (event) => { event.preventDefault(); load(); });
    $('failure-status').value = new URLSearchParams(location.search).get('status') ?? 'open';
    subscriptions().then(load).then(() => {
      const id = Number(new URLSearchParams(location.search).get('id'));
      if (id) showDetail(id);
      every(3000, load);
    }).catch((e) => { $('failures-result').textContent = e.message; });
  }

  // ---------------------------------------------------------------- simulation

  function simulationPage() {
    const x = []; const rates = []; const lags = [];
    let plot = null;
    const show = (s) => {
      $('sim-running').textContent = s.running ? 'yes' : 'no';
      $('sim-produced').textContent = s.produced; $('sim-completed').textContent = s.completed;
      $('sim-failed').textContent = s.failed; $('sim-inflight').textContent = s.inFlight;
      $('sim-backlog').textContent = s.backlog; $('fault-projection').checked = s.projectionFaults;
      $('sim-latency').textContent = s.appendLatencyP50Ms.toFixed(1) + ' / ' + s.appendLatencyP99Ms.toFixed(1);
      $('sim-lag').textContent = s.projectionLag;
      // The grid shows at most the latest 15, refreshed once a second: a pace a person can follow.
      $('sim-latest').replaceChildren(...s.latest.slice(0, 15).map((id) => row(el('td', {}, link('/analyses/' + id, id, { className: 'mono' })), '')));
    };
    let lastLag = 0;
    const act = (promise) => promise.then(show).catch((e) => { $('sim-error').textContent = e.message; });
    $('sim-form').addEventListener('submit', (event) => {
      event.preventDefault(); $('sim-error').textContent = '';
      act(postJson('/api/simulation/start', { ratePerSecond: Number($('rate').value), durationSeconds: Number($('duration').value), failureRate: Number($('failure-rate').value) }));
    });
    $('sim-stop').addEventListener('click', () => act(postJson('/api/simulation/stop')));
    $('sim-reset').addEventListener('click', () => act(postJson('/api/simulation/reset')));
    $('fault-projection').addEventListener('change', (e) => postJson('/api/simulation/faults', { failingProjection: e.target.checked }).catch((err) => { $('sim-error').textContent = err.message; }));
    $('fault-crash').addEventListener('click', () => postJson('/api/simulation/faults/crash-worker').catch((err) => { $('sim-error').textContent = err.message; }));
    setInterval(() => getJson('/api/simulation/status').then((s) => { lastLag = s.projectionLag; show(s); }).catch(() => {}), 1000);
    getJson('/api/simulation/status').then(show);
    // The chart starts with two minutes of history from the rate projection, then goes live.
    getJson('/api/events/rates?minutes=2').then((r) => {
      r.starts.forEach((s, i) => { for (let k = 0; k < r.bucketSeconds; k++) { x.push(Date.parse(s) / 1000 + k); rates.push(r.total[i] / r.bucketSeconds); lags.push(null); } });
      const now = Math.floor(Date.now() / 1000);
      while (x.length && x[x.length - 1] >= now) { x.pop(); rates.pop(); lags.pop(); }
      plot = chart($('sim-chart'), [{ label: 'events/s', paths: bars(), fill: 'rgba(36,87,214,.35)' }, { label: 'projection lag', color: '#b42318', scale: 'lag', width: 2 }],
        { data: [x, rates, lags], axes: [{}, { size: 50 }, { side: 1, scale: 'lag', grid: { show: false }, size: 50 }] });
    }).catch(() => {});
    let thisSecond = 0;
    follow('/api/events/live', () => { thisSecond++; });
    setInterval(() => {
      $('rate-now').textContent = thisSecond;
      x.push(Math.floor(Date.now() / 1000)); rates.push(thisSecond); lags.push(lastLag);
      while (x.length > 120) { x.shift(); rates.shift(); lags.shift(); }
      thisSecond = 0;
      if (plot) plot.setData([x, rates, lags]);
    }, 1000);
  }

  return { analysesPage, analysisPage, monitorPage, streamsPage, streamPage, eventsPage, failuresPage, simulationPage };
})();
