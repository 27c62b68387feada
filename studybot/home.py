"""Where studybot keeps its data: --home, else $STUDYBOT_HOME, else the platform's user data dir."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from studybot.errors import StudybotError

ENV_VAR = "STUDYBOT_HOME"
CACHE_ENV_VAR = "STUDYBOT_CACHE"


def default_home() -> Path:
    """The home used when neither --home nor $STUDYBOT_HOME is given."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("studybot", appauthor=False))


def resolve_home(home: Path | str | None = None, *, create: bool = False) -> Path:
    """Pick the data directory; readers ask with create=False and get a clear error if it is missing."""
    if home is None:
        env = os.environ.get(ENV_VAR)
        home = Path(env) if env else default_home()
    path = Path(home).expanduser()
    if path.exists() and not path.is_dir():
        raise StudybotError(f"home {path} is not a directory: pass another --home")
    if create:
        path.mkdir(parents=True, exist_ok=True)
    elif not path.exists():
        raise StudybotError(f"home {path} does not exist: run `studybot index` first (or check --home)")
    return path


def cache_dir() -> Path:
    """Content-addressed caches (embeddings, note repairs) shared by every home on this machine.

    Keyed by content hash, they are safe to share and to delete; sharing them means a throwaway
    home (`studybot eval`) never embeds or repairs the same text twice.
    """
    env = os.environ.get(CACHE_ENV_VAR)
    if env:
        path = Path(env).expanduser()
    else:
        from platformdirs import user_cache_dir

        path = Path(user_cache_dir("studybot", appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


@lru_cache(maxsize=None)
def bundled_dir(name: str) -> Path:
    """A folder shipped beside the package (knowledge/, quizzes/), from a checkout or an install."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / name, here / "data" / name):
        if candidate.is_dir():
            return candidate
    raise StudybotError(f"bundled folder {name}/ not found: reinstall studybot")


def is_bundled_note(path: str, root: str | None = None) -> bool:
    """Whether an indexed note file is one of studybot's bundled knowledge notes, not the user's own.

    `root` is where the bundled notes lay when the index was built (its manifest's `bundled_root`):
    after studybot moves (a new virtual environment, another checkout) an index keeps the old paths
    until `studybot index` runs, and its bundled notes must not pass for the user's own meanwhile."""
    return path.startswith(os.path.join(root or str(bundled_dir("knowledge")), ""))  # knowledge/, not knowledge-mine/
