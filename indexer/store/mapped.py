"""A file of named numpy arrays that a reader memory-maps: opening it reads its header, not its arrays.

Layout: ``MAGIC``, the header's length (8 bytes, little-endian), the header (JSON: each array's
dtype, shape and offset, and a small ``meta`` dict), then the arrays, each starting on a 64-byte
boundary. The arrays a reader gets are read-only views of one ``mmap``: the operating system's page
cache holds what queries touch, and a process's heap does not grow with the file. A writer's
later commit may delete the file; on Linux the mapping stays valid until the reader lets go.

Why not ``np.load(mmap_mode="r")`` of an ``.npz``: a zip member cannot be mapped, and one ``.npy``
file per array would multiply the index's files by the number of arrays.
"""
from __future__ import annotations

import json
import mmap
import os
from pathlib import Path

import numpy as np

MAGIC = b"PSMAPPED1\n"
ALIGN = 64


class MappedFileError(Exception):
    """Not a file of mapped arrays, or a truncated one."""


def write_arrays(path: Path, arrays: dict[str, np.ndarray], meta: dict | None = None) -> None:
    """Writes ``arrays`` (C-contiguous copies are made where needed) to ``path`` atomically: a
    reader sees the old file, no file, or the whole new one."""
    directory = {}
    offset = 0
    prepared = {}
    for name, array in arrays.items():
        a = np.ascontiguousarray(array)
        if a.dtype.hasobject:
            raise TypeError(f"{name}: object arrays cannot be mapped")
        offset = -(-offset // ALIGN) * ALIGN
        directory[name] = [a.dtype.str, list(a.shape), offset]
        prepared[name] = a
        offset += a.nbytes
    header = json.dumps({"arrays": directory, "meta": meta or {}}, ensure_ascii=False).encode("utf-8", "surrogatepass")
    start = -(-(len(MAGIC) + 8 + len(header)) // ALIGN) * ALIGN
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(MAGIC + len(header).to_bytes(8, "little") + header)
        for name, a in prepared.items():
            f.seek(start + directory[name][2])
            f.write(memoryview(a).cast("B") if a.nbytes else b"")
        f.truncate(start + offset)
    os.replace(tmp, path)


class MappedArrays:
    """The arrays of one file, as read-only views of its mapping; ``meta`` is the header's dict."""

    def __init__(self, path: Path):
        self.path = Path(path)
        with open(self.path, "rb") as f:  # FileNotFoundError passes through: the caller tells a race
            size = os.fstat(f.fileno()).st_size
            head = f.read(len(MAGIC) + 8)
            if len(head) < len(MAGIC) + 8 or not head.startswith(MAGIC):
                raise MappedFileError(f"{self.path.name} is not a policy-search array file")
            length = int.from_bytes(head[len(MAGIC):], "little")
            try:
                header = json.loads(f.read(length).decode("utf-8", "surrogatepass"))
                directory = header["arrays"]
            except (ValueError, KeyError, TypeError) as exc:
                raise MappedFileError(f"{self.path.name}: unreadable header ({exc})") from exc
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size else None
        start = -(-(len(MAGIC) + 8 + length) // ALIGN) * ALIGN
        self.meta: dict = header.get("meta", {})
        self.arrays: dict[str, np.ndarray] = {}
        for name, (dtype, shape, offset) in directory.items():
            dt = np.dtype(dtype)
            count = int(np.prod(shape, dtype=np.int64))
            end = start + offset + count * dt.itemsize
            if end > size:
                raise MappedFileError(f"{self.path.name} is truncated (array {name} ends at {end:,} of {size:,} bytes)")
            buffer = self._map if self._map is not None else b""
            self.arrays[name] = np.frombuffer(buffer, dtype=dt, count=count, offset=start + offset if count else 0
                                              ).reshape(shape) if count else np.zeros(shape, dtype=dt)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]

    def __contains__(self, name: str) -> bool:
        return name in self.arrays
