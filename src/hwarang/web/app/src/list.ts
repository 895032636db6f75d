// The sortable incident list beside the map (rows keep the data-testids the e2e tests use).
import { $, h } from './dom';
import { t } from './i18n';
import { showSnapshotLazily } from './snapshots';
import type { SortKey } from './store';
import { incidentTitle, motionOnlyText } from './incident_text';
import { formatKst } from './time';
import type { Incident } from './types';

/** Rows rendered at most (the count shows every matching incident; filters narrow the list). */
export const MAX_ROWS = 500;

export interface ListHandlers {
  open: (incidentId: string) => void;
  acknowledge: (incidentId: string, button: HTMLButtonElement) => void;
  sort: (key: SortKey) => void;
}

function badge(text: string, className: string): HTMLSpanElement {
  return h('span', { class: `badge ${className}` }, text);
}

export class IncidentList {
  private readonly rows = new Map<string, { seq: number; lang: string; row: HTMLTableRowElement }>();
  private readonly body = $<HTMLTableSectionElement>('#incident-rows');
  private order: string[] = [];
  selectedId: string | null = null;

  constructor(private readonly handlers: ListHandlers) {
    for (const th of document.querySelectorAll<HTMLElement>('th[data-sort]')) {
      th.tabIndex = 0;
      th.addEventListener('click', () => handlers.sort(th.dataset.sort as SortKey));
    }
  }

  render(incidents: readonly Incident[], lang: string, sortKey: SortKey, descending: boolean): void {
    const shown = incidents.slice(0, MAX_ROWS);
    const rows = shown.map((incident) => this.row(incident, lang));
    this.body.replaceChildren(...rows);
    this.order = shown.map((incident) => incident.id);
    const alive = new Set(this.order);
    for (const id of this.rows.keys()) if (!alive.has(id)) this.rows.delete(id);
    $('[data-testid="incident-count"]').textContent = String(incidents.length);
    $('#empty').hidden = incidents.length > 0;
    const more = $('#more');
    more.hidden = incidents.length <= MAX_ROWS;
    more.textContent = t('more', { n: MAX_ROWS });
    for (const th of document.querySelectorAll<HTMLElement>('th[data-sort]')) {
      th.dataset.sorted = th.dataset.sort === sortKey ? (descending ? 'desc' : 'asc') : '';
    }
    this.markSelected();
  }

  /** The row for an incident, rebuilt only when its seq or the language changed. */
  private row(incident: Incident, lang: string): HTMLTableRowElement {
    const known = this.rows.get(incident.id);
    if (known && known.seq === incident.seq && known.lang === lang) return known.row;
    const row = known?.row ?? h('tr', { 'data-testid': 'incident-row' });
    this.fill(row, incident);
    this.rows.set(incident.id, { seq: incident.seq, lang, row });
    return row;
  }

  private fill(row: HTMLTableRowElement, incident: Incident): void {
    row.dataset.seq = String(incident.seq);
    row.dataset.incidentId = incident.id;
    row.dataset.severity = incident.severity;
    row.className = `sev-row-${incident.severity}${incident.exercise ? ' exercise' : ''}`;
    const thumb = h('td', { class: 'thumb' });
    if (incident.snapshot_sha256) {
      const img = h('img', { alt: '', 'data-testid': 'incident-thumb' });
      showSnapshotLazily(img, incident.snapshot_sha256);
      thumb.append(img);
    }
    const time = h('td', { class: 'time', 'data-testid': 'incident-time', title: incident.first_seen }, formatKst(incident.first_seen));
    const text = incidentTitle(incident);
    const title = h('td', { class: 'title', title: text },
      incident.exercise ? badge(t('exercise'), 'exercise') : null,
      incident.motion_only ? h('span', { class: 'badge motion-only', 'data-testid': 'motion-only-badge', title: motionOnlyText() }, t('motion_only_short')) : null,
      ' ', h('span', { 'data-testid': 'incident-title' }, text));
    const state = h('td', { class: 'state', 'data-testid': 'incident-state', 'data-state': incident.state }, t(`state_${incident.state}`));
    if (incident.state === 'new') {
      const button = h('button', { type: 'button', class: 'ack-button', 'data-testid': 'ack-button' }, t('ack'));
      button.addEventListener('click', (event) => {
        event.stopPropagation();
        this.handlers.acknowledge(incident.id, button);
      });
      state.append(' ', button);
    }
    row.replaceChildren(
      thumb,
      time,
      h('td', {}, badge(t(`sev_${incident.severity}`), `sev-${incident.severity}`)),
      title,
      h('td', {}, t(`cls_${incident.object_class}`)),
      h('td', { class: 'mono camera', title: incident.camera_name ?? incident.camera_id }, incident.camera_id),
      state,
    );
    row.onclick = () => this.handlers.open(incident.id);
  }

  select(id: string | null): void {
    this.selectedId = id;
    this.markSelected();
  }

  private markSelected(): void {
    for (const { row } of this.rows.values()) {
      const selected = row.dataset.incidentId === this.selectedId;
      row.classList.toggle('selected', selected);
      if (selected) row.setAttribute('aria-selected', 'true');
      else row.removeAttribute('aria-selected');
    }
  }

  /** The id `step` rows away from the selected one (j/k). */
  neighbour(step: number): string | null {
    if (this.order.length === 0) return null;
    const index = this.selectedId ? this.order.indexOf(this.selectedId) : -1;
    const next = index < 0 ? 0 : Math.min(this.order.length - 1, Math.max(0, index + step));
    return this.order[next];
  }

  scrollToSelected(): void {
    const entry = this.selectedId ? this.rows.get(this.selectedId) : undefined;
    entry?.row.scrollIntoView({ block: 'nearest' });
  }

  clear(): void {
    this.rows.clear();
    this.order = [];
    this.selectedId = null;
    this.body.replaceChildren();
  }
}
