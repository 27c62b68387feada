"""The pieces every demo shares: the registering decorator, what a demo gets, what it gives back.

Kept apart from `runner.py` so demo modules can import it while the runner is still loading
them. Nothing here imports torch.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Literal, Sequence


@dataclass(frozen=True)
class DemoContext:
    """Where and how big to run: a demo reads everything it may vary from here, so runs are reproducible.

    A demo registered `batched=True` measures all `seeds` in one run; any other demo is called once per
    seed with a one-seed context, and reads it as `ctx.seed`.
    """

    device: str
    seeds: tuple[int, ...]
    quick: bool

    @property
    def seed(self) -> int:
        (seed,) = self.seeds
        return seed


@dataclass
class Outcome:
    """What a demo measured with one seed.

    `conclusion` is a sentence template whose `{metric:format}` fields the runner fills with the
    means across seeds, so the text can never disagree with the reported numbers; `series` holds
    charts (see `chart`), averaged over seeds point by point.
    """

    metrics: dict[str, float]
    conclusion: str
    series: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Effect:
    """A claimed effect: per seed, `metric op size` (e.g. grad_ratio > 10), the size taken from the claim.

    `log` takes the mean and interval on a log scale (geometric mean): for positive ratios that span
    decades across seeds, where an arithmetic interval would be dominated by one seed.
    """

    metric: str
    op: Literal[">", "<"]
    size: float
    log: bool = False

    @property
    def condition(self) -> str:
        return f"{self.metric} {self.op} {self.size:g}"


@dataclass(frozen=True)
class DemoSpec:
    name: str
    topics: tuple[str, ...]
    concepts: tuple[str, ...]  # the glossary concepts whose claim it measures: a user's note names it through these
    claim: str
    effects: tuple[Effect, ...]
    typical_seconds: float
    options: tuple[str, ...]
    batched: bool
    run: Callable[..., Outcome | list[Outcome]]

    @property
    def defaults(self) -> dict[str, Any]:
        """Each option's default: the setup the claim is written for ("LoRA at a small rank (default 4)")."""
        return {name: inspect.signature(self.run).parameters[name].default for name in self.options}

    @property
    def geometric(self) -> set[str]:
        """The metrics whose mean and interval are taken on a log scale: those of its effects with `log`."""
        return {effect.metric for effect in self.effects if effect.log}


REGISTRY: dict[str, DemoSpec] = {}


def demo(
    *,
    name: str,
    topics: Iterable[str],
    concepts: Iterable[str],
    claim: str,
    effects: Iterable[Effect],
    typical_seconds: float,
    batched: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register `fn(ctx, **options)`; its keyword parameters become the demo's options.

    `fn` returns one `Outcome` per call (called once per seed), or with `batched` a list of them, one
    per seed of `ctx.seeds`. `effects` are the claim's measurable parts with their claimed sizes,
    written before any run. `typical_seconds` is the default run's time on a 2-core CPU, as printed by
    benchmarks/demos.py.
    """

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        if name in REGISTRY:
            raise ValueError(f"demo {name!r} registered twice")
        options = tuple(list(inspect.signature(fn).parameters)[1:])
        REGISTRY[name] = DemoSpec(name, tuple(topics), tuple(concepts), claim, tuple(effects), typical_seconds, options,
                                  batched, fn)
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
