"""Small torch helpers the demos share: seeding, data on the right device, timing, a training loop.

Imported only from inside demo functions, so `studybot demo --list` never loads torch.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence, TypeVar

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


def stacked_linear(
    gens: Sequence[torch.Generator], fan_in: int, fan_out: int, copies: int, device: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """One nn.Linear-initialized layer per generator (seed), stacked for `torch.baddbmm(b, x, w)`.

    Weights and biases are U(-1/sqrt(fan_in), 1/sqrt(fan_in)), nn.Linear's default; the stack is
    repeated `copies` times (seed-major blocks: all seeds, then all seeds again), so the variants a demo
    compares start from the same weights. Returns trainable (w: [models, in, out], b: [models, 1, out]).
    """
    bound = fan_in**-0.5
    w, b = (torch.stack([(torch.rand(*shape, generator=gen) * 2 - 1) * bound for gen in gens])
            for shape in ((fan_in, fan_out), (1, fan_out)))
    return w.repeat(copies, 1, 1).to(device).requires_grad_(), b.repeat(copies, 1, 1).to(device).requires_grad_()


def mlp(dims: Sequence[int], device: str) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Trainable (weight (out, in), bias) pairs of a plain MLP: nn.Linear's default weights from torch's
    global RNG (seed it first, see `seeded`), zero biases."""
    return [(torch.nn.Linear(fan_in, fan_out).weight.detach().to(device).requires_grad_(),
             torch.zeros(fan_out, device=device, requires_grad=True)) for fan_in, fan_out in zip(dims, dims[1:])]


def mlp_inputs(layers: Sequence[tuple[torch.Tensor, torch.Tensor]], x: torch.Tensor) -> list[torch.Tensor]:
    """The ReLU MLP's forward pass as the input of every layer, then the output (the last entry)."""
    inputs = [x]
    for k, (w, b) in enumerate(layers):
        y = inputs[-1] @ w.T + b
        inputs.append(torch.relu(y) if k < len(layers) - 1 else y)
    return inputs


def random_teacher(gen: torch.Generator, dims: tuple[int, int, int], device: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """A random one-hidden-layer ReLU network (d_in, hidden, d_out) whose outputs serve as targets a student
    can learn only in part; its two weight matrices are drawn from `gen` now, in that order."""
    d_in, hidden, d_out = dims
    first = randn(gen, hidden, d_in, device=device) / d_in**0.5
    second = randn(gen, d_out, hidden, device=device) / hidden**0.5
    return lambda x: torch.relu(x @ first.T) @ second.T


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


@contextmanager
def one_cpu_thread() -> Iterator[None]:
    """Run torch's CPU ops on one thread: the demos' tensors are small, and on a 2-core machine shared
    with other work two spinning threads made the default runs 2-12x slower than one (benchmarks/demos.py)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def fit(
    params: Iterable[torch.Tensor],
    loss_fn: Callable[[], torch.Tensor],
    steps: int,
    lr: float,
    before_step: Callable[[int], None] | None = None,
    scaler: torch.amp.GradScaler | None = None,
) -> torch.Tensor:
    """Full-batch Adam on `loss_fn` for `steps` steps; returns the loss before each step, on the CPU.

    `loss_fn` returns a scalar, or one loss per model of a batch of models (a leading model dimension
    on every weight): their sum is minimized, and since Adam's update is elementwise and each model's
    loss touches only its own weights, each model trains exactly as if alone. The result then has
    shape (steps, models). Full batches keep the demos deterministic and fast; Adam because it is what
    people use. `before_step(step)` runs before each step (e.g. to evaluate). With a `scaler` (mixed
    precision), the loss is scaled before the backward pass and the step unscales, skipping it on inf/NaN.
    """
    optimizer = torch.optim.Adam(list(params), lr=lr)
    losses = []
    for step in range(steps):
        if before_step is not None:
            before_step(step)
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn()
        if scaler is None:
            loss.sum().backward()
            optimizer.step()
        else:
            scaler.scale(loss.sum()).backward()
            scaler.step(optimizer)
            scaler.update()
        losses.append(loss.detach())
    return torch.stack(losses).cpu()


def weight_grad_norms(layers: Iterable[torch.nn.Linear]) -> list[float]:
    """The gradient norm of each layer's weight, first layer first: the 'per-layer profile'."""
    return [float(layer.weight.grad.norm()) for layer in layers]
