"""How `studybot index` scales with the size of the notes: seconds, KB/s and peak memory per size.

    python benchmarks/index_scaling.py [--sizes 1,5,20] [--single 20] [--cold 1,5] [--incremental 5] [--seed 7]

Generates clean Markdown notes (mixed Chinese and English prose about deep learning, headings,
lists, code fences, tables) of each size in MB as many files of 20-60 KB, plus one single file,
and runs `studybot index` on each as a subprocess in a fresh home with its own cache folder.
Warm runs find every vector in the embedding cache (seeded beforehand with random unit vectors
under the real cache keys: the realistic re-index, without hours of embedding); cold runs
embed everything (MiniLM and multilingual-e5 on the CPU: minutes a MB, so not at 20 MB by
default). Seconds per MB, wall and CPU (which another process on the cores moves less), are
given as a ratio to the first size's run of the same kind (linear = 1.0), with the peak RSS
and where each run's time goes, stage by stage. Also: an incremental run after one file of
the 5 MB notes changes, as a ratio to its full warm build; and `index --rebuild` of the
bundled notes alone with warm caches.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# (Chinese, English) terms the generated prose is built from; most are glossary concepts.
TERMS = [
    ("梯度下降", "gradient descent"), ("反向传播", "backpropagation"), ("注意力机制", "attention"),
    ("批归一化", "batch normalization"), ("层归一化", "layer normalization"), ("残差连接", "residual connection"),
    ("卷积神经网络", "convolutional neural network"), ("循环神经网络", "recurrent neural network"),
    ("长短期记忆", "LSTM"), ("过拟合", "overfitting"), ("欠拟合", "underfitting"), ("正则化", "regularization"),
    ("学习率", "learning rate"), ("损失函数", "loss function"), ("交叉熵", "cross entropy"),
    ("激活函数", "activation function"), ("梯度消失", "vanishing gradient"), ("梯度爆炸", "exploding gradient"),
    ("词嵌入", "word embedding"), ("自注意力", "self-attention"), ("多头注意力", "multi-head attention"),
    ("位置编码", "positional encoding"), ("感受野", "receptive field"), ("池化", "pooling"),
    ("丢弃法", "dropout"), ("权重衰减", "weight decay"), ("动量", "momentum"), ("优化器", "optimizer"),
    ("迁移学习", "transfer learning"), ("微调", "fine-tuning"), ("预训练", "pre-training"),
    ("生成对抗网络", "generative adversarial network"), ("变分自编码器", "variational autoencoder"),
    ("知识蒸馏", "knowledge distillation"), ("数据增强", "data augmentation"), ("混合精度", "mixed precision"),
    ("束搜索", "beam search"), ("温度系数", "temperature"), ("对比学习", "contrastive learning"),
    ("扩散模型", "diffusion model"), ("强化学习", "reinforcement learning"), ("策略梯度", "policy gradient"),
]
ZH_FILLER = [
    "在实际训练中，{a}往往和{b}一起出现，调参时需要同时观察两者。",
    "面试时可以先说明{a}的定义，再结合{b}举一个具体的例子。",
    "很多同学把{a}理解成{b}的一种特殊情况，这种说法并不准确。",
    "如果验证集上的指标不再提升，可以检查{a}是否设置得过大。",
    "从数学上看，{a}的核心是让{b}在每一步都朝着更好的方向移动。",
    "这一节的笔记整理自课程作业，重点记录了{a}的推导过程。",
    "直观地说，{a}解决的是{b}带来的数值不稳定问题。",
    "实验表明，去掉{a}之后模型收敛明显变慢，最终精度也下降了。",
]
EN_FILLER = [
    "In practice {a} interacts with {b}, so tune them together rather than one at a time.",
    "A common interview follow-up asks why {a} helps when {b} is already in place.",
    "The key intuition is that {a} keeps the scale of activations stable across layers.",
    "When the loss plateaus early, check whether {a} is too aggressive for this batch size.",
    "Most frameworks implement {a} in a few lines, but the details of {b} matter more.",
    "Compared with {b}, {a} costs little extra memory and often trains faster.",
]
CODE = [
    "import torch\n\nx = torch.randn(8, 16)\nlayer = torch.nn.Linear(16, 4)\nprint(layer(x).shape)",
    "def step(params, grads, lr=0.01):\n    return [p - lr * g for p, g in zip(params, grads)]",
    "for epoch in range(10):\n    loss = train_one_epoch(model, loader)\n    print(epoch, loss)",
]


def _sentence(rng: random.Random) -> str:
    (za, ea), (zb, eb) = rng.sample(TERMS, 2)
    if rng.random() < 0.6:
        return rng.choice(ZH_FILLER).format(a=rng.choice((za, ea)), b=zb)
    return rng.choice(EN_FILLER).format(a=ea, b=rng.choice((eb, zb)))


def _block(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.55:
        return "".join(_sentence(rng) for _ in range(rng.randint(2, 6)))
    if kind < 0.75:
        return "\n".join(f"- {_sentence(rng)}" for _ in range(rng.randint(2, 5)))
    if kind < 0.87:
        return f"```python\n{rng.choice(CODE)}\n```"
    rows = rng.sample(TERMS, rng.randint(2, 4))
    return "\n".join(["| 中文 | English | 备注 |", "| --- | --- | --- |"]
                     + [f"| {z} | {e} | {rng.choice(('常用', 'rare', '面试高频'))} |" for z, e in rows])


def note_text(rng: random.Random, size: int) -> str:
    """One note of about `size` bytes of UTF-8: headings of levels 1-3, each with a few blocks."""
    parts: list[str] = []
    used = 0
    while used < size:
        level = 1 if not parts else rng.choice((2, 2, 3, 3, 3))
        zh, en = rng.choice(TERMS)
        title = rng.choice((f"{zh}是什么？", f"{en} 的原理", f"为什么需要{zh}", f"{zh} vs {rng.choice(TERMS)[0]}"))
        section = [f"{'#' * level} {title}"] + [_block(rng) for _ in range(rng.randint(1, 4))]
        text = "\n\n".join(section) + "\n\n"
        parts.append(text)
        used += len(text.encode())
    return "".join(parts)


def make_notes(folder: Path, megabytes: float, seed: int, single: bool = False) -> int:
    """Notes of about `megabytes` MB under folder (one file, or many of 20-60 KB); their total bytes."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    target, total, n = int(megabytes * 1_000_000), 0, 0
    while total < target:
        size = target - total if single else min(rng.randint(20_000, 60_000), max(target - total, 1))
        data = note_text(rng, size).encode()
        (folder / f"note-{n:04d}.md").write_bytes(data)
        total, n = total + len(data), n + 1
    return total


def seed_embeddings(notes: Path, cache: Path) -> None:
    """Put a random unit vector under every cache key the notes will ask for: a warm cache without embedding."""
    import numpy as np

    from studybot.content.glossary import load_glossary
    from studybot.index.build import embedding_inputs
    from studybot.index.embedders import CROSSLINGUAL_MODEL, DEFAULT_MODEL, HEADING_MODEL
    from studybot.ingest.chunking import chunk_note
    from studybot.ingest.notes import parse_note
    from studybot.cache import ContentCache

    glossary = load_glossary(None)
    store = ContentCache(cache / "embeddings.sqlite")
    rng = np.random.default_rng(0)
    for path in sorted(notes.rglob("*.md")):
        inputs = [embedding_inputs(c, glossary) for c in chunk_note(parse_note(path.read_text(encoding="utf-8"), str(path)))]
        text_keys, heading_keys, passage_keys = ([t[1] for t, _, _ in inputs], [h[1] for _, h, _ in inputs],
                                                 [p[1] for _, _, p in inputs])
        for model, keys, dim in ((DEFAULT_MODEL, text_keys, 384), (HEADING_MODEL, heading_keys, 384),
                                 (CROSSLINGUAL_MODEL, passage_keys, 512)):
            vectors = rng.standard_normal((len(keys), dim)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            store.put_many(model, {k: v.tobytes() for k, v in zip(keys, vectors)})


def run_index(home: Path, cache: Path, args: list[str], stages: Path | None = None) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MB) of one `studybot index` subprocess; with `stages`, its stage
    seconds go there. CPU seconds move less than wall time when another process shares the cores."""
    env = dict(os.environ, STUDYBOT_HOME=str(home), STUDYBOT_CACHE=str(cache))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a user's Python keeps compiled modules; measure that case
    cmd = [sys.executable, __file__, "--stages", str(stages)] if stages else [sys.executable, "-m", "studybot"]
    start = time.perf_counter()
    proc = subprocess.Popen([*cmd, "index", *args], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    error = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if status:
        raise SystemExit(f"studybot index failed:\n{error[-2000:]}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


STAGES = {  # functions studybot.index.build calls -> the stage they do
    "read_text": "read/decode/repair", "parse_note": "parse", "chunk_note": "chunk",
    "lexical_tokens": "tokenize+glossary", "embed_text": "tokenize+glossary",
    "_write_dense": "FAISS build", "_write_lexical": "BM25 build", "chunk_languages": "catalog write",
}


def run_cli_with_stage_timers(out: Path, args: list[str]) -> None:
    """`studybot ARGS` in this process with each stage's functions wrapped in a timer; seconds per stage to `out`."""
    from studybot.index import build, embedders, store

    spent: dict[str, float] = {}

    def timed(stage, fn):
        def wrapper(*a, **kw):
            start = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                spent[stage] = spent.get(stage, 0.0) + time.perf_counter() - start
        return wrapper

    for name, stage in STAGES.items():
        setattr(build, name, timed(stage, getattr(build, name)))
    embedders.EmbeddingCache.embed = timed("embed", embedders.EmbeddingCache.embed)
    store.NewGeneration.publish = timed("catalog write", store.NewGeneration.publish)
    build.build_index = timed("total", build.build_index)
    from studybot.cli.main import run as cli  # as the console script runs a command, exit included

    sys.argv = ["studybot", *args]
    try:
        cli()
    finally:
        spent["other (catalog inserts, file loop)"] = spent.get("total", 0) - sum(v for k, v in spent.items() if k != "total")
        out.write_text(json.dumps(spent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,5,20", help="MB of many-file notes, comma-separated; the first is the baseline")
    parser.add_argument("--single", default="20", help="MB of one single-file note ('' for none)")
    parser.add_argument("--cold", default="1,5", help="sizes also indexed with empty caches")
    parser.add_argument("--incremental", type=float, default=5, help="MB of the notes one file of which is then changed")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--stages", help=argparse.SUPPRESS)  # internal: FILE, then the CLI's arguments
    opts, rest = parser.parse_known_args()
    if opts.stages:
        run_cli_with_stage_timers(Path(opts.stages), rest)
        return
    sizes = [float(s) for s in opts.sizes.split(",")]
    cold_sizes = {float(s) for s in opts.cold.split(",") if s}
    root = Path(tempfile.mkdtemp(prefix="index-scaling-"))
    common = ["--no-bundled", "--repair", "jieba"]
    try:
        cases = [(f"{s:g} MB, many files", s, False) for s in sizes]
        if opts.single:
            cases.append((f"{float(opts.single):g} MB, one file", float(opts.single), True))
        per_mb: dict[str, float] = {}
        for label, mb, single in cases:
            notes = root / f"notes-{mb:g}{'-single' if single else ''}"
            size = make_notes(notes, mb, opts.seed, single)
            files = sorted(notes.glob("*.md"))
            for kind in (["cold"] if mb in cold_sizes and not single else []) + ["warm"]:
                cache, home, stages = root / f"cache-{notes.name}-{kind}", root / f"home-{notes.name}-{kind}", root / "stages.json"
                if kind == "warm":
                    seed_embeddings(notes, cache)
                seconds, cpu, peak = run_index(home, cache, [str(notes), *common], stages)
                ratio = seconds / (size / 1e6) / per_mb.setdefault(kind, seconds / (size / 1e6))
                cpu_ratio = cpu / (size / 1e6) / per_mb.setdefault(f"{kind} cpu", cpu / (size / 1e6))
                print(f"{label:20s} {kind:4s} {len(files):4d} files {size / 1e6:6.2f} MB {seconds:8.1f} s "
                      f"{size / 1e3 / seconds:7.0f} KB/s  ratio {ratio:5.2f}  CPU {cpu:7.1f} s ratio {cpu_ratio:5.2f}  "
                      f"peak {peak:6.0f} MB", flush=True)
                spent = json.loads(stages.read_text())
                print("    stages: " + ", ".join(f"{k} {v:.2f} s" for k, v in sorted(spent.items(), key=lambda kv: -kv[1])
                                                if k != "total"), flush=True)
                if kind == "warm" and not single and mb == opts.incremental:
                    changed = files[len(files) // 2]
                    changed.write_text(changed.read_text(encoding="utf-8") + "\n## 新增的一节\n\n"
                                       + _sentence(random.Random(1)) + "\n", encoding="utf-8")
                    inc, inc_cpu, inc_peak = run_index(home, cache, [], stages)
                    spent = json.loads(stages.read_text())
                    print(f"{'':20s} incremental (one file changed): {inc:6.2f} s = {inc / seconds:5.3f} x the full "
                          f"warm build (CPU {inc_cpu / cpu:5.3f} x), peak {inc_peak:.0f} MB; in build_index "
                          f"{spent['total']:.2f} s", flush=True)
                    print("    stages: " + ", ".join(f"{k} {v:.2f} s" for k, v in sorted(spent.items(), key=lambda kv: -kv[1])
                                                    if k != "total"), flush=True)
        from studybot.home import cache_dir

        bundled_home = root / "home-bundled"  # the machine's own caches: warm for the bundled notes
        run_index(bundled_home, cache_dir(), [])  # fills them where they are not
        seconds, cpu, peak = run_index(bundled_home, cache_dir(), ["--rebuild"])
        print(f"bundled notes alone, --rebuild, warm caches: {seconds:.1f} s (goal <= 10 s), CPU {cpu:.1f} s, "
              f"peak {peak:.0f} MB")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
