"""Event clips: the encoded ring, its keyframe-aligned windows, and the MP4 cut per event."""

import hashlib
import io
from datetime import UTC, datetime, timedelta

import av
import numpy as np
import pytest

from hwarang.edge.errors import MediaError
from hwarang.edge.frame import Frame
from hwarang.edge.media.clips import (
    Clip,
    ClipConfig,
    ClipRecorder,
    EncodedPacket,
    PacketRing,
    mux_mp4,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
FPS = 10.0


def _frame(i: int) -> Frame:
    image = np.zeros((120, 160, 3), dtype=np.uint8)
    image[:, (i * 3) % 160 :] = (40, 120, 200)  # something that moves, so the encoder has work
    return Frame(image, i, i / FPS, T0 + timedelta(seconds=i / FPS))


def _packet(t: float, key: bool) -> EncodedPacket:
    return EncodedPacket(b"x", t, T0 + timedelta(seconds=t), key)


def test_the_ring_drops_whole_gops_and_always_starts_on_a_keyframe() -> None:
    ring = PacketRing(keep_s=1.0)
    ring.append(_packet(0.0, False))
    assert len(ring) == 0  # never starts mid-GOP
    for i in range(40):
        ring.append(_packet(i / 10, i % 5 == 0))
    window = ring.window(0.0, 10.0)
    assert window[0].keyframe
    assert 3.9 - window[0].pts_s <= 1.5
    assert window[-1].pts_s == pytest.approx(3.9)


def test_a_window_starts_on_the_keyframe_at_or_before_its_start() -> None:
    ring = PacketRing(keep_s=100.0)
    for i in range(50):
        ring.append(_packet(i / 10, i % 5 == 0))
    window = ring.window(1.7, 3.2)
    assert window[0].pts_s == pytest.approx(1.5) and window[0].keyframe
    assert window[-1].pts_s == pytest.approx(3.2)


def _record(total: int, events: dict[int, str], config: ClipConfig) -> dict[str, Clip | None]:
    cut: dict[str, Clip | None] = {}

    def on_clip(keys: list[object], clip: Clip | None) -> None:
        for key in keys:
            assert isinstance(key, str)
            cut[key] = clip

    recorder = ClipRecorder("cam-1", config, FPS, on_clip)
    for i in range(total):
        frame = _frame(i)
        if i in events:
            recorder.request(events[i], frame.pts_s)
        recorder.add_frame(frame)
    recorder.finish()
    assert recorder.encode_cpu_s > 0 and recorder.frames == total
    return cut


def test_a_clip_spans_pre_and_post_seconds_around_its_event_and_decodes() -> None:
    config = ClipConfig(pre_s=2.0, post_s=3.0, gop_s=0.5)
    cut = _record(100, {40: "mid", 95: "late", 5: "early"}, config)
    mid = cut["mid"]
    assert mid is not None
    assert mid.ref.sha256 == hashlib.sha256(mid.data).hexdigest()
    assert mid.ref.duration_s == pytest.approx(5.0, abs=0.6)
    at = T0 + timedelta(seconds=4.0)
    assert mid.ref.start <= at - timedelta(seconds=2.0) and mid.ref.end >= at + timedelta(seconds=3.0)
    with av.open(io.BytesIO(mid.data), mode="r") as container:
        frames = list(container.decode(video=0))
    assert len(frames) == pytest.approx(mid.ref.duration_s * FPS, abs=1)
    assert (frames[0].width, frames[0].height) == (160, 120)
    early, late = cut["early"], cut["late"]
    assert early is not None and early.ref.duration_s < 5.0  # the stream's start cuts it short
    assert late is not None and late.ref.duration_s < 5.0  # so does its end


def test_events_of_one_frame_share_one_clip_and_big_frames_are_scaled_down() -> None:
    config = ClipConfig(pre_s=1.0, post_s=1.0, max_width=80)
    cut: list[tuple[list[object], Clip | None]] = []
    recorder = ClipRecorder("cam-1", config, FPS, lambda keys, clip: cut.append((keys, clip)))
    for i in range(30):
        if i == 12:
            recorder.request("a", i / FPS)
            recorder.request("b", i / FPS)
        recorder.add_frame(_frame(i))
    assert len(cut) == 1 and cut[0][0] == ["a", "b"]  # cut once post_s later, before the stream ends
    clip = cut[0][1]
    assert clip is not None and (clip.ref.width, clip.ref.height) == (80, 60)
    assert recorder.clips == 1


def test_a_clip_must_start_on_a_keyframe() -> None:
    with pytest.raises(MediaError, match="keyframe"):
        mux_mp4([_packet(0.0, False)], FPS, (160, 120))
    with pytest.raises(MediaError, match="keyframe"):
        mux_mp4([], FPS, (160, 120))


def test_privacy_masks_are_blacked_out_of_every_clip_frame() -> None:
    config = ClipConfig(pre_s=0.5, post_s=0.5, privacy_masks=[[(0, 0), (80, 0), (80, 120), (0, 120)]])
    cut: list[Clip | None] = []
    recorder = ClipRecorder("cam-1", config, FPS, lambda _keys, clip: cut.append(clip))
    for i in range(20):
        frame = Frame(
            np.full((120, 160, 3), 200, dtype=np.uint8), i, i / FPS, T0 + timedelta(seconds=i / FPS)
        )
        if i == 8:
            recorder.request("a", frame.pts_s)
        recorder.add_frame(frame)
    clip = cut[0]
    assert clip is not None
    with av.open(io.BytesIO(clip.data), mode="r") as container:
        images = [f.to_ndarray(format="gray") for f in container.decode(video=0)]
    assert images
    for image in images:
        assert image[:, :72].mean() < 30  # masked (codec blur at the edge aside)
        assert image[:, 88:].mean() > 170  # the rest untouched


def test_a_privacy_mask_needs_three_points() -> None:
    with pytest.raises(ValueError, match="at least 3 points"):
        ClipConfig(privacy_masks=[[(0, 0), (1, 1)]])
