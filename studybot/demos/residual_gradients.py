"""residual-gradients: skip connections carry the gradient to the first layer of a deep stack.

All seeds run at once: each weight has a leading model dimension holding a plain and a residual copy
of every seed's stack (`torch.baddbmm`), trained together by `fit` exactly as if each were alone.
"""

from __future__ import annotations

from studybot.demos._registry import DemoContext, Effect, Outcome, chart, demo

DEPTH = 30


@demo(
    name="residual-gradients",
    topics=["residual", "gradients"],
    concepts=["residual-connection"],
    claim=(
        f"In a {DEPTH}-layer ReLU stack with PyTorch's default init, skip connections (pre-activation "
        "blocks h + W relu(h)) give the first layer more than 10x the gradient of the same plain stack "
        "(h -> W relu(h)), and the residual stack reaches a lower loss after the same short training."
    ),
    effects=[Effect("first_layer_grad_ratio", ">", 10, log=True), Effect("loss_plain_minus_residual", ">", 0)],
    typical_seconds=4.7,
    batched=True,
)
def residual_gradients(ctx: DemoContext) -> list[Outcome]:
    import torch

    from studybot.demos._torch import fit, stacked_linear

    seeds, steps = len(ctx.seeds), 200
    width, batch = (32, 128) if ctx.quick else (64, 128)
    gens = [torch.Generator().manual_seed(seed) for seed in ctx.seeds]
    inputs, targets = [], []
    for gen in gens:
        x = torch.randn(batch, width, generator=gen)
        # Targets from a fixed random two-layer teacher: learnable, and the same for both stacks.
        teacher = torch.randn(width, width, generator=gen) / width**0.5
        inputs.append(x)
        targets.append(torch.tanh(x @ teacher).sum(dim=1, keepdim=True) / width**0.5)
    inputs, targets = (torch.stack(t).repeat(2, 1, 1).to(ctx.device) for t in (inputs, targets))
    blocks = [stacked_linear(gens, width, width, 2, ctx.device) for _ in range(DEPTH)]
    head = stacked_linear(gens, width, 1, 2, ctx.device)
    # Models 0..seeds-1 are plain (the skip is multiplied by 0), the rest residual: same weights and data.
    skip = torch.tensor([0.0] * seeds + [1.0] * seeds, device=ctx.device).view(-1, 1, 1)

    def losses() -> torch.Tensor:
        h = inputs
        for w, b in blocks:
            h = skip * h + torch.baddbmm(b, torch.relu(h), w)
        return (torch.baddbmm(head[1], h, head[0]) - targets).pow(2).mean((1, 2))

    losses().sum().backward()
    profiles = torch.stack([w.grad.flatten(1).norm(dim=1) for w, _ in blocks], dim=1).cpu()  # [models, layer]
    params = [t for layer in (*blocks, head) for t in layer]
    for t in params:
        t.grad = None
    curves = fit(params, losses, steps, lr=1e-3)
    with torch.no_grad():
        curves = torch.cat([curves, losses().cpu().unsqueeze(0)]).T  # [models, steps + 1]

    conclusion = (
        f"At init the first of {DEPTH} layers gets a gradient norm of {{first_layer_grad_residual:.2g}} with skip "
        "connections and {first_layer_grad_plain:.2g} without ({first_layer_grad_ratio:.2g}x); "
        f"after {steps} Adam steps the loss is "
        "{loss_residual:.3g} with them (from {loss_start_residual:.3g}) and {loss_plain:.3g} without "
        "(from {loss_start_plain:.3g})."
    )
    outcomes = []
    for i in range(seeds):
        plain, residual = i, seeds + i
        metrics = {
            "first_layer_grad_plain": float(profiles[plain, 0]),
            "first_layer_grad_residual": float(profiles[residual, 0]),
            "loss_start_plain": float(curves[plain, 0]),
            "loss_start_residual": float(curves[residual, 0]),
            "loss_plain": float(curves[plain, -1]),
            "loss_residual": float(curves[residual, -1]),
            "first_layer_grad_ratio": float(profiles[residual, 0] / profiles[plain, 0]),
            "loss_plain_minus_residual": float(curves[plain, -1] - curves[residual, -1]),
            "depth": DEPTH,
            "train_steps": steps,
        }
        series = {
            "per_layer_grad": chart(
                "weight gradient norm per layer at init", range(1, DEPTH + 1),
                {"plain": profiles[plain].tolist(), "residual": profiles[residual].tolist()},
                x_label="layer (1 = first)", y_label="||dL/dW||", log_y=True,
            ),
            "loss": chart(
                "training loss", range(steps + 1),
                {"plain": curves[plain].tolist(), "residual": curves[residual].tolist()},
                x_label="step", y_label="MSE", log_y=True,
            ),
        }
        outcomes.append(Outcome(metrics, conclusion, series))
    return outcomes
