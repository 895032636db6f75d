// The filter bar: zone, sido, local government, agency, class, severity, state, time range.
import { $, option } from './dom';
import { t } from './i18n';
import { localName, type RegionInfo, type ZoneInfo } from './map';
import { NO_FILTERS, TIME_WINDOWS_MS, type Filters } from './store';
import { OBJECT_CLASSES, SEVERITIES, STATES, type Agency } from './types';

export interface FilterSources {
  zones: () => ZoneInfo[];
  regions: () => RegionInfo[];
  /** Sigungu codes that incidents carry (listed even before region names are known). */
  incidentSigungu: () => string[];
  agencies: () => Agency[];
  agencyName: (code: string) => string;
}

type Option = [value: string, label: string];

export class FilterBar {
  private readonly form = $<HTMLFormElement>('#filters');

  constructor(
    private readonly sources: FilterSources,
    private readonly changed: (filters: Filters) => void,
  ) {
    this.form.addEventListener('change', () => this.emit());
    this.form.addEventListener('reset', () => window.setTimeout(() => this.emit()));
  }

  read(): Filters {
    const data = new FormData(this.form);
    const filters = { ...NO_FILTERS };
    for (const key of Object.keys(NO_FILTERS) as Array<keyof Filters>) filters[key] = String(data.get(key) ?? '');
    return filters;
  }

  private emit(): void {
    this.refresh();
    this.changed(this.read());
  }

  private fill(name: keyof Filters, options: Option[]): void {
    const select = this.form.elements.namedItem(name) as HTMLSelectElement;
    const current = select.value;
    select.replaceChildren(option('', t('f_all')), ...options.map(([value, label]) => option(value, label)));
    select.value = options.some(([value]) => value === current) ? current : '';
  }

  /** Rebuild the option lists (catalogues loaded, language switched, sido chosen). */
  refresh(): void {
    const regions = this.sources.regions();
    const names = new Map(regions.map((r) => [r.code, localName(r)]));
    const sido = (this.form.elements.namedItem('sido') as HTMLSelectElement).value;
    this.fill('zone', this.sources.zones().sort((a, b) => a.zone_id - b.zone_id).map((z) => [String(z.zone_id), `${z.zone_id}. ${localName(z)}`]));
    this.fill('sido', regions.filter((r) => r.level === 'sido').sort((a, b) => a.code.localeCompare(b.code)).map((r) => [r.code, localName(r)]));
    const sigungu = new Set([...regions.filter((r) => r.level === 'sigungu').map((r) => r.code), ...this.sources.incidentSigungu()]);
    this.fill('sigungu', [...sigungu].filter((code) => !sido || code.startsWith(sido)).sort().map((code) => [code, names.get(code) ?? code]));
    this.fill('agency', this.sources.agencies().map((a) => [a.code, this.sources.agencyName(a.code)]));
    this.fill('object_class', OBJECT_CLASSES.map((c) => [c, t(`cls_${c}`)]));
    this.fill('severity', [...SEVERITIES].reverse().map((s) => [s, t(`sev_${s}`)]));
    this.fill('state', [['open', t('state_open')], ...STATES.map((s): Option => [s, t(`state_${s}`)])]);
    this.fill('time', Object.keys(TIME_WINDOWS_MS).map((w) => [w, t(`t_${w}`)]));
  }
}
