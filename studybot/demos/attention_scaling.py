"""attention-scaling: without 1/sqrt(d), dot-product attention saturates as the head dimension grows."""

from __future__ import annotations

from studybot.demos._registry import DemoContext, Outcome, chart, demo


@demo(
    name="attention-scaling",
    topics=["transformer"],
    claim=(
        "q.k between unit-variance vectors has variance d, so without the 1/sqrt(d) factor softmax "
        "saturates as the head dimension grows: at the largest d its entropy is under half and its "
        "gradient under a tenth of the scaled version's, while with 1/sqrt(d) the entropy stays within "
        "20% across all d."
    ),
    typical_seconds=0.1,
)
def attention_scaling(ctx: DemoContext) -> Outcome:
    import math

    import torch

    from studybot.demos._torch import randn, seeded

    gen = seeded(ctx)
    tokens, value_dim = (32, 16) if ctx.quick else (128, 64)
    dims = [8, 16, 32, 64, 128, 256] if ctx.quick else [8, 16, 32, 64, 128, 256, 512]
    entropy: dict[str, list[float]] = {"scaled": [], "unscaled": []}
    grad: dict[str, list[float]] = {"scaled": [], "unscaled": []}
    for d in dims:
        q, k = randn(gen, tokens, d, device=ctx.device), randn(gen, tokens, d, device=ctx.device)
        v = randn(gen, tokens, value_dim, device=ctx.device)
        upstream = randn(gen, tokens, value_dim, device=ctx.device)  # a fixed random dL/d(output)
        for kind, factor in (("scaled", 1 / math.sqrt(d)), ("unscaled", 1.0)):
            logits = (q @ k.T * factor).requires_grad_()
            p = torch.softmax(logits, dim=-1)
            ((p @ v) * upstream).sum().backward()
            p = p.detach()
            entropy[kind].append(float(-(p * torch.log(p.clamp_min(1e-30))).sum(-1).mean()))
            grad[kind].append(float(logits.grad.norm(dim=-1).mean()))

    d_max = dims[-1]
    metrics = {
        "max_entropy": math.log(tokens),
        **{f"entropy_{kind}_d{d}": e for kind in entropy for d, e in zip(dims, entropy[kind])},
        f"grad_scaled_d{d_max}": grad["scaled"][-1],
        f"grad_unscaled_d{d_max}": grad["unscaled"][-1],
    }
    spread = min(entropy["scaled"]) / max(entropy["scaled"])
    checks = {
        f"entropy_unscaled_d{d_max} < 0.5 * entropy_scaled_d{d_max}": entropy["unscaled"][-1] < 0.5 * entropy["scaled"][-1],
        f"grad_unscaled_d{d_max} < 0.1 * grad_scaled_d{d_max}": grad["unscaled"][-1] < 0.1 * grad["scaled"][-1],
        "min/max of scaled entropy over d > 0.8": spread > 0.8,
    }
    conclusion = (
        f"Over {tokens} keys (max entropy {math.log(tokens):.2f} nats), at d = {d_max} the softmax entropy was "
        f"{entropy['unscaled'][-1]:.2f} without scaling and {entropy['scaled'][-1]:.2f} with it, and the gradient "
        f"reaching the scores {grad['unscaled'][-1]:.2g} vs {grad['scaled'][-1]:.2g}; with scaling the entropy "
        f"ranged {min(entropy['scaled']):.2f}-{max(entropy['scaled']):.2f} over d = {dims[0]}..{d_max}."
    )
    series = {
        "entropy": chart("softmax entropy vs head dim", dims, entropy, x_label="head dimension d", y_label="nats"),
        "grad": chart(
            "gradient norm at the scores vs head dim", dims, grad,
            x_label="head dimension d", y_label="||dL/dscores|| per query", log_y=True,
        ),
    }
    return Outcome(metrics, checks, conclusion, series)
