"""dropout: inverted dropout keeps the expected activation, and narrows the train-test gap."""

from __future__ import annotations

from typing import TYPE_CHECKING

from studybot.demos._registry import DemoContext, Outcome, chart, demo

if TYPE_CHECKING:
    import torch

P = 0.5
LABEL_NOISE = 0.2


@demo(
    name="dropout",
    topics=["regularization"],
    claim=(
        f"Inverted dropout (p = {P}) scales kept units by 1/(1-p), so the mean train-mode output matches "
        "eval mode (ratio within 5% of 1); on a small dataset with noisy labels, an over-parameterized MLP "
        f"trained with p = {P} has a smaller train-test accuracy gap than with p = 0."
    ),
    typical_seconds=3.3,
)
def dropout(ctx: DemoContext) -> Outcome:
    import torch

    from studybot.demos._torch import fit, randn, seeded

    gen = seeded(ctx)
    activations = torch.rand(200_000 if ctx.quick else 1_000_000, generator=gen).to(ctx.device) + 0.5
    layer = torch.nn.Dropout(P).train()
    scale_ratio = float(layer(activations).mean() / layer.eval()(activations).mean())

    dim, width = 20, 512
    n_train, n_test, steps = (100, 1000, 200) if ctx.quick else (200, 2000, 300)
    teacher = randn(gen, dim, device=ctx.device)
    x_train, x_test = randn(gen, n_train, dim, device=ctx.device), randn(gen, n_test, dim, device=ctx.device)
    flip = (torch.rand(n_train, generator=gen) < LABEL_NOISE).to(ctx.device)
    y_train = ((x_train @ teacher > 0) ^ flip).long()  # noisy labels to memorize
    y_test = (x_test @ teacher > 0).long()  # clean labels: what generalizes

    template = torch.nn.Sequential(
        torch.nn.Linear(dim, width), torch.nn.ReLU(), torch.nn.Dropout(),
        torch.nn.Linear(width, width), torch.nn.ReLU(), torch.nn.Dropout(),
        torch.nn.Linear(width, 2),
    )
    results: dict[str, dict[str, float]] = {}
    curves: dict[str, list[float]] = {}
    for p in (0.0, P):
        model = _copy_with_dropout(template, p).to(ctx.device).train()
        curves[f"p={p}"] = fit(
            model.parameters(), lambda: torch.nn.functional.cross_entropy(model(x_train), y_train), steps, lr=1e-3
        )
        model.eval()
        with torch.no_grad():
            train_acc = float((model(x_train).argmax(1) == y_train).float().mean())
            test_acc = float((model(x_test).argmax(1) == y_test).float().mean())
        results[f"p={p}"] = {"train": train_acc, "test": test_acc, "gap": train_acc - test_acc}

    plain, drop = results["p=0.0"], results[f"p={P}"]
    metrics = {
        "scale_ratio": scale_ratio,
        "train_acc_no_dropout": plain["train"],
        "test_acc_no_dropout": plain["test"],
        "gap_no_dropout": plain["gap"],
        "train_acc_dropout": drop["train"],
        "test_acc_dropout": drop["test"],
        "gap_dropout": drop["gap"],
        "label_noise": LABEL_NOISE,
        "n_train": n_train,
    }
    checks = {
        "abs(scale_ratio - 1) < 0.05": abs(scale_ratio - 1) < 0.05,
        "gap_dropout < gap_no_dropout": drop["gap"] < plain["gap"],
    }
    conclusion = (
        f"Train-mode output averaged {scale_ratio:.4f}x the eval-mode output. On {n_train} samples with "
        f"{LABEL_NOISE:.0%} flipped labels, p = 0 reached {plain['train']:.0%} train / {plain['test']:.0%} test "
        f"accuracy (gap {plain['gap']:.2f}) and p = {P} reached {drop['train']:.0%} / {drop['test']:.0%} "
        f"(gap {drop['gap']:.2f})."
    )
    series = {
        "loss": chart(
            "training loss (train mode)", range(steps), curves, x_label="step", y_label="cross-entropy", log_y=True
        )
    }
    return Outcome(metrics, checks, conclusion, series)


def _copy_with_dropout(template: torch.nn.Module, p: float) -> torch.nn.Module:
    """The same initial weights with dropout probability `p`, so only dropout differs between runs."""
    import copy

    import torch

    model = copy.deepcopy(template)
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = p
    return model
