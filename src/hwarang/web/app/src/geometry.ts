// Client-side geometry: camera field-of-view cones as polygons (no server round trip).
import type { Feature, Polygon } from 'geojson';

const METRES_PER_DEGREE = 111_320;
const ARC_STEPS = 12;

export interface CameraProps {
  id: string;
  name: string;
  center_id: string;
  sido_code: string;
  sigungu_code: string;
  heading_deg: number;
  fov_deg: number;
  range_m: number;
  health: string;
  /** Why the camera is not ok (the edge's last error), when the hub knows. */
  health_reason?: string;
}

function offset(lon: number, lat: number, bearingDeg: number, metres: number): [number, number] {
  const bearing = (bearingDeg * Math.PI) / 180;
  const dLat = (metres * Math.cos(bearing)) / METRES_PER_DEGREE;
  const dLon = (metres * Math.sin(bearing)) / (METRES_PER_DEGREE * Math.cos((lat * Math.PI) / 180));
  return [lon + dLon, lat + dLat];
}

/** The area a camera sees: a sector from its position, heading ± fov/2, out to range_m. */
export function fovCone(lon: number, lat: number, camera: CameraProps): Feature<Polygon> {
  const fov = Math.min(360, Math.max(1, camera.fov_deg));
  const ring: Array<[number, number]> = fov >= 360 ? [] : [[lon, lat]];
  const start = camera.heading_deg - fov / 2;
  for (let i = 0; i <= ARC_STEPS; i += 1) ring.push(offset(lon, lat, start + (fov * i) / ARC_STEPS, camera.range_m));
  ring.push(ring[0]);
  return {
    type: 'Feature',
    geometry: { type: 'Polygon', coordinates: [ring] },
    properties: { id: camera.id, health: camera.health },
  };
}
