"""Putting a complete new index folder in place of the old one, so that the index path always
holds a complete index, whatever a kill, a crash or a full disk interrupts.

A full build (the first one, ``--rebuild``, a changed user dictionary or layout) writes a new folder
beside the index, ``<index>.rebuild-<pid>``. Only when it is complete is a ``build-complete`` marker
written into it and the two folders exchanged in one step (Linux ``renameat2(RENAME_EXCHANGE)``);
the old index, now under the new folder's name, is renamed ``<index>.old-<pid>`` and deleted.
Where the exchange is not available (another OS or file system), two renames are used, and the
moment between them (no folder at the index path) is what ``recover`` mends.

``recover`` runs before every indexing run: a dead run's folders (its pid no longer alive) are
finished or rolled back: a missing index is replaced by a complete new build if there is one,
else by the old index; then whatever is left over is deleted.
"""
from __future__ import annotations

import ctypes
import errno
import os
import re
import shutil
from pathlib import Path

COMPLETE_MARKER = "build-complete"
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_LEFTOVER = re.compile(r"\.(rebuild|old)-(\d+)$")


def build_folder(index_dir: Path) -> Path:
    return index_dir.with_name(f"{index_dir.name}.rebuild-{os.getpid()}")


def _old_folder(index_dir: Path, pid: int) -> Path:
    return index_dir.with_name(f"{index_dir.name}.old-{pid}")


def mark_complete(build_dir: Path) -> None:
    marker = build_dir / COMPLETE_MARKER
    with open(marker, "w", encoding="utf-8") as f:
        f.write(f"{os.getpid()}\n")
        f.flush()
        os.fsync(f.fileno())


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swaps two paths; False where the system cannot (the caller falls back)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(a))


def swap_in(build_dir: Path, index_dir: Path) -> None:
    """Puts the complete folder build_dir at index_dir and deletes what was there."""
    mark_complete(build_dir)
    old = _old_folder(index_dir, os.getpid())
    if not index_dir.exists():
        build_dir.rename(index_dir)
    elif _exchange(build_dir, index_dir):
        build_dir.rename(old)  # build_dir now holds the old index
    else:
        index_dir.rename(old)
        build_dir.rename(index_dir)  # a kill between these two renames is mended by recover()
    _remove_marker(index_dir)
    shutil.rmtree(old, ignore_errors=True)


def _remove_marker(folder: Path) -> None:
    try:
        (folder / COMPLETE_MARKER).unlink()
    except FileNotFoundError:
        pass


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def leftovers(index_dir: Path) -> list[tuple[str, int, Path]]:
    """(kind "rebuild" | "old", pid, folder) of every build or replaced folder beside the index."""
    out = []
    parent = index_dir.parent
    if not parent.is_dir():
        return out
    prefix = index_dir.name + "."
    for entry in parent.iterdir():
        if not entry.name.startswith(prefix):
            continue
        m = _LEFTOVER.search(entry.name[len(index_dir.name):])
        if m and entry.name == f"{index_dir.name}.{m.group(1)}-{m.group(2)}":
            out.append((m.group(1), int(m.group(2)), entry))
    return sorted(out, key=lambda t: (t[1], t[0]))


def recover(index_dir: Path) -> list[str]:
    """Finishes or rolls back what dead runs left beside index_dir; returns what was done, in
    words, for the run's output."""
    done: list[str] = []
    dead = [(kind, pid, folder) for kind, pid, folder in leftovers(index_dir) if not _alive(pid)]
    if not dead:
        return done
    if not index_dir.exists():
        complete = [f for kind, _, f in dead if kind == "rebuild" and (f / COMPLETE_MARKER).is_file()]
        old = [f for kind, _, f in dead if kind == "old"]
        if complete:
            complete[-1].rename(index_dir)
            _remove_marker(index_dir)
            done.append(f"finished the swap of an interrupted rebuild ({complete[-1].name} is now the index)")
        elif old:
            old[-1].rename(index_dir)
            done.append(f"rolled back an interrupted rebuild ({old[-1].name} is the index again)")
    for kind, _, folder in dead:
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
            what = "an unfinished rebuild" if kind == "rebuild" else "a replaced index"
            done.append(f"removed {folder.name}, left by {what} of a process that died")
    return done
