"""A BERT sentence encoder in plain NumPy, for embedding one query without importing torch.

`import sentence_transformers` costs seconds (it imports torch and transformers); a search
embeds one short question. This reads the same safetensors weights and tokenizer.json and
runs the same forward pass (post-LayerNorm BERT, exact GELU, mean pooling, L2 normalisation),
matching sentence-transformers to float32 rounding. It serves only models whose folder says
they are exactly that: a BertModel with mean pooling and a Normalize module.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from studybot.errors import StudybotError

_ERF_P = 0.3275911
_ERF_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to 1.5e-7 (Abramowitz & Stegun 7.1.26), enough for float32 activations."""
    sign = np.sign(x)
    x = np.abs(x)
    t = 1.0 / (1.0 + _ERF_P * x)
    a1, a2, a3, a4, a5 = _ERF_A
    poly = ((((a5 * t + a4) * t + a3) * t + a2) * t + a1) * t
    return sign * (1.0 - poly * np.exp(-x * x))


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x / np.sqrt(2.0)))


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def supports(folder: Path) -> bool:
    """True for a sentence-transformers folder holding BERT + mean pooling + Normalize."""
    try:
        modules = [m["type"].rsplit(".", 1)[-1] for m in json.loads((folder / "modules.json").read_text())]
        config = json.loads((folder / "config.json").read_text())
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
    except (OSError, ValueError, KeyError, TypeError):
        return False
    mean_only = pooling.get("pooling_mode_mean_tokens") and not any(
        v for k, v in pooling.items() if k.startswith("pooling_mode") and k != "pooling_mode_mean_tokens"
    )
    return (
        modules == ["Transformer", "Pooling", "Normalize"]
        and config.get("model_type") == "bert"
        and config.get("hidden_act") == "gelu"
        and config.get("position_embedding_type", "absolute") == "absolute"
        and bool(mean_only)
        and (folder / "model.safetensors").exists()
        and (folder / "tokenizer.json").exists()
    )


def expected_weights(config: dict) -> dict[str, tuple[int, ...]]:
    """Every tensor the forward pass reads, with the shape config.json implies."""
    h, inner = int(config["hidden_size"]), int(config["intermediate_size"])
    shapes: dict[str, tuple[int, ...]] = {
        "embeddings.word_embeddings.weight": (int(config["vocab_size"]), h),
        "embeddings.position_embeddings.weight": (int(config["max_position_embeddings"]), h),
        "embeddings.token_type_embeddings.weight": (int(config.get("type_vocab_size", 2)), h),
        "embeddings.LayerNorm.weight": (h,), "embeddings.LayerNorm.bias": (h,),
    }
    for i in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{i}."
        for name, out, into in (("attention.self.query", h, h), ("attention.self.key", h, h),
                                ("attention.self.value", h, h), ("attention.output.dense", h, h),
                                ("intermediate.dense", inner, h), ("output.dense", h, inner)):
            shapes[p + name + ".weight"], shapes[p + name + ".bias"] = (out, into), (out,)
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            shapes[p + norm + ".weight"] = shapes[p + norm + ".bias"] = (h,)
    return shapes


_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32}


def mapped_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a safetensors file as read-only arrays over the file's mapped pages.

    Nothing is read until used: a query reads its own few rows of the 47 MB word-embedding table,
    not all 90 MB of MiniLM (reading and copying them was 0.1-0.2 s of every cold search).
    """
    try:
        with open(path, "rb") as handle:
            size = int.from_bytes(handle.read(8), "little")
            header = json.loads(handle.read(size))
        data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + size)
        tensors = {}
        for name, info in header.items():
            if name == "__metadata__":
                continue
            start, end = info["data_offsets"]
            tensors[name] = data[start:end].view(_DTYPES[info["dtype"]]).reshape(info["shape"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StudybotError(f"cannot read the weights in {path} ({exc}): download the model again") from None
    return tensors


class NumpyBert:
    """Encode texts one at a time (queries are short; no padding needed)."""

    def __init__(self, folder: Path) -> None:
        from tokenizers import Tokenizer

        folder = Path(folder)
        self.config = json.loads((folder / "config.json").read_text())
        max_len = json.loads((folder / "sentence_bert_config.json").read_text()).get("max_seq_length", 512)
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=max_len)
        weights = mapped_safetensors(folder / "model.safetensors")
        self.w = {k.removeprefix("bert."): v.astype(np.float32, copy=False) for k, v in weights.items()}
        self.dim = int(self.config["hidden_size"])
        for name, shape in expected_weights(self.config).items():
            if name not in self.w:
                raise StudybotError(f"{folder / 'model.safetensors'} lacks the weight {name}: the model files are "
                                    "incomplete; download the model again")
            if self.w[name].shape != shape:
                raise StudybotError(f"{folder / 'model.safetensors'}: weight {name} has shape {self.w[name].shape}, "
                                    f"config.json implies {shape}; the files belong to different models")

    def _encode_one(self, text: str, word_pieces: int | None = None) -> np.ndarray:
        cfg, w = self.config, self.w
        ids = self.tokenizer.encode(text).ids
        if word_pieces and len(ids) > word_pieces:  # cut as the model's tokenizer cuts: the text, then [SEP]
            ids = ids[:word_pieces - 1] + ids[-1:]
        ids = np.asarray(ids)
        eps = cfg.get("layer_norm_eps", 1e-12)
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][: len(ids)]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
        heads = cfg["num_attention_heads"]
        size = self.dim // heads
        for i in range(cfg["num_hidden_layers"]):
            p = f"encoder.layer.{i}."

            def dense(name: str, h: np.ndarray) -> np.ndarray:
                return h @ w[p + name + ".weight"].T + w[p + name + ".bias"]

            q, k, v = (dense(f"attention.self.{n}", x).reshape(len(ids), heads, size).transpose(1, 0, 2)
                       for n in ("query", "key", "value"))
            scores = q @ k.transpose(0, 2, 1) / np.sqrt(size)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            context = (scores / scores.sum(-1, keepdims=True)) @ v
            context = context.transpose(1, 0, 2).reshape(len(ids), self.dim)
            x = _layer_norm(x + dense("attention.output.dense", context),
                            w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], eps)
            x = _layer_norm(x + dense("output.dense", _gelu(dense("intermediate.dense", x))),
                            w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
        pooled = x.mean(0)
        return pooled / max(float(np.linalg.norm(pooled)), 1e-12)

    def encode(self, texts: list[str], word_pieces: int | None = None) -> np.ndarray:
        """Unit vectors of the texts, each read up to `word_pieces` (None: as far as the model reads)."""
        # One BLAS thread: a query's matrices are tiny, and more threads only spin and wait
        # (0.026 s steady against 0.03-0.34 s with all cores on a busy 2-core machine).
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            return np.stack([self._encode_one(t, word_pieces) for t in texts]).astype(np.float32)
