"""Whole-column helpers for samplers: hex ids to bytes, seeded FNV-1a, 56-bit randomness, hex.

numpy over every row at once; no per-span Python.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_HEX_VALUE = np.zeros(256, dtype=np.uint8)
for _i, _c in enumerate("0123456789abcdef"):
    _HEX_VALUE[ord(_c)] = _i
    _HEX_VALUE[ord(_c.upper())] = _i
_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
FNV_OFFSET = np.uint32(2166136261)
FNV_PRIME = np.uint32(16777619)


def id_bytes(column: pa.Array | pa.ChunkedArray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows × width bytes, valid mask) from a column of lowercase-hex ids; invalid rows are zeros."""
    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    valid = pc.equal(pc.binary_length(column), 2 * width)
    filled = pc.if_else(valid, column, "0" * (2 * width))
    n = len(filled)
    offsets = np.frombuffer(filled.buffers()[1], dtype=np.int32, count=n + 1, offset=filled.offset * 4)
    data = np.frombuffer(filled.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[0] + n * 2 * width]
    nibbles = _HEX_VALUE[data.reshape(n, 2 * width)]
    return (nibbles[:, 0::2] << 4) | nibbles[:, 1::2], valid.to_numpy(zero_copy_only=False)


def fnv1a32_seeded(ids: np.ndarray, seed: int) -> np.ndarray:
    """contrib's computeHash: FNV-1a 32 over the seed's 4 little-endian bytes, then the id."""
    hashes = np.full(ids.shape[0], FNV_OFFSET, dtype=np.uint32)
    for byte in int(seed & 0xFFFFFFFF).to_bytes(4, "little"):
        hashes ^= np.uint32(byte)
        hashes *= FNV_PRIME
    for column in range(ids.shape[1]):
        hashes ^= ids[:, column].astype(np.uint32)
        hashes *= FNV_PRIME
    return hashes


def w3c_randomness(ids: np.ndarray) -> np.ndarray:
    """The trace id's least-significant 7 bytes as 56-bit randomness (W3C trace-context level 2)."""
    value = np.zeros(ids.shape[0], dtype=np.uint64)
    for column in range(9, 16):
        value = (value << np.uint64(8)) | ids[:, column].astype(np.uint64)
    return value


def hex14(values: np.ndarray) -> pa.Array:
    """uint64 values below 2^56 as 14-digit lowercase hex strings."""
    shifts = np.arange(52, -1, -4, dtype=np.uint64)
    digits = ((values[:, None] >> shifts) & np.uint64(0xF)).astype(np.uint8)
    chars = _HEX_DIGITS[digits]
    fixed = pa.Array.from_buffers(pa.binary(14), len(values), [None, pa.py_buffer(chars.tobytes())])
    return pc.cast(fixed, pa.string())
