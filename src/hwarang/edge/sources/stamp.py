"""A machine-readable stamp in a frame's top-left corner: frame counter and capture time.

Used by the live-video latency bench: the synthetic camera draws it into each frame
(``stamp: true``), the viewer reads it back after decoding and compares the capture time with its
own clock. Cells are blocks 1/64 of the width, black or white (survive H.264 at modest quality): a marker
``1010``, then the frame index modulo 2**16 and the wall-clock milliseconds modulo 2**32.
"""

from typing import Any

import numpy as np
import numpy.typing as npt

GRID = 64
"""A cell is 1/64 of the image width, so the stamp survives the clip encoder's scaling."""
_MARKER = (1, 0, 1, 0)
_INDEX_BITS = 16
_MS_BITS = 32
CELLS = len(_MARKER) + _INDEX_BITS + _MS_BITS
MIN_WIDTH = 4 * GRID
"""Narrower images get no stamp (cells under 4 px would not survive H.264)."""

Image = npt.NDArray[np.uint8]


def _bits(value: int, count: int) -> list[int]:
    return [(value >> (count - 1 - i)) & 1 for i in range(count)]


def draw_stamp(image: Image, index: int, wall_ms: int) -> None:
    """Draw ``index`` and ``wall_ms`` into ``image`` (H x W x 3, in place); ValueError if too small."""
    height, width = image.shape[:2]
    cell = width / GRID
    if width < MIN_WIDTH or height < cell:
        raise ValueError(f"a stamp needs an image at least {MIN_WIDTH} pixels wide")
    bits = [*_MARKER, *_bits(index % 2**_INDEX_BITS, _INDEX_BITS), *_bits(wall_ms % 2**_MS_BITS, _MS_BITS)]
    rows = round(cell)
    for i, bit in enumerate(bits):
        image[:rows, round(i * cell) : round((i + 1) * cell)] = 255 if bit else 0


def read_stamp(gray: npt.NDArray[Any]) -> tuple[int, int] | None:
    """``(index mod 2**16, wall ms mod 2**32)`` from a decoded grey (or luma) image; None without one."""
    if gray.ndim != 2:
        return None
    height, width = gray.shape
    cell = width / GRID
    if width < MIN_WIDTH or height < cell:
        return None
    q = max(1, round(cell / 4))
    row = gray[q : round(cell) - q]
    bits = [int(row[:, round(i * cell) + q : round((i + 1) * cell) - q].mean() > 127) for i in range(CELLS)]
    if tuple(bits[: len(_MARKER)]) != _MARKER:
        return None
    rest = bits[len(_MARKER) :]
    index = int("".join(map(str, rest[:_INDEX_BITS])), 2)
    wall_ms = int("".join(map(str, rest[_INDEX_BITS:])), 2)
    return index, wall_ms


def age_ms(stamped_ms: int, now_ms: int) -> int:
    """Milliseconds from a stamp's time to ``now_ms`` (wall clock), across the modulo wrap."""
    return int((now_ms - stamped_ms) % 2**_MS_BITS)
