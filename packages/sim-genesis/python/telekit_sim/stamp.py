"""Glass-to-glass stamps, the same layout as ``stampFrame`` in ``@telekit/core``.

The capture time goes into the picture as a strip of blocks in the top-left corner: white, black
(sync), then the low 24 bits of the time in ms, most significant first, white for 1. A viewer reads
it back from the decoded frame when it is presented.
"""

from __future__ import annotations

import numpy as np

STAMP_BITS = 24
_BLOCKS = STAMP_BITS + 2


def block_size(width: int) -> int:
    return max(4, min(16, width // (_BLOCKS + 2)))


def stamp_in_place(picture: np.ndarray, time_ms: float) -> None:
    """Writes ``time_ms`` into a (height, width, 3 or 4) uint8 picture (nothing if it is too small)."""
    height, width = picture.shape[0], picture.shape[1]
    size = block_size(width)
    if size * _BLOCKS > width or size > height:
        return
    value = int(time_ms) % (1 << STAMP_BITS)
    levels = [255, 0] + [255 if (value >> (STAMP_BITS - 1 - i)) & 1 else 0 for i in range(STAMP_BITS)]
    strip = np.repeat(np.array(levels, dtype=np.uint8), size)
    picture[:size, : size * _BLOCKS, :3] = strip[None, :, None]
    if picture.shape[2] == 4:
        picture[:size, : size * _BLOCKS, 3] = 255


def stamp_frame(pixels: bytes, width: int, height: int, time_ms: float) -> bytes:
    """Returns the RGBA picture with ``time_ms`` written into it (unchanged if it is too small)."""
    picture = np.frombuffer(pixels, dtype=np.uint8).reshape(height, width, 4).copy()
    stamp_in_place(picture, time_ms)
    return picture.tobytes()
