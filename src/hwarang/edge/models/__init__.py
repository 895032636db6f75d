"""Model management for air-gapped sites: import, list and verify detector models (no network)."""

from hwarang.edge.models.inspect import (
    RUNTIMES,
    ModelInfo,
    ModelNotFoundError,
    ModelStoreError,
    Runtime,
    guess_runtime,
    inspect_model,
)
from hwarang.edge.models.store import (
    DEFAULT_STORE,
    STORE_ENV,
    ModelCard,
    ModelStore,
    StoredModel,
    default_store_root,
    sha256_file,
)

__all__ = [
    "DEFAULT_STORE",
    "RUNTIMES",
    "STORE_ENV",
    "ModelCard",
    "ModelInfo",
    "ModelNotFoundError",
    "ModelStore",
    "ModelStoreError",
    "Runtime",
    "StoredModel",
    "default_store_root",
    "guess_runtime",
    "inspect_model",
    "sha256_file",
]
