// The incident's event clip in the panel: "clip arriving" until the hub holds it, then a playing <video>.
// The clip is fetched with the Bearer token into a blob: URL (a <video> cannot send headers); each
// fetch is an audited evidence view. The frame strip seeks in it (seekClip).
import { ApiError, api } from './auth';
import { h } from './dom';
import { currentLang } from './i18n';

const POLL_MS = 3000;
const POLL_MAX = 60;
const CANDIDATES = 4;

const TEXT = {
  ko: { clip: '영상 클립', arriving: '클립 수신 중…', none: '클립 없음' },
  en: { clip: 'Event clip', arriving: 'Clip arriving…', none: 'No clip' },
};

function text(key: keyof (typeof TEXT)['en']): string {
  return TEXT[currentLang()][key];
}

interface ClipInfo {
  start: string;
}

let shownUrl: string | null = null;
let shownStart: number | null = null;
let shownBox: { incidentId: string; box: HTMLElement } | null = null;

/** A box that shows the clip of the first of `eventIds` that has one (polling while it arrives).
 * The panel re-renders on every change: the same incident keeps its box (and its playback). */
export function clipBox(incidentId: string, eventIds: string[], stillShown: () => boolean): HTMLElement {
  if (shownBox?.incidentId === incidentId) return shownBox.box;
  release();
  const status = h('p', { class: 'muted clip-status', 'data-testid': 'clip-arriving' }, text('arriving'));
  const video = h('video', {
    class: 'clip',
    'data-testid': 'panel-clip',
    controls: '',
    muted: '',
    playsinline: '',
    preload: 'auto',
    hidden: '',
    'aria-label': text('clip'),
  });
  video.muted = true;
  const box = h('div', { class: 'clip-box' }, status, video);
  shownBox = { incidentId, box };
  if (eventIds.length === 0) {
    status.textContent = text('none');
    return box;
  }
  void load(eventIds.slice(0, CANDIDATES), video, status, stillShown);
  return box;
}

async function load(ids: string[], video: HTMLVideoElement, status: HTMLElement, stillShown: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < POLL_MAX && stillShown(); attempt += 1) {
    for (const id of ids) {
      const found = await fetchClip(id);
      if (!stillShown()) return;
      if (found) {
        if (shownUrl) URL.revokeObjectURL(shownUrl);
        shownUrl = URL.createObjectURL(found.blob);
        shownStart = found.start;
        video.src = shownUrl;
        video.hidden = false;
        status.remove();
        video.dataset.eventId = id;
        void video.play().catch(() => undefined);
        return;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  status.textContent = text('none');
}

async function fetchClip(eventId: string): Promise<{ blob: Blob; start: number | null } | null> {
  try {
    const event = (await (await api(`/api/v1/events/${eventId}`)).json()) as { clip?: ClipInfo | null };
    if (!event.clip) return null;
    const blob = await (await api(`/api/v1/events/${eventId}/clip`)).blob();
    return { blob, start: Date.parse(event.clip.start) };
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.status === 403)) return null;
    throw err;
  }
}

/** Seek the shown clip to the wall-clock time `iso` (from the frame strip); false when outside it. */
export function seekClip(iso: string): boolean {
  const video = document.querySelector<HTMLVideoElement>('[data-testid="panel-clip"]');
  if (!video || shownStart === null || !video.src) return false;
  const offset = (Date.parse(iso) - shownStart) / 1000;
  if (!(offset >= 0) || (Number.isFinite(video.duration) && offset > video.duration)) return false;
  video.currentTime = offset;
  return true;
}

/** Forget the shown clip's blob (when the panel closes or shows another incident). */
export function release(): void {
  if (shownUrl) URL.revokeObjectURL(shownUrl);
  shownUrl = null;
  shownStart = null;
  shownBox = null;
}
