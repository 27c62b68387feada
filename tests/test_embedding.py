"""Embedders: the bundled model offline, the NumPy query encoder, the cache, bad model names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from studybot.index.embedders import EmbeddingCache, load_embedder, load_query_embedder, resolve_embed_model
from studybot.errors import StudybotError

TEXTS = [
    "BatchNorm 和 LayerNorm 有什么区别？",
    "Why does the sigmoid function saturate?",
    "residual connection\n" + "gradient flows through the identity path " * 40,  # longer than 256 tokens
    "",
]


def test_numpy_query_encoder_matches_sentence_transformers() -> None:
    fast = load_query_embedder(None)
    full = load_embedder(None)
    assert type(fast).__name__ == "NumpyBertEmbedder" and fast.dim == full.dim == 384
    a, b = fast.encode(TEXTS), full.encode(TEXTS)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert np.abs(a - b).max() < 1e-5
    similar = full.encode(["gradient clipping", "clip the gradient norm", "tuple versus list in Python"])
    assert similar[0] @ similar[1] > similar[0] @ similar[2] + 0.2


def test_cache_embeds_each_text_once(tmp_path: Path) -> None:
    embedder = load_embedder(None)
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    calls: list[int] = []

    class Counting:
        model, dim = embedder.model, embedder.dim

        def encode(self, texts, progress=None):
            calls.append(len(texts))
            return embedder.encode(texts)

    first = cache.embed(Counting(), ["a", "b"], ["ka", "kb"])
    second = cache.embed(Counting(), ["b", "c", "a"], ["kb", "kc", "ka"])
    assert calls == [2, 1]
    assert np.array_equal(second[0], first[1]) and np.array_equal(second[2], first[0])


def test_unknown_model_offline_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StudybotError, match="cannot load embedding model"):
        load_embedder(str(tmp_path / "not-a-model-folder" / "x"))


def test_bundled_model_resolves_to_site_packages() -> None:
    model_id, folder = resolve_embed_model("sentence-transformers/all-MiniLM-L6-v2")
    assert model_id == "all-MiniLM-L6-v2"
    assert (Path(folder) / "model.safetensors").exists()
