"""dropout: inverted dropout keeps the expected activation, and narrows the train-test gap.

All seeds train at once: one batched MLP (a leading model dimension, `torch.baddbmm`) holds a p = 0
and a p = 0.5 copy of each seed's network, trained together by `fit` (exactly as if each were alone).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from studybot.demos._registry import DemoContext, Effect, Outcome, chart, demo

if TYPE_CHECKING:
    import torch

P = 0.5
LABEL_NOISE = 0.2
DIM, N_TRAIN, N_TEST = 5, 200, 2000
WIDTH, QUICK_WIDTH = 128, 64
LR, STEPS = 3e-3, 400  # by STEPS the p = 0 network fits every training label, flipped ones included
EVAL_EVERY = 10


@demo(
    name="dropout",
    topics=["regularization"],
    concepts=["dropout"],
    claim=(
        f"Inverted dropout (p = {P}) scales kept units by 1/(1-p), so the mean train-mode output matches "
        "eval mode (ratio within 5% of 1); on a small dataset with noisy labels, an over-parameterized MLP "
        f"trained with p = {P} for as long as the same MLP without dropout takes to fit every label has a "
        "smaller train-test accuracy gap than without dropout."
    ),
    effects=[Effect("scale_error", "<", 0.05), Effect("gap_reduction", ">", 0)],
    typical_seconds=5.6,
    batched=True,
)
def dropout(ctx: DemoContext) -> list[Outcome]:
    import torch

    from studybot.demos._torch import fit, stacked_linear

    seeds, steps, width = len(ctx.seeds), STEPS, QUICK_WIDTH if ctx.quick else WIDTH
    gens = [torch.Generator().manual_seed(seed) for seed in ctx.seeds]
    scale_ratios = []
    layer = torch.nn.Dropout(P)
    for gen in gens:
        activations = torch.rand(200_000 if ctx.quick else 1_000_000, generator=gen).to(ctx.device) + 0.5
        torch.manual_seed(int(torch.randint(2**62, (), generator=gen)))
        scale_ratios.append(float(layer.train()(activations).mean() / layer.eval()(activations).mean()))

    # Per seed: a linear teacher in DIM dimensions, N_TRAIN samples with LABEL_NOISE of their labels
    # flipped (what a network can only memorize), clean test labels (what generalizes), and one init.
    data = [_task(gen) for gen in gens]
    x_train, y_train, x_test, y_test = (torch.stack([d[i] for d in data]).repeat(2, *[1] * data[0][i].dim())
                                        .to(ctx.device) for i in range(4))
    dims = (DIM, width, width, 2)
    layers = [stacked_linear(gens, fan_in, fan_out, 2, ctx.device) for fan_in, fan_out in zip(dims, dims[1:])]
    # Models 0..seeds-1 train with p = 0, the rest with p = P: the same seed's weights and data in both.
    keep = torch.tensor([1.0] * seeds + [1 - P] * seeds, device=ctx.device).view(-1, 1, 1)
    masks = torch.Generator(device=ctx.device).manual_seed(hash(ctx.seeds) & (2**63 - 1))

    def forward(x: torch.Tensor, train: bool) -> torch.Tensor:
        h = x
        for k, (w, b) in enumerate(layers):
            h = torch.baddbmm(b, h, w)
            if k < len(layers) - 1:
                h = torch.relu(h)
                if train:
                    h = h * (torch.rand(h.shape, generator=masks, device=ctx.device) < keep) / keep
        return h

    def accuracy(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return (forward(x, False).argmax(-1) == y).float().mean(-1)

    gaps, checkpoints = [], []

    def record_gap(step: int) -> None:
        if step % EVAL_EVERY == 0:
            checkpoints.append(step)
            gaps.append(accuracy(x_train, y_train) - accuracy(x_test, y_test))

    losses = fit(
        [t for pair in layers for t in pair],
        lambda: torch.nn.functional.cross_entropy(forward(x_train, True).transpose(1, 2), y_train, reduction="none")
        .mean(-1),
        steps, LR, before_step=record_gap,
    )
    record_gap(steps)
    conclusion = (
        "Train-mode output averaged {scale_ratio:.4f}x the eval-mode output. On "
        f"{N_TRAIN} samples in {DIM} dimensions with {LABEL_NOISE:.0%} flipped labels, after {steps} full-batch "
        f"Adam steps a 2x{width} ReLU MLP with p = 0 reached {{train_acc_no_dropout:.1%}} train / "
        "{test_acc_no_dropout:.1%} test accuracy (gap {gap_no_dropout:.3f}) and with "
        f"p = {P} {{train_acc_dropout:.1%}} / {{test_acc_dropout:.1%}} (gap {{gap_dropout:.3f}}), a gap smaller "
        "by {gap_reduction:.3f}; the gap curve shows dropout fitting the flipped labels later."
    )
    train_acc, test_acc = accuracy(x_train, y_train).cpu(), accuracy(x_test, y_test).cpu()
    losses_by_model, gaps_by_model = losses.T, torch.stack(gaps).T.cpu()
    outcomes = []
    for i in range(seeds):
        plain, drop = i, seeds + i
        metrics = {
            "scale_ratio": scale_ratios[i],
            "train_acc_no_dropout": float(train_acc[plain]),
            "test_acc_no_dropout": float(test_acc[plain]),
            "gap_no_dropout": float(train_acc[plain] - test_acc[plain]),
            "train_acc_dropout": float(train_acc[drop]),
            "test_acc_dropout": float(test_acc[drop]),
            "gap_dropout": float(train_acc[drop] - test_acc[drop]),
            "scale_error": abs(scale_ratios[i] - 1),
            "gap_reduction": float((train_acc[plain] - test_acc[plain]) - (train_acc[drop] - test_acc[drop])),
        }
        series = {
            "gap": chart(
                "train - test accuracy (eval mode) during training", checkpoints,
                {"p=0": gaps_by_model[plain].tolist(), f"p={P}": gaps_by_model[drop].tolist()},
                x_label="step", y_label="accuracy gap",
            ),
            "loss": chart(
                "training loss (train mode)", range(steps),
                {"p=0": losses_by_model[plain].tolist(), f"p={P}": losses_by_model[drop].tolist()},
                x_label="step", y_label="cross-entropy", log_y=True,
            ),
        }
        outcomes.append(Outcome(metrics, conclusion, series))
    return outcomes


def _task(gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(x_train, noisy y_train, x_test, clean y_test) from one random linear teacher."""
    import torch

    teacher = torch.randn(DIM, generator=gen)
    x_train, x_test = torch.randn(N_TRAIN, DIM, generator=gen), torch.randn(N_TEST, DIM, generator=gen)
    flip = torch.rand(N_TRAIN, generator=gen) < LABEL_NOISE
    return x_train, ((x_train @ teacher > 0) ^ flip).long(), x_test, (x_test @ teacher > 0).long()
