"""The index on disk: a folder per generation, switched atomically.

    <home>/index/CURRENT          name of the live generation folder
    <home>/index/LOCK             held by the one writer
    <home>/index/gen-000007/      manifest.json, catalog.sqlite, dense.faiss, bm25/

A writer builds a complete new generation beside the live one and then replaces CURRENT
(write to a temporary name, fsync, rename), so a reader, or a crash at any moment, only ever
sees a whole index. Old generations are deleted once CURRENT names a newer one, never before:
a lost or broken pointer keeps every folder until a new generation is live. The manifest
records each file's size, so a writer can tell cheaply that the live generation was damaged.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from studybot.clock import utc_now
from studybot.errors import StudybotError
from studybot.files import fsync_all, held, remove_tree, write_atomic

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
CATALOG = "catalog.sqlite"
DENSE = "dense.faiss"
HEADINGS = "headings.faiss"  # multilingual vectors of each chunk's heading path
CROSSLINGUAL = "crosslingual.faiss"  # vectors of each chunk's heading path and text that read Chinese and English alike
BM25_DIR = "bm25"
GLOSSARY = "glossary.json"  # the glossary the chunks were expanded with, which queries must be expanded with too
REBUILD_HINT = "run `studybot index --rebuild`"
POINTER_HINT = "run `studybot index` to rebuild it (your note folders are remembered)"
# Always present in a published generation, whatever the manifest records (older ones record no sizes).
REQUIRED = (CATALOG, DENSE, HEADINGS, f"{BM25_DIR}/ids.json")  # and every file the manifest sizes


class IndexDamaged(StudybotError):
    """A part of the index on disk is missing or unreadable; `problem` says which, without the fix.

    A reader shows the whole message; `studybot index` rebuilds and reports the problem.
    """

    def __init__(self, problem: str, hint: str = REBUILD_HINT) -> None:
        super().__init__(f"{problem}: {hint}")
        self.problem = problem


_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, size INTEGER NOT NULL, encoding TEXT,
    damaged INTEGER DEFAULT 0, restored INTEGER DEFAULT 0, chunks INTEGER DEFAULT 0,
    metadata TEXT DEFAULT '{}', indexed_utc TEXT
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, path TEXT NOT NULL, ordinal INTEGER NOT NULL, heading TEXT NOT NULL,
    line_start INTEGER NOT NULL, line_end INTEGER NOT NULL, kind TEXT NOT NULL, text TEXT NOT NULL,
    hash TEXT NOT NULL, tokens TEXT NOT NULL, heading_tokens TEXT NOT NULL,
    titled INTEGER DEFAULT 0
);
CREATE INDEX IF NOT EXISTS chunks_path ON chunks(path);
CREATE TABLE IF NOT EXISTS unwritten (path TEXT NOT NULL, heading TEXT NOT NULL, line INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS unwritten_path ON unwritten(path);
"""


def index_root(home: Path) -> Path:
    return Path(home) / "index"


def published_generations(home: Path) -> list[Path]:
    """Generation folders that got as far as their manifest (publish writes it just before CURRENT), newest first."""
    return sorted((p for p in index_root(home).glob("gen-*") if (p / MANIFEST).is_file()), reverse=True)


def current_generation(home: Path) -> Path | None:
    """The live generation folder, or None before the first index.

    Generations without a pointer mean CURRENT was lost, not that nothing was indexed: that is
    damage, which `studybot index` repairs from the remembered note folders.
    """
    pointer = index_root(home) / "CURRENT"
    if not pointer.exists():
        if published_generations(home):
            raise IndexDamaged(f"the index pointer {pointer} is missing", POINTER_HINT)
        return None
    name = pointer.read_text(encoding="utf-8", errors="replace").strip()
    folder = index_root(home) / name
    if not name or not folder.is_dir():
        raise IndexDamaged(f"index pointer {pointer} names a missing folder {name!r}")
    return folder


def read_manifest(folder: Path) -> dict[str, Any]:
    """The generation's manifest, checked for the schema this code understands."""
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexDamaged(f"index manifest {path} is missing") from None
    except (OSError, ValueError):
        raise IndexDamaged(f"index manifest {path} is corrupt") from None
    if not isinstance(manifest, dict) or manifest.get("schema_version") != SCHEMA_VERSION:
        raise IndexDamaged(
            f"index at {folder} has schema {manifest.get('schema_version') if isinstance(manifest, dict) else '?'}, "
            f"this studybot reads {SCHEMA_VERSION}"
        )
    return manifest


def generation_damage(folder: Path, manifest: dict[str, Any]) -> str | None:
    """What is wrong with a published generation's files, or None: checks cheap enough for every refresh.

    Each file must be there with the size recorded at publish (the size of a FAISS flat index
    follows from its vector count, so a truncated one shows) and the catalog must hold the chunk
    count of the manifest. Contents are not read: a flipped byte inside a file goes unseen.
    """
    expected: dict[str, int | None] = {name: None for name in REQUIRED} | manifest.get("sizes", {})
    for name, size in expected.items():
        try:
            actual = (folder / name).stat().st_size
        except OSError:
            return f"{name} is missing"
        if size is None and actual == 0:
            return f"{name} is empty"
        if size is not None and actual != size:
            return f"{name} is {actual} bytes, {size} when written"
    try:
        db = sqlite3.connect(f"file:{folder / CATALOG}?mode=ro", uri=True)
        try:
            chunks = db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        finally:
            db.close()
    except sqlite3.DatabaseError:
        return f"{CATALOG} is corrupt"
    if chunks != manifest.get("counts", {}).get("chunks"):
        return f"{CATALOG} holds {chunks} chunks, the manifest {manifest.get('counts', {}).get('chunks')}"
    return None


@contextmanager
def writer_lock(home: Path, timeout: float = 120.0, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Only one writer at a time; a second one says it is waiting, waits, then gives up with a clear message
    (`files.held`: a killed writer never blocks the next)."""
    root = index_root(home)
    root.mkdir(parents=True, exist_ok=True)
    busy = (f"another `studybot index` is writing {root}; waiting for it (up to {timeout:.0f} s)",
            f"another `studybot index` is writing {root} (lock held for {timeout:.0f} s): wait for it and retry")
    with held(root / "LOCK", timeout, on_wait, busy):
        yield


@dataclass
class NewGeneration:
    """A generation being written; nothing is visible until `publish`."""

    home: Path
    folder: Path
    number: int
    catalog: sqlite3.Connection

    def publish(self, manifest: dict[str, Any]) -> None:
        """Write the manifest (with every file's size, for `generation_damage`), make everything durable,
        then point CURRENT at this folder and only then delete the older generations."""
        self.catalog.commit()
        self.catalog.close()
        sizes = {p.relative_to(self.folder).as_posix(): p.stat().st_size
                 for p in sorted(self.folder.rglob("*")) if p.is_file()}
        manifest = {"schema_version": SCHEMA_VERSION, "generation": self.number,
                    "updated_utc": utc_now().isoformat(timespec="seconds"), **manifest, "sizes": sizes}
        write_atomic(self.folder / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8"))
        fsync_all([*self.folder.rglob("*"), self.folder])
        write_atomic(index_root(self.home) / "CURRENT", self.folder.name.encode())
        remove_stale_generations(self.home)


def remove_stale_generations(home: Path) -> None:
    """Delete every generation folder CURRENT does not name (old ones, or leftovers of a crash).

    Only a writer holding the lock calls this, so no folder being written is removed.
    """
    try:
        live = current_generation(home)
    except StudybotError:
        return  # a lost or broken pointer: keep everything until the rebuild's generation is live
    for folder in index_root(home).glob("gen-*"):
        if folder != live and folder.is_dir():
            remove_tree(folder)


def start_generation(home: Path, base: Path | None) -> NewGeneration:
    """A new generation folder, its catalog copied from `base` (or empty) so edits are incremental."""
    root = index_root(home)
    numbers = [int(p.name.split("-")[1]) for p in root.glob("gen-*") if p.name.split("-")[1].isdigit()]
    number = max(numbers, default=0) + 1
    folder = root / f"gen-{number:06d}"
    folder.mkdir(parents=True)
    catalog_path = folder / CATALOG
    copied = base is not None and (base / CATALOG).exists()
    if copied:
        # A published catalog is closed and never written again, so its file is a consistent copy:
        # a file copy of the 30 MB catalog of 5 MB of notes takes 0.02 s, SQLite's page-by-page backup 0.12 s.
        shutil.copyfile(base / CATALOG, catalog_path)
    catalog = sqlite3.connect(catalog_path)
    try:
        catalog.executescript(_SCHEMA)
    except sqlite3.DatabaseError:
        catalog.close()
        if copied:
            raise IndexDamaged(f"index catalog {base / CATALOG} is corrupt") from None
        raise
    return NewGeneration(home=Path(home), folder=folder, number=number, catalog=catalog)


def open_catalog(folder: Path) -> sqlite3.Connection:
    """Read-only catalog of a published generation."""
    path = folder / CATALOG
    if not path.exists():
        raise IndexDamaged(f"index catalog {path} is missing")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        db.execute("SELECT count(*) FROM chunks").fetchone()
        return db
    except sqlite3.DatabaseError:
        raise IndexDamaged(f"index catalog {path} is corrupt") from None
