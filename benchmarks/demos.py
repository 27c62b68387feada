"""Time every `studybot demo` (default and --quick, each over its default seeds) and print its verdict.

Seconds are also given as a ratio to a baseline measured in the same run on the same device and, like
the demos, on one CPU thread (a fixed loop of 256x256 float32 matmuls), so figures from a busy or a
different machine stay comparable.

    PYTHONPATH=. python benchmarks/demos.py [--device cpu|cuda|auto] [--seed N] [--json]

Imports only studybot.demos and torch, so it also runs where the CLI's dependencies are missing.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time


def baseline_seconds(device: str) -> float:
    """Best of 3: 200 chained 256x256 float32 matmuls on `device`."""
    import torch

    from studybot.demos._torch import synchronize

    gen = torch.Generator().manual_seed(0)
    a = (torch.randn(256, 256, generator=gen) / 16).to(device)
    best = float("inf")
    for _ in range(3):
        synchronize(device)
        start = time.perf_counter()
        x = a
        for _ in range(200):
            x = torch.tanh(x @ a)
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of a table")
    args = parser.parse_args(argv)

    import torch

    from studybot.demos._torch import one_cpu_thread
    from studybot.demos.runner import list_demos, resolve_device, run_demo

    device = resolve_device(args.device)
    torch.zeros(1, device=device).sum().item()  # pay CUDA/runtime start-up outside the timings
    with one_cpu_thread():  # as the demos run
        base = baseline_seconds(device)
    rows = []
    for spec in list_demos():
        for quick in (False, True):
            result = run_demo(spec["name"], device=device, seed=args.seed, quick=quick)
            rows.append({
                "demo": spec["name"],
                "mode": "quick" if quick else "default",
                "seeds": len(result["seeds"]),
                "seconds": result["seconds"],
                "ratio_to_baseline": round(result["seconds"] / base, 2),
                "verdict": result["verdict"],
                "effects_not_supported": {c: v for c, v in result["checks"].items() if v != "supported"},
            })
    info = {
        "device": device,
        "device_name": torch.cuda.get_device_name() if device == "cuda" else platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "threads": 1,  # run_demo runs on one CPU thread
        "seed": args.seed,
        "baseline_seconds": round(base, 4),
        "total_seconds": round(sum(r["seconds"] for r in rows), 2),
        "runs": rows,
    }
    if args.json:
        json.dump(info, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    print(f"device {device} ({info['device_name']}), torch {info['torch']}, {info['threads']} threads, seed {args.seed}")
    print(f"baseline (200 x 256x256 matmul+tanh): {base:.4f} s")
    print(f"{'demo':<24}{'mode':<9}{'seeds':>6}{'seconds':>9}{'x base':>9}  verdict")
    for r in rows:
        weak = "; ".join(f"{c}: {v}" for c, v in r["effects_not_supported"].items())
        print(f"{r['demo']:<24}{r['mode']:<9}{r['seeds']:>6}{r['seconds']:>9.3f}{r['ratio_to_baseline']:>9.1f}  {r['verdict']}"
              + (f"  ({weak})" if weak else ""))
    print(f"total {info['total_seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
