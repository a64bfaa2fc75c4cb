// The pages' only script: fetch JSON, listen to server-sent events, render with the DOM API
// (textContent everywhere, so data from the outside world is never interpreted as HTML).
const Eventscan = (() => {
  const $ = (id) => document.getElementById(id);
  const cell = (text) => { const td = document.createElement('td'); td.textContent = text ?? ''; return td; };
  const row = (...cells) => { const tr = document.createElement('tr'); cells.forEach((c) => tr.appendChild(c instanceof Node ? c : cell(c))); return tr; };
  const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');
  // With API_TOKEN set, the service answers 401 to changes and to internals: ask for the token
  // once, keep it in this browser, and send it with every request from then on.
  const TOKEN_KEY = 'eventscan.apiToken';
  let tokenPrompt = null;
  let tokenDeclined = false;
  const askToken = () => tokenPrompt ??= new Promise((resolve) => {
    const dialog = document.createElement('dialog');
    dialog.id = 'token-dialog';
    const form = document.createElement('form'); form.method = 'dialog';
    const label = document.createElement('label'); label.textContent = 'This service needs its API token ';
    const input = document.createElement('input');
    input.id = 'api-token'; input.type = 'password'; input.autocomplete = 'off'; input.setAttribute('aria-label', 'API token');
    const button = document.createElement('button'); button.id = 'api-token-submit'; button.textContent = 'Use token';
    label.appendChild(input); form.append(label, button); dialog.appendChild(form); document.body.appendChild(dialog);
    dialog.addEventListener('close', () => {
      const token = input.value.trim();
      dialog.remove(); tokenPrompt = null; tokenDeclined = !token;
      resolve(token || null);
    });
    dialog.showModal();
  });
  const send = (url, options) => {
    const headers = { ...options.headers };
    const token = localStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = 'Bearer ' + token;
    return fetch(url, { ...options, headers });
  };
  const request = async (url, options) => {
    let r = await send(url, options);
    // Background refreshes do not ask again once the user closed the dialog; clicks do.
    if (r.status === 401 && (options.method || !tokenDeclined)) {
      localStorage.removeItem(TOKEN_KEY);
      const token = await askToken();
      if (token) { localStorage.setItem(TOKEN_KEY, token); r = await send(url, options); }
    }
    const json = await r.json();
    if (!r.ok) throw new Error(json.error.message);
    return json;
  };
  const getJson = (url) => request(url, {});
  // Every change is sent as JSON, body or not: the service refuses anything else.
  const postJson = (url, body) => request(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body ?? {}) });

  function analysesPage() {
    const render = async () => {
      const { scans } = await getJson('/api/scans?limit=50');
      const body = $('scans');
      body.replaceChildren(...scans.map((s) => {
        const link = document.createElement('a'); link.href = '/analyses/' + s.id; link.textContent = s.target;
        const status = cell(s.status); status.className = 'status ' + s.status;
        const target = document.createElement('td'); target.appendChild(link);
        return row(target, status, s.progressPercent + '%', s.score ?? '–', when(s.requestedAt));
      }));
    };
    $('new-scan').addEventListener('submit', async (event) => {
      event.preventDefault();
      $('form-error').textContent = '';
      try {
        const created = await postJson('/api/scans', { target: $('target').value, scanner: $('scanner').value, maxRetries: Number($('maxRetries').value) });
        window.location.href = '/analyses/' + created.id;
      } catch (e) { $('form-error').textContent = e.message; }
    });
    render();
    const live = new EventSource('/api/events/live?category=scan');
    let pending = false;
    live.onmessage = () => { if (!pending) { pending = true; setTimeout(() => { pending = false; render(); }, 300); } };
  }

  function analysisPage() {
    const id = window.location.pathname.split('/').pop();
    $('export-json').href = '/api/scans/' + id + '/export?format=json';
    $('export-csv').href = '/api/scans/' + id + '/export?format=csv';
    $('cancel').addEventListener('click', () => postJson('/api/scans/' + id + '/cancel').catch((e) => alert(e.message)));
    const showSummary = (s) => {
      $('title').textContent = 'Analysis of ' + s.target;
      $('status').textContent = s.status; $('status').className = 'status ' + s.status;
      $('step').textContent = s.currentStep ?? (s.failureReason ?? '');
      $('progress').style.width = (s.progressPercent ?? 0) + '%';
      $('score').textContent = s.score ?? '–';
      $('confidence').textContent = s.confidence != null ? '(confidence ' + s.confidence + ')' : '';
      if (s.scoreBreakdown) {
        $('breakdown').replaceChildren(...s.scoreBreakdown.breakdown.map((c) => { const li = document.createElement('li'); li.textContent = c.name + ': ' + c.points + ' (' + c.detail + ')'; return li; }));
      }
    };
    const showFindings = (findings) => $('findings').replaceChildren(...findings.map((f) => row(f.domain, f.subdomain, f.recordType, f.value)));
    const refresh = async () => { const s = await getJson('/api/scans/' + id); showSummary(s); if (s.findings) showFindings(s.findings); };
    refresh();
    const live = new EventSource('/api/scans/' + id + '/live?from=0-0');
    live.addEventListener('summary', (e) => showSummary(JSON.parse(e.data)));
    live.onmessage = (e) => {
      const event = JSON.parse(e.data);
      const type = event.type;
      const line = document.createElement('div');
      line.textContent = when(event.recordedAt) + '  ' + event.type + (event.data.attempt ? ' (attempt ' + event.data.attempt + ')' : '') + (event.data.error ? ': ' + event.data.error : '') + (event.data.domain ? ' ' + event.data.domain : '');
      $('events').appendChild(line);
      if (type === 'SubdomainsDiscovered' || type === 'ScanCompleted') refresh();
    };
  }

  function monitorPage() {
    const counts = [];
    let thisSecond = 0;
    const overview = async () => {
      try {
        const o = await getJson('/api/events/overview');
        $('total-events').textContent = o.totalEvents; $('events-today').textContent = o.eventsToday;
        $('streams').textContent = o.streams; $('open-failures').textContent = o.openFailures;
        $('projections').replaceChildren(...o.projections.map((p) => {
          const button = document.createElement('button'); button.textContent = 'Rebuild'; button.setAttribute('aria-label', 'Rebuild ' + p.name);
          button.addEventListener('click', () => postJson('/api/events/projections/' + p.name + '/rebuild').then(overview));
          const td = document.createElement('td'); td.appendChild(button);
          return row(p.name, p.state, p.lag, p.position, td);
        }));
        const { failures } = await getJson('/api/events/failures?status=open&limit=20');
        $('failures').replaceChildren(...failures.map((f) => {
          const td = document.createElement('td');
          [['Retry', 'retry'], ['Resolve', 'resolve']].forEach(([label, action]) => {
            const b = document.createElement('button'); b.textContent = label; b.setAttribute('aria-label', label + ' failure ' + f.id);
            b.addEventListener('click', () => postJson('/api/events/failures/' + f.id + '/' + action).then(overview).catch((e) => alert(e.message)));
            td.appendChild(b);
          });
          return row(f.subscription, f.eventType + ' ' + f.streamId, f.errorMessage, f.attempts, td);
        }));
        $('failures').setAttribute('aria-busy', 'false');
      } catch (e) { $('connection').textContent = 'overview failed: ' + e.message; }
    };
    const draw = () => {
      const canvas = $('chart'); const g = canvas.getContext('2d');
      g.clearRect(0, 0, canvas.width, canvas.height);
      const max = Math.max(1, ...counts);
      g.fillStyle = '#2457d6';
      counts.forEach((c, i) => { const h = (c / max) * (canvas.height - 10); g.fillRect(i * (canvas.width / 60), canvas.height - h, canvas.width / 60 - 2, h); });
    };
    setInterval(() => { counts.push(thisSecond); if (counts.length > 60) counts.shift(); $('rate').textContent = thisSecond; thisSecond = 0; draw(); }, 1000);
    setInterval(overview, 3000);
    overview();
    // The last 50 events on connect, so a quiet system shows something; a reconnect resumes instead.
    const live = new EventSource('/api/events/live?tail=50');
    live.onopen = () => { $('connection').textContent = 'live'; };
    live.onerror = () => { $('connection').textContent = 'reconnecting…'; };
    const feed = $('feed');
    const onEvent = (e) => {
      const event = JSON.parse(e.data);
      if (Date.now() - Date.parse(event.recordedAt) < 5000) thisSecond++; // not the tail's old events
      const line = document.createElement('div');
      line.className = 'event';
      line.textContent = event.position + '  ' + event.type + '  ' + event.streamId;
      feed.prepend(line);
      while (feed.childElementCount > 200) feed.lastChild.remove();
    };
    live.onmessage = onEvent;
  }

  function simulationPage() {
    const rates = [];
    const lags = [];
    const show = (s) => {
      $('sim-running').textContent = s.running ? 'yes' : 'no';
      $('sim-produced').textContent = s.produced; $('sim-completed').textContent = s.completed;
      $('sim-failed').textContent = s.failed; $('sim-inflight').textContent = s.inFlight;
      $('sim-backlog').textContent = s.backlog; $('fault-projection').checked = s.projectionFaults;
      $('sim-latency').textContent = s.appendLatencyP50Ms.toFixed(1) + ' / ' + s.appendLatencyP99Ms.toFixed(1);
      $('sim-lag').textContent = s.projectionLag; lags.push(s.projectionLag); if (lags.length > 120) lags.shift();
      // The grid shows at most the latest 15, refreshed once a second: a pace a person can follow.
      $('sim-latest').replaceChildren(...s.latest.slice(0, 15).map((id) => {
        const link = document.createElement('a'); link.href = '/analyses/' + id; link.textContent = id;
        const td = document.createElement('td'); td.appendChild(link);
        return row(td, '');
      }));
    };
    const act = (promise) => promise.then(show).catch((e) => { $('sim-error').textContent = e.message; });
    $('sim-form').addEventListener('submit', (event) => {
      event.preventDefault(); $('sim-error').textContent = '';
      act(postJson('/api/simulation/start', { ratePerSecond: Number($('rate').value), durationSeconds: Number($('duration').value), failureRate: Number($('failure-rate').value) }));
    });
    $('sim-stop').addEventListener('click', () => act(postJson('/api/simulation/stop')));
    $('sim-reset').addEventListener('click', () => act(postJson('/api/simulation/reset')));
    $('fault-projection').addEventListener('change', (e) => postJson('/api/simulation/faults', { failingProjection: e.target.checked }).catch((err) => { $('sim-error').textContent = err.message; }));
    $('fault-crash').addEventListener('click', () => postJson('/api/simulation/faults/crash-worker').catch((err) => { $('sim-error').textContent = err.message; }));
    setInterval(() => getJson('/api/simulation/status').then(show).catch(() => {}), 1000);
    getJson('/api/simulation/status').then(show);
    let thisSecond = 0;
    const live = new EventSource('/api/events/live');
    live.onmessage = () => { thisSecond++; };
    const draw = () => {
      const canvas = $('sim-chart'); const g = canvas.getContext('2d');
      g.clearRect(0, 0, canvas.width, canvas.height);
      const w = canvas.width / 120;
      const maxRate = Math.max(1, ...rates); const maxLag = Math.max(1, ...lags);
      g.fillStyle = '#2457d6';
      rates.forEach((r, i) => { const h = (r / maxRate) * (canvas.height - 10); g.fillRect(i * w, canvas.height - h, w - 1, h); });
      g.strokeStyle = '#b42318'; g.beginPath();
      lags.forEach((l, i) => { const y = canvas.height - (l / maxLag) * (canvas.height - 10); if (i === 0) g.moveTo(0, y); else g.lineTo(i * w, y); });
      g.stroke();
    };
    setInterval(() => { $('rate-now').textContent = thisSecond; rates.push(thisSecond); if (rates.length > 120) rates.shift(); thisSecond = 0; draw(); }, 1000);
  }

  return { analysesPage, analysisPage, monitorPage, simulationPage };
})();
