"""The index on disk: a folder per generation, switched atomically.

    <home>/index/CURRENT          name of the live generation folder
    <home>/index/LOCK             held by the one writer
    <home>/index/gen-000007/      manifest.json, catalog.sqlite, dense.faiss, bm25/

A writer builds a complete new generation beside the live one and then replaces CURRENT
(write to a temporary name, fsync, rename), so a reader, or a crash at any moment, only ever
sees a whole index. Old generations are deleted once nothing points at them.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from studybot.clock import utc_now
from studybot.errors import StudybotError
from studybot.files import fsync_dir, write_atomic

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
CATALOG = "catalog.sqlite"
DENSE = "dense.faiss"
HEADINGS = "headings.faiss"  # multilingual vectors of each chunk's heading path
BM25_DIR = "bm25"
REBUILD_HINT = "run `studybot index --rebuild`"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, size INTEGER NOT NULL, encoding TEXT,
    damaged INTEGER DEFAULT 0, restored INTEGER DEFAULT 0, chunks INTEGER DEFAULT 0,
    metadata TEXT DEFAULT '{}', indexed_utc TEXT
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, path TEXT NOT NULL, ordinal INTEGER NOT NULL, heading TEXT NOT NULL,
    line_start INTEGER NOT NULL, line_end INTEGER NOT NULL, kind TEXT NOT NULL, text TEXT NOT NULL,
    hash TEXT NOT NULL, tokens TEXT NOT NULL, heading_tokens TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_path ON chunks(path);
"""


def index_root(home: Path) -> Path:
    return Path(home) / "index"


def current_generation(home: Path) -> Path | None:
    """The live generation folder, or None before the first index."""
    pointer = index_root(home) / "CURRENT"
    if not pointer.exists():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    folder = index_root(home) / name
    if not name or not folder.is_dir():
        raise StudybotError(f"index pointer {pointer} names a missing folder {name!r}: {REBUILD_HINT}")
    return folder


def read_manifest(folder: Path) -> dict[str, Any]:
    """The generation's manifest, checked for the schema this code understands."""
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StudybotError(f"index manifest {path} is missing: {REBUILD_HINT}") from None
    except (OSError, ValueError):
        raise StudybotError(f"index manifest {path} is corrupt: {REBUILD_HINT}") from None
    if not isinstance(manifest, dict) or manifest.get("schema_version") != SCHEMA_VERSION:
        raise StudybotError(
            f"index at {folder} has schema {manifest.get('schema_version') if isinstance(manifest, dict) else '?'}, "
            f"this studybot reads {SCHEMA_VERSION}: {REBUILD_HINT}"
        )
    return manifest


@contextmanager
def writer_lock(home: Path, timeout: float = 120.0, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Only one writer at a time; a second one says it is waiting, waits, then gives up with a clear message.

    The operating system releases the lock when its holder dies, so a killed writer never blocks the next.
    """
    from filelock import FileLock, Timeout

    root = index_root(home)
    root.mkdir(parents=True, exist_ok=True)
    lock = FileLock(root / "LOCK")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if on_wait:
            on_wait(f"another `studybot index` is writing {root}; waiting for it (up to {timeout:.0f} s)")
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            raise StudybotError(
                f"another `studybot index` is writing {root} (lock held for {timeout:.0f} s): wait for it and retry"
            ) from None
    try:
        yield
    finally:
        lock.release()


@dataclass
class NewGeneration:
    """A generation being written; nothing is visible until `publish`."""

    home: Path
    folder: Path
    number: int
    catalog: sqlite3.Connection

    def publish(self, manifest: dict[str, Any]) -> None:
        """Write the manifest, make everything durable, then point CURRENT at this folder."""
        self.catalog.commit()
        self.catalog.close()
        manifest = {"schema_version": SCHEMA_VERSION, "generation": self.number, "updated_utc": utc_now().isoformat(timespec="seconds"), **manifest}
        write_atomic(self.folder / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8"))
        for path in self.folder.rglob("*"):
            if path.is_file():
                with open(path, "rb") as fh:
                    os.fsync(fh.fileno())
        fsync_dir(self.folder)
        write_atomic(index_root(self.home) / "CURRENT", self.folder.name.encode())
        remove_stale_generations(self.home)


def remove_stale_generations(home: Path) -> None:
    """Delete every generation folder CURRENT does not name (old ones, or leftovers of a crash).

    Only a writer holding the lock calls this, so no folder being written is removed.
    """
    try:
        live = current_generation(home)
    except StudybotError:
        return  # a broken pointer: keep everything for `--rebuild` to replace
    for folder in index_root(home).glob("gen-*"):
        if folder != live and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)


def start_generation(home: Path, base: Path | None) -> NewGeneration:
    """A new generation folder, its catalog copied from `base` (or empty) so edits are incremental."""
    root = index_root(home)
    numbers = [int(p.name.split("-")[1]) for p in root.glob("gen-*") if p.name.split("-")[1].isdigit()]
    number = max(numbers, default=0) + 1
    folder = root / f"gen-{number:06d}"
    folder.mkdir(parents=True)
    catalog_path = folder / CATALOG
    if base is not None and (base / CATALOG).exists():
        source = sqlite3.connect(f"file:{base / CATALOG}?mode=ro", uri=True)
        try:
            target = sqlite3.connect(catalog_path)
            source.backup(target)
            target.close()
        except sqlite3.DatabaseError:
            raise StudybotError(f"index catalog {base / CATALOG} is corrupt: {REBUILD_HINT}") from None
        finally:
            source.close()
    catalog = sqlite3.connect(catalog_path)
    catalog.executescript(_SCHEMA)
    return NewGeneration(home=Path(home), folder=folder, number=number, catalog=catalog)


def open_catalog(folder: Path) -> sqlite3.Connection:
    """Read-only catalog of a published generation."""
    path = folder / CATALOG
    if not path.exists():
        raise StudybotError(f"index catalog {path} is missing: {REBUILD_HINT}")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        db.execute("SELECT count(*) FROM chunks").fetchone()
        return db
    except sqlite3.DatabaseError:
        raise StudybotError(f"index catalog {path} is corrupt: {REBUILD_HINT}") from None
