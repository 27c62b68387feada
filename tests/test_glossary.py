"""The bilingual glossary: matching, expansion, user extensions, and the bridge it builds in search."""

from __future__ import annotations

from pathlib import Path

from studybot.content.glossary import _plain, load_glossary
from studybot.index.build import build_index
from studybot.index.search import search


def test_bundled_glossary_matches_both_languages_as_whole_terms() -> None:
    glossary = load_glossary(None)
    ids = [e.id for e in glossary.find("BatchNorm 和 LayerNorm 有什么区别？梯度消失怎么办")]
    assert ids[:3] == ["batchnorm", "layernorm", "vanishing-gradient"]
    assert "layernorm" not in [e.id for e in glossary.find("BLNX")]  # "LN" only as a whole word
    assert "batch normalization" in glossary.english("批归一化为什么有效")
    expansion = glossary.expansion("vanishing gradient")
    assert "梯度消失" in expansion and "vanishing gradient" in expansion


def test_user_glossary_extends_the_bundled_one(tmp_path: Path) -> None:
    (tmp_path / "glossary").mkdir()
    (tmp_path / "glossary" / "mine.yaml").write_text(
        "- {id: federated-learning-x, topic: pretraining, en: [federated learning, FL], zh: [联邦学习]}\n",
        encoding="utf-8",
    )
    assert [e.id for e in load_glossary(tmp_path).find("什么是联邦学习")] == ["federated-learning-x"]
    assert load_glossary(None).find("什么是联邦学习") == []


def test_glossary_bridges_chinese_questions_and_english_notes(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "en.md").write_text(
        "# Training\n\n## Batch normalization\n\nBatch normalization normalizes each feature over the mini-batch.\n\n"
        "## Learning rate warm-up\n\nStart with a small learning rate and raise it over the first steps.\n"
    )
    (notes / "zh.md").write_text(
        "# 序列模型\n\n## 梯度消失\n\n循环神经网络在长序列上反向传播时，连乘使早期时间步几乎收不到信号。\n\n"
        "## 注意力\n\n每个位置对所有位置加权求和。\n"
    )
    home = tmp_path / "home"
    build_index(home, [notes], bundled=False)
    assert search("批归一化是做什么的", k=1, home=home)[0].heading == "Batch normalization"
    assert search("What causes the vanishing gradient problem in RNNs?", k=1, home=home)[0].heading == "梯度消失"


def test_classic_interview_concepts_bridge_the_languages_and_model_names_stay_words(tmp_path: Path) -> None:
    """Interviews ask about the curse of dimensionality, singular values, NMS, cross-validation, bagging
    as often as about BatchNorm, and a learner's notes name them in the other language ("维数灾难", "交并比").
    A model's name (Faster R-CNN) is no alias of its task: "Faster R-CNN 相比 Fast R-CNN" would lose its sides."""
    glossary = load_glossary(None)

    def ids(text: str) -> list[str]:
        return [e.id for e in glossary.find(text)]

    pairs = {"curse of dimensionality": "维数灾难",
             "non-maximum suppression": "非极大值抑制", "intersection over union": "交并比", "cross-validation": "K 折交叉验证",
             "transposed convolution": "反卷积", "supervised learning": "监督式学习", "Newton's method": "拟牛顿法",
             "grid search": "超参数调优", "bagging": "装袋法", "focal loss": "焦点损失", "singular values": "奇异值",
             "eigenvectors": "特征向量"}
    for english, chinese in pairs.items():
        assert ids(english) and ids(english) == ids(chinese), (english, chinese)
    assert "object-detection" not in ids("Faster R-CNN 相比 Fast R-CNN 主要改进在哪里？")
    assert ids("最大奇异值") == ids("the largest eigenvalue") == ["spectral-radius"]  # the longer name wins
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "zh.md").write_text("# 机器学习\n\n## 如何理解维数灾难？\n\n维度越高，样本在空间中越稀疏，需要的样本数随维度指数增长。\n\n"
                                 "## 交叉验证\n\n把数据分成 K 份，轮流用一份做验证。\n", encoding="utf-8")
    home = tmp_path / "home"
    build_index(home, [notes], bundled=False)
    assert search("What is the curse of dimensionality?", k=1, home=home)[0].heading == "如何理解维数灾难？"


def test_everyday_words_and_tex_commands_are_not_terms() -> None:
    glossary = load_glossary(None)

    def ids(text: str) -> list[str]:
        return [e.id for e in glossary.find(text)]

    # an alias listed as cased matches only as written: the word "zero" is not DeepSpeed's ZeRO
    assert "deepspeed" not in ids("What goes wrong if you initialize all the weights to zero?")
    assert "deepspeed" in ids("ZeRO-3 分片优化器状态")
    assert ids("How do React hooks work?") == [] and "react" in ids("a ReAct agent")
    assert "reward-ranked-finetuning" not in ids("the rest of the layers") and ids("ReST") == ["reward-ranked-finetuning"]
    # the natural log and TeX's roman font are not LayerNorm and the reward model; the Greek letter is no Python lambda
    assert ids(r"$J=-[y\ln a+(1-y)\ln(1-a)]$，${\rm E}_{x}$，$\lambda$ 越大正则越强") == []
    assert ids("LN 与 BN 的区别") == ["layernorm", "batchnorm"] and "lambda" in ids("lambda 函数")
    # a Chinese name inside a longer word is not it: 向量化 (vectorizing) holds 量化 (quantizing)
    # (nor 轻量化, lightweight), 三元组 holds 元组 (a Python tuple), 嵌入式 (embedded devices) 嵌入 (embeddings)
    assert "quantization" not in ids("如何将词嵌入的向量化？") and ids("模型量化") == ["quantization"]
    assert ids("轻量化网络") == ["lightweight-network"] and "tuple" not in ids("三元组损失怎么选样本？")
    assert ids("部署到嵌入式设备") == ["embedded-device"] and ids("词嵌入") == ["word-embedding"]
    # ... but a user types names in lower case: one no everyday English word spells is the concept in a question
    assert sorted(e.id for e in glossary.typed_in_lowercase("crf 和 gmm 的区别")) == ["crf", "gmm"]
    assert glossary.typed_in_lowercase("What goes wrong with zero init, and what does the feature map show?") == []
    assert glossary.typed_in_lowercase("What is CRF?") == []  # as written, `find` names it


def _regex_find(glossary, text: str) -> list[str]:
    """The matcher as first written: one alternation of every alias, longest first, with word boundaries,
    not after a backslash (a TeX command), the cased aliases with their case."""
    import re

    alternatives = []
    for alias in sorted(glossary._by_alias, key=len, reverse=True):
        escaped = re.escape(glossary._cased.get(alias, alias))
        if alias in glossary._cased:
            escaped = f"(?-i:{escaped})"
        if re.match(r"[a-z0-9]", alias):
            escaped = r"(?<![a-z0-9\\])" + escaped
        if re.search(r"[a-z0-9]$", alias):
            escaped += r"(?![a-z0-9])"
        alternatives.append(escaped)
    pattern = re.compile("|".join(alternatives), re.IGNORECASE)
    seen: dict[str, None] = {}
    for match in pattern.finditer(_plain(text)):
        seen.setdefault(glossary._by_alias[match.group(0).lower()].id, None)
    return list(seen)


def test_the_scanning_matcher_finds_what_the_alternation_regex_found() -> None:
    from studybot.home import bundled_dir

    glossary = load_glossary(None)
    texts = [p.read_text(encoding="utf-8") for p in sorted(bundled_dir("knowledge").glob("*.md"))]
    texts = [part for text in texts for part in text.split("\n\n")]  # paragraphs: many small texts
    texts += ["BNB is not BN, but bn. LayerNorm/RMSNorm; ReLU6 relu-6 L1 l2 梯度消失和梯度爆炸", "", "x",
              r"zero ZeRO ZERO react ReAct LN ln \ln \LN \lambda \tanh(x) \rm{RM} rm",
              "Batch normalization（批归一化，BN）与 layer norm 有何不同？ADAM adamw Adam-W"]
    assert len(texts) > 500
    for text in texts:
        assert [e.id for e in glossary.find(text)] == _regex_find(glossary, text), text[:80]


def test_a_concept_is_found_by_its_names_words_in_any_order_and_form() -> None:
    """"Why do gradients vanish?" speaks of vanishing gradients as much as "the vanishing gradient problem" does;
    one of a name's words alone ("precision", "gradients") names no concept of two words."""
    from studybot.text.tokens import word_keys

    glossary = load_glossary()
    assert "vanishing-gradient" in {e.id for e in glossary.find_words(word_keys("Why do gradients vanish?"))}
    assert "learning-rate" in {e.id for e in glossary.find_words(word_keys("Which rate of learning works best?"))}
    assert not {e.id for e in glossary.find_words(word_keys("precision and recall of gradients"))} & {
        "mixed-precision", "vanishing-gradient", "exploding-gradient"}


def test_a_chinese_concept_is_found_by_its_names_words_apart() -> None:
    """A Chinese question splits a name with words of its own ("梯度为什么不容易消失" speaks of 梯度消失), as an
    English one does; a name's word alone ("梯度") names no concept of two words, and an English text never
    pays for segmenting the Chinese names."""
    from studybot.text.tokens import word_keys

    glossary = load_glossary()

    def ids(text: str) -> set[str]:
        return {e.id for e in glossary.find_words(word_keys(text))}

    assert "vanishing-gradient" in ids("门控卷积为什么梯度不容易消失？")
    assert "exploding-gradient" in ids("梯度为什么会爆炸？")
    assert "lr-schedule" in ids("学习率应该怎样衰减？")
    assert not ids("梯度是什么？") & {"vanishing-gradient", "exploding-gradient"}
    fresh = load_glossary()
    fresh.find_words(word_keys("Why do gradients vanish?"))
    assert "_chinese_names_by_word" not in fresh.__dict__


def test_a_chinese_names_parts_name_it_only_when_they_spell_it() -> None:
    """The segmenter cuts "去噪自编码器" (BART's alias) into 自编, 编码, 码器, leaving out 去噪: those parts are in
    every text on autoencoders, and "变分自编码器和普通自编码器有什么区别？" named BART. "He 初始化" is one Chinese
    word (the English "he" is a stop word): it names no text that merely says 初始化. (The segmenter knows the
    glossary's Chinese names, as in every index and search.)"""
    from studybot.text.tokens import add_words, word_keys

    glossary = load_glossary()
    add_words(a for e in glossary.entries for a in e.zh)

    def ids(text: str) -> set[str]:
        return {e.id for e in glossary.find_words(word_keys(text))}

    assert "bart" not in ids("变分自编码器和普通自编码器有什么区别？")
    assert "he-init" not in ids("权重应该怎么初始化？")
    assert "weight-initialization" in ids("权重应该怎么初始化？")
    assert "vanishing-gradient" in ids("为什么梯度不容易消失？")  # 梯度 + 消失 spell 梯度消失


def test_a_term_is_found_as_chinese_text_writes_it() -> None:
    """Chinese text leaves out the space between Latin and Chinese ("L2正则化"): it names the concept
    whose alias spells it with one."""
    glossary = load_glossary(None)

    def ids(text: str) -> set[str]:
        return {e.id for e in glossary.find(text)}

    assert {"l1-regularization", "weight-decay"} <= ids("L1正则化和L2正则化有什么区别？")
    assert ids("L1正则化和L2正则化有什么区别？") == ids("L1 正则化和 L2 正则化有什么区别？")
    for size in ("1x1卷积有什么用？", "1×1卷积有什么用？", r"$1\times1$卷积作用？", r"$1\times 1$卷积层", "1 X 1 卷积"):
        assert "pointwise-convolution" in ids(size), size
    assert "batchnorm" in ids("ＢａｔｃｈＮｏｒｍ 为什么有效")  # full-width letters of a bad export
    assert "fine-tuning" in ids("ﬁne-tuning（微调）")  # a PDF's ligature
    assert "he-init" in ids("He初始化和Xavier初始化怎么选？")
    assert "pointwise-convolution" not in ids("11卷积层")  # no size without its x


def test_glossary_bridges_classic_ml_and_nlp_terms(tmp_path: Path) -> None:
    """Terms every interview asks about, written in Chinese notes under names no English word of the question shares.
    Keyword search (bm25) meets them only through the glossary; the multilingual lists find such headings, but not
    a passage that names its term only in its text."""
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "ml.md").write_text(
        "# 机器学习笔记\n\n## 类别不平衡\n\n少数类样本太少时，可以对少数类过采样、对多数类欠采样，或者给少数类的损失加权。\n\n"
        "## 指代消解\n\n对话里的“它”要找到前文提到的名词短语，先找候选先行语，再按规则或模型打分。\n\n"
        "## 混淆矩阵\n\n行是真实类别，列是预测类别，对角线上是分对的样本数。\n\n"
        "## 隐马尔可夫模型\n\n由初始概率、转移概率和发射概率组成，解码用维特比算法。\n\n"
        "## 学习率\n\n学习率太大损失震荡，太小收敛很慢。\n", encoding="utf-8")
    home = tmp_path / "home"
    build_index(home, [notes], bundled=False)
    asked = {"How do you deal with class imbalance?": "类别不平衡",
             "What is coreference resolution?": "指代消解",
             "How do you read a confusion matrix?": "混淆矩阵",
             "How does an HMM decode the most likely state sequence?": "隐马尔可夫模型"}
    for question, heading in asked.items():
        assert search(question, k=1, home=home, mode="bm25")[0].heading == heading, question
