"""One camera's worker: a capture thread feeding the node's shared analytics pool.

Capture never blocks on analytics: frames go into the camera's bounded lane of the pool and are
dropped and counted when it is full (Frigate's back-pressure). With ``analysis_fps`` set, frames
beyond that rate are skipped before queueing (counted apart from drops). A camera that fails to open
is retried with backoff while the others keep running.
"""

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

from hwarang.bus.livewire import LiveWire
from hwarang.domain import Camera, EventMessage
from hwarang.edge.analytics.pipeline import CameraAnalytics
from hwarang.edge.analytics.rules import Rule, build_rule
from hwarang.edge.analytics_pool import AnalyticsPool, CameraLane
from hwarang.edge.camera_setup import build_analytics
from hwarang.edge.config import CameraConfig
from hwarang.edge.errors import EdgeError, MediaError, SourceError
from hwarang.edge.frame import Frame, FrameConversionError
from hwarang.edge.health import CameraHealth, CameraState
from hwarang.edge.live_sender import LiveSender
from hwarang.edge.media.clips import Clip, ClipRecorder, EncodedPacket, PacketSource
from hwarang.edge.sources import FrameSource, build_source
from hwarang.edge.sources.base import EventHook
from hwarang.edge.sources.link import LinkReporter

logger = logging.getLogger(__name__)

Publish = Callable[[EventMessage], None]
ClipSink = Callable[[list[EventMessage], Clip], None]


class _Rate:
    """Events per second over a sliding window."""

    def __init__(self, window_s: float = 5.0) -> None:
        self._window_s = window_s
        self._stamps: deque[float] = deque()

    def tick(self) -> None:
        now = time.monotonic()
        self._stamps.append(now)
        while self._stamps and now - self._stamps[0] > self._window_s:
            self._stamps.popleft()

    def value(self) -> float:
        now = time.monotonic()
        recent = [s for s in self._stamps if now - s <= self._window_s]
        return 0.0 if len(recent) < 2 else (len(recent) - 1) / max(1e-6, recent[-1] - recent[0])


class CameraWorker:
    """Decodes one camera and runs its analytics on ``pool``; hands each event to ``publish``.

    Without a pool the worker makes a private one-thread pool (handy for a single camera). With a
    ``clips`` sink (and the camera's clips enabled) every decoded frame is also encoded into the
    camera's clip ring, and each event's clip goes to the sink once ``post_s`` has been recorded.
    """

    def __init__(
        self,
        camera: Camera,
        config: CameraConfig,
        publish: Publish,
        *,
        pool: AnalyticsPool | None = None,
        queue_size: int = 4,
        retry_initial_s: float = 1.0,
        retry_max_s: float = 30.0,
        clips: ClipSink | None = None,
        live_wire: LiveWire | None = None,
    ) -> None:
        self.camera = camera
        self._live_wire = live_wire
        self.live: LiveSender | None = None
        self._clip_sink = clips if config.clips.enabled else None
        self._recorder: ClipRecorder | None = None
        self._remux = False
        self._config = config
        self._publish = publish
        self._own_pool = pool is None
        self._pool = pool if pool is not None else AnalyticsPool(workers=1)
        self._lane: CameraLane = self._pool.lane(camera.id, self._analyse, self._on_end, maxsize=queue_size)
        self._retry_initial_s = retry_initial_s
        self._retry_max_s = retry_max_s
        self._period_s = 1.0 / config.analysis_fps if config.analysis_fps else 0.0
        self._next_due_s = float("-inf")
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._capture: threading.Thread | None = None
        self._source: FrameSource | None = None
        self._live_source: FrameSource | None = None
        self._source_fps = 0.0
        self._analytics: CameraAnalytics | None = None
        self._last_frame: Frame | None = None
        self.config_version: int | None = None
        """The hub's version of this camera's config it runs (None: the site file's)."""
        self._state = CameraState.STARTING
        self._counts = dict.fromkeys(
            (
                "in",
                "skipped",
                "processed",
                "dropped",
                "decode_errors",
                "analytics_errors",
                "events",
                "reconnects",
                "clips",
            ),
            0,
        )
        self._last_error: str | None = None
        self._rate_in = _Rate()
        self._rate_out = _Rate()

    def start(self) -> None:
        """Start capturing (and the private pool, if this worker has one)."""
        if self._own_pool:
            self._pool.start()
        self._capture = threading.Thread(
            target=self._capture_loop, name=f"capture-{self.camera.id}", daemon=True
        )
        self._capture.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop capturing, let queued frames finish, and wait for both."""
        self._stop.set()
        source = self._source
        if source is not None:
            source.stop()
        if self._capture is not None:
            self._capture.join(timeout_s)
        self._lane.wait_ended(timeout_s)
        if self._own_pool:
            self._pool.stop(timeout_s)
        with self._lock:
            if self._state not in (CameraState.FINISHED, CameraState.FAILED):
                self._state = CameraState.STOPPED

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait until a finite source has played out and its frames are analysed; True when so."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        if self._capture is not None:
            self._capture.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return self._lane.wait_ended(None if deadline is None else max(0.0, deadline - time.monotonic()))

    @property
    def config(self) -> CameraConfig:
        """The configuration this worker runs."""
        with self._lock:
            return self._config

    def apply_rules(self, config: CameraConfig, version: int | None = None) -> None:
        """Run ``config``'s rules from the next frame on, without a restart.

        ``config`` must differ from the running one in its rules only. A rule whose settings did not
        change keeps its state (a stay in progress is not forgotten); an invalid rule raises
        ``EdgeError`` and nothing changes.
        """
        with self._lock:
            old = {rule.name: rule for rule in self._config.rules}
            analytics = self._analytics
        running: dict[str, Rule] = {} if analytics is None else {r.name: r for r in analytics.rules}
        rules = [
            running[rule.name] if old.get(rule.name) == rule and rule.name in running else build_rule(rule)
            for rule in config.rules
        ]
        with self._lock:
            self._config = config
            self.config_version = version
            if self._analytics is not None:
                self._analytics.replace_rules(rules)

    def picture(self, quality: int = 90) -> bytes | None:
        """The last analysed frame as JPEG at full resolution (rule coordinates), or None before one."""
        import cv2

        frame = self._last_frame
        if frame is None:
            return None
        ok, encoded = cv2.imencode(".jpg", frame.image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        return bytes(encoded) if ok else None

    def health(self) -> CameraHealth:
        """Current counters, with the connection state and outages of a network camera."""
        with self._lock:
            c = dict(self._counts)
            state, error, source, analytics = self._state, self._last_error, self._source, self._analytics
            live = self._live_source
        link = source.link if isinstance(source, LinkReporter) else None
        if link is not None and not link.connected and state == CameraState.RUNNING:
            state = CameraState.RETRYING if link.connect_attempts else CameraState.STARTING
        outage = link.last_outage if link is not None else None
        live_sender = self.live
        return CameraHealth(
            camera_id=self.camera.id,
            state=state,
            fps_in=round(self._rate_in.value(), 2),
            fps_processed=round(self._rate_out.value(), 2),
            frames_in=c["in"],
            frames_skipped=c["skipped"],
            frames_processed=c["processed"],
            frames_dropped=c["dropped"],
            decode_errors=c["decode_errors"] + (live.stats.decode_errors if live is not None else 0),
            analytics_errors=c["analytics_errors"],
            events=c["events"],
            reconnects=c["reconnects"] + (link.reconnects if link is not None else 0),
            last_error=error if link is None else link.last_error or error,
            connected=state == CameraState.RUNNING if link is None else link.connected,
            outages=0 if link is None else link.outages,
            outage_total_s=0.0 if link is None else round(link.outage_total_s, 3),
            last_outage_start=outage.start if outage is not None else None,
            last_outage_end=outage.end if outage is not None else None,
            last_outage_s=round(outage.duration_s, 3) if outage is not None else None,
            detector=_detector_stats(analytics),
            clips=c["clips"],
            clip_mode=None if self._clip_sink is None else "remux" if self._remux else "encode",
            config_version=self.config_version,
            rules=len(self._config.rules),
            live_viewers=live_sender.viewers if live_sender is not None else 0,
            live_bytes_sent=live_sender.bytes_sent if live_sender is not None else 0,
        )

    def _count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self._counts[key] += n

    def _set_state(self, state: CameraState, error: str | None = None) -> None:
        with self._lock:
            self._state = state
            if error is not None:
                self._last_error = error

    def _capture_loop(self) -> None:
        delay = self._retry_initial_s
        first = True
        while not self._stop.is_set():
            if not first:
                self._count("reconnects")
            first = False
            try:
                finished = self._play_source()
            except SourceError as exc:
                # The first report of a failure is a warning; the same failure again is only DEBUG
                # (a missing file would otherwise log every 30 s for as long as the edge runs).
                repeated = str(exc) == self._last_error
                level = logging.DEBUG if repeated else logging.WARNING
                logger.log(
                    level, "camera %s: source failed: %s; retrying in %.1f s", self.camera.id, exc, delay
                )
                self._set_state(CameraState.RETRYING, str(exc))
            except Exception as exc:  # a stage's top loop: log with context and carry on
                logger.exception("camera %s: unexpected capture failure", self.camera.id)
                self._set_state(CameraState.RETRYING, f"{type(exc).__name__}: {exc}")
            else:
                if finished:
                    break
                delay = self._retry_initial_s
                continue
            if self._stop.wait(delay):
                break
            delay = min(delay * 2.0, self._retry_max_s)
        self._lane.close()

    def _play_source(self) -> bool:
        """Play the source to its end; True when it ended normally (a finite file)."""
        source = build_source(self._config.source, camera_id=self.camera.id)
        with self._lock:
            self._source = self._live_source = source
        ended = False
        self._remux = False
        # A camera's own H.264 is remuxed as received, unless privacy masks must be drawn into its
        # pictures: then its decoded frames are masked and encoded, like a file's (clips and live view).
        if (
            self._clip_sink is not None
            and isinstance(source, PacketSource)
            and not self._config.clips.privacy_masks
        ):
            source.set_packet_sink(self._record_packet)
        try:
            self._set_state(CameraState.RUNNING)
            for frame in source.frames():
                if self._stop.is_set():
                    return False
                if self._source_fps <= 0.0:
                    self._source_fps = float(source.fps)
                self._record(frame, float(source.fps))
                self._count("in")
                self._rate_in.tick()
                if not self._due(frame):
                    self._count("skipped")
                elif not self._lane.offer(frame):
                    self._count("dropped")
            ended = not self._stop.is_set()
            return ended
        finally:
            source.close()
            if not ended:  # a finite source's clips are cut once its queued frames are analysed
                self._finish_clips()
            with self._lock:  # from now on its decode errors are part of the camera's total
                self._counts["decode_errors"] += source.stats.decode_errors
                self._live_source = None

    def _clip_recorder(self, fps: float) -> ClipRecorder:
        recorder = self._recorder
        if recorder is None:
            recorder = ClipRecorder(self.camera.id, self._config.clips, fps, self._clip_cut)
            if self._live_wire is not None:
                if self.live is None:
                    self.live = LiveSender(
                        self.camera.id, self._live_wire, fps, center_id=self.camera.center_id
                    )
                recorder.live = self.live.add
            with self._lock:
                self._recorder = recorder
        return recorder

    def _record_packet(self, packet: EncodedPacket, size: tuple[int, int]) -> None:
        """A network camera's H.264 packet into the clip ring as received (capture thread; no encoding)."""
        if self._clip_sink is None:
            return
        self._remux = True
        fps = self._source_fps or (self._source.fps if self._source is not None else 0.0)
        try:
            self._clip_recorder(fps).add_packet(packet, size)
        except MediaError as exc:
            logger.error("camera %s: clips turned off: %s", self.camera.id, exc)
            with self._lock:
                self._clip_sink, self._recorder = None, None

    def _record(self, frame: Frame, fps: float) -> None:
        """Encode ``frame`` into the clip ring (capture thread); a failing encoder turns clips off."""
        if self._clip_sink is None or self._remux:
            return
        recorder = self._clip_recorder(fps)
        try:
            recorder.add_frame(frame)
        except (MediaError, FrameConversionError) as exc:
            logger.error("camera %s: clips turned off: %s", self.camera.id, exc)
            with self._lock:
                self._clip_sink, self._recorder = None, None

    def _finish_clips(self) -> None:
        """The source ended: cut the pending clips with what the ring holds."""
        with self._lock:
            recorder, self._recorder = self._recorder, None
        if recorder is None:
            return
        try:
            recorder.finish()
        except MediaError as exc:
            logger.warning("camera %s: pending clips lost at the end of the stream: %s", self.camera.id, exc)

    def _clip_cut(self, keys: list[object], clip: Clip | None) -> None:
        sink = self._clip_sink
        messages = [key for key in keys if isinstance(key, EventMessage)]
        if clip is not None and sink is not None and messages:
            sink(messages, clip)
            self._count("clips")

    def _due(self, frame: Frame) -> bool:
        """Rate limiting to ``analysis_fps`` on stream time (half a source frame of tolerance)."""
        if self._period_s <= 0.0:
            return True
        if frame.pts_s + 1e-9 < self._next_due_s:
            return False
        tolerance = 0.5 / self._source_fps if self._source_fps > 0 else 0.0
        self._next_due_s = frame.pts_s + self._period_s - tolerance
        return True

    def _analyse(self, frame: Frame) -> None:
        """Pool handler: one frame through detector, tracker and rules; publish its events."""
        try:
            frame.image  # noqa: B018 - a deferred picture is converted here, off the decoding thread
        except FrameConversionError as exc:  # counted by the source as a decode error
            logger.debug("camera %s: %s", self.camera.id, exc)
            return
        analytics = self._analytics or self._build_analytics(frame)
        if analytics is None:
            return
        self._last_frame = frame
        try:
            messages = analytics.process(frame)
        except Exception as exc:  # a stage's top loop: one bad frame must not stop the camera
            logger.exception("camera %s: analytics failed on frame %d", self.camera.id, frame.index)
            self._count("analytics_errors")
            self._set_state(CameraState.RUNNING, f"analytics: {type(exc).__name__}: {exc}")
            return
        self._count("processed")
        self._rate_out.tick()
        if isinstance(self._source, EventHook):  # e.g. exercise figures drawn in: the source tags them
            messages = self._source.on_events(frame, messages)
        recorder = self._recorder
        for message in messages:
            self._publish(message)
            self._count("events")
            if recorder is not None:
                recorder.request(message, frame.pts_s)

    def _build_analytics(self, frame: Frame) -> CameraAnalytics | None:
        """Build the pipeline on the first frame; a configuration error fails the camera once, clearly."""
        config = self.config
        try:
            analytics = build_analytics(self.camera, config, self._fps_hint(), (frame.width, frame.height))
        except EdgeError as exc:
            logger.error(
                "camera %s: cannot start analytics: %s; camera stopped until its config is fixed",
                self.camera.id,
                exc,
            )
            self._set_state(CameraState.FAILED, f"analytics: {exc}")
            self._stop.set()
            source = self._source
            if source is not None:
                source.stop()
            return None
        with self._lock:
            if self._config is not config:  # rules changed while it was built
                analytics.replace_rules([build_rule(rule) for rule in self._config.rules])
            self._analytics = analytics
        return analytics

    def _on_end(self) -> None:
        self._finish_clips()
        if not self._stop.is_set():
            self._set_state(CameraState.FINISHED)

    def _fps_hint(self) -> float:
        if self._period_s > 0.0:
            return 1.0 / self._period_s
        return self._source_fps if self._source_fps > 0.0 else 10.0


def _detector_stats(analytics: CameraAnalytics | None) -> dict[str, float]:
    stats = getattr(analytics.detector, "stats", None) if analytics is not None else None
    as_dict = getattr(stats, "as_dict", None)
    return dict(as_dict()) if callable(as_dict) else {}
