"""residual-gradients: skip connections carry the gradient to the first layer of a deep stack."""

from __future__ import annotations

from studybot.demos._registry import DemoContext, Outcome, chart, demo

DEPTH = 30


@demo(
    name="residual-gradients",
    topics=["residual", "gradients"],
    claim=(
        f"In a {DEPTH}-layer ReLU stack with PyTorch's default init, skip connections (pre-activation "
        "blocks h + W relu(h)) give the first layer more than 10x the gradient of the same plain stack "
        "(h -> W relu(h)), and the residual stack reaches a lower loss after the same short training."
    ),
    typical_seconds=1.7,
)
def residual_gradients(ctx: DemoContext) -> Outcome:
    import copy

    import torch

    from studybot.demos._torch import fit, randn, seeded, weight_grad_norms

    gen = seeded(ctx)
    steps = 200
    width, batch = (32, 128) if ctx.quick else (64, 256)
    inputs = randn(gen, batch, width, device=ctx.device)
    # Targets from a fixed random two-layer teacher: learnable, and the same for both stacks.
    teacher = randn(gen, width, width, device=ctx.device) / width**0.5
    targets = torch.tanh(inputs @ teacher).sum(dim=1, keepdim=True) / width**0.5

    template = torch.nn.ModuleList([*(torch.nn.Linear(width, width) for _ in range(DEPTH)), torch.nn.Linear(width, 1)])
    profiles: dict[str, list[float]] = {}
    curves: dict[str, list[float]] = {}
    for kind in ("plain", "residual"):
        net = copy.deepcopy(template).to(ctx.device)
        *blocks, head = net

        def loss() -> torch.Tensor:
            h = inputs
            for block in blocks:
                h = h + block(torch.relu(h)) if kind == "residual" else block(torch.relu(h))
            return torch.nn.functional.mse_loss(head(h), targets)

        loss().backward()
        profiles[kind] = weight_grad_norms(blocks)
        curves[kind] = fit(net.parameters(), loss, steps, lr=1e-3)
        with torch.no_grad():
            curves[kind].append(float(loss()))

    plain, residual = profiles["plain"][0], profiles["residual"][0]
    loss_plain, loss_residual = curves["plain"][-1], curves["residual"][-1]
    metrics = {
        "first_layer_grad_plain": plain,
        "first_layer_grad_residual": residual,
        "loss_start_plain": curves["plain"][0],
        "loss_start_residual": curves["residual"][0],
        "loss_plain": loss_plain,
        "loss_residual": loss_residual,
        "depth": DEPTH,
        "train_steps": steps,
    }
    checks = {
        "first_layer_grad_residual > 10 * first_layer_grad_plain": residual > 10 * plain,
        "loss_residual < loss_plain": loss_residual < loss_plain,
    }
    conclusion = (
        f"At init the first of {DEPTH} layers gets a gradient norm of {residual:.2g} with skip connections "
        f"and {plain:.2g} without ({residual / plain:.2g}x); after {steps} Adam steps the loss is "
        f"{loss_residual:.3g} with them (from {curves['residual'][0]:.3g}) and {loss_plain:.3g} without "
        f"(from {curves['plain'][0]:.3g})."
    )
    series = {
        "per_layer_grad": chart(
            "weight gradient norm per layer at init", range(1, DEPTH + 1), profiles,
            x_label="layer (1 = first)", y_label="||dL/dW||", log_y=True,
        ),
        "loss": chart("training loss", range(steps + 1), curves, x_label="step", y_label="MSE", log_y=True),
    }
    return Outcome(metrics, checks, conclusion, series)
