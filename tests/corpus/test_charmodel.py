"""The character-frequency model built from jieba's dictionary."""

from __future__ import annotations

import math
import time

import pytest

from pipeline.corpus.charmodel import CharModel, is_foreign, is_han, read_jieba_dictionary
from pipeline.corpus.script import make_converter


@pytest.fixture(scope="module")
def model() -> CharModel:
    return CharModel.from_jieba_dictionary(make_converter())


class CountingConverter:
    """Wraps OpenCC and counts the calls, to hold the model to one call."""

    def __init__(self):
        self.inner = make_converter()
        self.calls = 0

    def convert(self, text: str) -> str:
        self.calls += 1
        return self.inner.convert(text)


def test_builds_quickly_with_one_conversion_call():
    converter = CountingConverter()
    start = time.perf_counter()
    CharModel.from_jieba_dictionary(converter)
    elapsed = time.perf_counter() - start
    assert converter.calls == 1
    # Built on every run; a slow build would show in every test and every run.
    assert elapsed < 5.0


def test_common_characters_beat_rare_ones_and_unseen_get_the_floor(model):
    assert model.logp("的") > model.logp("社") > model.logp("歙") > model.floor
    assert model.logp("\ue000") == model.floor  # private use: never in the dictionary
    assert model.logp("ぷ") == model.floor
    # Rare but real characters of the corpus are attested, above the floor.
    for ch in "歙鄣楫擘韧臧瞿":
        assert model.logp(ch) > model.floor + 1


def test_traditional_characters_score_as_their_simplified_form(model):
    for trad, simp in [("縣", "县"), ("員", "员"), ("韌", "韧"), ("區", "区"), ("鎮", "镇")]:
        assert model.logp(trad) >= model.logp(simp)
        assert model.logp(trad) > model.floor + 2


def test_word_frequency_is_spread_over_the_characters():
    model = CharModel.from_jieba_dictionary(make_converter(), dictionary="工作 4 n\n工 2 n\n人员 6\n")
    # 工: 4/2 + 2 = 4; 作: 4/2 = 2; 人, 员: 6/2 = 3 each; total 12.
    assert model.logp("工") == pytest.approx(math.log10(4 / 12))
    assert model.logp("作") == pytest.approx(math.log10(2 / 12))
    assert model.logp("員") == pytest.approx(math.log10(3 / 12))  # through t2s
    assert model.pair_known("工", "作") and model.pair_known("人", "員")
    assert not model.pair_known("作", "人")


def test_dictionary_reader_accepts_lines_without_part_of_speech():
    words, freqs = read_jieba_dictionary("工作 4 n\n人员 6\n")
    assert words == ["工作", "人员"] and list(freqs) == [4, 6]


def test_mean_logp_is_defined_for_any_text(model):
    assert model.mean_logp("") == model.floor
    assert model.mean_logp("just ASCII, 123!") == model.floor
    assert model.mean_logp("“”、。") == model.floor
    sentence = "城鄉社區是人民群眾安居樂業的家園,是社會治理的基本單元。"
    assert model.mean_logp(sentence) > -3.5
    # Punctuation and ASCII do not move the mean.
    assert model.mean_logp(sentence + " abc 2021") == pytest.approx(model.mean_logp(sentence))


def test_mean_logp_prefers_the_real_text_to_its_garbled_form(model):
    real = "現象。“工作人員辦事效率高"
    garbled = "現象!肮ぷ魅藛T辦事效率高"
    assert model.mean_logp(real) > model.mean_logp(garbled) + 0.5
    # GBK bytes read as Big5 (a wrong codec) read as nonsense.
    wrong = real.encode("gbk").decode("big5", errors="replace")
    assert model.mean_logp(real) > model.mean_logp(wrong) + 1.0


def test_pair_share(model):
    assert model.pair_share("工作人員") == 1.0
    assert model.pair_share("汪趴說") == 0.0
    assert model.pair_share("工") is None


def test_script_classes():
    assert is_han("歙") and is_han("鎮") and not is_han("ぷ") and not is_han("A")
    assert is_foreign("ぷ") and is_foreign("한") and is_foreign("\ufffd") and is_foreign("Ｒ")
    assert not is_foreign("。") and not is_foreign("■") and not is_foreign("a")
