"""An English question over Chinese notes reads what the notes call its terms: "衰减（vanishing）"."""

from __future__ import annotations

from pathlib import Path

from studybot.index.search import search
from tests.conftest import notes_index

BOOK = """# 数值稳定性

深度模型有关数值稳定性的典型问题是衰减（vanishing）和爆炸（explosion）。

## 衰减和爆炸

层数较多时，梯度的计算容易出现衰减或爆炸：衰减使靠前的层几乎学不到东西。

## 裁剪梯度

梯度爆炸时，把梯度裁剪到阈值以内。

## 池化层

我们介绍池化（pooling）层，它缓解卷积层对位置的过度敏感性。
"""


def test_the_notes_own_rendering_of_an_english_word_is_read(tmp_path: Path) -> None:
    """The book heads its section "衰减和爆炸" and says 衰减 for "vanishing" once, in a gloss; the glossary's
    vanishing gradient is 梯度消失 and the question's coordination ("vanishing and exploding gradients") hides it
    anyway, so the section on clipping, which says 梯度爆炸, came first."""
    index = notes_index(tmp_path, {"book.md": BOOK})
    question = "What causes vanishing and exploding gradients in a deep network?"
    hits = search(question, k=3, index=index, mode="bm25")  # with its translation, Gemma's
    assert hits[0].heading == "衰减和爆炸", [h.heading for h in hits]
    assert index.glossed(question) == ["衰减"]
    # a term the glossary already gives the question (pooling is 池化) is not said twice
    assert index.glossed("What does a pooling layer do?") == []
