"""Frames: a 4-byte big-endian length, then a msgpack map. Binary fields stay binary."""

import asyncio
import struct
from typing import Any

import msgpack

MAX_FRAME = 64 * 1024 * 1024
_HEADER = struct.Struct(">I")


class FrameError(Exception):
    """A frame that cannot be read (too large, or not msgpack)."""


async def read_frame(reader: asyncio.StreamReader, limit: int = MAX_FRAME) -> Any:
    header = await reader.readexactly(4)
    (length,) = _HEADER.unpack(header)
    if length > limit:
        raise FrameError(f"frame of {length} bytes exceeds the limit of {limit}")
    body = await reader.readexactly(length)
    try:
        return msgpack.unpackb(body, raw=False, strict_map_key=False)
    except Exception as error:  # noqa: BLE001 - any decode failure is the peer's fault
        raise FrameError(f"frame is not msgpack: {error}") from error


def encode_frame(message: Any) -> bytes:
    body = msgpack.packb(message, use_bin_type=True)
    return _HEADER.pack(len(body)) + body
