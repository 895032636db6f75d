"""The live view's latency read back in the page: capture (stamped by the edge) -> frame presented.

Used by ``bench/live_video.py``. Chromium (Playwright) logs in to the hub's page, opens the camera's
live view from the map's popup (search, popup, Live) as a user does, and samples the window's
``<video>``: on every presented frame (``requestVideoFrameCallback``; a ``requestAnimationFrame``
loop if the browser lacks it) it draws the stamp's strip to a canvas, decodes the stamp in JS (a port
of ``hwarang.edge.sources.stamp.read_stamp``: 64 cells per width, marker 1010, 16-bit frame index,
32-bit wall ms) and notes the frame's display time on the wall clock. The edge stamps
``time.time_ns() // 1e6`` mod 2**32 and the page's ``Date.now()`` reads the same machine's wall clock;
a presented frame's ``expectedDisplayTime`` is on the page's monotonic clock (``performance.now()``),
so the page converts it with ``Date.now() - performance.now()`` taken in the same callback.
"""

import itertools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import async_playwright

from hwarang.edge.sources.stamp import age_ms

CHROMIUM = Path(os.environ.get("HWARANG_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-unsafe-swiftshader",  # WebGL (the map) on the software rasteriser, headless, no GPU
]

MAP_READY = "() => document.documentElement.dataset.mapReady === '1'"
SAMPLE = """async ([video, seconds]) => {
  const GRID = 64, MARKER = [1, 0, 1, 0], INDEX_BITS = 16, MS_BITS = 32;
  const CELLS = MARKER.length + INDEX_BITS + MS_BITS;
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  // read_stamp in JS: the mean luma of each cell's interior (a quarter cell margin) against 127.
  const read = () => {
    const width = video.videoWidth, height = video.videoHeight, cell = width / GRID;
    if (width < 4 * GRID || height < cell) return null;
    const rows = Math.round(cell), q = Math.max(1, Math.round(cell / 4));
    if (canvas.width !== width || canvas.height !== rows) { canvas.width = width; canvas.height = rows; }
    ctx.drawImage(video, 0, 0, width, rows, 0, 0, width, rows);
    const px = ctx.getImageData(0, 0, width, rows).data;
    const bits = [];
    for (let i = 0; i < CELLS; i += 1) {
      const x0 = Math.round(i * cell) + q, x1 = Math.round((i + 1) * cell) - q;
      let sum = 0, n = 0;
      for (let y = q; y < rows - q; y += 1) {
        for (let x = x0; x < x1; x += 1) {
          const o = (y * width + x) * 4;
          sum += 0.299 * px[o] + 0.587 * px[o + 1] + 0.114 * px[o + 2];
          n += 1;
        }
      }
      bits.push(n > 0 && sum / n > 127 ? 1 : 0);
    }
    if (MARKER.some((b, i) => bits[i] !== b)) return null;
    const value = (from, count) => bits.slice(from, from + count).reduce((v, b) => v * 2 + b, 0);
    return [value(MARKER.length, INDEX_BITS), value(MARKER.length + INDEX_BITS, MS_BITS)];
  };
  const samples = [];
  let unreadable = 0, waiting = 0;
  video.addEventListener('waiting', () => { waiting += 1; });
  const end = performance.now() + seconds * 1000;
  const note = (shownAt) => {
    const stamp = read();
    if (stamp === null) unreadable += 1;
    else {
      const shown = Math.round(Date.now() - performance.now() + shownAt);
      const b = video.buffered, ahead = b.length ? b.end(b.length - 1) - video.currentTime : 0;
      samples.push([stamp[0], stamp[1], shown, Math.round(ahead * 1000)]);
    }
  };
  const callback = 'requestVideoFrameCallback' in video;
  await new Promise((resolve) => {
    if (callback) {
      const frame = (now, meta) => {
        note(meta.expectedDisplayTime);
        if (performance.now() < end) video.requestVideoFrameCallback(frame);
        else resolve();
      };
      video.requestVideoFrameCallback(frame);
    } else {
      let last = -1;
      const tick = (now) => {
        if (video.readyState >= 2 && video.currentTime !== last) { last = video.currentTime; note(now); }
        if (performance.now() < end) requestAnimationFrame(tick);
        else resolve();
      };
      requestAnimationFrame(tick);
    }
  });
  const quality = video.getVideoPlaybackQuality();
  return { samples, unreadable, callback, waiting, dropped: quality.droppedVideoFrames };
}"""
"""Page function: sample ``video`` for ``seconds``; each presented frame's stamp and display wall ms."""


def check_stamps(indices: list[int], latencies_ms: list[int]) -> None:
    """SystemExit unless the page's reading is plausible: frame counters that only move forward
    (by less than 10 s of frames), latencies under a minute (a misread time or clock would not be)."""
    steps = [(b - a) % 2**16 for a, b in itertools.pairwise(indices)]
    if any(not 0 < step < 100 for step in steps):
        raise SystemExit(f"the page read frame counters out of order: {indices}")
    if any(ms > 60_000 for ms in latencies_ms):
        raise SystemExit(f"the page read implausible latencies: {latencies_ms}")


@dataclass
class PageView:
    """What the page presented: one latency per stamped frame, and how it was sampled."""

    latencies_ms: list[int]
    indices: list[int]
    ahead_ms: list[int]
    """Per frame: how far the buffered media reached past the playing position (MSE's lag)."""
    repeated: int
    """Presentations of the frame shown just before (not counted in the latencies)."""
    unreadable: int
    waiting: int
    """Stalls: ``waiting`` events, playback held for want of the next frame."""
    frame_callback: bool
    dropped: int


async def page_view(base_url: str, password: str, camera_id: str, seconds: float) -> PageView:
    """Log in as admin, open ``camera_id``'s live view from the map and sample it for ``seconds``."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 900})
            await page.goto(base_url + "/")
            await page.get_by_test_id("login-username").fill("admin")
            await page.get_by_test_id("login-password").fill(password)
            await page.get_by_test_id("login-submit").click()
            await page.wait_for_function(MAP_READY, timeout=60000)
            await page.get_by_test_id("camera-search").fill(camera_id)
            await page.locator(f'[data-testid="camera-result"][data-camera-id="{camera_id}"]').first.click()
            popup = page.get_by_test_id("camera-popup")
            await popup.get_by_test_id("camera-live-button").click()
            video = await page.get_by_test_id("camera-live").get_by_test_id("live-video").element_handle()
            await page.wait_for_function(
                "(v) => v.readyState >= 2 && v.videoWidth > 0 && v.currentTime > 0", arg=video, timeout=30000
            )
            result: dict[str, Any] = await page.evaluate(SAMPLE, [video, seconds])
        finally:
            await browser.close()
    # A frame presented again (after a stall) counts once, when it was first shown.
    samples = [s for i, s in enumerate(result["samples"]) if i == 0 or s[0] != result["samples"][i - 1][0]]
    view = PageView(
        latencies_ms=[age_ms(stamped, shown) for _, stamped, shown, _ in samples],
        indices=[index for index, _, _, _ in samples],
        ahead_ms=[ahead for _, _, _, ahead in samples],
        repeated=len(result["samples"]) - len(samples),
        unreadable=int(result["unreadable"]),
        waiting=int(result["waiting"]),
        frame_callback=bool(result["callback"]),
        dropped=int(result["dropped"]),
    )
    check_stamps(view.indices, view.latencies_ms)
    return view
