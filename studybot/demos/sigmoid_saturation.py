"""sigmoid-saturation: sigma'(x) vanishes away from 0, and a deep sigmoid MLP starves its first layer."""

from __future__ import annotations

from studybot.demos._registry import DemoContext, Effect, Outcome, chart, demo

DEPTH = 20


@demo(
    name="sigmoid-saturation",
    topics=["activations", "gradients"],
    concepts=["sigmoid"],
    claim=(
        "sigma'(x) peaks at 0.25 at x = 0 and vanishes for large |x| (sigma'(10) < 1e-4), so in a "
        f"{DEPTH}-layer MLP with the same Xavier weights the first layer gets at least 100x less "
        "gradient with sigmoid than with ReLU."
    ),
    effects=[
        Effect("grad_at_0_error", "<", 1e-6),
        Effect("grad_at_10", "<", 1e-4),
        Effect("relu_over_sigmoid_first_layer_grad", ">", 100, log=True),
    ],
    typical_seconds=0.15,
)
def sigmoid_saturation(ctx: DemoContext) -> Outcome:
    import copy

    import torch

    from studybot.demos._torch import randn, seeded, weight_grad_norms

    gen = seeded(ctx)
    x = torch.tensor([0.0, 5.0, 10.0], device=ctx.device, requires_grad=True)
    torch.sigmoid(x).sum().backward()
    grad_at_0, grad_at_5, grad_at_10 = (float(v) for v in x.grad)

    width, batch = (64, 64) if ctx.quick else (128, 256)
    inputs, targets = randn(gen, batch, width, device=ctx.device), randn(gen, batch, 1, device=ctx.device)
    layers = torch.nn.ModuleList(torch.nn.Linear(width, width) for _ in range(DEPTH))
    for layer in layers:
        torch.nn.init.xavier_normal_(layer.weight, generator=gen)
        torch.nn.init.zeros_(layer.bias)
    head = torch.nn.Linear(width, 1)
    torch.nn.init.xavier_normal_(head.weight, generator=gen)
    torch.nn.init.zeros_(head.bias)

    profiles: dict[str, list[float]] = {}
    for act_name, act in (("sigmoid", torch.sigmoid), ("relu", torch.relu)):
        stack, out = copy.deepcopy(layers).to(ctx.device), copy.deepcopy(head).to(ctx.device)
        h = inputs
        for layer in stack:
            h = act(layer(h))
        torch.nn.functional.mse_loss(out(h), targets).backward()
        profiles[act_name] = weight_grad_norms(stack)

    sig, relu = profiles["sigmoid"][0], profiles["relu"][0]
    metrics = {
        "grad_at_0": grad_at_0,
        "grad_at_5": grad_at_5,
        "grad_at_10": grad_at_10,
        "first_layer_grad_sigmoid": sig,
        "first_layer_grad_relu": relu,
        "relu_over_sigmoid_first_layer_grad": relu / sig,
        "grad_at_0_error": abs(grad_at_0 - 0.25),
        "depth": DEPTH,
    }
    conclusion = (
        "sigma'(0) = {grad_at_0:.3g}, sigma'(5) = {grad_at_5:.2g}, sigma'(10) = {grad_at_10:.2g}; "
        f"through {DEPTH} layers the first layer's gradient norm is {{first_layer_grad_sigmoid:.2g}} with sigmoid "
        "and {first_layer_grad_relu:.2g} with ReLU, {relu_over_sigmoid_first_layer_grad:.2g}x less with sigmoid."
    )
    series = {
        "per_layer_grad": chart(
            "weight gradient norm per layer",
            range(1, DEPTH + 1),
            profiles,
            x_label="layer (1 = first)",
            y_label="||dL/dW||",
            log_y=True,
        )
    }
    return Outcome(metrics, conclusion, series)
