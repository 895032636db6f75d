"""RTSP source config, credential masking and outage bookkeeping (no network)."""

import time

import pytest

from hwarang.edge.errors import SourceError
from hwarang.edge.sources import SOURCE_TYPES, build_source, parse_source_config
from hwarang.edge.sources.link import LinkRecorder
from hwarang.edge.sources.rtsp import RtspSource, RtspSourceConfig, mask_credentials


def _config(**kwargs: object) -> RtspSourceConfig:
    return RtspSourceConfig.model_validate({"type": "rtsp", "url": "rtsp://10.0.0.5:554/s1", **kwargs})


def test_rtsp_is_a_registered_source_type() -> None:
    assert SOURCE_TYPES["rtsp"] is RtspSourceConfig
    source = build_source({"type": "rtsp", "url": "rtsp://127.0.0.1:8554/cam"}, camera_id="c1")
    assert isinstance(source, RtspSource)
    assert source.fps == 0.0 and source.size == (0, 0) and not source.link.connected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rtsp://admin:pa55@10.0.0.5/s1", "rtsp://admin:***@10.0.0.5/s1"),
        (
            "open 'https://u:p@cam.local:8443/x.m3u8' failed",
            "open 'https://u:***@cam.local:8443/x.m3u8' failed",
        ),
        ("rtsp://admin@10.0.0.5/s1", "rtsp://admin@10.0.0.5/s1"),
        ("rtsp://10.0.0.5/s1 and http://a:b@h/", "rtsp://10.0.0.5/s1 and http://a:***@h/"),
    ],
)
def test_mask_credentials(text: str, expected: str) -> None:
    assert mask_credentials(text) == expected


@pytest.mark.parametrize("url", ["ftp://u:secret@h/x", "rtsp:///nohost", "/dev/video0"])
def test_urls_other_than_rtsp_or_http_are_rejected_without_showing_the_password(url: str) -> None:
    with pytest.raises(SourceError, match="expected an rtsp, rtsps, http, https URL") as caught:
        parse_source_config({"type": "rtsp", "url": url}, camera_id="c1")
    assert "camera c1" in str(caught.value)
    assert "secret@" not in str(caught.value).split("input_value")[0]


def test_options_follow_the_fields_and_can_be_overridden() -> None:
    assert _config().ffmpeg_options() == {"timeout": "5000000", "rtsp_transport": "tcp"}
    udp = _config(transport="udp", read_timeout_s=2.5, options={"fflags": "nobuffer"})
    assert udp.ffmpeg_options() == {"timeout": "2500000", "rtsp_transport": "udp", "fflags": "nobuffer"}
    http = _config(url="http://127.0.0.1:8080/video.mjpg")
    assert http.ffmpeg_options() == {"timeout": "5000000"}


def test_credentials_given_apart_are_put_into_the_url_and_masked() -> None:
    config = _config(username="admin", password="p@ss/word")
    assert config.stream_url() == "rtsp://admin:p%40ss%2Fword@10.0.0.5:554/s1"
    assert config.masked_url == "rtsp://admin:***@10.0.0.5:554/s1"
    assert "p@ss" not in repr(config) and "p@ss" not in str(config.model_dump())
    inline = _config(url="rtsp://admin:hunter22@10.0.0.5/s1")
    assert "hunter22" not in repr(inline) and "admin:***@" in repr(inline)


def test_credentials_in_both_places_and_inverted_backoff_are_rejected() -> None:
    with pytest.raises(ValueError, match="either in the URL or as username/password"):
        _config(url="rtsp://a:b@10.0.0.5/s1", password="c")
    with pytest.raises(ValueError, match=r"reconnect_max_s \(0.1\) must be >= reconnect_initial_s"):
        _config(reconnect_initial_s=1.0, reconnect_max_s=0.1)
    with pytest.raises(ValueError, match="tcp"):
        _config(transport="sctp")


def test_link_recorder_opens_and_closes_outages() -> None:
    link = LinkRecorder()
    assert not link.link().connected and link.link().outages == 0
    link.attempt("refused")
    link.attempt("refused again")
    state = link.link()
    assert not state.connected and state.outages == 1 and state.failed_attempts == 2
    assert state.last_outage is not None and state.last_outage.end is None
    assert state.last_outage.error == "refused" and state.last_error == "refused again"
    time.sleep(0.05)
    link.attempt(None)
    assert link.link().connected and link.link().last_outage is not None
    closed = link.frame_arrived()
    assert closed is not None and closed.end is not None and closed.duration_s >= 0.05
    assert link.frame_arrived() is None  # only the first frame closes it
    state = link.link()
    assert state.outages == 1 and state.outage_total_s == pytest.approx(closed.duration_s)
    assert state.connect_attempts == 3 and state.recent_outages == (closed,)
    link.disconnected()
    assert not link.link().connected and link.link().outages == 1
    assert link.snapshot().decode_errors == 0  # connection errors are not decode errors
