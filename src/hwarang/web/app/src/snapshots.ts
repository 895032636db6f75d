// Evidence images fetched with the Bearer token (an <img> cannot send headers) into blob: URLs.
import { api } from './auth';

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

/** A blob: URL for the snapshot with this SHA-256 (fetched once per session). */
export function snapshotUrl(sha256: string): Promise<string> {
  let pending = cache.get(sha256);
  if (!pending) {
    pending = (async () => {
      await slot();
      try {
        const blob = await (await api(`/api/v1/snapshots/${sha256}`)).blob();
        const url = URL.createObjectURL(blob);
        urls.push(url);
        return url;
      } finally {
        release();
      }
    })();
    pending.catch(() => cache.delete(sha256));
    cache.set(sha256, pending);
  }
  return pending;
}

/** Show the snapshot in `img` (data-loaded="1" once set, "error" when it could not be fetched). */
export function showSnapshot(img: HTMLImageElement, sha256: string): void {
  snapshotUrl(sha256).then(
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

export function forgetSnapshots(): void {
  for (const url of urls.splice(0)) URL.revokeObjectURL(url);
  cache.clear();
}
