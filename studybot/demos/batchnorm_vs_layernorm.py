"""batchnorm-vs-layernorm: BN's output for a sample depends on its batch; LN's does not."""

from __future__ import annotations

from studybot.demos._registry import DemoContext, Effect, Outcome, chart, demo


@demo(
    name="batchnorm-vs-layernorm",
    topics=["normalization"],
    concepts=["batchnorm", "layernorm"],
    claim=(
        "LayerNorm normalizes each sample over its own features, so a sample's output is the same in any "
        "batch (difference < 1e-6); BatchNorm in training mode normalizes with batch statistics, so it is "
        "not, and its error grows as the batch shrinks (batch 4 at least 2x noisier than the largest); in "
        "eval mode BN uses running statistics and the batch no longer matters."
    ),
    effects=[
        Effect("ln_batch_dependence", "<", 1e-6),
        Effect("bn_batch_dependence", ">", 1e-2),
        Effect("bn_noise_ratio_4_to_largest", ">", 2, log=True),
        Effect("bn_eval_batch_dependence", "<", 1e-6),
    ],
    typical_seconds=0.7,
)
def batchnorm_vs_layernorm(ctx: DemoContext) -> Outcome:
    import torch

    from studybot.demos._torch import randn, seeded

    gen = seeded(ctx)
    dim, draws = (16, 100) if ctx.quick else (32, 300)
    sizes = [2, 4, 8, 16, 32, 64] if ctx.quick else [2, 4, 8, 16, 32, 64, 128, 256]
    # A population with its own per-feature mean and spread, and one sample x0 from it.
    mu, sigma = randn(gen, dim, device=ctx.device), randn(gen, dim, device=ctx.device).abs() + 0.5

    def draw(n: int) -> torch.Tensor:
        return mu + sigma * randn(gen, n, dim, device=ctx.device)

    x0 = draw(1)
    batch_a, batch_b = torch.cat([x0, draw(15)]), torch.cat([x0, 2 * draw(15) + 1])
    bn, ln = torch.nn.BatchNorm1d(dim, momentum=None).to(ctx.device), torch.nn.LayerNorm(dim).to(ctx.device)

    def batch_dependence(norm: torch.nn.Module) -> float:
        return float((norm(batch_a)[0] - norm(batch_b)[0]).abs().max())

    with torch.no_grad():
        bn_dep, ln_dep = batch_dependence(bn.train()), batch_dependence(ln)
        # Error of x0's BN output against normalizing with the true population statistics.
        exact = (x0[0] - mu) / sigma
        noise = []
        for n in sizes:
            errors = [float((bn.train()(torch.cat([x0, draw(n - 1)]))[0] - exact).pow(2).mean().sqrt()) for _ in range(draws)]
            noise.append(sum(errors) / draws)
        # Every batch above also updated BN's running statistics (a cumulative average, momentum=None).
        bn_eval_dep = batch_dependence(bn.eval())
        train_eval_diff = float((bn.train()(batch_a)[0] - bn.eval()(batch_a)[0]).abs().max())

    noise_at = dict(zip(sizes, noise))
    largest = sizes[-1]
    metrics = {
        "bn_batch_dependence": bn_dep,
        "ln_batch_dependence": ln_dep,
        "bn_eval_batch_dependence": bn_eval_dep,
        "bn_train_eval_diff": train_eval_diff,
        **{f"bn_noise_batch_{n}": v for n, v in noise_at.items()},
        "bn_noise_ratio_4_to_largest": noise_at[4] / noise_at[largest],
    }
    conclusion = (
        "The same sample moved by up to {bn_batch_dependence:.3g} under BatchNorm (train mode) when its batch "
        "changed, and by {ln_batch_dependence:.2g} under LayerNorm; BN's error against the population statistics "
        f"was {{bn_noise_batch_4:.3g}} at batch 4 and {{bn_noise_batch_{largest}:.3g}} at batch {largest}; in eval "
        "mode the batch changed BN's output by {bn_eval_batch_dependence:.2g}, while train and eval mode differed "
        "by {bn_train_eval_diff:.3g}."
    )
    series = {
        "bn_noise": chart(
            "BatchNorm (train mode): error vs batch size", sizes, {"rms error of x0's output": noise},
            x_label="batch size", y_label="rms error", log_y=True,
        )
    }
    return Outcome(metrics, conclusion, series)
