"""Demo results kept between runs, so `ask`, `chat` and `quiz` can show what a demo measured at once.

A result is stored under (demo, demo version, device, seeds, quick, options) in the machine-wide cache
folder (`cache_dir()/demo-results.sqlite`, one SQLite transaction per write, so a write is whole or
absent), and one with the demo's default options also as its latest. The demo version is a hash of the code
that makes the numbers (the demo's module, the shared demo machinery) and torch's version, so an edited demo
never shows an old result. Nothing here imports torch.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import inspect
import json
from functools import cache
from pathlib import Path
from typing import Any

from studybot.cache import ContentCache
from studybot.demos._registry import REGISTRY

RESULTS_FILE = "demo-results.sqlite"
NAMESPACE = "demo-results"
_MACHINERY = ("_registry.py", "_stats.py", "_torch.py", "runner.py")


@cache
def demo_version(name: str) -> str:
    """A hash of the demo's module, the shared demo code and torch's version."""
    module = Path(inspect.getsourcefile(REGISTRY[name].run) or "")
    digest = hashlib.sha256()
    for path in (module, *(module.parent / f for f in _MACHINERY)):
        digest.update(path.read_bytes())
    digest.update(importlib.metadata.version("torch").encode())
    return digest.hexdigest()[:16]


def result_key(name: str, device: str, seeds: list[int], quick: bool, options: dict[str, Any]) -> str:
    return json.dumps([name, demo_version(name), device, seeds, quick, options], sort_keys=True)


def _latest_key(name: str) -> str:
    return json.dumps(["latest", name, demo_version(name)])


def _store() -> ContentCache:
    from studybot.home import cache_dir

    return ContentCache(cache_dir() / RESULTS_FILE)


def load(key: str) -> dict[str, Any] | None:
    """The stored result under `key` (see `result_key`), if any."""
    found = _store().get_many(NAMESPACE, [key]).get(key)
    return None if found is None else json.loads(found)


def save(key: str, result: dict[str, Any]) -> None:
    """Store a result under its key and, when measured with the demo's default options, as its demo's latest, in
    one transaction.

    The latest is what `ask` shows under a note's claim, which is written for the defaults: `demo lora --rank 8`
    trains 8.9% of the parameters against the claim's 5% for rank 4, and its "not supported" was shown under every
    LoRA answer, in every home, without saying rank 8.
    """
    text = json.dumps(result, ensure_ascii=False)
    entries = {key: text}
    defaults = REGISTRY[result["demo"]].defaults
    if {**defaults, **result["options"]} == defaults:  # `--rank 4` is the default too
        entries[_latest_key(result["demo"])] = text
    _store().put_many(NAMESPACE, entries)


def measured(name: str) -> dict[str, Any] | None:
    """The latest stored result of the current version of demo `name` with its default options, or None if it never
    ran with them."""
    import studybot.demos.runner  # noqa: F401  (importing the runner registers every demo)

    return load(_latest_key(name)) if name in REGISTRY else None


def summary(result: dict[str, Any]) -> str:
    """One line: the verdict, the seeds, and each claimed effect's mean with its 95% interval and verdict."""
    effects = "; ".join(
        f"{e.metric} {_g(result['metrics'][e.metric])} [{_g(result['intervals'][e.metric][0])}, "
        f"{_g(result['intervals'][e.metric][1])}] {e.op} {e.size:g}: {result['checks'][e.condition]}"
        for e in REGISTRY[result["demo"]].effects
    )
    mode = " --quick" if result["quick"] else ""
    return f"measured: {result['verdict']} over {len(result['seeds'])} seeds ({result['device']}{mode}): {effects}"


def _g(value: float) -> str:
    return f"{value:.3g}"
