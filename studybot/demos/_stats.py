"""Means, 95% t-intervals and the three-way verdict on a claimed effect, across a demo's seeds."""

from __future__ import annotations

import math
from typing import Sequence

from studybot.demos._registry import Effect

CONFIDENCE = 0.95


def interval(values: Sequence[float], log: bool = False) -> tuple[float, float, float]:
    """(mean, low, high): the mean over seeds and its 95% Student-t interval.

    With `log`, both are taken over log values and mapped back (geometric mean, a multiplicative
    interval). A quantity identical for every seed has a zero-width interval; a single value, any
    NaN, or with `log` any value <= 0 (an underflow, say) gives the arithmetic mean and NaN bounds,
    which no verdict accepts. A quantity no seed measured below zero (a gradient norm, a share) has no
    interval below zero either: "[-3.2e-14, 1.6e-12]" for a norm read as nonsense. The bound is cut at 0,
    which changes no verdict on a claimed size of 0 or more.
    """
    from scipy.special import stdtrit

    n = len(values)
    if log and not all(v > 0 for v in values):
        return sum(values) / n, math.nan, math.nan
    xs = [math.log(v) for v in values] if log else list(values)
    mean = sum(xs) / n
    if n < 2 or any(math.isnan(x) for x in xs):
        low = high = math.nan
    else:
        sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1))
        half = float(stdtrit(n - 1, 0.5 + CONFIDENCE / 2)) * sd / math.sqrt(n)
        low, high = mean - half, mean + half
        if not log and all(v >= 0 for v in values):
            low = max(low, 0.0)
    if log:
        return math.exp(mean), math.exp(low), math.exp(high)
    return mean, low, high


def judge(effect: Effect, low: float, high: float) -> str:
    """'supported' when the whole interval lies on the claimed side of the claimed size, 'not supported'
    when it lies wholly on the other side, 'inconclusive' when it straddles the size (or is NaN)."""
    above, below = low > effect.size, high < effect.size
    if effect.op == "<":
        above, below = below, above
    return "supported" if above else "not supported" if below else "inconclusive"


def overall(verdicts: Sequence[str]) -> str:
    """A claim is supported when every effect is, not supported when any effect is not, else inconclusive."""
    if "not supported" in verdicts:
        return "not supported"
    return "supported" if all(v == "supported" for v in verdicts) else "inconclusive"
