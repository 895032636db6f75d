// Evidence images fetched with the Bearer token (an <img> cannot send headers) into blob: URLs.
import { api, ApiError } from './auth';

const CONCURRENCY = 4;
const cache = new Map<string, Promise<string>>();
const urls: string[] = [];
let active = 0;
const queue: Array<() => void> = [];

function slot(): Promise<void> {
  if (active < CONCURRENCY) {
    active += 1;
    return Promise.resolve();
  }
  return new Promise((resolve) => queue.push(resolve));
}

function release(): void {
  const next = queue.shift();
  if (next) next();
  else active -= 1;
}

/** A blob: URL for the snapshot with this SHA-256 (fetched once per session). A `priority` fetch (the
 * open incident's own snapshot) does not wait behind the thumbnails' queue. */
export function snapshotUrl(sha256: string, priority = false): Promise<string> {
  let pending = cache.get(sha256);
  if (!pending) {
    pending = (async () => {
      const fetchBlob = async (): Promise<string> => {
        const blob = await (await api(`/api/v1/snapshots/${sha256}`)).blob();
        const url = URL.createObjectURL(blob);
        urls.push(url);
        return url;
      };
      if (priority) return fetchBlob();
      await slot();
      try {
        return await fetchBlob();
      } finally {
        release();
      }
    })();
    // A refusal (403, 404) stands until the rights change (forgetSnapshots); anything else is tried again.
    pending.catch((err: unknown) => {
      if (!(err instanceof ApiError && (err.status === 403 || err.status === 404))) cache.delete(sha256);
    });
    cache.set(sha256, pending);
  }
  return pending;
}

/** Show the snapshot in `img` (data-loaded="1" once set, "error" when it could not be fetched). */
export function showSnapshot(img: HTMLImageElement, sha256: string, priority = false): void {
  snapshotUrl(sha256, priority).then(
    (url) => {
      img.src = url;
      img.dataset.loaded = '1';
    },
    () => {
      img.dataset.loaded = 'error';
    },
  );
}

/** Lazily: fetched when the image scrolls into view. */
const observer = new IntersectionObserver((entries) => {
  for (const entry of entries) {
    if (!entry.isIntersecting) continue;
    const img = entry.target as HTMLImageElement;
    observer.unobserve(img);
    if (img.dataset.sha256) showSnapshot(img, img.dataset.sha256);
  }
});

export function showSnapshotLazily(img: HTMLImageElement, sha256: string): void {
  img.dataset.sha256 = sha256;
  observer.observe(img);
}

/** Take every evidence image off the screen at once (rights changed); callers fetch again. */
export function withdrawSnapshots(): void {
  for (const img of document.querySelectorAll<HTMLImageElement>('img[data-loaded="1"]')) {
    img.removeAttribute('src');
    img.dataset.loaded = 'withdrawn';
    if (img.dataset.sha256) observer.observe(img); // a list thumbnail: fetched again when in view
  }
  forgetSnapshots();
}

export function forgetSnapshots(): void {
  for (const url of urls.splice(0)) URL.revokeObjectURL(url);
  cache.clear();
}
