"""kv-cache: caching past keys and values gives the same logits and makes decoding cheaper as it grows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from studybot.demos._registry import DemoContext, Effect, Outcome, chart, demo

if TYPE_CHECKING:
    import torch

    Cache = list[tuple[torch.Tensor, torch.Tensor]]

DIM, HEADS, LAYERS, VOCAB, PROMPT = 128, 4, 2, 256, 16
REPEATS = 3  # each decode is timed as the fastest of 3: other processes' load only ever adds time


@demo(
    name="kv-cache",
    topics=["llm-apps"],
    concepts=["kv-cache"],
    claim=(
        "Under the causal mask past tokens' keys and values never change, so decoding with a KV cache gives "
        "the same next-token logits as recomputing the whole prefix (max difference < 1e-4) while each step "
        "forwards one token instead of the prefix: greedy decoding is faster with the cache, and its speedup "
        "grows with the number of generated tokens (O(n) instead of O(n^2) token forwards)."
    ),
    effects=[
        Effect("max_logit_diff", "<", 1e-4),
        Effect("speedup_long", ">", 1, log=True),
        Effect("speedup_growth", ">", 1, log=True),
    ],
    typical_seconds=3.7,
)
def kv_cache(ctx: DemoContext) -> Outcome:
    import torch

    from studybot.demos._torch import randn, seeded, timed

    gen = seeded(ctx)
    short, long = (16, 64) if ctx.quick else (32, 128)

    def weight(*shape: int) -> torch.Tensor:
        return randn(gen, *shape, device=ctx.device) / shape[0] ** 0.5

    embed, unembed = randn(gen, VOCAB, DIM, device=ctx.device), weight(DIM, VOCAB)
    layers = [tuple(weight(DIM, DIM) for _ in range(4)) + (weight(DIM, 4 * DIM), weight(4 * DIM, DIM))
              for _ in range(LAYERS)]
    prompt = torch.randint(VOCAB, (PROMPT,), generator=gen).to(ctx.device)

    def forward(tokens: torch.Tensor, cache: Cache | None) -> torch.Tensor:
        """Logits of the last position; with a cache, `tokens` are the new ones and the cache grows."""
        x = embed[tokens]
        for i, (wq, wk, wv, wo, w1, w2) in enumerate(layers):
            h = torch.nn.functional.layer_norm(x, (DIM,))
            q, k, v = (_heads(h @ w) for w in (wq, wk, wv))
            if cache is not None:
                if len(cache) > i:
                    k, v = torch.cat([cache[i][0], k], 1), torch.cat([cache[i][1], v], 1)
                    cache[i] = (k, v)
                else:
                    cache.append((k, v))
            # New queries sit at the end: each sees every key up to its own position.
            attn = torch.nn.functional.scaled_dot_product_attention(
                q, k, v, is_causal=cache is None or q.shape[1] == k.shape[1]
            )
            x = x + attn.transpose(0, 1).reshape(-1, DIM) @ wo
            x = x + torch.relu(torch.nn.functional.layer_norm(x, (DIM,)) @ w1) @ w2
        return x[-1] @ unembed

    def decode(steps: int, cached: bool) -> list[torch.Tensor]:
        with torch.no_grad():
            cache: Cache | None = [] if cached else None
            tokens, logits = prompt, forward(prompt, cache)
            out = [logits]
            for _ in range(steps - 1):
                token = logits.argmax().view(1)
                tokens = torch.cat([tokens, token])
                logits = forward(token if cached else tokens, cache)
                out.append(logits)
            return out

    decode(4, True), decode(4, False)  # warm-up: first calls pay one-off allocations
    logits, seconds = {}, {}
    for steps in (short, long):
        for cached in (False, True):
            runs = [timed(ctx.device, lambda: decode(steps, cached)) for _ in range(REPEATS)]
            logits[steps, cached], seconds[steps, cached] = runs[0][0], min(t for _, t in runs)
    diff_per_step = (torch.stack(logits[long, True]) - torch.stack(logits[long, False])).abs().amax(-1).cpu()
    speedup = {steps: seconds[steps, False] / seconds[steps, True] for steps in (short, long)}
    metrics = {
        "max_logit_diff": float(diff_per_step.max()),
        "seconds_recompute_long": seconds[long, False],
        "seconds_cached_long": seconds[long, True],
        "speedup_short": speedup[short],
        "speedup_long": speedup[long],
        "speedup_growth": speedup[long] / speedup[short],
        "token_forwards_recompute_long": sum(PROMPT + t for t in range(long)),
        "token_forwards_cached_long": PROMPT + long - 1,
    }
    conclusion = (
        f"A {LAYERS}-layer, {DIM}-wide decoder generated {long} tokens after a {PROMPT}-token prompt; the cached "
        "logits differed from recomputing the prefix by at most {max_logit_diff:.2g}. Recomputing took "
        "{seconds_recompute_long:.3g} s and {token_forwards_recompute_long:.0f} token forwards, the cache "
        "{seconds_cached_long:.3g} s and {token_forwards_cached_long:.0f}: {speedup_long:.2g}x faster, against "
        f"{{speedup_short:.2g}}x for {short} tokens."
    )
    series = {
        "diff": chart(
            "max |logit difference| cached vs recomputed, per generated token", range(1, long + 1),
            {"max abs difference": diff_per_step.clamp_min(1e-12).tolist()},
            x_label="generated token", y_label="max |diff|", log_y=True,
        )
    }
    return Outcome(metrics, conclusion, series)


def _heads(x: torch.Tensor) -> torch.Tensor:
    """(tokens, DIM) -> (HEADS, tokens, DIM / HEADS)."""
    return x.view(x.shape[0], HEADS, DIM // HEADS).transpose(0, 1)
