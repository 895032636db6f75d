// Incident text rendered from the API's codes in the reader's language: titles, severity reasons,
// the motion-only mark. The stored English title stays for CAP/CoT/exports; the page never shows it.
import { t } from './i18n';
import type { Incident, SeverityReason } from './types';

/** "Zone intrusion (harbour-road) · Person · <camera name>" in the current language. */
export function incidentTitle(incident: Incident): string {
  const rule = t(`rule_${incident.rule}`);
  const named = incident.rule_name ? `${rule} (${incident.rule_name})` : rule;
  return `${named} · ${t(`cls_${incident.object_class}`)} · ${incident.camera_name ?? incident.camera_id}`;
}

/** Parameters whose values are codes themselves (a severity, a class, a rule kind, an area kind). */
const CODED: Record<string, string> = { severity: 'sev_', cap: 'sev_', class: 'cls_', rule: 'rule_', kind: 'kind_' };

function param(name: string, value: string): string {
  const prefix = CODED[name];
  return prefix ? t(`${prefix}${value}`) : value;
}

/** One reason as a sentence in the current language (unknown codes show as they are). */
export function reasonText(reason: SeverityReason): string {
  const vars: Record<string, string> = {};
  for (const [name, value] of Object.entries(reason.params ?? {})) vars[name] = param(name, value);
  const key = reason.code === 'exercise' && vars.cap ? 'why_exercise_cap' : `why_${reason.code}`;
  return t(key, vars);
}

/** The motion-only mark's text: the class is a shape guess. */
export function motionOnlyText(): string {
  return t('motion_only');
}

/** The detector(s) behind an incident: model names, or the motion-only fallback, or unknown. */
export function detectorText(incident: Incident): string {
  if (incident.detector_models?.length) return incident.detector_models.join(', ');
  return incident.motion_only ? t('detector_motion') : t('detector_unknown');
}
