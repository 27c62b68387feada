"""mixed-precision: fp16 gradients underflow without loss scaling and overflow with too much; bf16 does neither.

Every variant is real `torch.autocast` on the demo's device (matmuls in fp16 or bf16, the loss in fp32, fp32
master weights updated by Adam) and loss scaling is `torch.amp.GradScaler` (dynamic: it skips a step with
inf/NaN gradients and halves its scale). On CUDA the fp16 matmuls run on Tensor Cores; on the CPU torch
computes them with fp16 inputs and outputs, slower than fp32 there, but with the same representable values, so
underflow and overflow are the same on both devices. Nothing here measures speed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from studybot.demos._registry import DemoContext, Effect, Outcome, chart, demo

if TYPE_CHECKING:
    import torch

DIMS = (16, 64, 64, 1)
# Weights the loss so that most gradients lie below fp16's smallest subnormal 2^-24 (the weight gradients'
# median is about 2^-28 at the start), the regime in which the note says fp16 needs loss scaling; large models
# get there by depth and by averaging over many tokens.
LOSS_WEIGHT = 2.0**-20
LOSS_SCALE = 2.0**16  # GradScaler's default initial scale
OVERFLOW_SCALE = 2.0**40  # far too large: the largest scaled gradients pass fp16's 65504
LR = 3e-3
VARIANTS = {"fp32": ("float32", False), "fp16": ("float16", False), "fp16_scaled": ("float16", True),
            "bf16": ("bfloat16", False)}


@demo(
    name="mixed-precision",
    topics=["cuda"],
    concepts=["mixed-precision"],
    claim=(
        "FP16's smallest subnormal is 2^-24 ≈ 6e-8 and its largest value 65504, while BF16 has FP32's 8-bit "
        "exponent. With a loss weighted so that most gradients lie below 2^-24, fp16 autocast without loss "
        "scaling flushes more than half of the nonzero parameter-gradient entries to zero, fp16 with a 2^16 loss "
        "scale and bf16 without one flush under 1%, and the unscaled fp16 run ends training at a higher loss "
        "than the scaled one; a loss scale of 2^40 overflows some fp16 gradients to inf and no bf16 ones."
    ),
    effects=[
        Effect("zero_frac_fp16", ">", 0.5),
        Effect("zero_frac_fp16_scaled", "<", 0.01),
        Effect("zero_frac_bf16", "<", 0.01),
        Effect("loss_ratio_unscaled_scaled", ">", 1, log=True),
        # log: the fraction spans a decade over seeds (0.005 to 0.06), where one seed sets an arithmetic interval
        Effect("overflow_frac_fp16", ">", 0, log=True),
        Effect("overflow_frac_bf16", "<", 1e-6),
    ],
    typical_seconds=4.0,
)
def mixed_precision(ctx: DemoContext) -> Outcome:
    import torch

    from studybot.demos._torch import fit, mlp, mlp_inputs, randn, random_teacher, seeded

    gen = seeded(ctx)
    n, steps = (256, 60) if ctx.quick else (384, 100)
    teacher = random_teacher(gen, (DIMS[0], 32, DIMS[-1]), ctx.device)
    x = randn(gen, n, DIMS[0], device=ctx.device)
    y = teacher(x)
    y = y / y.std()
    init = [(w.detach(), b.detach()) for w, b in mlp(DIMS, ctx.device)]

    def fresh() -> list[tuple[torch.Tensor, torch.Tensor]]:
        return [(w.clone().requires_grad_(), b.clone().requires_grad_()) for w, b in init]

    def weighted_loss(layers: list[tuple[torch.Tensor, torch.Tensor]], dtype: str) -> torch.Tensor:
        with torch.autocast(ctx.device, dtype=getattr(torch, dtype), enabled=dtype != "float32"):
            out = mlp_inputs(layers, x)[-1]
        return torch.nn.functional.mse_loss(out.float(), y) * LOSS_WEIGHT

    def first_gradients(dtype: str, scale: float) -> torch.Tensor:
        """Every parameter's gradient of the scaled loss at the initial weights, flattened (still scaled)."""
        layers = fresh()
        (weighted_loss(layers, dtype) * scale).backward()
        return torch.cat([p.grad.flatten() for layer in layers for p in layer])

    reference = first_gradients("float32", 1.0)
    nonzero = reference != 0
    metrics: dict[str, float] = {"grad_median_fp32": float(reference.abs().median())}
    for name, (dtype, scaled) in VARIANTS.items():
        if name != "fp32":
            grads = first_gradients(dtype, LOSS_SCALE if scaled else 1.0)
            metrics[f"zero_frac_{name}"] = float((grads[nonzero] == 0).float().mean())
    for name in ("fp16", "bf16"):
        overflowed = ~torch.isfinite(first_gradients(VARIANTS[name][0], OVERFLOW_SCALE))
        metrics[f"overflow_frac_{name}"] = float(overflowed.float().mean())

    curves = {}
    for name, (dtype, scaled) in VARIANTS.items():
        layers = fresh()
        scaler = torch.amp.GradScaler(ctx.device, init_scale=LOSS_SCALE) if scaled else None
        losses = fit([p for layer in layers for p in layer], lambda: weighted_loss(layers, dtype), steps, LR,
                     scaler=scaler) / LOSS_WEIGHT
        curves[name] = losses.tolist()
        with torch.no_grad():
            metrics[f"loss_{name}"] = float(weighted_loss(layers, dtype)) / LOSS_WEIGHT
    metrics["loss_ratio_unscaled_scaled"] = metrics["loss_fp16"] / metrics["loss_fp16_scaled"]
    conclusion = (
        f"At the start the median |gradient| was {{grad_median_fp32:.2g}} in fp32 (loss weighted by 2^-20). fp16 "
        "without loss scaling turned {zero_frac_fp16:.1%} of the nonzero gradient entries into zeros, fp16 with a "
        "2^16 loss scale {zero_frac_fp16_scaled:.2%} and bf16 {zero_frac_bf16:.2%}. After "
        f"{steps} Adam steps the (unweighted) training loss was {{loss_fp32:.3g}} in fp32, {{loss_fp16:.3g}} in fp16, "
        "{loss_fp16_scaled:.3g} in fp16 with dynamic loss scaling and {loss_bf16:.3g} in bf16 (unscaled / scaled "
        "fp16: {loss_ratio_unscaled_scaled:.3g}x). With a 2^40 loss scale, {overflow_frac_fp16:.2%} of fp16's "
        "gradient entries overflowed to inf or NaN, {overflow_frac_bf16:.2%} of bf16's."
    )
    series = {
        "loss": chart("training loss (MSE, unweighted)", range(steps),
                      {name.replace("_scaled", " + loss scaling"): curve for name, curve in curves.items()},
                      x_label="step", y_label="MSE", log_y=True),
    }
    return Outcome(metrics, conclusion, series)
