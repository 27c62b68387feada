"""What a question asks of its subject (its advantages, its drawbacks), in the words either language uses.

"它还带来了哪些好处？" is answered under "BN算法的优点", "What are the drawbacks of BLEU?" under "Limitations":
an aspect is one key however it is worded when the answer chooses its lead. (Search reading a question's
aspect in all its words, BM25 over them all, was measured and lost: dev mean MRR 0.835 -> 0.834.)
"""

from __future__ import annotations

import re

ASPECTS: dict[str, tuple[str, ...]] = {
    "advantage": ("优点", "优缺点", "优劣", "好处", "优势", "益处", "advantage", "advantages", "benefit", "benefits",
                  "pros"),
    "drawback": ("缺点", "优缺点", "优劣", "坏处", "劣势", "弊端", "不足之处", "局限", "局限性", "disadvantage",
                 "disadvantages", "drawback", "drawbacks", "downside", "downsides", "limitation", "limitations",
                 "weakness", "weaknesses", "cons"),
}
_PATTERNS = {name: re.compile("|".join(rf"\b{re.escape(w)}\b" if w.isascii() else re.escape(w)
                                       for w in sorted(words, key=len, reverse=True)), re.IGNORECASE)
             for name, words in ASPECTS.items()}


def aspects(text: str) -> list[str]:
    """The aspects a text speaks of, by name."""
    return [name for name, pattern in _PATTERNS.items() if pattern.search(text)]


def without_aspects(text: str) -> str:
    """The text with its aspects' words blanked: what is left names the subject."""
    for pattern in _PATTERNS.values():
        text = pattern.sub(" ", text)
    return text

