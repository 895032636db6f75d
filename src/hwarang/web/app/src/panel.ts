// The incident panel: evidence (snapshot, frame strip), timeline, tasks and the workflow actions.
import { ApiError, api, apiJson } from './auth';
import { $, h, option } from './dom';
import { currentLang, t } from './i18n';
import { detectorText, incidentTitle, motionOnlyText, reasonText } from './incident_text';
import { clipBox, seekClip } from './clips';
import { liveBox } from './liveview';
import { showSnapshot } from './snapshots';
import { formatKst, formatKstTime, humanDuration, isoInMinutes, secondsBetween } from './time';
import { renderTimeline } from './timeline';
import { NEXT_STATES, REASON_REQUIRED, type Agency, type EventRecord, type Incident, type IncidentState, type TimelineEntry } from './types';

const FRAME_STRIP_MAX = 8;

export interface PanelContext {
  regionName: (code: string) => string;
  /** An agency's name in the page's language (its code when unknown). */
  agencyName: (code: string) => string;
  zoneName: (zoneId: number | null) => string;
  agencies: () => Agency[];
  close: () => void;
}

interface Task {
  id: string;
  agency_code: string;
  title: string;
  state: string;
  due_at: string;
}

interface Note {
  id: number;
  author: string;
  at: string;
  text: string;
}

export class IncidentPanel {
  private readonly root = $('#panel');
  private incident: Incident | null = null;
  private refreshTimer: number | undefined;
  private errorLine = h('p', { class: 'error', 'data-testid': 'panel-error', role: 'alert' });
  private noteInput = h('textarea', { 'data-testid': 'note-input', rows: '2', maxlength: '8000' });

  constructor(private readonly ctx: PanelContext) {}

  get openId(): string | null {
    return this.root.hidden ? null : (this.incident?.id ?? null);
  }

  open(incident: Incident): void {
    const same = this.incident?.id === incident.id && !this.root.hidden;
    this.incident = incident;
    this.root.hidden = false;
    this.render(!same);
  }

  close(): void {
    this.root.hidden = true;
    this.incident = null;
    this.root.replaceChildren();
  }

  /** A newer version of the open incident arrived (live): redraw, keep what the user typed. */
  update(incident: Incident): void {
    if (this.openId !== incident.id || (this.incident && this.incident.seq >= incident.seq)) return;
    this.incident = incident;
    this.renderHeader();
    this.renderActions();
    window.clearTimeout(this.refreshTimer);
    this.refreshTimer = window.setTimeout(() => void this.loadTimeline(), 300);
  }

  relabel(): void {
    if (this.incident && !this.root.hidden) this.render(false);
  }

  focusNote(): void {
    this.noteInput.focus();
  }

  private render(fresh: boolean): void {
    const incident = this.incident;
    if (!incident) return;
    if (fresh) {
      this.errorLine = h('p', { class: 'error', 'data-testid': 'panel-error', role: 'alert' });
      this.noteInput = h('textarea', { 'data-testid': 'note-input', rows: '2', maxlength: '8000' });
    }
    this.errorLine.hidden = !this.errorLine.textContent;
    this.root.dataset.incidentId = incident.id;
    const closeButton = h('button', { type: 'button', class: 'close', 'data-testid': 'panel-close', title: t('close') }, '×');
    closeButton.addEventListener('click', () => this.ctx.close());
    this.root.replaceChildren(
      h('div', { class: 'panel-head' }, h('div', { id: 'panel-header' }), closeButton),
      h('div', { id: 'panel-meta', class: 'meta' }),
      h('h3', {}, t('evidence')),
      this.evidence(incident),
      h('h3', {}, t('col_state')),
      h('div', { id: 'panel-actions', class: 'actions' }),
      this.errorLine,
      this.noteForm(),
      this.assignForm(),
      this.taskForm(),
      h('h3', {}, t('tasks')),
      h('ul', { id: 'panel-tasks', class: 'tasks', 'data-testid': 'panel-tasks' }),
      h('h3', {}, t('timeline')),
      h('ol', { id: 'panel-timeline', class: 'timeline', 'data-testid': 'timeline' }),
    );
    this.renderHeader();
    this.renderActions();
    void this.loadTimeline();
    if (fresh) void this.loadFrames(incident);
  }

  private renderHeader(): void {
    const incident = this.incident;
    if (!incident) return;
    $('#panel-header').replaceChildren(
      h('span', { class: `badge sev-${incident.severity}` }, t(`sev_${incident.severity}`)),
      ' ',
      h('span', { class: 'badge state', 'data-testid': 'panel-state', 'data-state': incident.state }, t(`state_${incident.state}`)),
      incident.exercise ? h('span', { class: 'badge exercise' }, t('exercise')) : '',
      h('h2', { 'data-testid': 'panel-title' }, incidentTitle(incident)),
      incident.motion_only
        ? h('p', { class: 'motion-only', 'data-testid': 'panel-motion-only', role: 'note' }, motionOnlyText())
        : '',
    );
    const camera = incident.camera_name ? `${incident.camera_name} (${incident.camera_id})` : incident.camera_id;
    const rows: Array<[string, string]> = [
      [t('camera'), camera],
      [t('detector'), detectorText(incident)],
      [t('region'), `${this.ctx.regionName(incident.sido_code)} ${this.ctx.regionName(incident.sigungu_code)}`],
      [t('zone'), this.ctx.zoneName(incident.zone_id)],
      [t('seen'), `${formatKst(incident.first_seen)} – ${formatKst(incident.last_seen).slice(11)} KST`],
      [t('events'), String(incident.event_ids.length)],
      [t('assignee'), incident.assignee ?? '—'],
    ];
    const reasons = (incident.severity_reasons ?? []).map((reason) =>
      h('li', { 'data-code': reason.code }, reasonText(reason)));
    $('#panel-meta').replaceChildren(
      h('dl', {}, ...rows.flatMap(([label, value]) => [h('dt', {}, label), h('dd', {}, value)])),
      reasons.length ? h('h3', {}, t('severity_why')) : '',
      reasons.length ? h('ul', { class: 'severity-reasons', 'data-testid': 'severity-reasons' }, ...reasons) : '',
    );
  }

  private evidence(incident: Incident): HTMLElement {
    const box = h('div', { class: 'evidence' });
    if (incident.snapshot_sha256) {
      const img = h('img', { class: 'snapshot', alt: t('snapshot'), 'data-testid': 'panel-snapshot' });
      showSnapshot(img, incident.snapshot_sha256, true);
      box.append(img);
    } else box.append(h('p', { class: 'muted' }, t('no_snapshot')));
    box.append(clipBox(incident.id, incident.event_ids, () => this.incident?.id === incident.id && this.root.isConnected));
    box.append(liveBox(incident.id));
    box.append(h('div', { class: 'frames', 'data-testid': 'frame-strip' }));
    return box;
  }

  /** The snapshots of the incident's latest events, oldest first (each fetch is an audited evidence view). */
  private async loadFrames(incident: Incident): Promise<void> {
    const ids = incident.event_ids.slice(-FRAME_STRIP_MAX);
    if (ids.length < 2) return;
    const events = await Promise.allSettled(ids.map((id) => apiJson<EventRecord>(`/api/v1/events/${id}`)));
    const strip = this.root.querySelector('[data-testid="frame-strip"]');
    if (!strip || this.incident?.id !== incident.id) return;
    for (const result of events) {
      if (result.status !== 'fulfilled' || !result.value.snapshot) continue;
      const event = result.value;
      const img = h('img', { alt: '', title: formatKst(event.occurred_at), 'data-testid': 'frame' });
      img.addEventListener('click', () => seekClip(event.occurred_at));
      showSnapshot(img, event.snapshot!.sha256);
      strip.append(img);
    }
  }

  private renderActions(): void {
    const incident = this.incident;
    const box = this.root.querySelector('#panel-actions');
    if (!incident || !box) return;
    const reason = h('input', { 'data-testid': 'action-reason', placeholder: t('reason'), maxlength: '2000' });
    const buttons = NEXT_STATES[incident.state].map((to) => {
      const button = h('button', { type: 'button', 'data-testid': `action-${to}`, class: `action to-${to}` }, t(`to_${to}`));
      button.addEventListener('click', () => void this.transition(to, reason.value));
      return button;
    });
    box.replaceChildren(...buttons, buttons.some((b) => b.dataset.testid?.endsWith('resolved') || b.dataset.testid?.endsWith('false_alarm')) ? reason : '');
  }

  private showError(err: unknown): void {
    const detail = err instanceof ApiError ? `${err.status}: ${err.detail}` : String(err);
    this.errorLine.textContent = `${t('action_failed')} — ${detail}`;
    this.errorLine.hidden = false;
  }

  private clearError(): void {
    this.errorLine.textContent = '';
    this.errorLine.hidden = true;
  }

  /** POST a workflow request for the open incident; errors from the API are shown in the panel. */
  private async send(path: string, body: unknown): Promise<boolean> {
    const incident = this.incident;
    if (!incident) return false;
    try {
      await api(`/api/v1/incidents/${incident.id}/${path}`, { method: 'POST', json: body });
      this.clearError();
      void this.loadTimeline();
      return true;
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) this.showError(err);
      return false;
    }
  }

  async transition(to: IncidentState, reason = ''): Promise<boolean> {
    if (REASON_REQUIRED.has(to) && !reason.trim()) {
      this.showError(t('reason_needed'));
      return false;
    }
    return this.send('transitions', { to, reason });
  }

  private noteForm(): HTMLElement {
    const form = h('form', { class: 'inline-form', 'data-testid': 'note-form' }, h('label', {}, t('note')), this.noteInput,
      h('button', { type: 'submit', 'data-testid': 'note-submit' }, t('note_add')));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const text = this.noteInput.value.trim();
      if (text && (await this.send('notes', { text }))) this.noteInput.value = '';
    });
    this.noteInput.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) form.requestSubmit();
    });
    return form;
  }

  private assignForm(): HTMLElement {
    const input = h('input', { 'data-testid': 'assign-input', placeholder: t('assign_user'), value: this.incident?.assignee ?? '' });
    const form = h('form', { class: 'inline-form' }, h('label', {}, t('assign')), input,
      h('button', { type: 'submit', 'data-testid': 'assign-submit' }, t('assign')));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.send('assign', { username: input.value.trim() || null });
    });
    return form;
  }

  private taskForm(): HTMLElement {
    const agency = h('select', { 'data-testid': 'task-agency' });
    for (const a of this.ctx.agencies()) agency.append(option(a.code, `${this.ctx.agencyName(a.code)} (${a.code})`));
    const title = h('input', { 'data-testid': 'task-title', placeholder: t('task_title'), maxlength: '256' });
    const due = h('input', { 'data-testid': 'task-due', type: 'number', value: '30', title: t('task_due') });
    const form = h('form', { class: 'inline-form task-form' }, h('label', {}, t('task')), agency, title, due,
      h('button', { type: 'submit', 'data-testid': 'task-submit' }, t('task_send')));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const body = { agency_code: agency.value, title: title.value.trim(), due_at: isoInMinutes(Number(due.value) || 30) };
      if (await this.send('tasks', body)) title.value = '';
    });
    return form;
  }

  /** "due in 25 min (14:36)" or "overdue by 5 min (14:36)", in the page's language. */
  private dueWords(dueIso: string): string {
    const left = secondsBetween(new Date().toISOString(), dueIso);
    const d = humanDuration(left, currentLang());
    return t(left >= 0 ? 'task_due_in' : 'task_overdue', { d, at: formatKstTime(dueIso) });
  }

  private async loadTimeline(): Promise<void> {
    const incident = this.incident;
    if (!incident) return;
    const [timeline, tasks, notes] = await Promise.allSettled([
      apiJson<TimelineEntry[]>(`/api/v1/incidents/${incident.id}/timeline`),
      apiJson<Task[]>(`/api/v1/incidents/${incident.id}/tasks`),
      apiJson<Note[]>(`/api/v1/incidents/${incident.id}/notes`),
    ]);
    const noteById = new Map(notes.status === 'fulfilled' ? notes.value.map((n) => [n.id, n]) : []);
    if (this.incident?.id !== incident.id) return;
    const list = this.root.querySelector('#panel-timeline');
    if (list && timeline.status === 'fulfilled') {
      list.replaceChildren(...renderTimeline(timeline.value, {
        agencyName: this.ctx.agencyName,
        cameraName: (id) => (id === incident.camera_id ? (incident.camera_name ?? id) : id),
        noteText: (id) => noteById.get(id)?.text,
      }));
    }
    const taskList = this.root.querySelector('#panel-tasks');
    if (taskList && tasks.status === 'fulfilled') {
      taskList.replaceChildren(
        ...tasks.value.map((task) =>
          h('li', { 'data-testid': 'task', 'data-state': task.state },
            `${this.ctx.agencyName(task.agency_code)}: ${task.title} — ${t(`task_${task.state}`)} · ${this.dueWords(task.due_at)}`)),
      );
    }
  }
}
