"""Which language a text is in, and the one definition of a Chinese character used everywhere."""

from __future__ import annotations

import re

# CJK Unified Ideographs, Extension A and the compatibility block: the characters studybot
# treats as Chinese in tokens, language detection, sentence ends and token estimates.
CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_CHAR = re.compile(f"[{CJK}]")
_LATIN_WORD = re.compile(r"[A-Za-z]+")


def has_cjk(text: str) -> bool:
    return CJK_CHAR.search(text) is not None


def language(text: str) -> str:
    """'zh' when Chinese characters carry the text (English terms inside Chinese are normal), else 'en'."""
    cjk = len(CJK_CHAR.findall(text))
    words = len(_LATIN_WORD.findall(text))
    return "zh" if cjk and cjk >= 0.3 * (cjk + words) else "en"
