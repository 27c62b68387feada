"""Small torch helpers the demos share: seeding, data on the right device, timing, a training loop.

Imported only from inside demo functions, so `studybot demo --list` never loads torch.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable, Iterable, TypeVar

import torch

if TYPE_CHECKING:
    from studybot.demos._registry import DemoContext

T = TypeVar("T")


def seeded(ctx: DemoContext) -> torch.Generator:
    """Seed torch's global RNG (module init, dropout) and return a CPU generator for the data.

    Data and weights are drawn on the CPU and then moved, so a seed gives the same starting point
    on every device.
    """
    torch.manual_seed(ctx.seed)
    return torch.Generator().manual_seed(ctx.seed)


def randn(gen: torch.Generator, *shape: int, device: str) -> torch.Tensor:
    return torch.randn(*shape, generator=gen).to(device)


def synchronize(device: str) -> None:
    """Wait for queued GPU work, so wall-clock times measure the work and not its launch."""
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(device: str, fn: Callable[[], T], clock: Callable[[], float] = time.perf_counter) -> tuple[T, float]:
    """Run `fn` and return (its result, seconds it took on `device`)."""
    synchronize(device)
    start = clock()
    result = fn()
    synchronize(device)
    return result, clock() - start


def fit(params: Iterable[torch.Tensor], loss_fn: Callable[[], torch.Tensor], steps: int, lr: float) -> list[float]:
    """Full-batch Adam on `loss_fn` for `steps` steps; returns the loss before each step.

    Full batches keep the demos deterministic and fast; Adam because it is what people use.
    """
    optimizer = torch.optim.Adam(list(params), lr=lr)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn()
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
    return [float(v) for v in torch.stack(losses).cpu()]


def weight_grad_norms(layers: Iterable[torch.nn.Linear]) -> list[float]:
    """The gradient norm of each layer's weight, first layer first: the 'per-layer profile'."""
    return [float(layer.weight.grad.norm()) for layer in layers]
