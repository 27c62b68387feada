"""Small PyTorch experiments that test what the notes claim, over several seeds, and say whether the numbers agree.

Each demo is one module of `studybot.demos`, registered with `@demo(name=..., topics=..., concepts=..., claim=...,
effects=..., typical_seconds=...)`; this module imports every public module of the package, so adding
a demo is adding one file. torch is imported inside the demos only: listing them stays cheap.

`run_demo` measures the demo once per seed (or once for all seeds, for a batched demo) and returns
one JSON-ready dict:

    demo, topics, device ("cpu" | "cuda"), seed (the first seed), seeds (every seed used), quick,
    options (the demo options used), seconds (wall time of all the seeds),
    metrics ({key: mean over seeds}), intervals ({key: [low, high]}, the 95% t-interval of the mean),
    claim, checks ({"effect condition": its verdict}),
    verdict ("supported" | "not supported" | "inconclusive", see `_stats.judge` and `_stats.overall`),
    conclusion (a sentence built from the means, then each claimed effect with its interval),
    series ({key: {"title", "x", "x_label", "y_label", "log_y", "lines": {label: [y...]}}}, averaged
    over seeds): the curves the CLI draws in the terminal and `save_plot` draws into a PNG,
    cached (whether this result was read from the result cache, see `results`, instead of measured).
"""

from __future__ import annotations

import importlib
import pkgutil
import time
from pathlib import Path
from dataclasses import replace
from functools import lru_cache
from typing import Any, Callable, Iterable

import studybot.demos
from studybot.demos import results
from studybot.demos._registry import REGISTRY, DemoContext, DemoSpec, Outcome
from studybot.demos._stats import interval, judge, overall
from studybot.errors import StudybotError
from studybot.home import bundled_dir

DEVICES = ("auto", "cpu", "cuda")
MAX_SEED = 2**63 - 1  # torch.Generator.manual_seed takes a signed 64-bit seed
DEFAULT_SEEDS, QUICK_SEEDS = 5, 3


def _load_demo_modules() -> None:
    """Import every non-underscore module of the package, which registers its demo (this one is already loaded)."""
    for module in pkgutil.iter_modules(studybot.demos.__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"studybot.demos.{module.name}")


_load_demo_modules()


def list_demos() -> list[dict[str, Any]]:
    """Name, topics, claim, its effects with their claimed sizes, typical CPU seconds and options of every
    demo, sorted by name."""
    return [
        {
            "name": spec.name,
            "topics": list(spec.topics),
            "claim": spec.claim,
            "effects": [effect.condition for effect in spec.effects],
            "typical_seconds": spec.typical_seconds,
            "options": list(spec.options),
        }
        for spec in sorted(REGISTRY.values(), key=lambda s: s.name)
    ]


def demos_for_concepts(concepts: Iterable[str]) -> list[str]:
    """The demos that measure a claim about any of these glossary concepts (ids), in the order of the first
    concept each measures: what an answer names, a topic being too broad (bagging and boosting are
    regularization's concepts, and no case for dropout's demo)."""
    named: dict[str, None] = {}
    for concept in concepts:
        named.update((spec.name, None) for spec in sorted(REGISTRY.values(), key=lambda s: s.name)
                     if concept in spec.concepts)
    return list(named)


def demos_for_topics(topics: str | Iterable[str]) -> list[str]:
    """The demos that back a topic, or any of a chunk's topics: how answers say 'backed by: studybot demo X'."""
    wanted = {topics} if isinstance(topics, str) else set(topics)
    return sorted(spec.name for spec in REGISTRY.values() if wanted.intersection(spec.topics))


@lru_cache(maxsize=None)
def claim_source(name: str) -> str | None:
    """Where a bundled note states a demo's claim ("`studybot demo X` tests this claim: …"), as `file:line`: what a
    missed prediction of the demo sends the learner to re-read; None when no note states it."""
    stated = f"`studybot demo {name}` tests this claim:"
    for note in sorted(bundled_dir("knowledge").glob("*.md")):
        for n, line in enumerate(note.read_text(encoding="utf-8").splitlines(), start=1):
            if line.startswith(stated):
                return f"{note}:{n}"
    return None


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


def default_seed_count(quick: bool) -> int:
    """Seeds a run takes unless told: 5 by default, 3 with --quick (a t-interval needs at least 2)."""
    return QUICK_SEEDS if quick else DEFAULT_SEEDS


def run_demo(
    name: str,
    device: str = "auto",
    seed: int = 0,
    quick: bool = False,
    seeds: int | None = None,
    reuse: bool = False,
    clock: Callable[[], float] = time.perf_counter,
    **options: Any,
) -> dict[str, Any]:
    """Run one demo with seeds seed, seed+1, ... and judge its claim by the intervals of its own numbers
    (see the module docstring for the result).

    Every result is stored (see `results`); with `reuse`, a stored result of the same demo version,
    device, seeds, quick and options is returned instead of running again. `cached` says which.
    """
    spec = _spec(name)
    count = default_seed_count(quick) if seeds is None else seeds
    if count < 2:
        raise StudybotError(f"--seeds {count} is too few: a 95% interval needs at least 2 seeds")
    if not 0 <= seed <= MAX_SEED - count + 1:
        raise StudybotError(
            f"--seed {seed} is out of range: with {count} seeds use a whole number from 0 to {MAX_SEED - count + 1}"
        )
    unknown = sorted(set(options) - set(spec.options))
    if unknown:
        allowed = ", ".join(spec.options) or "none"
        raise StudybotError(f"demo {name!r} takes no option {', '.join(unknown)} (its options: {allowed})")
    used = tuple(range(seed, seed + count))
    ctx = DemoContext(device=resolve_device(device), seeds=used, quick=quick)
    key = results.result_key(spec.name, ctx.device, list(used), quick, options)
    stored = results.load(key) if reuse else None
    if stored is not None:
        return {**stored, "cached": True}
    from studybot.demos._torch import one_cpu_thread, timed

    def measure() -> list[Outcome]:
        if spec.batched:
            return spec.run(ctx, **options)
        return [spec.run(replace(ctx, seeds=(s,)), **options) for s in used]

    with one_cpu_thread():
        outcomes, seconds = timed(ctx.device, measure, clock)
    result = {
        "demo": spec.name,
        "topics": list(spec.topics),
        "device": ctx.device,
        "seed": seed,
        "seeds": list(used),
        "quick": quick,
        "options": options,
        "seconds": round(seconds, 4),
        **summarize(spec, outcomes),
    }
    results.save(key, result)
    return {**result, "cached": False}


def summarize(spec: DemoSpec, outcomes: list[Outcome]) -> dict[str, Any]:
    """The per-seed outcomes as means, intervals, per-effect verdicts, the overall verdict and the conclusion."""
    metrics: dict[str, float] = {}
    intervals: dict[str, list[float]] = {}
    for key in outcomes[0].metrics:
        mean, low, high = interval([o.metrics[key] for o in outcomes], log=key in spec.geometric)
        metrics[key], intervals[key] = mean, [low, high]
    checks = {effect.condition: judge(effect, *intervals[effect.metric]) for effect in spec.effects}
    verdict = overall(list(checks.values()))
    n = len(outcomes)
    judged = "; ".join(
        f"{effect.metric} {'geometric ' if effect.log else ''}mean {metrics[effect.metric]:.3g} (95% interval "
        f"{intervals[effect.metric][0]:.3g} to {intervals[effect.metric][1]:.3g}) against the claimed "
        f"{effect.op} {effect.size:g}: {checks[effect.condition]}"
        for effect in spec.effects
    )
    conclusion = f"{outcomes[0].conclusion.format(**metrics)} Over {n} seeds: {judged}."
    series = {
        key: {**chart, "lines": {label: _mean_lines([o.series[key]["lines"][label] for o in outcomes])
                                 for label in chart["lines"]}}
        for key, chart in outcomes[0].series.items()
    }
    return {"metrics": metrics, "intervals": intervals, "geometric": sorted(spec.geometric), "claim": spec.claim,
            "checks": checks, "verdict": verdict, "conclusion": conclusion, "series": series}


def _mean_lines(lines: list[list[float]]) -> list[float]:
    return [sum(points) / len(points) for points in zip(*lines)]


def save_plot(result: dict[str, Any], path: Path | str) -> Path:
    """Draw a result's charts side by side into a PNG."""
    from studybot.charts import save_charts

    seeds = result["seeds"]
    return save_charts(list(result["series"].values()),
                       f"studybot demo {result['demo']} ({result['device']}, mean of seeds {seeds[0]}..{seeds[-1]}): "
                       f"{result['verdict']}", path)
