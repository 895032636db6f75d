// Hwarang situation-room page: login, live incident list over a resumable WebSocket.
// Plain ES2020, no framework, no external requests (air-gapped).
'use strict';

(() => {
  const TOKEN_KEY = 'hwarang.token';
  const REFRESH_KEY = 'hwarang.refresh';
  const RENEW_BEFORE_MS = 60000; // renew the access token this long before it expires
  const RENEW_RETRY_MS = 10000;
  const LANG_KEY = 'hwarang.lang';
  const INITIAL_LIMIT = 500;
  const BACKOFF_MIN_MS = 1000;
  const BACKOFF_MAX_MS = 30000;
  const PING_MS = 25000;
  const THUMB_CONCURRENCY = 4;
  const CLOSE_UNAUTHORIZED = 4401;

  const I18N = {
    ko: {
      title: '화랑 통합방위 상황실', login_title: '로그인', username: '사용자 ID', password: '비밀번호',
      login: '로그인', logout: '로그아웃', login_failed: '사용자 ID 또는 비밀번호가 올바르지 않습니다.',
      login_unavailable: '서버에 연결할 수 없습니다. 잠시 후 다시 시도하세요.',
      session_expired: '세션이 만료되었습니다. 다시 로그인하세요.',
      incidents: '상황 목록', count: '건수', empty: '표시할 상황이 없습니다.',
      col_snapshot: '스냅샷', col_time: '시각 (KST)', col_severity: '위험도', col_title: '제목',
      col_class: '객체', col_rule: '규칙', col_camera: '카메라', col_state: '상태',
      conn_connecting: '연결 중', conn_live: '실시간', conn_reconnecting: '재연결 중', conn_offline: '연결 끊김',
      truncated: '연결이 오래 끊겨 일부 이전 상황은 목록에 없습니다.', exercise: '훈련', lang_other: 'EN',
      sev_low: '낮음', sev_medium: '보통', sev_high: '높음', sev_critical: '심각',
      state_new: '신규', state_acknowledged: '확인', state_assessing: '평가 중', state_responding: '대응 중',
      state_resolved: '종결', state_false_alarm: '오경보',
      cls_person: '사람', cls_vehicle: '차량', cls_two_wheeler: '이륜차', cls_boat: '선박',
      cls_aircraft: '항공기', cls_animal: '동물', cls_unknown: '미상',
      rule_zone_intrusion: '구역 침입', rule_line_crossing: '선 통과', rule_loitering: '배회', rule_crowding: '군집',
    },
    en: {
      title: 'Hwarang Integrated Defense Situation Room', login_title: 'Log in', username: 'Username',
      password: 'Password', login: 'Log in', logout: 'Log out', login_failed: 'Incorrect username or password.',
      login_unavailable: 'Cannot reach the server. Try again shortly.',
      session_expired: 'Your session expired. Please log in again.',
      incidents: 'Incidents', count: 'Count', empty: 'No incidents to show.',
      col_snapshot: 'Snapshot', col_time: 'Time (KST)', col_severity: 'Severity', col_title: 'Title',
      col_class: 'Object', col_rule: 'Rule', col_camera: 'Camera', col_state: 'State',
      conn_connecting: 'Connecting', conn_live: 'Live', conn_reconnecting: 'Reconnecting', conn_offline: 'Offline',
      truncated: 'Disconnected for long; some older incidents are not listed.', exercise: 'Exercise',
      lang_other: '한국어',
      sev_low: 'Low', sev_medium: 'Medium', sev_high: 'High', sev_critical: 'Critical',
      state_new: 'New', state_acknowledged: 'Acknowledged', state_assessing: 'Assessing',
      state_responding: 'Responding', state_resolved: 'Resolved', state_false_alarm: 'False alarm',
      cls_person: 'Person', cls_vehicle: 'Vehicle', cls_two_wheeler: 'Two-wheeler', cls_boat: 'Boat',
      cls_aircraft: 'Aircraft', cls_animal: 'Animal', cls_unknown: 'Unknown',
      rule_zone_intrusion: 'Zone intrusion', rule_line_crossing: 'Line crossing', rule_loitering: 'Loitering',
      rule_crowding: 'Crowding',
    },
  };

  const KST = new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Asia/Seoul', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  });

  const state = {
    token: null,
    lang: localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'ko',
    incidents: new Map(), // incident id -> latest incident (highest seq)
    rows: new Map(), // incident id -> <tr>
    lastSeq: 0,
    ws: null,
    conn: 'offline',
    backoffMs: BACKOFF_MIN_MS,
    reconnectTimer: null,
    pingTimer: null,
    expiryTimer: null,
    renewing: null, // the one in-flight refresh (a refresh token is usable once)
    login: 0, // bumped by every start and logout, so stale async work can tell
    renderPending: false,
    thumbs: new Map(), // sha256 -> blob URL
    thumbWaiters: new Map(), // sha256 -> [img]
    thumbQueue: [],
    thumbActive: 0,
  };

  const $ = (selector) => document.querySelector(selector);
  const t = (key) => I18N[state.lang][key] ?? I18N.ko[key] ?? key;

  function formatKst(iso) {
    const parts = Object.fromEntries(KST.formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
    return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`;
  }

  function tokenPayload(token) {
    try {
      const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      return JSON.parse(atob(part));
    } catch {
      return {};
    }
  }

  // ---- language ---------------------------------------------------------------------------

  function applyLang() {
    document.documentElement.lang = state.lang;
    document.title = t('title');
    for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
    $('#lang-toggle').textContent = t('lang_other');
    setConn(state.conn);
    for (const incident of state.incidents.values()) fillRow(state.rows.get(incident.id), incident);
  }

  // ---- auth -------------------------------------------------------------------------------

  async function login(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const error = $('[data-testid="login-error"]');
    error.hidden = true;
    const body = new URLSearchParams({ username: form.username.value, password: form.password.value });
    let response;
    try {
      response = await fetch('/api/v1/auth/token', { method: 'POST', body });
    } catch {
      showLoginError(t('login_unavailable'));
      return;
    }
    if (!response.ok) {
      showLoginError(t(response.status === 401 ? 'login_failed' : 'login_unavailable'));
      return;
    }
    const data = await response.json();
    storeTokens(data);
    form.password.value = '';
    start(data.access_token);
  }

  function showLoginError(message) {
    const error = $('[data-testid="login-error"]');
    error.textContent = message;
    error.hidden = false;
  }

  function storeTokens(data) {
    sessionStorage.setItem(TOKEN_KEY, data.access_token);
    if (data.refresh_token) sessionStorage.setItem(REFRESH_KEY, data.refresh_token);
  }

  // Exchange the refresh token for a new access token (and a new refresh token); true on success.
  function renew() {
    if (state.renewing) return state.renewing;
    const refreshToken = sessionStorage.getItem(REFRESH_KEY);
    if (!refreshToken) return Promise.resolve(false);
    state.renewing = (async () => {
      let response;
      try {
        response = await fetch('/api/v1/auth/refresh', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ refresh_token: refreshToken }),
        });
      } catch {
        scheduleRenew(RENEW_RETRY_MS); // hub unreachable: try again
        return false;
      }
      if (!response.ok) {
        sessionStorage.removeItem(REFRESH_KEY);
        return false;
      }
      const data = await response.json();
      if (!state.token) return false; // logged out meanwhile
      storeTokens(data);
      state.token = data.access_token;
      scheduleRenew();
      return true;
    })().finally(() => {
      state.renewing = null;
    });
    return state.renewing;
  }

  function scheduleRenew(delayMs) {
    clearTimeout(state.expiryTimer);
    const exp = tokenPayload(state.token).exp;
    if (!exp) return;
    const remaining = exp * 1000 - Date.now();
    if (!sessionStorage.getItem(REFRESH_KEY)) {
      state.expiryTimer = setTimeout(() => logout(t('session_expired')), Math.max(0, remaining));
      return;
    }
    const delay = delayMs ?? Math.max(0, remaining - RENEW_BEFORE_MS);
    state.expiryTimer = setTimeout(async () => {
      if (!state.token) return;
      if (!(await renew()) && !sessionStorage.getItem(REFRESH_KEY)) logout(t('session_expired'));
    }, delay);
  }

  function revokeRefreshToken() {
    const refreshToken = sessionStorage.getItem(REFRESH_KEY);
    if (!refreshToken || !state.token) return;
    fetch('/api/v1/auth/logout', {
      method: 'POST',
      headers: { Authorization: `Bearer ${state.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: refreshToken }),
    }).catch(() => {});
  }

  function logout(message) {
    state.login += 1;
    stopLive();
    if (!message) revokeRefreshToken();
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(REFRESH_KEY);
    state.token = null;
    clearTimeout(state.expiryTimer);
    for (const url of state.thumbs.values()) URL.revokeObjectURL(url);
    state.thumbs.clear();
    state.thumbWaiters.clear();
    state.thumbQueue = [];
    state.incidents.clear();
    state.rows.clear();
    state.lastSeq = 0;
    $('#incident-rows').replaceChildren();
    updateCount();
    $('#incident-view').hidden = true;
    $('#logout').hidden = true;
    $('#current-user').hidden = true;
    $('[data-testid="connection-state"]').hidden = true;
    $('#login-view').hidden = false;
    if (message) showLoginError(message);
  }

  async function api(path) {
    let response = await fetch(path, { headers: { Authorization: `Bearer ${state.token}` } });
    if (response.status === 401 && state.token && (await renew())) {
      response = await fetch(path, { headers: { Authorization: `Bearer ${state.token}` } });
    }
    if (response.status === 401) {
      logout(t('session_expired'));
      throw new Error('unauthorized');
    }
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return response;
  }

  // ---- incidents --------------------------------------------------------------------------

  function upsert(incident) {
    const known = state.incidents.get(incident.id);
    state.lastSeq = Math.max(state.lastSeq, incident.seq);
    if (known && known.seq >= incident.seq) return;
    state.incidents.set(incident.id, incident);
    let row = state.rows.get(incident.id);
    if (!row) {
      row = document.createElement('tr');
      row.dataset.testid = 'incident-row';
      state.rows.set(incident.id, row);
    }
    fillRow(row, incident);
    scheduleRender();
  }

  function cell(row, content, className) {
    const td = document.createElement('td');
    if (className) td.className = className;
    if (content instanceof Node) td.append(content);
    else td.textContent = content ?? '';
    row.append(td);
    return td;
  }

  function badge(text, className) {
    const span = document.createElement('span');
    span.className = `badge ${className}`;
    span.textContent = text;
    return span;
  }

  function fillRow(row, incident) {
    if (!row) return;
    row.dataset.seq = String(incident.seq);
    row.dataset.incidentId = incident.id;
    row.className = `sev-row-${incident.severity}${incident.exercise ? ' exercise' : ''}`;
    row.replaceChildren();
    const thumbCell = cell(row, '', 'thumb');
    if (incident.snapshot_sha256) {
      const img = document.createElement('img');
      img.alt = '';
      img.dataset.testid = 'incident-thumb';
      thumbCell.append(img);
      showThumb(incident.snapshot_sha256, img);
    }
    cell(row, formatKst(incident.first_seen), 'time').title = incident.first_seen;
    cell(row, badge(t(`sev_${incident.severity}`), `sev-${incident.severity}`));
    const title = cell(row, incident.title, 'title');
    if (incident.exercise) title.prepend(badge(t('exercise'), 'exercise'), ' ');
    cell(row, t(`cls_${incident.object_class}`));
    cell(row, t(`rule_${incident.rule}`));
    cell(row, incident.camera_id, 'mono');
    stateCell(row, incident);
  }

  function scheduleRender() {
    if (state.renderPending) return;
    state.renderPending = true;
    requestAnimationFrame(render);
  }

  function render() {
    state.renderPending = false;
    const ordered = [...state.incidents.values()].sort((a, b) => b.seq - a.seq);
    const body = $('#incident-rows');
    body.replaceChildren(...ordered.map((incident) => state.rows.get(incident.id)));
    updateCount();
  }

  function updateCount() {
    $('[data-testid="incident-count"]').textContent = String(state.incidents.size);
    $('#empty').hidden = state.incidents.size > 0;
  }

  function notice(message) {
    const el = $('#notice');
    el.textContent = message;
    el.hidden = !message;
  }

  // ---- workflow: acknowledge a new incident from the list -------------------------------

  const WORKFLOW_TEXT = {
    ko: { ack: '접수', ack_failed: '접수하지 못했습니다' },
    en: { ack: 'Acknowledge', ack_failed: 'Could not acknowledge' },
  };

  // The state cell; a new incident gets an Acknowledge button. The row itself changes only when
  // the live message with the incident's new seq arrives, like every other change.
  function stateCell(row, incident) {
    const td = cell(row, t(`state_${incident.state}`), 'state');
    td.dataset.testid = 'incident-state';
    td.dataset.state = incident.state;
    if (incident.state !== 'new') return td;
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'ack-button';
    button.dataset.testid = 'ack-button';
    button.textContent = WORKFLOW_TEXT[state.lang].ack;
    button.addEventListener('click', () => acknowledge(incident.id, button));
    td.append(button);
    return td;
  }

  async function acknowledge(incidentId, button) {
    button.disabled = true;
    const send = () => fetch(`/api/v1/incidents/${encodeURIComponent(incidentId)}/transitions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${state.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ to: 'acknowledged' }),
    });
    let detail = '';
    try {
      let response = await send();
      if (response.status === 401 && state.token && (await renew())) response = await send();
      if (response.status === 401) {
        logout(t('session_expired'));
        return;
      }
      if (response.ok) return;
      detail = (await response.json().catch(() => ({}))).detail ?? `HTTP ${response.status}`;
    } catch (err) {
      detail = String(err);
    }
    button.disabled = false;
    notice(`${WORKFLOW_TEXT[state.lang].ack_failed}: ${detail}`);
  }

  // ---- snapshots (fetched with the token: <img> cannot send headers) -----------------------

  function showThumb(sha, img) {
    const url = state.thumbs.get(sha);
    if (url) {
      img.src = url;
      return;
    }
    const waiting = state.thumbWaiters.get(sha);
    if (waiting) {
      waiting.push(img);
      return;
    }
    state.thumbWaiters.set(sha, [img]);
    state.thumbQueue.push(sha);
    pumpThumbs();
  }

  function pumpThumbs() {
    while (state.thumbActive < THUMB_CONCURRENCY && state.thumbQueue.length > 0) {
      const sha = state.thumbQueue.shift();
      state.thumbActive += 1;
      fetchThumb(sha).finally(() => {
        state.thumbActive -= 1;
        pumpThumbs();
      });
    }
  }

  async function fetchThumb(sha) {
    try {
      const blob = await (await api(`/api/v1/snapshots/${sha}`)).blob();
      if (!state.token) return;
      const url = URL.createObjectURL(blob);
      state.thumbs.set(sha, url);
      for (const img of state.thumbWaiters.get(sha) ?? []) img.src = url;
    } catch (err) {
      console.warn('snapshot', sha, err);
    } finally {
      state.thumbWaiters.delete(sha);
    }
  }

  // ---- live connection --------------------------------------------------------------------

  function setConn(conn) {
    state.conn = conn;
    const el = $('[data-testid="connection-state"]');
    el.dataset.state = conn;
    el.querySelector('.conn-label').textContent = t(`conn_${conn}`);
  }

  function connect() {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const url = `${scheme}://${location.host}/api/v1/ws?token=${encodeURIComponent(state.token)}`;
    const ws = new WebSocket(url);
    state.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: 'resume', after_seq: state.lastSeq }));
    ws.onmessage = (message) => onMessage(JSON.parse(message.data));
    ws.onclose = (event) => {
      if (state.ws !== ws) return;
      state.ws = null;
      clearInterval(state.pingTimer);
      if (event.code === CLOSE_UNAUTHORIZED) {
        renew().then((ok) => {
          if (ok) scheduleReconnect();
          else if (state.token) logout(t('session_expired'));
        });
        return;
      }
      scheduleReconnect();
    };
  }

  function onMessage(message) {
    if (message.type === 'hello') {
      setConn('live');
      state.backoffMs = BACKOFF_MIN_MS;
      clearInterval(state.pingTimer);
      state.pingTimer = setInterval(() => state.ws?.send(JSON.stringify({ type: 'ping' })), PING_MS);
    } else if (message.type === 'incident') {
      upsert(message.incident);
    } else if (message.type === 'truncated') {
      notice(t('truncated'));
    } else if (message.type === 'error') {
      console.warn('hub:', message.detail);
    }
  }

  function scheduleReconnect() {
    setConn('reconnecting');
    const delay = state.backoffMs * (0.75 + Math.random() * 0.5);
    state.backoffMs = Math.min(BACKOFF_MAX_MS, state.backoffMs * 2);
    clearTimeout(state.reconnectTimer);
    state.reconnectTimer = setTimeout(() => {
      if (state.token) connect();
    }, delay);
  }

  function stopLive() {
    clearTimeout(state.reconnectTimer);
    clearInterval(state.pingTimer);
    const ws = state.ws;
    state.ws = null;
    if (ws) ws.close(1000);
    setConn('offline');
  }

  async function start(token) {
    const login = ++state.login;
    state.token = token;
    const claims = tokenPayload(token);
    if (claims.exp && claims.exp * 1000 - Date.now() < RENEW_BEFORE_MS && !(await renew())) {
      logout(t('session_expired')); // e.g. a reload after the access token expired
      return;
    }
    scheduleRenew();
    $('[data-testid="login-error"]').hidden = true;
    $('#login-view').hidden = true;
    $('#incident-view').hidden = false;
    $('#logout').hidden = false;
    $('#current-user').textContent = claims.sub ?? '';
    $('#current-user').hidden = false;
    $('[data-testid="connection-state"]').hidden = false;
    setConn('connecting');
    updateCount();
    try {
      const response = await api(`/api/v1/incidents?limit=${INITIAL_LIMIT}&include_exercise=true`);
      for (const incident of await response.json()) upsert(incident);
    } catch (err) {
      if (!state.token) return;
      console.warn('initial incident list', err);
    }
    if (state.login === login) connect();
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('#login-form').addEventListener('submit', login);
    $('#logout').addEventListener('click', () => logout());
    $('#lang-toggle').addEventListener('click', () => {
      state.lang = state.lang === 'ko' ? 'en' : 'ko';
      localStorage.setItem(LANG_KEY, state.lang);
      applyLang();
    });
    applyLang();
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) start(saved);
  });
})();
