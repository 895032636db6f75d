// The common operational picture's map: regions, zones, cameras (+ field-of-view cones), incidents,
// the selected incident's track and drones, all from the hub's own GeoJSON endpoints.
import type { Feature, FeatureCollection, Point } from 'geojson';
import {
  Map as MlMap,
  Marker,
  NavigationControl,
  Popup,
  ScaleControl,
  setWorkerUrl,
  type GeoJSONSource,
  type MapLayerMouseEvent,
} from 'maplibre-gl';
import 'maplibre-gl/dist/maplibre-gl.css';
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import { ApiError, apiJson, currentToken } from './auth';
import { h } from './dom';
import { fovCone, type CameraProps } from './geometry';
import { incidentTitle } from './incident_text';
import { currentLang, t } from './i18n';
import { openCameraLive } from './liveview';
import { buildStyle, FOV_MIN_ZOOM, RULES_MIN_ZOOM, SIGUNGU_MIN_ZOOM } from './mapstyle';
import type { Incident } from './types';

setWorkerUrl(workerUrl);

const KOREA: [[number, number], [number, number]] = [[124.6, 33.0], [130.9, 38.7]];
const CAMERAS_URL = '/api/v1/map/cameras';
const FOV_MAX_CONES = 4000;
const RULES_URL = '/api/v1/map/rules';
/** At street zoom the rules are fetched again at most this often (an unchanged layer is a 304). */
const RULES_REFRESH_MS = 10_000;
const RULE_MAX_LABELS = 200;
const PANEL_WIDTH_PX = 440;
/** Zoom an opened incident is shown at: its camera's view cone and its track are drawn from 13 on. */
const SELECT_ZOOM = 16;
const FLY_MS = 800;
const DRONE_POLL_MS = 1000;
const DRONE_RETRY_MS = 60_000;

export interface RegionInfo {
  code: string;
  name: string;
  name_en: string;
  level: 'sido' | 'sigungu';
  sido_code: string;
}

export interface ZoneInfo {
  zone_id: number;
  name: string;
  name_en: string;
  sido_codes: string[];
}

interface CameraEntry {
  lon: number;
  lat: number;
  props: CameraProps;
}

const EMPTY: FeatureCollection = { type: 'FeatureCollection', features: [] };

function readTilesSetting(): string {
  const value = document.querySelector<HTMLMetaElement>('meta[name="hwarang-tiles"]')?.content ?? '';
  return value.startsWith('__') ? '' : value.trim();
}

export function localName(item: { name: string; name_en: string }): string {
  return currentLang() === 'en' ? item.name_en || item.name : item.name;
}

/** Where a rule's name goes: the mean of a zone's corners, the middle of a tripwire. */
function ruleAnchor(feature: Feature): [number, number] | null {
  const geometry = feature.geometry;
  const points =
    geometry.type === 'Polygon' ? geometry.coordinates[0].slice(0, -1) : geometry.type === 'LineString' ? geometry.coordinates : [];
  if (!points.length) return null;
  const lon = points.reduce((sum, p) => sum + p[0], 0) / points.length;
  const lat = points.reduce((sum, p) => sum + p[1], 0) / points.length;
  return [lon, lat];
}

export class CopMap {
  readonly map: MlMap;
  readonly cameras = new Map<string, CameraEntry>();
  readonly regions = new Map<string, RegionInfo>();
  readonly zones = new Map<number, ZoneInfo>();
  /** Called when region, zone or camera catalogues change (filters list them). */
  onCatalogue: () => void = () => {};
  private readonly regionCache = new Map<string, Promise<FeatureCollection>>();
  private readonly shownDetail = { sido: '', sigungu: '' };
  private incidentsLoaded!: () => void;
  private readonly incidentsReady = new Promise<void>((resolve) => (this.incidentsLoaded = resolve));
  private droneTimer: number | undefined;
  private readonly tooltip = h('div', { class: 'map-tooltip', 'data-testid': 'map-tooltip' });
  private popup: Popup | null = null;
  private styleReady = false;
  private incidentData: FeatureCollection | null = null;
  private incidentList: readonly Incident[] = [];
  private ruleData: FeatureCollection = EMPTY;
  private rulesFetched = 0;
  private ruleLabels: Marker[] = [];

  /** Set for administrators: the camera popup offers to edit the camera (cameraedit.ts). */
  onEditCamera: ((cameraId: string) => void) | null = null;

  constructor(container: HTMLElement, private readonly onSelect: (incidentId: string) => void) {
    this.map = new MlMap({
      container,
      style: buildStyle(readTilesSetting()),
      bounds: KOREA,
      attributionControl: false,
      dragRotate: false,
      pitchWithRotate: false,
      maxZoom: 19,
      minZoom: 4,
      // Requests MapLibre makes itself (the cameras source) carry the session's token.
      transformRequest: (url) =>
        url.startsWith(`${location.origin}/api/`) ? { url, headers: { Authorization: `Bearer ${currentToken() ?? ''}` } } : { url },
    });
    this.map.on('error', (event) => {
      const sourceId = (event as { sourceId?: string }).sourceId;
      console.warn('map', sourceId ?? '', event.error);
      if (sourceId) document.documentElement.dataset.mapErrors = `${sourceId}: ${String(event.error)}`;
    });
    this.map.addControl(new NavigationControl({ showCompass: false }), 'top-right');
    this.map.addControl(new ScaleControl({ unit: 'metric' }), 'bottom-right');
    this.tooltip.hidden = true;
    container.append(this.tooltip);
    (window as unknown as { hwarangMap: MlMap }).hwarangMap = this.map;
    this.map.on('load', () => {
      this.styleReady = true;
      if (this.incidentData) this.source('incidents').setData(this.incidentData);
      void this.loadStatic();
    });
    this.map.on('moveend', () => {
      void this.updateRegionDetail();
      this.updateCones();
      void this.updateRules();
    });
    this.bindPointer();
  }

  private source(name: string): GeoJSONSource {
    return this.map.getSource(name) as GeoJSONSource;
  }

  private async loadStatic(): Promise<void> {
    performance.mark('hwarang:style-loaded');
    const results = await Promise.allSettled([this.updateRegionDetail(), this.loadZones(), this.loadCameras()]);
    performance.mark('hwarang:layers-loaded');
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    for (const failure of failed) console.warn('map layer', failure.reason);
    if (failed.length) document.documentElement.dataset.mapErrors = failed.map((f) => String(f.reason)).join(' | ');
    this.onCatalogue();
    this.startDrones();
    if (this.incidentData) this.incidentsLoaded();
    await this.incidentsReady;
    this.map.once('idle', () => {
      performance.mark('hwarang:map-ready');
      document.documentElement.dataset.mapReady = '1';
    });
    this.map.triggerRepaint();
  }

  private regionData(level: 'sido' | 'sigungu', detail: string): Promise<FeatureCollection> {
    const key = `${level}:${detail}`;
    let pending = this.regionCache.get(key);
    if (!pending) {
      pending = apiJson<FeatureCollection>(`/api/v1/map/regions?level=${level}&detail=${detail}`);
      pending.catch(() => this.regionCache.delete(key));
      this.regionCache.set(key, pending);
    }
    return pending;
  }

  /** Sido at national zoom; sigungu (loaded on first need) when zoomed in; finer detail further in. */
  private async updateRegionDetail(): Promise<void> {
    const zoom = this.map.getZoom();
    const wanted: Array<['sido' | 'sigungu', string]> = [['sido', zoom < 7 ? 'low' : 'medium']];
    if (zoom >= SIGUNGU_MIN_ZOOM - 0.5) wanted.push(['sigungu', zoom < 10.5 ? 'medium' : 'high']);
    await Promise.all(
      wanted.map(async ([level, detail]) => {
        if (this.shownDetail[level] === detail) return;
        this.shownDetail[level] = detail;
        const data = await this.regionData(level, detail);
        if (this.shownDetail[level] !== detail) return;
        this.source(level).setData(data);
        let added = false;
        for (const feature of data.features) {
          const info = feature.properties as RegionInfo;
          if (!this.regions.has(info.code)) added = true;
          this.regions.set(info.code, info);
        }
        if (added) this.onCatalogue();
      }),
    );
  }

  /** Sigungu names for the filters, without waiting for the user to zoom in. */
  async loadSigunguNames(): Promise<void> {
    const data = await this.regionData('sigungu', 'low');
    for (const feature of data.features) {
      const info = feature.properties as RegionInfo;
      this.regions.set(info.code, info);
    }
    this.onCatalogue();
  }

  private async loadZones(): Promise<void> {
    const data = await apiJson<FeatureCollection>('/api/v1/map/zones');
    this.source('zones').setData(data);
    for (const feature of data.features) {
      const info = feature.properties as ZoneInfo;
      this.zones.set(Number(info.zone_id), info);
    }
  }

  /** MapLibre's worker fetches, parses and clusters the cameras; the page keeps its own index for
   *  search, field-of-view cones and incidents without a position (a second, parallel request). */
  private async loadCameras(): Promise<void> {
    this.source('cameras').setData(`${location.origin}${CAMERAS_URL}`);
    const data = await apiJson<FeatureCollection<Point, CameraProps>>(CAMERAS_URL);
    performance.mark('hwarang:cameras-parsed');
    this.cameras.clear();
    for (const feature of data.features) {
      const [lon, lat] = feature.geometry.coordinates;
      this.cameras.set(feature.properties.id, { lon, lat, props: feature.properties });
    }
    this.updateCones();
    if (this.incidentData) this.setIncidents(this.incidentList);
  }

  private updateCones(): void {
    if (this.map.getZoom() < FOV_MIN_ZOOM - 0.5) return;
    const bounds = this.map.getBounds();
    const cones: Feature[] = [];
    for (const camera of this.cameras.values()) {
      if (!bounds.contains([camera.lon, camera.lat])) continue;
      cones.push(fovCone(camera.lon, camera.lat, camera.props));
      if (cones.length >= FOV_MAX_CONES) break;
    }
    this.source('fov').setData({ type: 'FeatureCollection', features: cones });
  }

  /** At street zoom: the cameras' zones and tripwires on the ground (from their calibration), named
   *  by HTML labels (the style has no glyphs); fetched on the way in and again every 10 s at most,
   *  or at once when `force` (a camera's configuration changed). */
  async updateRules(force = false): Promise<void> {
    if (!this.styleReady) return;
    if (this.map.getZoom() < RULES_MIN_ZOOM - 0.5) {
      this.showRuleLabels([]);
      return;
    }
    if (force || Date.now() - this.rulesFetched > RULES_REFRESH_MS) {
      this.rulesFetched = Date.now();
      try {
        this.ruleData = await apiJson<FeatureCollection>(RULES_URL);
        this.source('rules').setData(this.ruleData);
        document.documentElement.dataset.ruleFeatures = String(this.ruleData.features.length);
      } catch (err) {
        this.rulesFetched = 0;
        console.warn('rules', err);
      }
    }
    if (this.map.getZoom() < RULES_MIN_ZOOM - 0.5) return;
    const bounds = this.map.getBounds();
    const anchors: Array<[Feature, [number, number]]> = [];
    for (const feature of this.ruleData.features) {
      const anchor = ruleAnchor(feature);
      if (anchor && bounds.contains(anchor)) anchors.push([feature, anchor]);
      if (anchors.length >= RULE_MAX_LABELS) break;
    }
    this.showRuleLabels(anchors);
  }

  private showRuleLabels(anchors: Array<[Feature, [number, number]]>): void {
    for (const marker of this.ruleLabels) marker.remove();
    this.ruleLabels = anchors.map(([feature, anchor]) => {
      const p = (feature.properties ?? {}) as { camera_id: string; rule: string; kind: string; type: string };
      const element = h(
        'div',
        { class: 'rule-label', 'data-testid': 'rule-label', 'data-kind': p.kind, 'data-camera-id': p.camera_id, title: t(`rule_${p.type}`) },
        p.rule,
      );
      return new Marker({ element }).setLngLat(anchor).addTo(this.map);
    });
  }

  /** Where an incident is drawn: its own position, else its camera's. */
  position(incident: Incident): [number, number] | null {
    if (incident.geo) return [incident.geo.lon, incident.geo.lat];
    const camera = this.cameras.get(incident.camera_id);
    return camera ? [camera.lon, camera.lat] : null;
  }

  setIncidents(incidents: readonly Incident[]): void {
    this.incidentList = incidents;
    const features: Feature[] = [];
    for (const incident of incidents) {
      const coordinates = this.position(incident);
      if (!coordinates) continue;
      features.push({
        type: 'Feature',
        geometry: { type: 'Point', coordinates },
        properties: {
          id: incident.id, seq: incident.seq, severity: incident.severity, state: incident.state,
          exercise: incident.exercise, title: incidentTitle(incident),
        },
      });
    }
    this.incidentData = { type: 'FeatureCollection', features };
    if (!this.styleReady) return;
    this.source('incidents').setData(this.incidentData);
    this.incidentsLoaded();
  }

  select(incident: Incident | null): void {
    if (!this.styleReady) return;
    this.map.setFilter('incident-selected', ['==', ['get', 'id'], incident?.id ?? '']);
    if (!incident) {
      this.source('track').setData(EMPTY);
      return;
    }
    const position = this.position(incident);
    if (position) {
      // Fly to it at street level, clear of the incident panel that covers the map's right edge.
      const zoom = Math.max(this.map.getZoom(), SELECT_ZOOM);
      this.map.flyTo({ center: position, zoom, offset: [-PANEL_WIDTH_PX / 2, 0], duration: FLY_MS, essential: true });
      this.map.once('moveend', () => {
        document.documentElement.dataset.flownTo = incident.id;
      });
    }
    void this.loadTrack(incident.id);
  }

  private async loadTrack(incidentId: string): Promise<void> {
    try {
      const data = await apiJson<FeatureCollection>(`/api/v1/incidents/${incidentId}/track`);
      this.source('track').setData(data);
    } catch (err) {
      this.source('track').setData(EMPTY);
      if (!(err instanceof ApiError && err.status === 404)) console.warn('track', err);
    }
  }

  /** Camera ids and names containing `query` (case-insensitive), at most `limit`. */
  findCameras(query: string, limit = 8): CameraProps[] {
    const needle = query.trim().toLowerCase();
    if (!needle) return [];
    const found: CameraProps[] = [];
    for (const { props } of this.cameras.values()) {
      if (props.id.toLowerCase().includes(needle) || props.name.toLowerCase().includes(needle)) found.push(props);
      if (found.length >= limit) break;
    }
    return found;
  }

  flyToCamera(cameraId: string): void {
    const camera = this.cameras.get(cameraId);
    if (!camera || !this.styleReady) return;
    this.map.setFilter('camera-selected', ['==', ['get', 'id'], cameraId]);
    this.map.flyTo({ center: [camera.lon, camera.lat], zoom: Math.max(this.map.getZoom(), 15) });
    this.showCameraPopup(camera);
  }

  private showCameraPopup(camera: CameraEntry): void {
    this.popup?.remove();
    const p = camera.props;
    const live = h('button', { type: 'button', class: 'live-button', 'data-testid': 'camera-live-button' }, t('live_open'));
    live.addEventListener('click', () => openCameraLive(p.id, p.name));
    const content = h(
      'div',
      { class: 'camera-popup', 'data-testid': 'camera-popup', 'data-camera-id': p.id },
      h('strong', {}, p.name),
      h('div', { class: 'mono' }, p.id),
      h('div', {}, `${t('legend_camera')}: ${t(`health_${p.health}`)}`),
      ...(p.health_reason ? [h('div', { class: 'health-reason', 'data-testid': 'camera-health-reason' }, p.health_reason)] : []),
      h('div', {}, `${Math.round(p.heading_deg)}° / ${Math.round(p.fov_deg)}° / ${Math.round(p.range_m)} m`),
      live,
    );
    const edit = this.onEditCamera;
    if (edit) {
      const button = h('button', { type: 'button', 'data-testid': 'camera-popup-edit' }, t('ce_edit'));
      button.addEventListener('click', () => edit(p.id));
      content.append(button);
    }
    this.popup = new Popup({ closeButton: true, maxWidth: '260px' })
      .setLngLat([camera.lon, camera.lat])
      .setDOMContent(content)
      .addTo(this.map);
  }

  private bindPointer(): void {
    const map = this.map;
    map.on('click', 'camera-clusters', (e: MapLayerMouseEvent) => {
      if (map.queryRenderedFeatures(e.point, { layers: ['incidents'] }).length) return;
      map.easeTo({ center: e.lngLat, zoom: map.getZoom() + 2 });
    });
    for (const layer of ['incidents', 'cameras', 'camera-clusters']) {
      map.on('mouseenter', layer, () => (map.getCanvas().style.cursor = 'pointer'));
      map.on('mouseleave', layer, () => (map.getCanvas().style.cursor = ''));
    }
    map.on('click', 'incidents', (e: MapLayerMouseEvent) => {
      const id = e.features?.[0]?.properties?.id as string | undefined;
      if (id) this.onSelect(id);
    });
    map.on('click', 'cameras', (e: MapLayerMouseEvent) => {
      if (map.queryRenderedFeatures(e.point, { layers: ['incidents'] }).length) return;
      const id = e.features?.[0]?.properties?.id as string | undefined;
      const camera = id ? this.cameras.get(id) : undefined;
      if (camera) this.showCameraPopup(camera);
    });
    map.on('mousemove', (e) => {
      const layers = ['sigungu-fill', 'sido-fill'].filter((id) => map.getLayer(id));
      const hit = map.queryRenderedFeatures(e.point, { layers })[0];
      const zone = map.queryRenderedFeatures(e.point, { layers: ['zones-fill'] })[0];
      if (!hit && !zone) {
        this.tooltip.hidden = true;
        return;
      }
      const parts = [];
      if (hit) parts.push(localName(hit.properties as RegionInfo));
      if (zone) parts.push(`${t('zone')} ${zone.properties.zone_id}: ${localName(zone.properties as ZoneInfo)}`);
      this.tooltip.textContent = parts.join(' · ');
      this.tooltip.style.left = `${e.point.x + 12}px`;
      this.tooltip.style.top = `${e.point.y + 12}px`;
      this.tooltip.hidden = false;
    });
    map.getCanvas().addEventListener('mouseleave', () => (this.tooltip.hidden = true));
  }

  /** Drones layer while /api/v1/drones/tracks.geojson answers 200; hidden on 404. */
  private startDrones(): void {
    window.clearTimeout(this.droneTimer);
    const poll = async (): Promise<void> => {
      let next = DRONE_POLL_MS;
      try {
        const data = await apiJson<FeatureCollection>('/api/v1/drones/tracks.geojson');
        this.source('drones').setData(data);
        this.setDronesVisible(true);
      } catch (err) {
        this.setDronesVisible(false);
        if (err instanceof ApiError && err.status === 401) return;
        next = DRONE_RETRY_MS;
      }
      this.droneTimer = window.setTimeout(() => void poll(), next);
    };
    void poll();
  }

  private setDronesVisible(visible: boolean): void {
    for (const id of ['drones-line', 'drones-points']) {
      this.map.setLayoutProperty(id, 'visibility', visible ? 'visible' : 'none');
    }
    document.documentElement.dataset.dronesLayer = visible ? 'shown' : 'hidden';
  }

  destroy(): void {
    window.clearTimeout(this.droneTimer);
    this.showRuleLabels([]);
    this.popup?.remove();
    this.map.remove();
    delete (window as unknown as { hwarangMap?: MlMap }).hwarangMap;
    delete document.documentElement.dataset.mapReady;
  }
}
