// The incident named in the address (`/?incident=<id>`, the link CAP alerts carry in <web>): opened
// once the list is loaded, fetched on its own when it is not among the loaded ones; the open incident
// is kept in the address so a link to it can be copied. The hub decides visibility: an incident the
// user may not see reads the same as one that does not exist.

import { ApiError, apiJson } from './auth';
import { defineStrings, t } from './i18n';
import type { Incident } from './types';

defineStrings({
  ko: { link_not_found: '링크의 상황을 찾을 수 없거나 볼 권한이 없습니다.' },
  en: { link_not_found: 'The linked incident does not exist or you may not see it.' },
});

const PARAM = 'incident';
const ID = /^[0-9a-fA-F-]{1,64}$/;

/** The incident id in the address, when it is one. */
export function linkedIncidentId(): string | null {
  const id = new URLSearchParams(window.location.search).get(PARAM);
  return id && ID.test(id) ? id : null;
}

/** Keep `id` (or nothing) in the address without adding a history entry. */
export function rememberIncident(id: string | null): void {
  const url = new URL(window.location.href);
  if (id) url.searchParams.set(PARAM, id);
  else url.searchParams.delete(PARAM);
  if (url.href !== window.location.href) window.history.replaceState(window.history.state, '', url);
}

/** The linked incident: from `loaded` when there, else from the hub; null with a notice when refused. */
export async function fetchLinkedIncident(
  id: string,
  loaded: (id: string) => Incident | undefined,
  notice: (message: string) => void,
): Promise<Incident | null> {
  const known = loaded(id);
  if (known) return known;
  try {
    return await apiJson<Incident>(`/api/v1/incidents/${encodeURIComponent(id)}`);
  } catch (err) {
    if (err instanceof ApiError && [403, 404, 422].includes(err.status)) {
      notice(t('link_not_found'));
      rememberIncident(null);
      return null;
    }
    throw err;
  }
}
