// Hwarang situation room: login, the common operational picture (map + list + incident panel), live.
import './style.css';
import { ApiError, api, apiJson, clearSession, login, onSessionExpired, resume, savedToken, tokenClaims } from './auth';
import { $, h } from './dom';
import { FilterBar } from './filters';
import { applyLang, currentLang, onLangChange, t, toggleLang } from './i18n';
import { bindShortcuts, renderHelp, toggleHelp } from './keys';
import { IncidentList } from './list';
import { LiveConnection, type ConnState } from './live';
import { CopMap, localName } from './map';
import { HEALTH_COLOURS, SEVERITY_COLOURS } from './mapstyle';
import { agencyText } from './agency_text';
import { Attention } from './attention';
import { CameraEditor, isAdmin } from './cameraedit';
import { Overview } from './overview';
import { IncidentPanel } from './panel';
import { forgetSnapshots, snapshotUrl, withdrawSnapshots } from './snapshots';
import { IncidentStore } from './store';
import type { Agency, Incident } from './types';
import { startInbox, stopInbox } from './inbox';
import { installPasswordChange } from './password';
import { ACCESS_CHANGED, accessChangedNow, startExplaining, stopExplaining } from './why';
import { fetchLinkedIncident, linkedIncidentId, rememberIncident } from './deeplink';

const INITIAL_LIMIT = 5000;
const FALLBACK_LIMIT = 1000;
const MAP_UPDATE_MS = 250;

const store = new IncidentStore();
let copMap: CopMap | null = null;
let loggedIn = false;
let session = 0;
let connState: ConnState = 'offline';
let renderPending = false;
let mapTimer: number | undefined;

const live = new LiveConnection({
  lastSeq: () => store.lastSeq,
  incident: (incident) => upsert(incident),
  state: (state) => setConn(state),
  truncated: () => notice(t('truncated')),
  unauthorized: () => logout(t('session_expired')),
  access: () => accessChangedNow(),
});

const list = new IncidentList({
  open: (id) => openIncident(id),
  acknowledge: (id, button) => void acknowledgeFromList(id, button),
  sort: (key) => {
    store.sortBy(key);
    scheduleRender();
  },
});

function regionName(code: string): string {
  const region = copMap?.regions.get(code);
  return region ? localName(region) : code;
}

function agencyName(code: string): string {
  return agencyText(store.agencies.get(code), code, regionName);
}

const panel = new IncidentPanel({
  regionName,
  agencyName,
  zoneName: (zoneId) => {
    if (zoneId === null) return '—';
    const zone = copMap?.zones.get(zoneId);
    return zone ? `${zoneId}. ${localName(zone)}` : String(zoneId);
  },
  agencies: () => [...store.agencies.values()],
  close: () => closePanel(),
});

const filters = new FilterBar(
  {
    zones: () => [...(copMap?.zones.values() ?? [])],
    regions: () => [...(copMap?.regions.values() ?? [])],
    incidentSigungu: () => [...new Set([...store.byId.values()].map((i) => i.sigungu_code))],
    agencies: () => [...store.agencies.values()],
    agencyName,
  },
  (next) => {
    store.filters = next;
    scheduleRender();
  },
);

function notice(message: string): void {
  const el = $('#notice');
  el.textContent = message;
  el.hidden = !message;
}

function setConn(state: ConnState): void {
  connState = state;
  const el = $('[data-testid="connection-state"]');
  el.dataset.state = state;
  el.querySelector('.conn-label')!.textContent = t(`conn_${state}`);
}

// ---- incidents --------------------------------------------------------------------------------

const attention = new Attention((id) => openIncident(id));
const cameraEditor = new CameraEditor();
const overview = new Overview({
  regionName,
  zoneName: (zoneId) => {
    if (zoneId === null) return '—';
    const zone = copMap?.zones.get(zoneId);
    return zone ? `${zoneId}. ${localName(zone)}` : String(zoneId);
  },
  open: (incident) => {
    store.upsert(incident);
    scheduleRender();
    openIncident(incident.id);
  },
});
/** Incidents arriving before the first list is in are history, not news: no alert for them. */
let liveAlerts = false;

function upsert(incident: Incident): void {
  const previous = store.byId.get(incident.id);
  if (!store.upsert(incident)) return;
  if (liveAlerts) attention.consider(incident, previous);
  panel.update(incident);
  scheduleRender();
}

function scheduleRender(): void {
  if (renderPending) return;
  renderPending = true;
  requestAnimationFrame(render);
}

function render(): void {
  renderPending = false;
  if (!loggedIn) return;
  const visible = store.visible();
  list.render(visible, currentLang(), store.sortKey, store.sortDescending);
  if (mapTimer === undefined) {
    mapTimer = window.setTimeout(() => {
      mapTimer = undefined;
      copMap?.setIncidents(store.visible());
    }, copMap && document.documentElement.dataset.mapReady ? MAP_UPDATE_MS : 0);
  }
}

function openIncident(id: string): void {
  const incident = store.byId.get(id);
  if (!incident) return;
  list.select(id);
  list.scrollToSelected();
  panel.open(incident);
  copMap?.select(incident);
  rememberIncident(id);
}

function closePanel(): void {
  panel.close();
  copMap?.select(null);
  if (loggedIn) rememberIncident(null);
}

/** Open the incident the address names (a CAP alert's <web> link), once the list is loaded. */
async function openLinkedIncident(): Promise<void> {
  const id = linkedIncidentId();
  if (!id) return;
  const incident = await fetchLinkedIncident(id, (known) => store.byId.get(known), notice);
  if (!incident) return;
  store.upsert(incident);
  scheduleRender();
  openIncident(incident.id);
}

// Grants or shares changed (why.ts): evidence on screen is fetched again under the new rights.
// The open incident's snapshot is asked first, alone, so its answer is not queued behind the
// dozen requests of the panel's redraw; the redraw then shows that answer at once (cached).
window.addEventListener(ACCESS_CHANGED, () => {
  withdrawSnapshots();
  const id = panel.openId;
  if (!id) return;
  const sha256 = store.byId.get(id)?.snapshot_sha256;
  const first = sha256 ? snapshotUrl(sha256, true).catch(() => '') : Promise.resolve('');
  void first.then(() => {
    if (panel.openId !== id) return;
    closePanel();
    openIncident(id);
  });
});

async function acknowledgeFromList(id: string, button: HTMLButtonElement): Promise<void> {
  button.disabled = true;
  try {
    await api(`/api/v1/incidents/${id}/transitions`, { method: 'POST', json: { to: 'acknowledged' } });
  } catch (err) {
    button.disabled = false;
    if (!(err instanceof ApiError && err.status === 401)) notice(`${t('ack_failed')}: ${err instanceof ApiError ? err.detail : String(err)}`);
  }
}

async function acknowledgeSelected(): Promise<void> {
  const id = panel.openId ?? list.selectedId;
  const incident = id ? store.byId.get(id) : undefined;
  if (!incident || incident.state !== 'new') return;
  if (panel.openId !== id) openIncident(incident.id);
  await panel.transition('acknowledged');
}

async function loadIncidents(): Promise<void> {
  let incidents: Incident[];
  try {
    incidents = await apiJson<Incident[]>(`/api/v1/incidents?limit=${INITIAL_LIMIT}&include_exercise=true`);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 422)) throw err;
    incidents = await apiJson<Incident[]>(`/api/v1/incidents?limit=${FALLBACK_LIMIT}&include_exercise=true`);
  }
  for (const incident of incidents) store.upsert(incident);
}

async function loadAgencies(): Promise<void> {
  const agencies = await apiJson<Agency[]>('/api/v1/agencies');
  store.agencies = new Map(agencies.map((a) => [a.code, a]));
  filters.refresh();
}

// ---- camera search ------------------------------------------------------------------------------

/** Show only one camera's incidents ('' for all): the list, the count and the map follow. */
function setCameraFilter(cameraId: string): void {
  store.camera = cameraId;
  const chip = $<HTMLButtonElement>('#camera-filter');
  chip.hidden = !cameraId;
  chip.textContent = cameraId ? `${t('camera_filter', { camera: cameraId })} ×` : '';
  chip.title = t('camera_filter_clear');
  scheduleRender();
}

function bindCameraSearch(): void {
  const input = $<HTMLInputElement>('#camera-search');
  const results = $<HTMLUListElement>('#camera-results');
  const choose = (id: string): void => {
    results.hidden = true;
    input.value = id;
    setCameraFilter(id);
    copMap?.flyToCamera(id);
  };
  $('#camera-filter').addEventListener('click', () => {
    input.value = '';
    setCameraFilter('');
  });
  input.addEventListener('input', () => {
    if (!input.value.trim() && store.camera) setCameraFilter('');
    const found = copMap?.findCameras(input.value) ?? [];
    results.replaceChildren(
      ...(found.length
        ? found.map((camera) => {
            const item = h('li', { 'data-testid': 'camera-result', 'data-camera-id': camera.id }, h('span', { class: 'mono' }, camera.id), ' ', camera.name);
            item.addEventListener('click', () => choose(camera.id));
            if (isAdmin()) {
              const edit = h('button', { type: 'button', class: 'link', 'data-testid': 'camera-result-edit' }, t('ce_edit'));
              edit.addEventListener('click', (event) => {
                event.stopPropagation();
                results.hidden = true;
                void cameraEditor.show(camera.id);
              });
              item.append(' ', edit);
            }
            return item;
          })
        : [h('li', { class: 'muted' }, t('no_camera'))]),
    );
    results.hidden = !input.value.trim();
  });
  input.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter') return;
    event.preventDefault();
    const first = copMap?.findCameras(input.value, 1)[0];
    if (first) choose(first.id);
  });
}

// ---- legend ---------------------------------------------------------------------------------------

function renderLegend(): void {
  const swatch = (colour: string, label: string, cls = 'dot'): HTMLElement => {
    const dot = h('span', { class: cls });
    dot.style.background = colour;
    return h('span', { class: 'legend-item' }, dot, label);
  };
  $('#legend').replaceChildren(
    h('strong', {}, t('legend_incident')),
    ...Object.entries(SEVERITY_COLOURS).map(([sev, colour]) => swatch(colour, t(`sev_${sev}`))),
    h('strong', {}, t('legend_camera')),
    ...Object.entries(HEALTH_COLOURS).map(([health, colour]) => swatch(colour, t(`health_${health}`), 'dot small')),
  );
}

// ---- session --------------------------------------------------------------------------------------

function showLoginError(message: string): void {
  const error = $('[data-testid="login-error"]');
  error.textContent = message;
  error.hidden = false;
}

function showApp(visible: boolean): void {
  $('#login-view').hidden = visible;
  $('#incident-view').hidden = !visible;
  $('#logout').hidden = !visible;
  $('#help-button').hidden = !visible;
  $('#current-user').hidden = !visible;
  $('[data-testid="connection-state"]').hidden = !visible;
  attention.control.hidden = !visible;
  overview.button.hidden = !visible;
  cameraEditor.button.hidden = !visible || !isAdmin();
  if (!visible) overview.hide();
  if (!visible) cameraEditor.hide();
}

async function start(): Promise<void> {
  performance.mark('hwarang:start');
  const mine = ++session;
  loggedIn = true;
  $('[data-testid="login-error"]').hidden = true;
  $('#current-user').textContent = tokenClaims().sub ?? '';
  showApp(true);
  setConn('connecting');
  copMap = new CopMap($('#map'), (id) => openIncident(id));
  if (isAdmin()) copMap.onEditCamera = (id) => void cameraEditor.show(id);
  cameraEditor.onSaved = () => void copMap?.updateRules(true);
  copMap.onCatalogue = () => {
    filters.refresh();
    panel.relabel();
  };
  filters.refresh();
  void copMap.loadSigunguNames().catch((err) => console.warn('sigungu names', err));
  void loadAgencies().catch((err) => console.warn('agencies', err));
  startExplaining();
  startInbox();
  installPasswordChange();
  try {
    await loadIncidents();
    performance.mark('hwarang:incidents-loaded');
  } catch (err) {
    if (!loggedIn) return;
    console.warn('initial incident list', err);
  }
  if (mine !== session) return;
  scheduleRender();
  liveAlerts = true;
  live.start();
  await openLinkedIncident().catch((err) => console.warn('linked incident', err));
}

function logout(message?: string): void {
  session += 1;
  loggedIn = false;
  liveAlerts = false;
  live.stop();
  stopExplaining();
  stopInbox();
  clearSession(!message);
  closePanel();
  toggleHelp(false);
  copMap?.destroy();
  copMap = null;
  window.clearTimeout(mapTimer);
  mapTimer = undefined;
  store.clear();
  store.camera = '';
  list.clear();
  forgetSnapshots();
  notice('');
  showApp(false);
  if (message) showLoginError(message);
}

async function submitLogin(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const form = event.currentTarget as HTMLFormElement;
  const username = (form.elements.namedItem('username') as HTMLInputElement).value;
  const password = form.elements.namedItem('password') as HTMLInputElement;
  $('[data-testid="login-error"]').hidden = true;
  const outcome = await login(username, password.value);
  if (outcome !== 'ok') {
    showLoginError(t(outcome === 'failed' ? 'login_failed' : 'login_unavailable'));
    return;
  }
  password.value = '';
  void start();
}

/** Hooks for operations and the end-to-end tests: drop or hold the live socket. */
function exposeDebugHooks(): void {
  (window as unknown as Record<string, unknown>).hwarangLive = {
    hold: () => live.hold(),
    release: () => live.release(),
    breakConnection: () => live.breakConnection(),
    lastSeq: () => store.lastSeq,
    state: () => connState,
  };
}

document.addEventListener('DOMContentLoaded', () => {
  $<HTMLFormElement>('#login-form').addEventListener('submit', (event) => void submitLogin(event));
  $('#logout').addEventListener('click', () => logout());
  $('#lang-toggle').addEventListener('click', () => toggleLang());
  onSessionExpired(() => logout(t('session_expired')));
  $('.topbar-right').prepend(cameraEditor.button, overview.button, attention.control);
  (window as unknown as Record<string, unknown>).hwarangAlerts = attention.fired;
  onLangChange(() => {
    attention.relabel();
    overview.relabel();
    cameraEditor.relabel();
    setConn(connState);
    setCameraFilter(store.camera);
    renderHelp();
    renderLegend();
    filters.refresh();
    panel.relabel();
    scheduleRender();
  });
  bindCameraSearch();
  bindShortcuts(
    {
      next: () => moveSelection(1),
      previous: () => moveSelection(-1),
      open: () => list.selectedId && openIncident(list.selectedId),
      acknowledge: () => void acknowledgeSelected(),
      note: () => {
        const id = panel.openId ?? list.selectedId;
        if (!id) return;
        if (panel.openId !== id) openIncident(id);
        panel.focusNote();
      },
      escape: () => closePanel(),
      search: () => $('#camera-search').focus(),
      language: () => toggleLang(),
    },
    () => loggedIn,
  );
  exposeDebugHooks();
  applyLang();
  const saved = savedToken();
  if (saved) {
    void resume(saved).then((ok) => (ok ? start() : logout(t('session_expired'))));
  }
});

function moveSelection(step: number): void {
  const id = list.neighbour(step);
  if (!id) return;
  list.select(id);
  list.scrollToSelected();
  if (panel.openId) openIncident(id);
  else {
    const incident = store.byId.get(id);
    if (incident) copMap?.select(incident);
  }
}
