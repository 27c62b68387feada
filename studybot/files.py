"""Writing files so that a crash never leaves half of one and a rewrite keeps its permissions.

Every writer of a file a user keeps or a reader may open at any moment (the index pointer and
manifest, a repaired note, an Anki deck) goes through `replacing`: the new content is written
to a temporary file in the same folder, flushed to disk, given the old file's mode (and owner,
where allowed), renamed over the old name in one step, and the folder entry is synced too.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import time
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Callable, Iterable, Iterator

from studybot.errors import StudybotError


def fsync_dir(folder: Path) -> None:
    """Make a rename inside `folder` durable (or, given a file, its content)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_all(paths: Iterable[Path]) -> None:
    """Make every file's content and every folder's entries durable, all at once.

    The file system commits syncs that wait together in one go: the 20 files and folders of an
    index generation took 0.03 s this way, 0.06-0.10 s one after another.
    """
    _concurrently(fsync_dir, list(paths))


def remove_tree(folder: Path) -> None:
    """Delete a folder and everything in it, as `shutil.rmtree(ignore_errors=True)` does, unlinking its files
    at once: an index generation's 65 MB took 0.02 s this way, 0.09 s with `shutil.rmtree` alone."""
    _concurrently(_unlink_quietly, [p for p in Path(folder).rglob("*") if p.is_file()])
    shutil.rmtree(folder, ignore_errors=True)


def _unlink_quietly(path: Path) -> None:
    with suppress(OSError):  # as rmtree with ignore_errors: what cannot go stays, for the next try
        path.unlink()


def _concurrently(action: Callable[[Path], None], paths: list[Path]) -> None:
    """`action` on each path in threads of its own (they wait on the disk, not the CPU); OSErrors are raised."""
    if not paths:
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(32, len(paths))) as pool:
        list(pool.map(action, paths))


def _mode_for(path: Path) -> tuple[int, int | None, int | None]:
    """(permission bits, uid, gid) the new file should have: the old file's, else the umask's default."""
    try:
        info = path.stat()
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask, None, None
    return stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid


def give_owner(path: Path, uid: int | None, gid: int | None) -> None:
    """Make `path` belong to uid:gid (another file's owner) where this process may; None: leave it."""
    if uid is not None and (uid, gid) != (os.getuid(), os.getgid()):
        try:
            os.chown(path, uid, gid)
        except PermissionError:
            pass  # only root may give a file away; the mode is kept all the same


@contextmanager
def replacing(path: Path | str, like: Path | str | None = None) -> Iterator[Path]:
    """A temporary path beside `path` to write to; on success it atomically becomes `path`, with the mode and owner
    of `like` (default: the file it replaces; a copy of a file takes the original's, so a backup of a 600 history
    is not world-readable).

    On an exception the temporary file is removed and `path` is untouched.
    """
    path = Path(path)
    mode, uid, gid = _mode_for(Path(like) if like is not None else path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        give_owner(tmp, uid, gid)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def write_atomic(path: Path | str, data: bytes) -> None:
    """Replace `path` with `data`: readers see the old or the new content, never a torn one."""
    with replacing(path) as tmp:
        tmp.write_bytes(data)


@contextmanager
def held(path: Path, timeout: float, on_wait: Callable[[str], None] | None, busy: tuple[str, str]) -> Iterator[None]:
    """The lock file `path`, held by one process at a time: another holder makes this one say `busy[0]` (to
    `on_wait`) and wait up to `timeout` seconds (0: not at all), then give up with `busy[1]`.

    The operating system releases the lock when its holder dies, so a killed holder never blocks the next.
    On POSIX it is flock(2) (what the filelock package does there, without its 30 ms of imports, a twentieth of an
    incremental `index`); elsewhere filelock.
    """
    if os.name != "posix":
        with _filelock(path, timeout, on_wait, busy):
            yield
        return
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline, warned = time.monotonic() + timeout, False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StudybotError(busy[1]) from None
                if on_wait and not warned:
                    on_wait(busy[0])
                warned = True
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


@contextmanager
def _filelock(path: Path, timeout: float, on_wait: Callable[[str], None] | None, busy: tuple[str, str]) -> Iterator[None]:
    from filelock import FileLock, Timeout

    lock = FileLock(path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if on_wait:
            on_wait(busy[0])
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            raise StudybotError(busy[1]) from None
    try:
        yield
    finally:
        lock.release()
