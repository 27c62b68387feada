"""What a question asks of its subject (its advantages, its drawbacks, a comparison), in the words either language uses.

"它还带来了哪些好处？" is answered under "BN算法的优点", "What are the drawbacks of BLEU?" under "Limitations", "为什么…？"
where a passage says "因为" or "The reasons are as follows":
an aspect is one key however it is worded when the answer chooses its lead. (Search reading a question's
aspect in all its words, BM25 over them all, was measured and lost: dev mean MRR 0.835 -> 0.834.)
"""

from __future__ import annotations

import re

from studybot.text.tokens import standard_wording

ASPECTS: dict[str, tuple[str, ...]] = {
    "advantage": ("优点", "优缺点", "优劣", "好处", "优势", "益处", "advantage", "advantages", "benefit", "benefits",
                  "pros"),
    "drawback": ("缺点", "优缺点", "优劣", "坏处", "劣势", "弊端", "不足之处", "局限", "局限性", "disadvantage",
                 "disadvantages", "drawback", "drawbacks", "downside", "downsides", "limitation", "limitations",
                 "weakness", "weaknesses", "cons"),
    # "Why …?" is answered where a passage gives its reasons (answers dev first citation 0.840 to 0.852, coverage
    # 0.753 to 0.762): "ReLU …为什么还说它是非线性激活函数？" opened with ReLU's advantages, not with why it is nonlinear.
    "reason": ("为什么", "为何", "原因", "因为", "之所以", "why", "reason", "reasons", "because", "cause", "causes"),
    # "give an example" is answered where a passage gives one: it was answered with dropout's drawbacks
    "example": ("例如", "例子", "举例", "比如", "example", "examples", "e.g", "for instance"),
    # "How do you fix them?" is answered under "解决方法": an English question over Chinese notes named nothing of that
    # section ("What causes vanishing gradients and how do you fix them?" quoted its causes alone). Only the nouns a
    # heading uses in Chinese: with 解决 and 缓解, "…你有哪些办法来缓解？" opened with a section on OOV's "解决方案"
    # (answers dev coverage 0.818 -> 0.812).
    "solution": ("解决方法", "解决办法", "解决方案", "对策", "fix", "fixes", "solve", "solves", "solution", "solutions",
                 "remedy", "remedies", "mitigate", "mitigation"),
}
# Words that ask for a comparison. They frame a question rather than name its subject ("What is the difference
# between (1) and (1,)?" says nothing about bagging and boosting), so they are no aspect to match a passage by.
# ("contrast" is not one: its words' key, "contra", is contrastive learning's too.)
COMPARISON = ("区别", "不同", "异同", "差异", "对比", "相比", "比较", "区分", "difference", "differences", "different",
              "differ", "differs", "compare", "compared", "comparing", "comparison", "versus", "vs")


def _words(words: tuple[str, ...]) -> re.Pattern[str]:
    """Any of the words, English ones whole."""
    return re.compile("|".join(rf"\b{re.escape(w)}\b" if w.isascii() else re.escape(w)
                               for w in sorted(words, key=len, reverse=True)), re.IGNORECASE)


_PATTERNS = {name: _words(words) for name, words in ASPECTS.items()}
_COMPARES = _words(COMPARISON)


def compares(text: str) -> bool:
    """Whether a text asks for (or makes) a comparison."""
    return bool(_COMPARES.search(text))


_QUESTION_END = re.compile(r"[？?]+")
# Where a question goes on to ask another ("What is the curse of dimensionality, and why does it make learning hard?")
_ASKS_ON = re.compile(r"(?:[,，;；]\s*(?:and\s+)?|,?\s+and\s+)"
                      r"(?=(?:why|how|what|when|which|where)\b|为什么|为何|怎么|怎样|如何|哪些|有什么|有哪些|是什么)", re.IGNORECASE)
_ASKS = re.compile(r"^\s*(?:what|why|how|which|when|where|who|is|are|does|do|did|can|could|should|would|will|in which)\b"
                   r"|为什么|为何|怎么|怎样|如何|什么|哪|吗|是否|多少", re.IGNORECASE)


def question_parts(text: str) -> list[str]:
    """The questions a text asks: one for each question mark ("dropout 为什么能起到正则化的作用？它有什么缺点？": two), and
    one for each question asked on after a comma or "and" ("What is X, and why does it …?"), not for a clause that
    only leads into one ("Besides FLOPs, what …?"). Colloquial question words ask as their standard forms do
    (`standard_wording`: "BN 是啥，咋用？" asks two)."""
    parts: list[str] = []
    for sentence in _QUESTION_END.split(standard_wording(text)):
        lead_in = ""
        for piece in (piece.strip() for piece in _ASKS_ON.split(sentence)):
            if piece and not _ASKS.search(piece):
                lead_in = f"{lead_in}{piece}, "
            elif piece:
                parts.append(lead_in + piece)
                lead_in = ""
        if lead_in:
            parts.append(lead_in.removesuffix(", "))
    return parts


def aspects(text: str) -> list[str]:
    """The aspects a text speaks of, by name; a colloquial question word as its standard form ("为啥要 warmup" asks
    a reason as "为什么" does)."""
    text = standard_wording(text)
    return [name for name, pattern in _PATTERNS.items() if pattern.search(text)]


def without_aspects(text: str) -> str:
    """The text with its aspects' words blanked: what is left names the subject."""
    for pattern in _PATTERNS.values():
        text = pattern.sub(" ", text)
    return text



# A question that asks what its subject is ("What is GraphRAG?", "什么是仿射变换？", "仿射變換是什麼？"), not why it
# works, what it is for, or how two differ (`compares`): a note about the subject says what it is where it opens.
_DEFINES = re.compile(r"^\s*(?:what\s+(?:is|are)\s+(?!the\s+(?:differences?|purposes?|roles?|point|idea|intuition|reasons?|"
                      r"uses?|meaning|benefits?|advantages?|drawbacks?)\b)|什[么麼]是|何[为謂谓]|define\b)"
                      r"|(?:是什[么麼]|指什[么麼])(?:意思)?\s*[？?]?\s*$", re.IGNORECASE)


def defines(text: str) -> bool:
    """Whether a question asks what its subject is ("是啥" as "是什么")."""
    return not compares(text) and bool(_DEFINES.search(standard_wording(text)))
