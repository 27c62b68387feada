"""lora: adapt a trained MLP to a shifted task by full fine-tuning and by low-rank adapters (LoRA)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from studybot.demos._registry import DemoContext, Effect, Outcome, chart, demo
from studybot.errors import StudybotError

if TYPE_CHECKING:
    import torch

    Layers = list[tuple[torch.Tensor, torch.Tensor]]

DIMS = (32, 256, 256, 256, 8)


def _forward(layers: Layers, x: torch.Tensor, adapters: Layers | None = None, scale: float = 1.0) -> torch.Tensor:
    """A ReLU MLP; with adapters, each layer adds scale * B(A x), the LoRA path beside the frozen W."""
    import torch

    for k, (w, b) in enumerate(layers):
        y = x @ w.T + b
        if adapters is not None:
            a, bb = adapters[k]
            y = y + scale * (x @ a.T) @ bb.T
        x = torch.relu(y) if k < len(layers) - 1 else y
    return x


@demo(
    name="lora",
    topics=["lora", "pretraining"],
    concepts=["lora"],
    claim=(
        "LoRA at a small rank (default 4) trains at most 5% of the parameters, recovers at least half of "
        "the loss reduction that full fine-tuning gets with the same optimizer and steps, and merges into "
        "W + (alpha/r) BA with the same outputs (max difference < 1e-5)."
    ),
    effects=[
        Effect("param_fraction", "<", 0.05),
        Effect("gain_recovered", ">", 0.5),
        Effect("merge_max_abs_diff", "<", 1e-5),
    ],
    typical_seconds=4.7,
)
def lora(ctx: DemoContext, rank: int = 4) -> Outcome:
    import torch

    from studybot.demos._torch import fit, randn, seeded, timed

    if rank < 1:
        raise StudybotError(f"--rank must be at least 1, got {rank}")
    gen = seeded(ctx)
    n, base_steps, adapt_steps, lr = (256, 60, 50, 3e-3) if ctx.quick else (256, 100, 80, 3e-3)
    scale = 1.0  # alpha = r

    def mlp(dims: tuple[int, ...]) -> Layers:
        return [(randn(gen, o, i, device=ctx.device) / i**0.5, torch.zeros(o, device=ctx.device)) for i, o in zip(dims, dims[1:])]

    # Task A: a random teacher. Task B shifts it by a full-rank perturbation of its first layer,
    # so the shift is not low-rank by construction.
    teacher_a = mlp((DIMS[0], 64, DIMS[-1]))
    (w1, b1), second = teacher_a
    teacher_b = [(w1 + 0.5 * randn(gen, *w1.shape, device=ctx.device) / DIMS[0] ** 0.5, b1), second]
    x_train, x_test = randn(gen, n, DIMS[0], device=ctx.device), randn(gen, n, DIMS[0], device=ctx.device)
    y_a = _forward(teacher_a, x_train)
    y_b_train, y_b_test = _forward(teacher_b, x_train), _forward(teacher_b, x_test)

    def mse(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.mse_loss(out, target)

    base = [(w.requires_grad_(), b.requires_grad_()) for w, b in mlp(DIMS)]
    fit([p for layer in base for p in layer], lambda: mse(_forward(base, x_train), y_a), base_steps, lr)
    base = [(w.detach(), b.detach()) for w, b in base]
    with torch.no_grad():
        loss_before = float(mse(_forward(base, x_test), y_b_test))

    full = [(w.clone().requires_grad_(), b.clone().requires_grad_()) for w, b in base]
    full_params = [p for layer in full for p in layer]
    curve_full, seconds_full = timed(
        ctx.device, lambda: fit(full_params, lambda: mse(_forward(full, x_train), y_b_train), adapt_steps, lr).tolist()
    )

    # LoRA: A random, B zero, so training starts exactly at the base model.
    adapters = [
        ((randn(gen, rank, w.shape[1], device=ctx.device) / w.shape[1] ** 0.5).requires_grad_(),
         torch.zeros(w.shape[0], rank, device=ctx.device, requires_grad=True))
        for w, _ in base
    ]
    lora_params = [p for pair in adapters for p in pair]
    curve_lora, seconds_lora = timed(
        ctx.device,
        lambda: fit(lora_params, lambda: mse(_forward(base, x_train, adapters, scale), y_b_train), adapt_steps, lr).tolist(),
    )

    with torch.no_grad():
        loss_full = float(mse(_forward(full, x_test), y_b_test))
        adapted = _forward(base, x_test, adapters, scale)
        loss_lora = float(mse(adapted, y_b_test))
        merged = [(w + scale * bb @ a, b) for (w, b), (a, bb) in zip(base, adapters)]
        merge_max_abs_diff = float((adapted - _forward(merged, x_test)).abs().max())

    params_full = sum(p.numel() for p in full_params)
    params_lora = sum(p.numel() for p in lora_params)
    gain_full, gain_lora = loss_before - loss_full, loss_before - loss_lora
    recovered = gain_lora / gain_full if gain_full > 0 else float("nan")
    metrics = {
        "rank": rank,
        "params_full": params_full,
        "params_lora": params_lora,
        "param_fraction": params_lora / params_full,
        "loss_before": loss_before,
        "loss_full": loss_full,
        "loss_lora": loss_lora,
        "gain_recovered": recovered,
        "seconds_full": seconds_full,
        "seconds_lora": seconds_lora,
        "merge_max_abs_diff": merge_max_abs_diff,
        "adapt_steps": adapt_steps,
    }
    conclusion = (
        f"Rank-{rank} LoRA trained {params_lora:,} parameters ({100 * params_lora / params_full:.2g}% of "
        f"{params_full:,}); on the shifted task it took the test loss from {{loss_before:.3g}} to {{loss_lora:.3g}} "
        "in {seconds_lora:.2g} s, against {loss_full:.3g} in {seconds_full:.2g} s for full fine-tuning "
        "({gain_recovered:.0%} of its gain); merged into W + BA it differs from the adapter by at most "
        "{merge_max_abs_diff:.1g}."
    )
    series = {
        "adapt_loss": chart(
            "training loss on the shifted task", range(adapt_steps), {"full": curve_full, f"lora r={rank}": curve_lora},
            x_label="step", y_label="MSE", log_y=True,
        )
    }
    return Outcome(metrics, conclusion, series)
