"""weight-init: the init must match the activation, or activations vanish or explode with depth."""

from __future__ import annotations

from studybot.demos._registry import DemoContext, Effect, Outcome, chart, demo

DEPTH = 30
# Weight std for a layer with `n` inputs (square layers, so fan_in = fan_out = n).
INITS = {
    "small": lambda n: 0.01,  # N(0, 0.01^2): the classic "small random numbers"
    "naive": lambda n: 1.0,  # N(0, 1)
    "xavier": lambda n: (2 / (n + n)) ** 0.5,  # Glorot: var = 2 / (fan_in + fan_out)
    "he": lambda n: (2 / n) ** 0.5,  # Kaiming: var = 2 / fan_in
}


@demo(
    name="weight-init",
    topics=["activations", "gradients"],
    concepts=["weight-initialization", "xavier-init", "he-init"],
    claim=(
        f"Through {DEPTH} layers the init must match the activation: Xavier keeps tanh activations' std and He "
        "keeps ReLU's within 10x of 1, while N(0, 0.01^2) makes both vanish (< 1e-3), Xavier under ReLU "
        "shrinks them (< 0.01) and N(0, 1) under ReLU explodes them (> 1e3)."
    ),
    effects=[
        Effect("std_final_xavier_tanh", ">", 0.1, log=True),
        Effect("std_final_xavier_tanh", "<", 10, log=True),
        Effect("std_final_he_relu", ">", 0.1, log=True),
        Effect("std_final_he_relu", "<", 10, log=True),
        Effect("std_final_small_tanh", "<", 1e-3, log=True),
        Effect("std_final_small_relu", "<", 1e-3, log=True),
        Effect("std_final_xavier_relu", "<", 0.01, log=True),
        Effect("std_final_naive_relu", ">", 1e3, log=True),
    ],
    typical_seconds=1.3,
)
def weight_init(ctx: DemoContext) -> Outcome:
    import torch

    from studybot.demos._torch import randn, seeded

    gen = seeded(ctx)
    width, batch = (128, 128) if ctx.quick else (256, 512)
    x = randn(gen, batch, width, device=ctx.device)
    weights = [randn(gen, width, width, device=ctx.device) for _ in range(DEPTH)]
    profiles: dict[str, dict[str, list[float]]] = {"tanh": {}, "relu": {}}
    for act_name, act in (("tanh", torch.tanh), ("relu", torch.relu)):
        for init, std_for in INITS.items():
            h, stds = x, []
            for w in weights:  # the same unit-normal draws, scaled per scheme
                h = act(h @ (std_for(width) * w).T)
                stds.append(float(h.std()))
            profiles[act_name][init] = stds

    final = {f"std_final_{init}_{act}": profiles[act][init][-1] for act in profiles for init in INITS}
    metrics = {"depth": DEPTH, "width": width, **final}
    conclusion = (
        f"After {DEPTH} layers of width {width} the activation std was, with tanh: "
        + ", ".join(f"{init} {{std_final_{init}_tanh:.2g}}" for init in INITS)
        + "; with ReLU: "
        + ", ".join(f"{init} {{std_final_{init}_relu:.2g}}" for init in INITS)
        + "."
    )
    series = {
        act: chart(
            f"activation std per layer ({act})", range(1, DEPTH + 1), profiles[act],
            x_label="layer", y_label="std", log_y=True,
        )
        for act in profiles
    }
    return Outcome(metrics, conclusion, series)
