"""Settings of the countermeasure workflow: task escalation and incident attachments."""

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_CONTENT_TYPES: tuple[str, ...] = (
    "image/jpeg",
    "image/png",
    "image/webp",
    "video/mp4",
    "application/pdf",
    "text/plain",
)
"""What may be attached by default: photos, clips, documents and plain text."""


class WorkflowConfig(BaseModel):
    """The ``hub.workflow:`` section of the site configuration."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    escalation_interval_s: float = Field(
        default=30.0, gt=0, le=3600, description="How often overdue tasks are looked for (seconds)."
    )
    escalation_repeat_s: float = Field(
        default=600.0,
        gt=0,
        description="An overdue task is escalated again only after this many more seconds.",
    )
    unacknowledged_escalation_s: float | None = Field(
        default=300.0,
        gt=0,
        description="An incident still new this many seconds after it opened is raised one severity level, "
        "and again after each further period (null: never).",
    )
    unacknowledged_max_level: int = Field(
        default=2, ge=1, le=3, description="How many times an unacknowledged incident is escalated at most."
    )
    attachment_max_bytes: int = Field(
        default=20 * 1024 * 1024, ge=1, description="Largest attachment accepted (bytes)."
    )
    attachment_content_types: tuple[str, ...] = Field(
        default=DEFAULT_CONTENT_TYPES,
        min_length=1,
        description="Media types an attachment may have (lowercase, without parameters).",
    )

    @field_validator("attachment_content_types")
    @classmethod
    def _lowercase_types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(item.strip().lower() for item in value)
        bad = [item for item in cleaned if item.count("/") != 1 or ";" in item or " " in item]
        if bad:
            raise ValueError(f"not media types of the form 'type/subtype': {bad}")
        return cleaned
