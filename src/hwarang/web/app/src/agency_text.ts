// Agency names in the page's language. The hub stores one name per agency, often Korean with an
// English gloss in parentheses ("지역방위사단 (regional army division) 28"); the page shows the
// Korean part in Korean, the gloss (or the kind of agency) in English, and the jurisdiction by name.
import { currentLang, t } from './i18n';
import type { Agency } from './types';

const GLOSS = /\s*\(([^()]*[A-Za-z][^()]*)\)/;

/** The agency's name in the page's language; its code when unknown. */
export function agencyText(agency: Agency | undefined, code: string, regionName: (code: string) => string): string {
  if (!agency) return code;
  const where = agency.jurisdiction_code ? regionName(agency.jurisdiction_code) : '';
  const trailingCode = agency.jurisdiction_code ? new RegExp(`\\s*${agency.jurisdiction_code}$`) : null;
  const gloss = GLOSS.exec(agency.name)?.[1]?.trim();
  if (currentLang() === 'en') {
    const base = gloss ? gloss.charAt(0).toUpperCase() + gloss.slice(1) : t(`agency_kind_${agency.kind}`);
    return where ? `${base} (${where})` : base;
  }
  let korean = agency.name.replace(GLOSS, '').trim();
  if (trailingCode && trailingCode.test(korean)) korean = `${korean.replace(trailingCode, '')} (${where})`;
  return korean || agency.name;
}
