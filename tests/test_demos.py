"""`studybot demo`: each experiment's numbers over seeds, its verdict, determinism, the CLI contract and errors.

Everything runs real torch on the CPU in --quick mode; nothing is mocked.
"""

from __future__ import annotations

import json
import math
import os
import re
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

from studybot.demos._registry import Effect
from studybot.demos._stats import interval, judge, overall
from studybot.demos.runner import demos_for_topics, list_demos, resolve_device, run_demo, save_plot
from studybot.errors import StudybotError

REPO = Path(__file__).resolve().parents[1]
# The topic slugs the bundled knowledge uses.
TOPICS = {
    "activations", "gradients", "residual", "normalization", "regularization", "optimizers", "cnn", "rnn",
    "embeddings", "transformer", "pretraining", "lora", "quantization", "alignment", "llm-apps", "python", "cuda",
}
ISSUE_DEMOS = {
    "sigmoid-saturation", "residual-gradients", "lora", "dropout", "batchnorm-vs-layernorm",
    "rnn-vanishing", "attention-scaling", "weight-init", "kv-cache", "quantization", "mixed-precision",
}
# The issue's thresholds, checked here independently of each demo's own checks.
THRESHOLDS: dict[str, Callable[[dict[str, Any]], bool]] = {
    "sigmoid-saturation": lambda m: m["grad_at_10"] < 1e-4 < m["grad_at_0"]
    and m["first_layer_grad_sigmoid"] < 0.01 * m["first_layer_grad_relu"],
    "residual-gradients": lambda m: m["first_layer_grad_residual"] > 10 * m["first_layer_grad_plain"]
    and m["loss_residual"] < m["loss_plain"],
    "lora": lambda m: m["params_lora"] <= 0.05 * m["params_full"] and m["merge_max_abs_diff"] < 1e-5
    and m["loss_lora"] < m["loss_before"],
    "batchnorm-vs-layernorm": lambda m: m["ln_batch_dependence"] < 1e-6 < m["bn_batch_dependence"]
    and m["bn_noise_batch_4"] > m["bn_noise_batch_64"] and m["bn_eval_batch_dependence"] < 1e-6,
    "rnn-vanishing": lambda m: m["lstm_kept"] > 10 * m["rnn_kept"],
    "weight-init": lambda m: 0.1 < m["std_final_he_relu"] < 10 and 0.1 < m["std_final_xavier_tanh"] < 10
    and m["std_final_small_relu"] < 1e-3 and m["std_final_naive_relu"] > 1e3,
    "dropout": lambda m: abs(m["scale_ratio"] - 1) < 0.05 and m["gap_dropout"] < m["gap_no_dropout"]
    and m["train_acc_no_dropout"] == 1.0,  # the regime of the claim: without dropout every label is fitted
    "attention-scaling": lambda m: m["entropy_ratio_at_max_d"] < 0.5 and m["jacobian_ratio_at_max_d"] < 0.1,
    "kv-cache": lambda m: m["max_logit_diff"] < 1e-4 and m["speedup_long"] > 1 and _token_forwards_add_up(m),
    "quantization": lambda m: 150 < m["weight_mse_ratio_int4_int8"] < 600
    and all(m[f"weight_mse_{b}_channel"] < m[f"weight_mse_{b}_tensor"] for b in ("int8", "int4"))
    and m["output_mse_int4_channel"] < m["output_mse_int4_tensor"] and abs(m["loss_change_int8_channel"]) < 0.01
    and m["loss_change_int4_tensor"] > m["loss_change_int8_channel"],
    "mixed-precision": lambda m: m["zero_frac_fp16"] > 0.5 and m["zero_frac_fp16_scaled"] < 0.01
    and m["zero_frac_bf16"] < 0.01 and m["loss_fp16"] > m["loss_fp16_scaled"]
    and m["overflow_frac_fp16"] > 0 == m["overflow_frac_bf16"],
}


def _token_forwards_add_up(m: dict[str, Any]) -> bool:
    """A 16-token prompt, then n tokens: the cache forwards 16 + n - 1 tokens, recomputing sum(16 + t)."""
    n = int(m["token_forwards_cached_long"]) - 15
    return m["token_forwards_recompute_long"] == sum(16 + t for t in range(n)) and n in (64, 128)


def _stable(metrics: dict[str, Any]) -> dict[str, Any]:
    """Metrics without wall-clock times and their ratios, which no seed fixes."""
    return {k: v for k, v in metrics.items() if not k.startswith(("seconds", "speedup"))}


def _bounds(intervals: dict[str, list[float]]) -> dict[str, float]:
    """Stable intervals as one flat mapping, the shape pytest.approx compares."""
    return {f"{key} {i}": bound for key, pair in _stable(intervals).items() for i, bound in enumerate(pair)}


@pytest.fixture(scope="module")
def quick_results() -> dict[str, dict[str, Any]]:
    return {d["name"]: run_demo(d["name"], device="cpu", seed=0, quick=True) for d in list_demos()}


def test_registry_holds_the_issue_demos_with_known_topics() -> None:
    demos = list_demos()
    assert {d["name"] for d in demos} == ISSUE_DEMOS
    for d in demos:
        assert d["topics"] and set(d["topics"]) <= TOPICS, d
        assert d["claim"] and d["effects"] and 0 < d["typical_seconds"] < 10
    assert set(THRESHOLDS) == ISSUE_DEMOS


CLAIM_LINE = re.compile(r"^`studybot demo ([a-z-]+)` tests this claim: (.+)$", re.MULTILINE)


def test_each_demo_claims_what_the_notes_naming_it_claim() -> None:
    """An answer 'backed by: studybot demo X' is backed by exactly the claim its note states."""
    import yaml

    claims = {d["name"]: d["claim"] for d in list_demos()}
    named: set[str] = set()
    for note in sorted((REPO / "knowledge").glob("*.md")):
        text = note.read_text(encoding="utf-8")
        front = yaml.safe_load(text.split("---\n")[1])
        stated = {}
        for name, claim in CLAIM_LINE.findall(text):
            assert claim == claims[name], f"{note.name}: the claim of demo {name} differs from its registration"
            stated[name] = claim
        assert set(stated) == set(front["demos"]), f"{note.name}: demos {front['demos']} but claims for {sorted(stated)}"
        named |= set(stated)
    assert named == set(claims)


def test_topics_map_to_demos() -> None:
    assert demos_for_topics("lora") == ["lora"]
    assert {"sigmoid-saturation", "residual-gradients", "rnn-vanishing"} <= set(demos_for_topics(["gradients"]))
    assert demos_for_topics(["normalization", "no-such-topic"]) == ["batchnorm-vs-layernorm"]
    assert demos_for_topics([]) == []
    assert demos_for_topics("llm-apps") == ["kv-cache"]
    assert demos_for_topics("quantization") == ["quantization"]
    assert demos_for_topics("cuda") == ["mixed-precision"]


# Wall-clock effects: a busy machine can widen their interval past the claimed size, never reverse them (the kv-cache
# speed-up's interval was 0.73 to 8.7 once, with answer benchmarks running beside the suite; its mean stays above 1).
TIMED_EFFECTS = {"speedup_growth > 1", "speedup_long > 1"}
# Effects the numbers do not support, with their verdict for seeds 0-2 (--quick) and 0-4 (default): no clock
# involved, so the verdict repeats. int4 per-tensor raised the test loss by 1.2% [0.95%, 1.5%] and 3.2%
# [-0.1%, 6.5%]: above 1% on average, but the intervals do not exclude 1%.
MEASURED_VERDICTS = {"loss_change_int4_tensor > 0.01": "inconclusive"}


@pytest.mark.parametrize("name", sorted(THRESHOLDS))
def test_quick_run_supports_its_claim(quick_results: dict[str, dict[str, Any]], name: str) -> None:
    result = quick_results[name]
    assert THRESHOLDS[name](result["metrics"]), result["metrics"]
    for condition, verdict in result["checks"].items():
        allowed = ("supported", "inconclusive") if condition in TIMED_EFFECTS else \
            (MEASURED_VERDICTS.get(condition, "supported"),)
        assert verdict in allowed, result["conclusion"]


def test_attention_typical_query_is_saturated_though_the_arithmetic_mean_hides_it(
    quick_results: dict[str, dict[str, Any]],
) -> None:
    # the earlier design's statistic: an arithmetic mean over queries, dominated by unsaturated ones
    metrics = quick_results["attention-scaling"]["metrics"]
    assert metrics["jacobian_ratio_arith_at_max_d"] > 10 * metrics["jacobian_ratio_at_max_d"]
    assert metrics["jacobian_unscaled_d8"] > metrics["jacobian_scaled_d8"]  # sharper first, then saturated


def test_dropout_delays_memorizing_the_flipped_labels(quick_results: dict[str, dict[str, Any]]) -> None:
    gap = quick_results["dropout"]["series"]["gap"]["lines"]
    # halfway through, the dropout network's gap is well below the plain one's
    half = len(gap["p=0"]) // 2
    assert gap["p=0.5"][half] < gap["p=0"][half] - 0.1


@pytest.mark.parametrize("name", sorted(ISSUE_DEMOS))
def test_verdict_and_conclusion_follow_the_intervals(quick_results: dict[str, dict[str, Any]], name: str) -> None:
    result = quick_results[name]
    assert result["device"] == "cpu" and result["seed"] == 0 and result["seeds"] == [0, 1, 2] and result["quick"] is True
    assert set(result["intervals"]) == set(result["metrics"])
    for key, mean in result["metrics"].items():
        low, high = result["intervals"][key]
        assert low <= mean <= high, (key, low, mean, high)
    spec = next(d for d in list_demos() if d["name"] == name)
    assert list(result["checks"]) == spec["effects"]
    for condition, verdict in result["checks"].items():
        metric, op, size = condition.split()
        low, high = result["intervals"][metric]
        assert verdict == judge(Effect(metric, op, float(size)), low, high), condition  # type: ignore[arg-type]
        assert f"against the claimed {op} {size}: {verdict}" in result["conclusion"]
    assert result["verdict"] == overall(list(result["checks"].values()))
    for spec in result["series"].values():
        assert spec["lines"] and all(len(ys) == len(spec["x"]) for ys in spec["lines"].values())


def test_symmetric_quantization_rounds_to_the_nearest_point_of_its_grid() -> None:
    import torch

    from studybot.demos.quantization import quantize

    w = torch.tensor([[1.0, -0.45, 0.26, 0.0], [0.1, -0.045, 0.02, 0.0]])
    per_tensor, per_channel = quantize(w, 7, per_channel=False), quantize(w, 7, per_channel=True)
    assert torch.allclose(per_tensor[0], torch.tensor([1.0, -3 / 7, 2 / 7, 0.0]))
    assert torch.allclose(per_tensor[1], torch.tensor([1 / 7, 0.0, 0.0, 0.0]))  # one grid for all: row 2 is lost
    assert torch.allclose(per_channel[1], torch.tensor([0.1, -0.1 * 3 / 7, 0.1 / 7, 0.0]))  # its own grid
    for q, step in ((per_tensor, torch.tensor(1 / 7)), (per_channel, w.abs().amax(1, keepdim=True) / 7)):
        assert ((q - w).abs() <= step / 2 + 1e-7).all()
    assert torch.equal(quantize(w, 127, per_channel=False).abs().amax(), torch.tensor(1.0))  # max|w| is exact


def test_quantization_errors_follow_the_scale_rules(quick_results: dict[str, dict[str, Any]]) -> None:
    m = quick_results["quantization"]["metrics"]
    # the (127/7)^2 rule holds under per-tensor scales too, though the claim is judged per-channel
    assert 250 < m["weight_mse_int4_tensor"] / m["weight_mse_int8_tensor"] < 450
    assert m["output_mse_int8_channel"] < m["output_mse_int8_tensor"] < m["output_mse_int4_channel"]
    assert 0.5 < m["accuracy_fp32"] < 1  # a model worth quantizing, not one that fits everything


def test_mixed_precision_scaled_fp16_and_bf16_train_like_fp32(quick_results: dict[str, dict[str, Any]]) -> None:
    result = quick_results["mixed-precision"]
    m = result["metrics"]
    for name in ("fp16_scaled", "bf16"):
        assert m[f"loss_{name}"] == pytest.approx(m["loss_fp32"], rel=0.05), name
    curves = result["series"]["loss"]["lines"]
    # unscaled fp16 gets (almost) no gradient: its loss barely moves while fp32's falls tenfold
    assert curves["fp16"][-1] > 0.5 * curves["fp16"][0] and curves["fp32"][-1] < 0.1 * curves["fp32"][0]


def test_fit_with_a_grad_scaler_takes_the_same_steps_and_skips_overflow() -> None:
    import torch

    from studybot.demos._torch import fit

    def run(scaler: torch.amp.GradScaler | None, loss_scale: float = 1.0) -> torch.Tensor:
        w = torch.tensor([1.0, -2.0], requires_grad=True)
        return fit([w], lambda: (w - 3).pow(2).sum() * loss_scale, 5, 0.1, scaler=scaler)

    # a power-of-two scale multiplies and divides exactly: the same losses as without one
    assert torch.equal(run(torch.amp.GradScaler("cpu", init_scale=2.0**16)), run(None))
    # a scaled loss that overflows float32 gives inf gradients: each such step is skipped and the scale halved
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**100)
    losses = run(scaler, loss_scale=2.0**100)
    assert losses[0] == losses[1] and scaler.get_scale() < 2.0**100


def test_same_seeds_same_numbers_other_seeds_other_numbers(quick_results: dict[str, dict[str, Any]]) -> None:
    for name, first in quick_results.items():
        again = run_demo(name, device="cpu", seed=0, quick=True)
        assert _stable(again["metrics"]) == _stable(first["metrics"]), name
        assert _stable(again["intervals"]) == _stable(first["intervals"]), name
    assert _stable(run_demo("lora", device="cpu", seed=1, quick=True)["metrics"]) != _stable(
        quick_results["lora"]["metrics"]
    )


def test_t_interval_and_verdict_rule() -> None:
    mean, low, high = interval([-1.0, 0.0, 1.0])
    half = 4.302652729911275 / 3**0.5  # t(0.975, df 2) * sd 1 / sqrt(3)
    assert mean == 0.0 and low == pytest.approx(-half) and high == pytest.approx(half)
    assert interval([5.0, 5.0, 5.0]) == (5.0, 5.0, 5.0)
    g_mean, g_low, g_high = interval([1.0, 100.0], log=True)  # geometric: symmetric on the log scale
    assert g_mean == pytest.approx(10.0) and g_low * g_high == pytest.approx(100.0) and g_low < 1 < 100 < g_high
    mean, low, high = interval([0.0, 2.0, 4.0], log=True)  # no log of an underflowed 0: no interval
    assert mean == 2.0 and math.isnan(low) and math.isnan(high)
    norm = interval([1e-14, 2e-14, 9e-13])  # a gradient norm: never below zero, nor is its interval
    assert norm[1] == 0.0 and norm[2] > norm[0] > 0
    assert interval([-1.0, 2.0, 3.0])[1] < 0  # a signed quantity keeps its interval
    more = Effect("ratio", ">", 10)
    assert [judge(more, 11, 20), judge(more, 2, 9), judge(more, 5, 15)] == ["supported", "not supported", "inconclusive"]
    less = Effect("gap", "<", 0)
    assert [judge(less, -2, -1), judge(less, 1, 2), judge(less, -1, 1)] == ["supported", "not supported", "inconclusive"]
    assert judge(more, float("nan"), float("nan")) == "inconclusive"
    assert overall(["supported", "supported"]) == "supported"
    assert overall(["supported", "inconclusive"]) == "inconclusive"
    assert overall(["inconclusive", "not supported"]) == "not supported"


def test_seed_count_option() -> None:
    two = run_demo("weight-init", device="cpu", seed=7, quick=True, seeds=2)
    assert two["seeds"] == [7, 8]
    default = run_demo("sigmoid-saturation", device="cpu")
    assert default["seeds"] == [0, 1, 2, 3, 4] and default["quick"] is False
    with pytest.raises(StudybotError, match="at least 2 seeds"):
        run_demo("weight-init", device="cpu", quick=True, seeds=1)
    with pytest.raises(StudybotError, match="out of range"):
        run_demo("weight-init", device="cpu", quick=True, seed=2**63 - 2, seeds=3)


def test_demos_run_on_one_cpu_thread_and_restore_the_count() -> None:
    import torch

    from studybot.demos._torch import one_cpu_thread

    before = torch.get_num_threads()
    with one_cpu_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_results_are_cached_per_version_and_shown_as_measured(monkeypatch: pytest.MonkeyPatch) -> None:
    from studybot.cli.render import measured_lines
    from studybot.demos import results

    first = run_demo("rnn-vanishing", device="cpu", seed=5, quick=True, seeds=2)
    assert first["cached"] is False
    again = run_demo("rnn-vanishing", device="cpu", seed=5, quick=True, seeds=2, reuse=True)
    assert again["cached"] is True and again["seconds"] == first["seconds"]
    assert {k: v for k, v in again.items() if k != "cached"} == {k: v for k, v in first.items() if k != "cached"}
    # other seeds are another key: measured, not read back
    assert run_demo("rnn-vanishing", device="cpu", seed=6, quick=True, seeds=2, reuse=True)["cached"] is False
    assert results.measured("rnn-vanishing")["seeds"] == [6, 7]  # the latest run
    [line] = measured_lines(["rnn-vanishing", "no-such-demo"])
    mean, (low, high) = results.measured("rnn-vanishing")["metrics"]["lstm_over_rnn_kept"], \
        results.measured("rnn-vanishing")["intervals"]["lstm_over_rnn_kept"]
    assert line.startswith("studybot demo rnn-vanishing measured: supported over 2 seeds (cpu --quick): ")
    assert f"lstm_over_rnn_kept {mean:.3g} [{low:.3g}, {high:.3g}] > 10: supported" in line
    # an edited demo (another version) never shows or reuses an old result
    monkeypatch.setattr(results, "demo_version", lambda name: "edited")
    assert results.measured("rnn-vanishing") is None and measured_lines(["rnn-vanishing"]) == []
    assert run_demo("rnn-vanishing", device="cpu", seed=5, quick=True, seeds=2, reuse=True)["cached"] is False


def test_lora_rank_option(quick_results: dict[str, dict[str, Any]]) -> None:
    rank_1 = run_demo("lora", device="cpu", quick=True, rank=1)["metrics"]
    assert rank_1["rank"] == 1
    assert rank_1["params_lora"] * 4 == quick_results["lora"]["metrics"]["params_lora"]
    with pytest.raises(StudybotError, match="rank"):
        run_demo("lora", device="cpu", quick=True, rank=0)
    with pytest.raises(StudybotError, match="no option rank"):
        run_demo("dropout", device="cpu", quick=True, rank=2)


def test_ask_shows_the_result_of_the_default_options_the_claim_is_written_for() -> None:
    """`demo lora --rank 8` trains 8.9% against the claim's 5% for rank 4: its "not supported" was then shown under
    every LoRA answer as the demo's measurement, without saying rank 8."""
    from studybot.cli.render import measured_lines
    from studybot.demos import results

    default = run_demo("lora", device="cpu", seed=3, quick=True, seeds=2)
    rank_8 = run_demo("lora", device="cpu", seed=3, quick=True, seeds=2, rank=8)
    assert rank_8["checks"]["param_fraction < 0.05"] == "not supported"
    assert run_demo("lora", device="cpu", seed=3, quick=True, seeds=2, rank=8, reuse=True)["cached"] is True
    shown = results.measured("lora")
    assert shown["options"] == {} and shown["metrics"] == default["metrics"], shown["options"]
    [line] = measured_lines(["lora"])
    assert f"param_fraction {default['metrics']['param_fraction']:.3g} " in line, line
    # the default asked for by name is the claim's setup too
    run_demo("lora", device="cpu", seed=5, quick=True, seeds=2, rank=4)
    assert results.measured("lora")["seeds"] == [5, 6]


def test_table_spread_has_the_scale_of_the_interval(capsys) -> None:
    """A positive quantity of high spread has an arithmetic interval cut at 0, which the table read as geometric:
    "entropy_unscaled_d256  0.1809 ×/÷ 2.28  0 .. 0.4129", while the conclusion said "mean … (95% interval 0 to …)"."""
    from studybot.cli.render import render_demo
    from studybot.demos._registry import DemoSpec, Outcome
    from studybot.demos.runner import summarize

    spread = [0.01, 0.05, 0.4]
    spec = DemoSpec("spread", (), (), "claim", (Effect("share", "<", 1), Effect("ratio", "<", 1, log=True)), 1.0, (),
                    False, lambda ctx: None)  # not registered: the result says which scale each metric has
    outcomes = [Outcome({"share": v, "ratio": v}, "") for v in spread]
    result = {"demo": "spread", "device": "cpu", "seeds": [0, 1, 2], "quick": True, "seconds": 0.0, "cached": False,
              **summarize(spec, outcomes)}
    (share_low, share_high), (ratio_low, ratio_high) = result["intervals"]["share"], result["intervals"]["ratio"]
    assert share_low == 0.0 and 0 < ratio_low < min(spread) and result["geometric"] == ["ratio"]
    render_demo(result, None)
    out = capsys.readouterr().out
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^│ (share|ratio)\s+│\s+(.*?) │", out, re.MULTILINE)}
    assert rows["share"] == f"{result['metrics']['share']:.4g} ± {share_high - result['metrics']['share']:.4g}", out
    assert rows["ratio"] == f"{result['metrics']['ratio']:.4g} ×/÷ {ratio_high / result['metrics']['ratio']:.3g}", out
    assert "share mean 0.153 (95% interval 0 to " in result["conclusion"]
    assert "ratio geometric mean 0.0585 (95% interval " in result["conclusion"]


def test_bad_names_and_devices_are_user_errors() -> None:
    with pytest.raises(StudybotError, match="known demos are .*sigmoid-saturation"):
        run_demo("no-such-demo")
    with pytest.raises(StudybotError, match="unknown device"):
        resolve_device("tpu")
    import torch

    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_save_plot_writes_a_png(quick_results: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    # weight-init has two charts side by side: the figure must be wider than tall.
    width, height = _png_size(save_plot(quick_results["weight-init"], tmp_path / "init.png"))
    assert width > height > 100
    with pytest.raises(StudybotError, match=r"\.png"):
        save_plot(quick_results["weight-init"], tmp_path / "init.jpg")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    # wide columns: rich wraps nothing, so each line can be parsed whole
    env = {**os.environ, "COLUMNS": "400"}
    return subprocess.run(
        [sys.executable, "-m", "studybot", "demo", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


def test_cli_json_contract_and_plot(quick_results: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    png = tmp_path / "sig.png"
    proc = _cli("sigmoid-saturation", "--quick", "--device", "cpu", "--json", "--plot", str(png))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)  # exactly one document: json.loads rejects trailing data
    assert {"demo", "device", "seed", "seeds", "seconds", "metrics", "intervals", "claim", "verdict", "conclusion"} <= set(doc)
    assert doc["demo"] == "sigmoid-saturation" and doc["device"] == "cpu" and doc["seeds"] == [0, 1, 2]
    assert doc["seconds"] > 0
    # the CLI reports the run the library makes, and sigmoid saturation is a claim its numbers support
    expected = quick_results["sigmoid-saturation"]
    assert doc["verdict"] == expected["verdict"] == "supported" and doc["checks"] == expected["checks"]
    assert _stable(doc["metrics"]) == pytest.approx(_stable(expected["metrics"]), rel=1e-6)
    assert _bounds(doc["intervals"]) == pytest.approx(_bounds(expected["intervals"]), rel=1e-6)
    assert all(isinstance(v, (int, float)) for v in doc["metrics"].values())
    assert all(len(bounds) == 2 for bounds in doc["intervals"].values())
    assert _png_size(png)[0] > 100


def test_cli_reuses_a_cached_result_until_fresh() -> None:
    runs = [json.loads(_cli("weight-init", "--quick", "--device", "cpu", "--seed", "40", "--json", *extra).stdout)
            for extra in ((), (), ("--fresh",))]
    assert [r["cached"] for r in runs] == [False, True, False]
    assert runs[0]["metrics"] == runs[1]["metrics"] == runs[2]["metrics"] and runs[0]["seeds"] == [40, 41, 42]
    human = _cli("weight-init", "--quick", "--device", "cpu", "--seed", "40")
    assert "cached result (--fresh reruns)" in human.stdout


def test_cli_list_json_and_one_line_a_demo_into_a_pipe() -> None:
    """`demo --list | cat` drew the terminal's table: every line padded to the longest claim and boxed (1,690 bytes
    wide). Into a pipe it is one plain line a demo, its name, topics, seconds and claim, as doctor's and search's."""
    listing = _cli("--list", "--json")
    assert listing.returncode == 0
    assert [d["name"] for d in json.loads(listing.stdout)] == [d["name"] for d in list_demos()]
    assert json.loads(listing.stdout) == list_demos()
    plain = _cli("--list")
    assert plain.returncode == 0, plain.stderr
    lines = plain.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [d["name"] for d in list_demos()], plain.stdout
    for line, d in zip(lines, list_demos()):
        assert line.endswith(f"  {d['claim']}") and ", ".join(d["topics"]) in line, line
    assert not re.search(r"[│┃━─]", plain.stdout)


def test_cli_human_output(quick_results: dict[str, dict[str, Any]]) -> None:
    human = _cli("weight-init", "--quick", "--device", "cpu")
    assert human.returncode == 0, human.stderr
    expected = quick_results["weight-init"]
    # whole lines, not substrings: "supported" is also inside "not supported"
    assert re.findall(r"^verdict: (.*?)\s*$", human.stdout, re.MULTILINE) == [expected["verdict"]] == ["supported"]
    marks = {"✓": "supported", "✗": "not supported", "?": "inconclusive"}
    shown = {m.group(2): marks[m.group(1)] for m in re.finditer(r"^  ([✓✗?]) (.*?)\s*$", human.stdout, re.MULTILINE)}
    assert shown == expected["checks"], human.stdout
    # each metric's row: the mean, then either "± half-width" or "×/÷ factor" (a geometric mean)
    row = re.search(r"^│ std_final_he_relu\s+│\s+(\S+) ×/÷ (\S+) │", human.stdout, re.MULTILINE)
    mean, (low, high) = expected["metrics"]["std_final_he_relu"], expected["intervals"]["std_final_he_relu"]
    assert row and float(row.group(1)) == pytest.approx(mean, rel=1e-3), human.stdout
    assert float(row.group(2)) == pytest.approx(high / mean, rel=1e-2)
    assert any(bar in human.stdout for bar in "▁▂▃▄▅▆▇█")  # the terminal chart


@pytest.mark.parametrize(
    "args, message",
    [(("no-such-demo",), "known demos are"), (("lora", "--device", "tpu"), "unknown device"), ((), "--list"),
     (("sigmoid-saturation", "--seed", "99999999999999999999999"), "out of range"),
     (("sigmoid-saturation", "--seed", "-1"), "out of range"),
     (("sigmoid-saturation", "--seeds", "0"), "at least 2 seeds"),
     (("sigmoid-saturation", "--seeds", "abc"), "not a whole number"),
     (("sigmoid-saturation", "--seed", "x1"), "not a whole number")],
)
def test_cli_errors_are_one_line(args: tuple[str, ...], message: str) -> None:
    proc = _cli(*args)
    assert proc.returncode != 0 and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_cuda_without_cuda_is_one_line() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    proc = _cli("lora", "--quick", "--device", "cuda")
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and "cuda" in proc.stderr
    assert "no CUDA GPU" in proc.stderr  # the reason, not just the echoed "--device cuda"
    assert "Traceback" not in proc.stderr


def test_listing_demos_does_not_import_torch() -> None:
    code = (
        "import sys, studybot.demos.runner as d; d.list_demos(); d.demos_for_topics('lora'); "
        "print(sorted(m for m in ('torch', 'matplotlib') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(THRESHOLDS))
def test_default_run_supports_its_claim(name: str) -> None:
    result = run_demo(name, device="cpu", seed=0)
    assert THRESHOLDS[name](result["metrics"]), result["metrics"]
    untimed = {c: v for c, v in result["checks"].items() if c not in TIMED_EFFECTS}
    assert untimed == {c: MEASURED_VERDICTS.get(c, "supported") for c in untimed}, result["conclusion"]
