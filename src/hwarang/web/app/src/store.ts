// The incidents the user may see (latest version of each, by seq), and the list's filters and sort.
import { incidentTitle } from './incident_text';
import { SEVERITIES, STATES, type Agency, type Incident } from './types';

export interface Filters {
  zone: string;
  sido: string;
  sigungu: string;
  agency: string;
  object_class: string;
  severity: string;
  state: string;
  time: string;
}

export const NO_FILTERS: Filters = {
  zone: '', sido: '', sigungu: '', agency: '', object_class: '', severity: '', state: '', time: '',
};

export const TIME_WINDOWS_MS: Record<string, number> = {
  '1h': 3_600_000, '6h': 6 * 3_600_000, '24h': 24 * 3_600_000, '7d': 7 * 24 * 3_600_000,
};

export type SortKey = 'seq' | 'time' | 'severity' | 'title' | 'object_class' | 'camera' | 'state';

const CLOSED = new Set(['resolved', 'false_alarm']);

function agencyConcerns(agency: Agency, incident: Incident): boolean {
  if (incident.shared_with.includes(agency.code) || incident.shared_with.includes(agency.kind)) return true;
  const area = agency.jurisdiction_code;
  return area === null || incident.sido_code === area || incident.sigungu_code === area;
}

export function matches(incident: Incident, f: Filters, agencies: ReadonlyMap<string, Agency>, now: number): boolean {
  if (f.zone && String(incident.zone_id ?? '') !== f.zone) return false;
  if (f.sido && incident.sido_code !== f.sido) return false;
  if (f.sigungu && incident.sigungu_code !== f.sigungu) return false;
  if (f.object_class && incident.object_class !== f.object_class) return false;
  if (f.severity && incident.severity !== f.severity) return false;
  if (f.state === 'open' && CLOSED.has(incident.state)) return false;
  if (f.state && f.state !== 'open' && incident.state !== f.state) return false;
  if (f.time && Date.parse(incident.last_seen) < now - (TIME_WINDOWS_MS[f.time] ?? Infinity)) return false;
  if (f.agency) {
    const agency = agencies.get(f.agency);
    if (agency && !agencyConcerns(agency, incident)) return false;
  }
  return true;
}

/** First detection, then id: neither changes when an incident is updated, so rows stay put. */
function byTime(a: Incident, b: Incident): number {
  return Date.parse(a.first_seen) - Date.parse(b.first_seen) || a.id.localeCompare(b.id);
}

function compare(key: SortKey, a: Incident, b: Incident): number {
  switch (key) {
    case 'seq':
      return a.seq - b.seq;
    case 'time':
      return byTime(a, b);
    case 'severity':
      return SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) || byTime(a, b);
    case 'state':
      return STATES.indexOf(a.state) - STATES.indexOf(b.state) || byTime(a, b);
    case 'title':
      return incidentTitle(a).localeCompare(incidentTitle(b)) || byTime(a, b);
    case 'object_class':
      return a.object_class.localeCompare(b.object_class) || byTime(a, b);
    case 'camera':
      return a.camera_id.localeCompare(b.camera_id) || byTime(a, b);
  }
}

export class IncidentStore {
  readonly byId = new Map<string, Incident>();
  lastSeq = 0;
  filters: Filters = { ...NO_FILTERS };
  /** By first detection, the time the list shows (a sort by last change made rows jump while read). */
  sortKey: SortKey = 'time';
  /** Only this camera's incidents (picked in the camera search); '' for all. */
  camera = '';
  sortDescending = true;
  agencies = new Map<string, Agency>();

  /** Keep the newer version; true when something changed. */
  upsert(incident: Incident): boolean {
    this.lastSeq = Math.max(this.lastSeq, incident.seq);
    const known = this.byId.get(incident.id);
    if (known && known.seq >= incident.seq) return false;
    this.byId.set(incident.id, incident);
    return true;
  }

  clear(): void {
    this.byId.clear();
    this.lastSeq = 0;
  }

  /** Filtered (merged incidents left out) and sorted. */
  visible(now = Date.now()): Incident[] {
    const list = [...this.byId.values()].filter(
      (incident) => !incident.merged_into && (!this.camera || incident.camera_id === this.camera)
        && matches(incident, this.filters, this.agencies, now),
    );
    const sign = this.sortDescending ? -1 : 1;
    return list.sort((a, b) => sign * compare(this.sortKey, a, b));
  }

  sortBy(key: SortKey): void {
    if (this.sortKey === key) this.sortDescending = !this.sortDescending;
    else {
      this.sortKey = key;
      this.sortDescending = key === 'seq' || key === 'time' || key === 'severity';
    }
  }
}
