// "Why do I see this?": the hub's /api/v1/visibility messages under the incident list, so a
// partner whose list is empty is told why ("no condition is in force for your area") and what is
// open to them and until when. Refreshed every minute; shown while the list is empty.

import { apiJson } from './auth';
import { $, h } from './dom';

interface Visibility {
  agency_code: string;
  agency_kind: string | null;
  owner: boolean;
  messages: string[];
}

const REFRESH_MS = 60_000;
let timer: number | undefined;

function box(): HTMLUListElement {
  const existing = document.querySelector<HTMLUListElement>('[data-testid="visibility-why"]');
  if (existing) return existing;
  const empty = $('#empty');
  const list = h('ul', { class: 'why', 'data-testid': 'visibility-why' });
  empty.after(list);
  const follow = (): void => {
    list.hidden = empty.hidden;
  };
  new MutationObserver(follow).observe(empty, { attributes: true, attributeFilter: ['hidden'] });
  follow();
  return list;
}

async function refresh(): Promise<void> {
  const body = await apiJson<Visibility>('/api/v1/visibility');
  const list = box();
  list.replaceChildren(...body.messages.map((message) => h('li', {}, message)));
  list.dataset.owner = String(body.owner);
}

/** Start explaining (after login); stop with `stopExplaining` (logout). */
export function startExplaining(): void {
  stopExplaining();
  const run = (): void => void refresh().catch((err) => console.warn('visibility', err));
  run();
  timer = window.setInterval(run, REFRESH_MS);
}

export function stopExplaining(): void {
  if (timer !== undefined) window.clearInterval(timer);
  timer = undefined;
  document.querySelector('[data-testid="visibility-why"]')?.replaceChildren();
}
