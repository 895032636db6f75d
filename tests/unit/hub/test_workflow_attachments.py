"""Attachments: checks (size, media type, sniffed bytes, file name) and storage by SHA-256."""

import hashlib
import uuid

import pytest

from hwarang.hub.errors import NotFoundError
from hwarang.hub.service import HubService
from hwarang.hub.workflow.attachments import FALLBACK_FILENAME, MAX_FILENAME_CHARS, sanitize_filename
from hwarang.hub.workflow.config import WorkflowConfig
from hwarang.hub.workflow.service import (
    AttachmentTooLargeError,
    UnsupportedAttachmentError,
    WorkflowInputError,
    WorkflowService,
)
from tests.unit.hub.workflow_support import NOW, Clock, fresh_incident, history, prepare_hub, workflow_of

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(200))
JPEG = b"\xff\xd8\xff\xe0" + b"\x10" * 300 + b"\xff\xd9"
PDF = b"%PDF-1.7\n" + b"0" * 100


@pytest.fixture
def workflow(service: HubService) -> WorkflowService:
    prepare_hub(service)
    return workflow_of(service, Clock(), attachment_max_bytes=1000)


def test_attachment_is_stored_by_sha256_listed_and_read_back(
    service: HubService, workflow: WorkflowService
) -> None:
    incident = fresh_incident(service)

    attachment = workflow.add_attachment(incident.id, PNG, "fence photo.png", "image/PNG; q=1", "op")

    assert attachment.sha256 == hashlib.sha256(PNG).hexdigest()
    assert (attachment.filename, attachment.content_type, attachment.size) == (
        "fence photo.png",
        "image/png",
        len(PNG),
    )
    assert (attachment.uploaded_by, attachment.at) == ("op", NOW)
    assert service.evidence.get(attachment.sha256) == PNG
    assert workflow.list_attachments(incident.id) == [attachment]
    assert workflow.attachment(incident.id, attachment.id) == (attachment, PNG)
    step = history(service, incident.id)[-1]
    assert (step.kind, step.detail["attachment_id"], step.detail["sha256"]) == (
        "attachment",
        str(attachment.id),
        attachment.sha256,
    )
    audit = service.audit.entries(limit=1)[0]
    assert (audit.action, audit.detail["filename"]) == ("incident.attach", "fence photo.png")


@pytest.mark.parametrize(
    ("data", "content_type", "error", "message"),
    [
        (b"", "image/png", WorkflowInputError, "is empty"),
        (b"\x89PNG\r\n\x1a\n" + b"0" * 1000, "image/png", AttachmentTooLargeError, "at most 1000"),
        (b"<html><script>", "text/html", UnsupportedAttachmentError, "media type 'text/html'"),
        (PNG, None, UnsupportedAttachmentError, "media type 'none'"),
        (JPEG, "image/png", UnsupportedAttachmentError, "declared image/png but its bytes are not"),
        (PNG, "application/pdf", UnsupportedAttachmentError, "declared application/pdf"),
        (b"ab\x00cd", "text/plain", UnsupportedAttachmentError, "declared text/plain"),
        (b"\xff\xfe\xfa", "text/plain", UnsupportedAttachmentError, "declared text/plain"),
    ],
)
def test_bad_attachments_are_refused_before_storing(
    service: HubService,
    workflow: WorkflowService,
    data: bytes,
    content_type: str | None,
    error: type[Exception],
    message: str,
) -> None:
    incident = fresh_incident(service)
    with pytest.raises(error, match=message):
        workflow.add_attachment(incident.id, data, "x.bin", content_type, "op")
    assert workflow.list_attachments(incident.id) == []
    assert not service.evidence.has(hashlib.sha256(data).hexdigest())


@pytest.mark.parametrize(
    ("data", "content_type"),
    [(JPEG, "image/jpeg"), (PDF, "application/pdf"), ("보고".encode(), "text/plain")],
)
def test_allowed_types_with_matching_bytes_are_accepted(
    service: HubService, workflow: WorkflowService, data: bytes, content_type: str
) -> None:
    incident = fresh_incident(service)
    assert workflow.add_attachment(incident.id, data, "f", content_type, "op").content_type == content_type


def test_allowlist_is_configurable(service: HubService) -> None:
    prepare_hub(service)
    only_pdf = workflow_of(service, Clock(), attachment_content_types=["Application/PDF"])
    incident = fresh_incident(service)
    with pytest.raises(UnsupportedAttachmentError, match="allowed: application/pdf"):
        only_pdf.add_attachment(incident.id, PNG, "a.png", "image/png", "op")
    assert only_pdf.add_attachment(incident.id, PDF, "a.pdf", "application/pdf", "op").size == len(PDF)


def test_config_refuses_malformed_media_types() -> None:
    with pytest.raises(ValueError, match="type/subtype"):
        WorkflowConfig(attachment_content_types=("image",))


def test_attachment_of_another_incident_or_missing_is_not_found(
    service: HubService, workflow: WorkflowService
) -> None:
    first, second = fresh_incident(service), fresh_incident(service)
    attachment = workflow.add_attachment(first.id, PNG, "a.png", "image/png", "op")
    with pytest.raises(NotFoundError):
        workflow.attachment(second.id, attachment.id)
    with pytest.raises(NotFoundError):
        workflow.attachment(first.id, uuid.uuid4())
    with pytest.raises(NotFoundError, match="not found"):
        workflow.add_attachment(uuid.uuid4(), PNG, "a.png", "image/png", "op")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\kim\\현장 사진.jpg", "현장 사진.jpg"),
        ("a\x00b\r\nc.txt", "abc.txt"),
        ('<script>"x".png', "_script_x_.png"),
        ("...hidden", "hidden"),
        ("  spaced   out  .txt ", "spaced out .txt"),
        ("", FALLBACK_FILENAME),
        (None, FALLBACK_FILENAME),
        ("///", FALLBACK_FILENAME),
        ("<>|", FALLBACK_FILENAME),
    ],
)
def test_sanitize_filename(name: str | None, expected: str) -> None:
    assert sanitize_filename(name) == expected


def test_long_filename_keeps_its_extension() -> None:
    name = sanitize_filename("x" * 500 + ".jpeg")
    assert len(name) == MAX_FILENAME_CHARS
    assert name.endswith("x.jpeg")
