// The map's style, built in code: a background colour, the hub's GeoJSON layers, no glyphs, no sprites,
// no external source. An optional same-origin raster tile URL (page <meta name="hwarang-tiles">) goes underneath.
import type { FeatureCollection } from 'geojson';
import type { ExpressionSpecification, LayerSpecification, SourceSpecification, StyleSpecification } from 'maplibre-gl';

export const SEVERITY_COLOURS: Record<string, string> = {
  low: '#66bb6a', medium: '#ffca28', high: '#ff7043', critical: '#e53935',
};
export const HEALTH_COLOURS: Record<string, string> = {
  ok: '#4fc3f7', degraded: '#ffb300', down: '#ef5350', unknown: '#9e9e9e',
};
export const ZONE_COLOURS = [
  '#8e24aa', '#3949ab', '#00897b', '#7cb342', '#f4511e', '#6d4c41', '#d81b60', '#1e88e5', '#c0ca33', '#00acc1', '#5e35b1',
];
/** Sigungu boundaries from this zoom on (sido below). */
export const SIGUNGU_MIN_ZOOM = 8;
/** Camera field-of-view cones from this zoom on. */
export const FOV_MIN_ZOOM = 13;
/** Camera rules (zones, tripwires projected through the calibration) from this zoom on, like the cones. */
export const RULES_MIN_ZOOM = FOV_MIN_ZOOM;
export const RULE_COLOURS: Record<string, string> = { zone: '#ff8a65', line: '#ffee58' };
/** Cameras are clustered up to this zoom, shown one by one above it. */
export const CAMERA_CLUSTER_MAX_ZOOM = 10;

const HEALTH_COUNT = (health: string): ExpressionSpecification =>
  ['+', ['case', ['==', ['get', 'health'], health], 1, 0]] as unknown as ExpressionSpecification;

/** The cameras source: clustered in the worker, and fetched there when `data` is a URL. */
export function camerasSource(data: string | FeatureCollection): SourceSpecification {
  return {
    type: 'geojson', data, buffer: 16, cluster: true, clusterRadius: 30,
    clusterMaxZoom: CAMERA_CLUSTER_MAX_ZOOM,
    clusterProperties: { down: HEALTH_COUNT('down'), degraded: HEALTH_COUNT('degraded') },
  } as SourceSpecification;
}

const empty = (): FeatureCollection => ({ type: 'FeatureCollection', features: [] });

function match(property: string, colours: Record<string, string>, fallback: string): ExpressionSpecification {
  const pairs = Object.entries(colours).flat();
  return ['match', ['get', property], ...pairs, fallback] as unknown as ExpressionSpecification;
}

const CLOSED: ExpressionSpecification = ['in', ['get', 'state'], ['literal', ['resolved', 'false_alarm']]];

function layers(fillOpacity: number): LayerSpecification[] {
  const zoneColour = [
    'match', ['%', ['to-number', ['get', 'zone_id']], ZONE_COLOURS.length],
    ...ZONE_COLOURS.flatMap((colour, i) => [i, colour]), '#888',
  ] as unknown as ExpressionSpecification;
  return [
    { id: 'sido-fill', type: 'fill', source: 'sido', maxzoom: SIGUNGU_MIN_ZOOM, paint: { 'fill-color': '#1b2b3c', 'fill-opacity': fillOpacity } },
    { id: 'sigungu-fill', type: 'fill', source: 'sigungu', minzoom: SIGUNGU_MIN_ZOOM, paint: { 'fill-color': '#1b2b3c', 'fill-opacity': fillOpacity } },
    { id: 'zones-fill', type: 'fill', source: 'zones', paint: { 'fill-color': zoneColour, 'fill-opacity': 0.12 } },
    { id: 'sigungu-line', type: 'line', source: 'sigungu', minzoom: SIGUNGU_MIN_ZOOM, paint: { 'line-color': '#5d7a96', 'line-width': 0.8 } },
    { id: 'sido-line', type: 'line', source: 'sido', paint: { 'line-color': '#8fb3d4', 'line-width': ['interpolate', ['linear'], ['zoom'], 5, 0.8, 10, 2] } },
    { id: 'zones-line', type: 'line', source: 'zones', paint: { 'line-color': zoneColour, 'line-width': 1.5, 'line-dasharray': [3, 2] } },
    { id: 'fov', type: 'fill', source: 'fov', minzoom: FOV_MIN_ZOOM, paint: { 'fill-color': match('health', HEALTH_COLOURS, '#9e9e9e'), 'fill-opacity': 0.18 } },
    { id: 'rules-fill', type: 'fill', source: 'rules', minzoom: RULES_MIN_ZOOM, filter: ['==', ['get', 'kind'], 'zone'], paint: { 'fill-color': RULE_COLOURS.zone, 'fill-opacity': 0.22 } },
    { id: 'rules-outline', type: 'line', source: 'rules', minzoom: RULES_MIN_ZOOM, filter: ['==', ['get', 'kind'], 'zone'], paint: { 'line-color': RULE_COLOURS.zone, 'line-width': 1.2 } },
    { id: 'rules-line', type: 'line', source: 'rules', minzoom: RULES_MIN_ZOOM, filter: ['==', ['get', 'kind'], 'line'], paint: { 'line-color': RULE_COLOURS.line, 'line-width': 3, 'line-dasharray': [2, 1.5] } },
    {
      // National and regional views: clusters (a few hundred circles instead of 50,000), red when
      // some of their cameras are down, amber when some are degraded; sized by how many they hold.
      id: 'camera-clusters', type: 'circle', source: 'cameras', filter: ['has', 'point_count'],
      paint: {
        'circle-color': ['case', ['>', ['get', 'down'], 0], HEALTH_COLOURS.down, ['>', ['get', 'degraded'], 0], HEALTH_COLOURS.degraded, HEALTH_COLOURS.ok],
        'circle-radius': ['step', ['get', 'point_count'], 2.5, 20, 3.5, 100, 5, 500, 7],
        'circle-opacity': 0.55,
      },
    },
    {
      id: 'cameras', type: 'circle', source: 'cameras', filter: ['!', ['has', 'point_count']],
      paint: {
        'circle-color': match('health', HEALTH_COLOURS, '#9e9e9e'),
        'circle-radius': ['interpolate', ['linear'], ['zoom'], 5, 1.2, 10, 3, 15, 6],
        'circle-opacity': 0.85,
      },
    },
    { id: 'camera-selected', type: 'circle', source: 'cameras', filter: ['==', ['get', 'id'], ''], paint: { 'circle-radius': 10, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } },
    { id: 'track-line', type: 'line', source: 'track', filter: ['==', ['geometry-type'], 'LineString'], paint: { 'line-color': '#fff176', 'line-width': 3 } },
    { id: 'track-points', type: 'circle', source: 'track', filter: ['==', ['geometry-type'], 'Point'], paint: { 'circle-color': '#fff176', 'circle-radius': 3 } },
    { id: 'drones-line', type: 'line', source: 'drones', filter: ['==', ['geometry-type'], 'LineString'], layout: { visibility: 'none' }, paint: { 'line-color': '#ce93d8', 'line-width': 2, 'line-dasharray': [2, 1] } },
    {
      id: 'drones-points', type: 'circle', source: 'drones', filter: ['==', ['geometry-type'], 'Point'], layout: { visibility: 'none' },
      paint: {
        'circle-color': ['match', ['get', 'kind'], 'drone', '#ab47bc', 'operator', '#f06292', 'friendly', '#26a69a', '#ab47bc'],
        'circle-radius': 6, 'circle-stroke-color': ['case', ['to-boolean', ['get', 'cooperative']], '#fff', '#ff1744'], 'circle-stroke-width': 2,
      },
    },
    {
      id: 'incidents', type: 'circle', source: 'incidents',
      paint: {
        'circle-color': match('severity', SEVERITY_COLOURS, '#ffca28'),
        'circle-radius': ['interpolate', ['linear'], ['zoom'], 5, 5, 12, 9],
        'circle-opacity': ['case', CLOSED, 0.35, 0.95],
        'circle-stroke-color': ['match', ['get', 'state'], 'new', '#ffffff', 'acknowledged', '#90caf9', 'assessing', '#64b5f6', 'responding', '#42a5f5', '#757575'],
        'circle-stroke-width': ['match', ['get', 'state'], 'new', 2.5, 'resolved', 1, 'false_alarm', 1, 1.5],
      },
    },
    { id: 'incident-selected', type: 'circle', source: 'incidents', filter: ['==', ['get', 'id'], ''], paint: { 'circle-radius': 15, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-color': '#fff', 'circle-stroke-width': 2.5 } },
  ] as LayerSpecification[];
}

/** The whole style; `tiles` is an XYZ raster template on the hub's origin, or empty for none. */
export function buildStyle(tiles: string): StyleSpecification {
  const sources: StyleSpecification['sources'] = {};
  for (const name of ['sido', 'sigungu', 'zones', 'fov', 'rules', 'track', 'drones', 'incidents']) {
    sources[name] = { type: 'geojson', data: empty() };
  }
  sources.cameras = camerasSource(empty());
  const base: LayerSpecification[] = [{ id: 'background', type: 'background', paint: { 'background-color': '#0b1622' } }];
  if (tiles) {
    sources.tiles = { type: 'raster', tiles: [tiles], tileSize: 256 };
    base.push({ id: 'tiles', type: 'raster', source: 'tiles', paint: { 'raster-opacity': 0.8 } });
  }
  return { version: 8, sources, layers: [...base, ...layers(tiles ? 0.15 : 0.9)] };
}
