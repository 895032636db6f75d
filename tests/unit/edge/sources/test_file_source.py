"""FileSource on small generated clips: decode, pacing, stop, loop, and error handling."""

import itertools
import threading
import time
import wave
from collections.abc import Iterator
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any, cast

import av
import numpy as np
import pytest

from hwarang.edge.errors import SourceError
from hwarang.edge.frame import Frame, FrameConversionError, bgr_converter
from hwarang.edge.sources import FileSource, FileSourceConfig, FrameSource
from tests.unit.edge.sources.source_clips import CLIP_FPS, CLIP_FRAMES, CLIP_SIZE


def _source(path: Path, **kwargs: Any) -> FileSource:
    return FileSource(FileSourceConfig(path=path, **kwargs), camera_id="cam-test")


def test_decodes_every_frame_with_increasing_pts(small_clip: Path) -> None:
    source = _source(small_clip, realtime=False)
    assert isinstance(source, FrameSource)
    frames = list(source.frames())
    assert [f.index for f in frames] == list(range(CLIP_FRAMES))
    assert source.size == CLIP_SIZE
    assert source.fps == pytest.approx(CLIP_FPS)
    pts = [f.pts_s for f in frames]
    assert all(b > a for a, b in itertools.pairwise(pts))
    assert pts[1] == pytest.approx(1.0 / CLIP_FPS)
    assert frames[0].image.shape == (CLIP_SIZE[1], CLIP_SIZE[0], 3)
    assert frames[0].image.dtype == np.uint8
    assert int(frames[30].image.mean()) == pytest.approx(150, abs=4)
    assert all(f.wall_time.tzinfo is not None and f.truth is None for f in frames)
    stats = source.stats
    assert (stats.frames_decoded, stats.frames_delivered, stats.decode_errors) == (
        CLIP_FRAMES,
        CLIP_FRAMES,
        0,
    )
    assert stats.fps_in > CLIP_FPS


def test_open_exposes_size_and_fps_before_frames(small_clip: Path) -> None:
    source = _source(small_clip)
    assert source.size == (0, 0)
    source.open()
    assert source.size == CLIP_SIZE and source.fps == pytest.approx(CLIP_FPS)
    source.close()
    assert source.stopped
    assert list(source.frames()) == []


def test_paced_playback_takes_the_clip_duration(small_clip: Path) -> None:
    frames_wanted = 21
    expected = (frames_wanted - 1) / CLIP_FPS / 2.0
    source = _source(small_clip, speed=2.0)
    start = time.monotonic()
    frames = []
    for frame in source.frames():
        frames.append(frame)
        if len(frames) == frames_wanted:
            break
    elapsed = time.monotonic() - start
    assert expected * 0.9 <= elapsed <= expected + 0.4
    wall_span = (frames[-1].wall_time - frames[0].wall_time).total_seconds()
    assert wall_span == pytest.approx(expected, abs=1e-6)
    assert frames[0].wall_time.tzinfo == UTC


def test_stop_from_another_thread_interrupts_a_pacing_sleep(small_clip: Path) -> None:
    source = _source(small_clip, speed=0.02)  # 2.5 s between frames
    stopped_at: list[float] = []

    def stop_soon() -> None:
        time.sleep(0.3)
        stopped_at.append(time.monotonic())
        source.stop()

    thread = threading.Thread(target=stop_soon)
    thread.start()
    frames = list(source.frames())
    ended = time.monotonic()
    thread.join()
    assert len(frames) == 1
    assert ended - stopped_at[0] < 0.2


def test_loop_keeps_index_and_pts_increasing(small_clip: Path) -> None:
    source = _source(small_clip, realtime=False, loop=True)
    frames = []
    for frame in source.frames():
        frames.append(frame)
        if len(frames) == 2 * CLIP_FRAMES + 10:
            break
    assert [f.index for f in frames] == list(range(len(frames)))
    pts = [f.pts_s for f in frames]
    assert all(b > a for a, b in itertools.pairwise(pts))
    assert pts[CLIP_FRAMES] == pytest.approx(CLIP_FRAMES / CLIP_FPS)
    assert source.stats.reconnects == 2
    assert np.array_equal(frames[CLIP_FRAMES + 3].image, frames[3].image)


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.avi"
    with pytest.raises(SourceError, match="not found") as info:
        list(_source(missing).frames())
    assert str(missing) in str(info.value)
    assert "cam-test" in str(info.value)


def test_text_file_is_not_a_video(tmp_path: Path) -> None:
    text = tmp_path / "notes.avi"
    text.write_text("this is not a video\n" * 20)
    with pytest.raises(SourceError) as info:
        _source(text).open()
    assert str(text) in str(info.value)
    assert "Invalid data" in str(info.value)


def test_audio_only_file_has_no_video_stream(tmp_path: Path) -> None:
    audio = tmp_path / "tone.wav"
    with wave.open(str(audio), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(np.zeros(8000, np.int16).tobytes())
    with pytest.raises(SourceError, match="no video stream") as info:
        _source(audio).open()
    assert str(audio) in str(info.value)


class _FakePacket:
    def __init__(self, pts: int, frame: av.VideoFrame | None, fail: bool = False) -> None:
        self.pts = pts
        self.is_corrupt = False
        self._frame = frame
        self._fail = fail

    def decode(self) -> list[av.VideoFrame]:
        if self._fail:
            raise av.error.InvalidDataError(1094995529, "Invalid data found when processing input")
        return [] if self._frame is None else [self._frame]


class _FakeContainer:
    """Demuxes 10 one-frame packets; the demuxer fails once before pts 4, packet 7 fails to decode."""

    def __init__(self) -> None:
        self.packets = []
        for pts in range(10):
            frame = av.VideoFrame.from_ndarray(np.full((8, 8, 3), pts, np.uint8), format="bgr24")
            frame.pts = pts
            frame.time_base = Fraction(1, 10)
            self.packets.append(_FakePacket(pts, frame, fail=pts == 7))
        self.demux_failed = False
        self.position = 0
        self.seeks: list[int] = []
        stream = type("Stream", (), {})()
        stream.thread_type = "SLICE"
        stream.average_rate = 10
        stream.codec_context = type(
            "Codec", (), {"width": 8, "height": 8, "flush_buffers": lambda self: None}
        )()
        self.streams = type("Streams", (), {"video": [stream]})()

    def demux(self, stream: object) -> Iterator[_FakePacket]:
        while self.position < len(self.packets):
            packet = self.packets[self.position]
            if packet.pts == 4 and not self.demux_failed:
                self.demux_failed = True
                raise av.error.InvalidDataError(1094995529, "Invalid data found when processing input")
            self.position += 1
            yield packet

    def seek(self, offset: int, *, backward: bool, stream: object) -> None:
        self.seeks.append(offset)
        self.position = offset

    def close(self) -> None:
        self.position = len(self.packets)


def test_demux_and_decode_errors_are_counted_and_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    placeholder = tmp_path / "fake.avi"
    placeholder.write_bytes(b"x")
    fake = _FakeContainer()
    monkeypatch.setattr(av, "open", lambda *args, **kwargs: fake)
    source = _source(placeholder, realtime=False)
    frames = list(source.frames())
    pts_values = [round(f.pts_s, 3) for f in frames]
    assert pts_values == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 0.9]
    assert fake.seeks == [4]
    stats = source.stats
    assert stats.decode_errors == 2
    assert stats.last_error is not None and "decode error" in stats.last_error
    assert "cam-test" in caplog.text and "demux error" in caplog.text


def test_frames_are_converted_to_bgr_only_when_read(small_clip: Path) -> None:
    frames = list(_source(small_clip, realtime=False).frames())
    assert not any(f.converted for f in frames)
    assert (frames[5].width, frames[5].height) == CLIP_SIZE
    image = frames[5].image
    assert frames[5].converted and frames[5].image is image
    assert image.shape == (CLIP_SIZE[1], CLIP_SIZE[0], 3) and image.dtype == np.uint8
    assert not frames[6].converted


def test_a_picture_that_cannot_be_converted_is_reported_and_raised() -> None:
    class Broken:
        def to_ndarray(self, **_kw: Any) -> Any:
            raise av.FFmpegError(22, "unsupported pixel format")

    errors: list[str] = []
    convert = bgr_converter(cast(av.VideoFrame, Broken()), errors.append, "frame 7 of clip.mp4")
    frame = Frame.deferred(convert, (64, 48), 7, 0.7, datetime.now(UTC))
    assert (frame.width, frame.height) == (64, 48)
    with pytest.raises(FrameConversionError, match=r"cannot convert frame 7 of clip.mp4 to BGR"):
        _ = frame.image
    assert len(errors) == 1 and "unsupported pixel format" in errors[0]
