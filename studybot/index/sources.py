"""What `studybot index` remembers between runs, kept outside the index so that no damage to it loses them.

    <home>/sources.json   {"version": 1, "paths": [...], "bundled": true, "repair": "gemma",
                           "embed_model": "all-MiniLM-L6-v2"}

An index generation can be corrupted, lose its pointer or be rebuilt from scratch; this small
file is what the rebuild reads to know what to index and how. Homes indexed before it existed
kept these choices in the live generation's manifest only: the next index run reads them from
there and writes the file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from studybot.errors import StudybotError
from studybot.files import write_atomic
from studybot.ingest.repair.scoring import DEFAULT_SCORER

VERSION = 1
FILE = "sources.json"


@dataclass
class Sources:
    """The note files and folders the user added (absolute paths) and the choices given with them."""

    paths: list[str] = field(default_factory=list)
    bundled: bool = True
    repair: str = DEFAULT_SCORER
    embed_model: str | None = None  # None: the default model

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any]) -> Sources:
        """The choices a generation's manifest recorded: where homes indexed before sources.json kept them."""
        return cls(paths=list(manifest.get("sources", [])), bundled=manifest.get("bundled", True),
                   repair=manifest.get("repair", DEFAULT_SCORER), embed_model=manifest.get("embed_model"))


def sources_file(home: Path) -> Path:
    return Path(home) / FILE


def read_sources(home: Path) -> Sources | None:
    """The remembered sources, or None where the file was never written.

    A damaged file is an error, not an empty list: rewriting it would forget the user's folders.
    """
    path = sources_file(home)
    fix = "fix it, or delete it to fall back to the folders the live index recorded"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        raise StudybotError(f"remembered note folders {path} are unreadable: {fix}") from None
    if not isinstance(raw, dict) or raw.get("version") != VERSION:
        version = raw.get("version") if isinstance(raw, dict) else "?"
        raise StudybotError(f"remembered note folders {path} have version {version}, this studybot reads {VERSION}: {fix}")
    sources = Sources(**{name: raw[name] for name in asdict(Sources()) if name in raw})
    if not (isinstance(sources.paths, list) and all(isinstance(p, str) for p in sources.paths)
            and isinstance(sources.bundled, bool) and isinstance(sources.repair, str)
            and isinstance(sources.embed_model, (str, type(None)))):
        raise StudybotError(f"remembered note folders {path} hold a value of the wrong type: {fix}")
    return sources


def write_sources(home: Path, sources: Sources) -> None:
    """Replace the file atomically: a crash leaves the old choices or the new ones, never neither."""
    data = {"version": VERSION, **asdict(sources)}
    write_atomic(sources_file(home), (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
