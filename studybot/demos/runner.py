"""Small PyTorch experiments that test what the notes claim, and say whether the numbers agree.

Each demo is one module of `studybot.demos`, registered with `@demo(name=..., topics=..., claim=...,
typical_seconds=...)`; this module imports every public module of the package, so adding a demo
is adding one file. torch is imported inside the demos only: listing them stays cheap.

`run_demo` returns one JSON-ready dict:

    demo, topics, device ("cpu" | "cuda"), seed, quick, options (the demo options used),
    seconds (wall time of the run), metrics ({key: number}), claim,
    checks ({"condition on the metrics": bool}), verdict ("supported" | "not supported"),
    conclusion (a sentence built from the metrics, naming any failed check),
    series ({key: {"title", "x", "x_label", "y_label", "log_y", "lines": {label: [y...]}}}):
    the curves the CLI draws in the terminal and `save_plot` draws into a PNG.
"""

from __future__ import annotations

import importlib
import pkgutil
import time
from pathlib import Path
from typing import Any, Callable, Iterable

import studybot.demos
from studybot.demos._registry import REGISTRY, DemoContext, DemoSpec
from studybot.errors import StudybotError

DEVICES = ("auto", "cpu", "cuda")
MAX_SEED = 2**63 - 1  # torch.Generator.manual_seed takes a signed 64-bit seed


def _load_demo_modules() -> None:
    """Import every non-underscore module of the package, which registers its demo (this one is already loaded)."""
    for module in pkgutil.iter_modules(studybot.demos.__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"studybot.demos.{module.name}")


_load_demo_modules()


def list_demos() -> list[dict[str, Any]]:
    """Name, topics, claim, typical CPU seconds and options of every demo, sorted by name."""
    return [
        {
            "name": spec.name,
            "topics": list(spec.topics),
            "claim": spec.claim,
            "typical_seconds": spec.typical_seconds,
            "options": list(spec.options),
        }
        for spec in sorted(REGISTRY.values(), key=lambda s: s.name)
    ]


def demos_for_topics(topics: str | Iterable[str]) -> list[str]:
    """The demos that back a topic, or any of a chunk's topics: how answers say 'backed by: studybot demo X'."""
    wanted = {topics} if isinstance(topics, str) else set(topics)
    return sorted(spec.name for spec in REGISTRY.values() if wanted.intersection(spec.topics))


def resolve_device(device: str) -> str:
    """'auto' becomes 'cuda' when torch sees a GPU, else 'cpu'; asking for an absent GPU is a user error."""
    if device not in DEVICES:
        raise StudybotError(f"unknown device {device!r}: use one of {', '.join(DEVICES)}")
    if device == "cpu":
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if device == "cuda":
        raise StudybotError("--device cuda asked for, but torch sees no CUDA GPU here: use --device cpu or auto")
    return "cpu"


def _spec(name: str) -> DemoSpec:
    try:
        return REGISTRY[name]
    except KeyError:
        raise StudybotError(f"unknown demo {name!r}: known demos are {', '.join(sorted(REGISTRY))}") from None


def run_demo(
    name: str,
    device: str = "auto",
    seed: int = 0,
    quick: bool = False,
    clock: Callable[[], float] = time.perf_counter,
    **options: Any,
) -> dict[str, Any]:
    """Run one demo and judge its claim by its own numbers (see the module docstring for the result)."""
    spec = _spec(name)
    if not 0 <= seed <= MAX_SEED:
        raise StudybotError(f"--seed {seed} is out of range: use a whole number from 0 to {MAX_SEED}")
    unknown = sorted(set(options) - set(spec.options))
    if unknown:
        allowed = ", ".join(spec.options) or "none"
        raise StudybotError(f"demo {name!r} takes no option {', '.join(unknown)} (its options: {allowed})")
    ctx = DemoContext(device=resolve_device(device), seed=seed, quick=quick)
    from studybot.demos._torch import timed

    outcome, seconds = timed(ctx.device, lambda: spec.run(ctx, **options), clock)
    failed = [condition for condition, ok in outcome.checks.items() if not ok]
    conclusion = outcome.conclusion
    if failed:
        conclusion += f" Not supported: the numbers fail {'; '.join(failed)}."
    return {
        "demo": spec.name,
        "topics": list(spec.topics),
        "device": ctx.device,
        "seed": seed,
        "quick": quick,
        "options": options,
        "seconds": round(seconds, 4),
        "metrics": outcome.metrics,
        "claim": spec.claim,
        "checks": outcome.checks,
        "verdict": "not supported" if failed else "supported",
        "conclusion": conclusion,
        "series": outcome.series,
    }


def save_plot(result: dict[str, Any], path: Path | str) -> Path:
    """Draw a result's charts side by side into a PNG."""
    from studybot.charts import save_charts

    return save_charts(list(result["series"].values()),
                       f"studybot demo {result['demo']} ({result['device']}, seed {result['seed']}): {result['verdict']}",
                       path)
