"""The pieces every demo shares: the registering decorator, what a demo gets, what it gives back.

Kept apart from `runner.py` so demo modules can import it while the runner is still loading
them. Nothing here imports torch.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence


@dataclass(frozen=True)
class DemoContext:
    """Where and how big to run: a demo reads everything it may vary from here, so runs are reproducible."""

    device: str
    seed: int
    quick: bool


@dataclass
class Outcome:
    """What a demo measured.

    `checks` maps a readable condition on the metrics (e.g. "grad_at_10 < 1e-4") to whether the
    measured numbers satisfy it; the verdict is their conjunction, so it can never disagree with
    the numbers. `conclusion` is a sentence built from the metrics; `series` holds charts (see `chart`).
    """

    metrics: dict[str, float]
    checks: dict[str, bool]
    conclusion: str
    series: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoSpec:
    name: str
    topics: tuple[str, ...]
    claim: str
    typical_seconds: float
    options: tuple[str, ...]
    run: Callable[..., Outcome]


REGISTRY: dict[str, DemoSpec] = {}


def demo(
    *, name: str, topics: Iterable[str], claim: str, typical_seconds: float
) -> Callable[[Callable[..., Outcome]], Callable[..., Outcome]]:
    """Register `fn(ctx, **options) -> Outcome`; its keyword parameters become the demo's options.

    `typical_seconds` is the default run's time on a 2-core CPU, as printed by benchmarks/demos.py.
    """

    def register(fn: Callable[..., Outcome]) -> Callable[..., Outcome]:
        if name in REGISTRY:
            raise ValueError(f"demo {name!r} registered twice")
        options = tuple(list(inspect.signature(fn).parameters)[1:])
        REGISTRY[name] = DemoSpec(name, tuple(topics), claim, typical_seconds, options, fn)
        return fn

    return register


def chart(
    title: str,
    x: Sequence[float],
    lines: dict[str, Sequence[float]],
    *,
    x_label: str,
    y_label: str,
    log_y: bool = False,
) -> dict[str, Any]:
    """One chart of a result's `series`: lines sharing an x axis, drawn by the CLI and by --plot."""
    return {
        "title": title,
        "x": [float(v) for v in x],
        "x_label": x_label,
        "y_label": y_label,
        "log_y": log_y,
        "lines": {label: [float(v) for v in ys] for label, ys in lines.items()},
    }
