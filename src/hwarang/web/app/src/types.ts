// Shapes of what the hub's API returns (see src/hwarang/domain and docs/api.md).

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const STATES = ['new', 'acknowledged', 'assessing', 'responding', 'resolved', 'false_alarm'] as const;
export type IncidentState = (typeof STATES)[number];

export const OBJECT_CLASSES = ['person', 'vehicle', 'two_wheeler', 'boat', 'aircraft', 'animal', 'unknown'] as const;

/** Incident state -> the states the workflow lets it move to (mirror of hub/workflow/states.py; tests/unit/api/test_web_workflow_copy.py compares them). */
export const NEXT_STATES: Record<IncidentState, readonly IncidentState[]> = {
  new: ['acknowledged', 'false_alarm'],
  acknowledged: ['assessing', 'responding', 'false_alarm'],
  assessing: ['responding', 'resolved', 'false_alarm'],
  responding: ['resolved', 'false_alarm'],
  resolved: [],
  false_alarm: [],
};
export const REASON_REQUIRED: ReadonlySet<IncidentState> = new Set(['resolved', 'false_alarm']);

export interface GeoPoint {
  lat: number;
  lon: number;
}

export interface Incident {
  id: string;
  seq: number;
  title: string;
  state: IncidentState;
  severity: Severity;
  classification: string;
  object_class: string;
  rule: string;
  camera_id: string;
  center_id: string;
  sido_code: string;
  sigungu_code: string;
  zone_id: number | null;
  geo: GeoPoint | null;
  first_seen: string;
  last_seen: string;
  event_ids: string[];
  snapshot_sha256: string | null;
  exercise: boolean;
  shared_with: string[];
  merged_into: string | null;
  assignee: string | null;
  acknowledged_at?: string | null;
  resolved_at?: string | null;
  /** Codes the page renders the title from (the stored `title` is for exports). */
  rule_name?: string | null;
  camera_name?: string | null;
  severity_reasons?: SeverityReason[];
  /** Every known detector of its events was motion-only: the class is a shape guess. */
  motion_only?: boolean;
  detector_models?: string[];
}

/** Why an incident has its severity: a code and its parameters (see SeverityReasonCode). */
export interface SeverityReason {
  code: string;
  params: Record<string, string>;
}

export interface TimelineEntry {
  id: number;
  incident_id: string;
  at: string;
  actor: string;
  kind: string;
  from_state: string | null;
  to_state: string | null;
  detail: Record<string, unknown>;
}

export interface Agency {
  code: string;
  name: string;
  kind: string;
  jurisdiction_code: string | null;
}

export interface EventRecord {
  id: string;
  occurred_at: string;
  camera_id: string;
  object_class: string;
  snapshot: { sha256: string; width: number; height: number } | null;
}

export interface TokenResponse {
  access_token: string;
  refresh_token?: string;
}

export type LiveMessage =
  | { type: 'hello'; last_seq: number }
  | { type: 'incident'; seq: number; incident: Incident }
  | { type: 'truncated'; after_seq: number; first_seq: number }
  | { type: 'access'; grants: number; shares: number }
  | { type: 'pong' }
  | { type: 'error'; detail: string };
