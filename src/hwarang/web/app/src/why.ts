// "Why do I see this?": the hub's /api/v1/visibility messages under the incident list, so a
// partner whose list is empty is told why ("no condition is in force for your area") and what is
// open to them and until when; shown while the list is empty. Partners' pages re-read it every
// second (every half second while they hold a grant or share; owners' every minute) and, when
// their grants or shares change (a condition approved, lifted or expired; a share made or revoked),
// fire `hwarang:access-changed` so evidence already on screen is fetched again under the new
// rights. The live connection's `access` message (live.ts) fires it at once: `accessChangedNow`.

import { apiJson } from './auth';
import { $, h } from './dom';

interface Visibility {
  agency_code: string;
  agency_kind: string | null;
  owner: boolean;
  grants: { condition_id: string; until: string }[];
  shares: { incident_id: string; until: string }[];
  messages: string[];
}

export const ACCESS_CHANGED = 'hwarang:access-changed';
const OWNER_REFRESH_MS = 60_000;
const PARTNER_REFRESH_MS = 1_000;
/** A partner holding a grant or share re-reads faster: losing it must take evidence off the screen within 2 s. */
const HOLDER_REFRESH_MS = 500;
let timer: number | undefined;
let signature: string | null = null;
/** Bumped when polling restarts: answers to older requests are dropped. */
let generation = 0;

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

/** The hub said our rights changed: act now, then re-read the messages (without firing twice). */
export function accessChangedNow(): void {
  window.dispatchEvent(new Event(ACCESS_CHANGED));
  if (timer === undefined) return;
  generation += 1; // an answer already on its way predates the change: neither fire nor reschedule
  signature = null;
  window.clearTimeout(timer);
  timer = window.setTimeout(run, 0);
}

async function refresh(mine: number): Promise<number> {
  const body = await apiJson<Visibility>('/api/v1/visibility');
  if (mine !== generation) return OWNER_REFRESH_MS;
  const list = box();
  list.replaceChildren(...body.messages.map((message) => h('li', {}, message)));
  list.dataset.owner = String(body.owner);
  const now = JSON.stringify([body.grants, body.shares]);
  if (signature !== null && now !== signature) window.dispatchEvent(new Event(ACCESS_CHANGED));
  signature = now;
  if (body.owner) return OWNER_REFRESH_MS;
  return body.grants.length || body.shares.length ? HOLDER_REFRESH_MS : PARTNER_REFRESH_MS;
}

function run(): void {
  const started = performance.now();
  const mine = generation;
  const again = (wait: number): void => {
    if (timer !== undefined && mine === generation) timer = window.setTimeout(run, wait);
  };
  refresh(mine)
    // A fixed rate, not a fixed pause: a slow answer does not stretch the time to notice a lift.
    .then((period) => again(Math.max(100, period - (performance.now() - started))))
    .catch((err) => {
      console.warn('visibility', err);
      again(OWNER_REFRESH_MS);
    });
}

/** Start explaining (after login); stop with `stopExplaining` (logout). */
export function startExplaining(): void {
  stopExplaining();
  timer = window.setTimeout(run, 0);
}

export function stopExplaining(): void {
  if (timer !== undefined) window.clearTimeout(timer);
  timer = undefined;
  generation += 1;
  signature = null;
  document.querySelector('[data-testid="visibility-why"]')?.replaceChildren();
}
