"""The bytes of an emulated meeting recording: generated from a seed, never stored.

A recording is hundreds of MB to GBs (GRAPH_FACTS.md, "Meeting artifacts"); the emulator
must serve one without holding it. :class:`GeneratedStream` makes the same bytes from the
same ``(seed, size)`` every time, block by block, from any offset (for ``Range`` requests),
so the SHA-256 can be computed once when the meeting is held and the content streamed on
each download without keeping a copy.

Each 64 KiB block is a rotation of one seeded random block (a rotation is a memory copy,
fast enough to serve and hash at hundreds of MB/s); block ``i`` uses its own rotation, so
bytes written at a wrong offset change the hash. Block 0 starts with an MP4 ``ftyp`` box so
tools that sniff the type see ``video/mp4`` (the content is not a playable video).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass

#: Bytes generated (and written to the socket) at a time.
BLOCK_SIZE = 64 * 1024
#: An ISO base media ``ftyp`` box (24 bytes): brand ``mp42``, compatible ``mp42``, ``isom``.
FTYP = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
_ROTATION_STEP = 7919  # a prime: consecutive blocks get unrelated rotations


@dataclass(frozen=True)
class GeneratedStream:
    """The recording bytes of one ``(seed, size)``.

    :param seed: what makes this recording's bytes its own.
    :param size: length in bytes.
    """

    seed: int
    size: int

    def __post_init__(self) -> None:
        if self.size < 0:
            raise ValueError("recording_size must not be negative")

    def _pattern(self) -> bytes:
        return random.Random(self.seed).randbytes(BLOCK_SIZE)

    def chunks(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The bytes ``[start, end)`` in chunks of at most :data:`BLOCK_SIZE`.

        :param start: first byte offset.
        :param end: one past the last byte (default: the end of the recording).
        """
        end = self.size if end is None else min(end, self.size)
        if start >= end:
            return
        pattern = self._pattern()
        block = start // BLOCK_SIZE
        offset = block * BLOCK_SIZE
        while offset < end:
            rotation = (block * _ROTATION_STEP) % BLOCK_SIZE
            data = pattern[rotation:] + pattern[:rotation]
            if block == 0:
                data = FTYP + data[len(FTYP) :]
            low = max(start - offset, 0)
            high = min(end - offset, BLOCK_SIZE)
            yield data[low:high] if (low, high) != (0, BLOCK_SIZE) else data
            block += 1
            offset += BLOCK_SIZE

    def sha256(self) -> str:
        """The hex SHA-256 of the whole recording, computed while generating it."""
        digest = hashlib.sha256()
        for chunk in self.chunks():
            digest.update(chunk)
        return digest.hexdigest()
