// The overview of a shift: statistics of the incidents the user may view (by area, severity and
// hour; response times; false alarms per camera) and full-text search, in one overlay.
import { apiJson, ApiError } from './auth';
import { h } from './dom';
import { currentLang, defineStrings, t } from './i18n';
import { incidentTitle } from './incident_text';
import { formatKst, humanDuration } from './time';
import { SEVERITIES, type Incident } from './types';

defineStrings({
  ko: {
    ov_open: '통계·검색', ov_title: '현황 통계와 검색', ov_period: '기간', ov_total: '전체 {n}건',
    ov_h24: '최근 24시간', ov_h168: '최근 7일', ov_h720: '최근 30일',
    ov_by_severity: '위험도별', ov_by_sido: '시도별', ov_by_lg: '시군구별', ov_by_zone: '훈련 구역별',
    ov_by_hour: '시간대별 (KST)', ov_response: '대응 시간 (최초 탐지부터)', ov_ack: '접수까지',
    ov_resolve: '종결까지', ov_median: '중앙값 {d}', ov_p90: '90% {d}', ov_none: '없음',
    ov_false: '카메라별 오경보 비율', ov_false_row: '{camera}: 종결 {closed}건 중 오경보 {false}건 ({share}%)',
    ov_search: '검색 (제목·메모·카메라)', ov_search_go: '검색', ov_results: '검색 결과 {n}건',
    ov_no_results: '일치하는 상황이 없습니다', ov_zone_none: '구역 없음', ov_failed: '불러오지 못했습니다',
  },
  en: {
    ov_open: 'Statistics & search', ov_title: 'Statistics and search', ov_period: 'Period', ov_total: '{n} in all',
    ov_h24: 'Last 24 hours', ov_h168: 'Last 7 days', ov_h720: 'Last 30 days',
    ov_by_severity: 'By severity', ov_by_sido: 'By province', ov_by_lg: 'By local government', ov_by_zone: 'By exercise zone',
    ov_by_hour: 'By hour (KST)', ov_response: 'Response times (from first detection)', ov_ack: 'To acknowledge',
    ov_resolve: 'To resolve', ov_median: 'median {d}', ov_p90: '90% {d}', ov_none: 'none',
    ov_false: 'False-alarm share per camera', ov_false_row: '{camera}: {false} false alarms of {closed} closed ({share}%)',
    ov_search: 'Search (titles, notes, cameras)', ov_search_go: 'Search', ov_results: '{n} results',
    ov_no_results: 'No matching incident', ov_zone_none: 'No zone', ov_failed: 'Could not load',
  },
});

interface Durations { count: number; median_s: number | null; p90_s: number | null }
interface CameraAlarms { camera_id: string; camera_name: string | null; closed: number; false_alarms: number; share: number }
interface Statistics {
  total: number;
  by_zone: Record<string, number>;
  by_sido: Record<string, number>;
  by_local_government: Record<string, number>;
  by_severity: Record<string, number>;
  by_hour_kst: number[];
  acknowledge: Durations;
  resolve: Durations;
  false_alarms_by_camera: CameraAlarms[];
}

export interface OverviewContext {
  regionName: (code: string) => string;
  zoneName: (zoneId: number | null) => string;
  open: (incident: Incident) => void;
}

const PERIODS = [24, 168, 720];

export class Overview {
  private readonly root = h('div', { id: 'overview', class: 'overlay', 'data-testid': 'overview' });
  readonly button = h('button', { type: 'button', id: 'overview-button', 'data-testid': 'overview-button' });
  private hours = 24;
  private query = '';
  private stats: Statistics | null = null;
  private results: Incident[] | null = null;

  constructor(private readonly ctx: OverviewContext) {
    this.root.hidden = true;
    this.button.hidden = true;
    this.button.addEventListener('click', () => void this.show());
    this.root.addEventListener('click', (event) => {
      if (event.target === this.root) this.hide();
    });
    document.body.append(this.root);
    this.relabel();
  }

  get shown(): boolean {
    return !this.root.hidden;
  }

  relabel(): void {
    this.button.textContent = t('ov_open');
    if (this.shown) this.render();
  }

  hide(): void {
    this.root.hidden = true;
  }

  async show(): Promise<void> {
    this.root.hidden = false;
    this.render();
    await this.loadStats();
  }

  private async loadStats(): Promise<void> {
    try {
      this.stats = await apiJson<Statistics>(`/api/v1/statistics?hours=${this.hours}&include_exercise=true`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return;
      this.stats = null;
    }
    this.render();
  }

  private async search(query: string): Promise<void> {
    this.query = query;
    if (!query.trim()) {
      this.results = null;
      this.render();
      return;
    }
    try {
      this.results = await apiJson<Incident[]>(`/api/v1/search?q=${encodeURIComponent(query)}&limit=50`);
    } catch {
      this.results = [];
    }
    this.render();
  }

  private render(): void {
    const period = h('select', { 'data-testid': 'overview-period' },
      ...PERIODS.map((hours) => h('option', { value: String(hours) }, t(`ov_h${hours}`))));
    period.value = String(this.hours);
    period.addEventListener('change', () => {
      this.hours = Number(period.value);
      void this.loadStats();
    });
    const input = h('input', { type: 'search', 'data-testid': 'overview-search', placeholder: t('ov_search'), value: this.query });
    const form = h('form', { class: 'inline-form' }, input, h('button', { type: 'submit', 'data-testid': 'overview-search-go' }, t('ov_search_go')));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.search(input.value);
    });
    const close = h('button', { type: 'button', class: 'close', 'data-testid': 'overview-close', title: t('close') }, '×');
    close.addEventListener('click', () => this.hide());
    this.root.replaceChildren(
      h('div', { class: 'overlay-box overview-box' },
        h('div', { class: 'panel-head' }, h('h2', {}, t('ov_title')), close),
        form,
        this.resultList(),
        h('label', {}, `${t('ov_period')} `, period),
        this.statsView()),
    );
  }

  private resultList(): HTMLElement {
    if (this.results === null) return h('div', {});
    if (!this.results.length) return h('p', { class: 'muted', 'data-testid': 'search-results' }, t('ov_no_results'));
    return h('div', { 'data-testid': 'search-results' },
      h('p', {}, t('ov_results', { n: this.results.length })),
      h('ul', { class: 'search-results' }, ...this.results.map((incident) => {
        const item = h('li', { 'data-testid': 'search-result', 'data-incident-id': incident.id },
          h('span', { class: `badge sev-${incident.severity}` }, t(`sev_${incident.severity}`)), ' ',
          incidentTitle(incident), ' ', h('span', { class: 'muted' }, `${formatKst(incident.first_seen)} KST`));
        item.addEventListener('click', () => {
          this.hide();
          this.ctx.open(incident);
        });
        return item;
      })));
  }

  private statsView(): HTMLElement {
    const s = this.stats;
    if (!s) return h('p', { class: 'muted' }, '…');
    const lang = currentLang();
    const table = (title: string, rows: Array<[string, number]>, testid: string): HTMLElement =>
      h('div', { class: 'stat-block', 'data-testid': testid }, h('h3', {}, title),
        rows.length ? h('table', { class: 'stat-table' }, ...rows.map(([label, n]) =>
          h('tr', {}, h('td', {}, label), h('td', { class: 'num' }, String(n))))) : h('p', { class: 'muted' }, t('ov_none')));
    const sorted = (counts: Record<string, number>): Array<[string, number]> =>
      Object.entries(counts).sort((a, b) => b[1] - a[1]);
    const peak = Math.max(1, ...s.by_hour_kst);
    const hours = h('div', { class: 'stat-block', 'data-testid': 'stat-hours' }, h('h3', {}, t('ov_by_hour')),
      h('div', { class: 'hour-bars' }, ...s.by_hour_kst.map((n, hour) => {
        const bar = h('div', { class: 'hour-bar', title: `${hour}:00 — ${n}`, 'data-hour': String(hour), 'data-count': String(n) });
        bar.style.height = `${Math.round((n / peak) * 60) + 1}px`;
        return bar;
      })));
    const duration = (d: Durations): string => (d.count && d.median_s !== null && d.p90_s !== null
      ? `${t('ov_median', { d: humanDuration(d.median_s, lang) })} · ${t('ov_p90', { d: humanDuration(d.p90_s, lang) })} (${d.count})`
      : t('ov_none'));
    return h('div', { class: 'stats', 'data-testid': 'statistics' },
      h('p', { 'data-testid': 'stat-total' }, t('ov_total', { n: s.total })),
      h('div', { class: 'stat-grid' },
        table(t('ov_by_severity'), [...SEVERITIES].reverse().filter((sev) => s.by_severity[sev]).map((sev) => [t(`sev_${sev}`), s.by_severity[sev]]), 'stat-severity'),
        table(t('ov_by_sido'), sorted(s.by_sido).map(([code, n]) => [this.ctx.regionName(code), n]), 'stat-sido'),
        table(t('ov_by_lg'), sorted(s.by_local_government).slice(0, 10).map(([code, n]) => [this.ctx.regionName(code), n]), 'stat-lg'),
        table(t('ov_by_zone'), sorted(s.by_zone).map(([zone, n]) => [zone === 'none' ? t('ov_zone_none') : this.ctx.zoneName(Number(zone)), n]), 'stat-zone')),
      hours,
      h('div', { class: 'stat-block', 'data-testid': 'stat-response' }, h('h3', {}, t('ov_response')),
        h('p', {}, `${t('ov_ack')}: ${duration(s.acknowledge)}`), h('p', {}, `${t('ov_resolve')}: ${duration(s.resolve)}`)),
      h('div', { class: 'stat-block', 'data-testid': 'stat-false-alarms' }, h('h3', {}, t('ov_false')),
        s.false_alarms_by_camera.length
          ? h('ul', {}, ...s.false_alarms_by_camera.slice(0, 10).map((c) => h('li', { 'data-camera-id': c.camera_id },
            t('ov_false_row', { camera: c.camera_name ?? c.camera_id, closed: c.closed, false: c.false_alarms, share: Math.round(c.share * 100) }))))
          : h('p', { class: 'muted' }, t('ov_none'))));
  }
}
