"""Word segmentation that never splits a governance-lexicon term.

Strategy. jieba alone cannot guarantee that a lexicon term comes out whole:
its regular expressions cut text into blocks before the dictionary is
consulted (at spaces, '·' and other punctuation; the POS tagger also at '%'
and '-'; in jieba 0.42 '+' and digits stay inside a block), its route search
weighs a term against the words around it (智慧/社区建设 beats 智慧社区/建设),
and its HMM re-groups single characters. Raising a term's frequency makes it
likely to win, not certain. So segmentation here runs in two steps:

1. the lexicon search (`TermMatcher`: where terms overlap, the longest wins)
   finds every term and variant in the text; each match becomes one token,
   tagged `LEXICON_TAG`;
2. only the stretches between matches go to jieba's POS tagger.

This keeps 15分钟生活圈 and 互联网+政务服务 whole without placeholders (which
jieba could itself split or tag), and the words of every stretch concatenate
back to the text, so every token has a position and survival can be checked
occurrence by occurrence (`pipeline.text.coverage.lexicon_coverage`). The lexicon
terms are also added to the tokenizer with `add_word` so that anyone cutting
with the tokenizer directly gets the same terms whenever jieba's blocks allow.

Adding words raises jieba's total frequency, which makes every multi-word
route dearer and so changes how text that contains no lexicon term is cut
(on this corpus 11 tokens, for better and worse: 初心 fused, but 共/建成/县
became 共建/成县). `build_tokenizer` therefore restores the total after adding
the terms: the stretches between terms are segmented exactly as jieba's
default dictionary segments them, and the study's segmentation differs from
the plain-jieba baseline by the lexicon alone.

Each tokenizer is a dedicated `jieba.Tokenizer` (never the global `jieba.dt`),
whose prefix-dictionary cache lives in the folder the caller gives. The
stage starts its tokenizers from one load of jieba's dictionary
(`jieba_dictionary`, kept under build/artifacts/), which holds what a fresh
tokenizer's `initialize()` and its POS tagger would read from the file.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

import jieba
import jieba.posseg
import pandas as pd
import stopwordsiso

from pipeline.common.artifacts import artifact, artifact_key
from pipeline.text.lexicon import canonical_map, fold_width
from pipeline.text.matching import TermMatcher
from pipeline.text.poscut import PlainCut, PosCut

__all__ = ["CACHE_FILE_NAME", "CJK", "DEFAULT_EXCLUDED_TAGS", "FilterRules", "JiebaDictionary", "LEXICON_TAG",
           "StudyTokenizer", "build_plain_tokenizer", "build_tokenizer", "classify_word", "countable_tokens",
           "filter_tokens", "general_stopwords", "is_number", "is_punctuation", "jieba_dictionary", "jieba_words",
           "load_jieba_dictionary", "make_filter_rules", "plain_token", "plain_tokens", "segment", "tagged_cut"]

LEXICON_TAG = "lex"


CACHE_FILE_NAME = "jieba.cache"


# Tags of jieba's dictionary for place names (ns) and person names (nr, nrt
# transliterated, nrfg full names); the runner may pass its own.
DEFAULT_EXCLUDED_TAGS = frozenset({"ns", "nr", "nrt", "nrfg"})


CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


_NUMERALS = "0-9零〇一二两三四五六七八九十百千万亿几"


# A number, alone or with an ordinal prefix and one measure word: 2021,
# 99.2, 十年, 第三批, 三级, 四届. Lexicon terms (一站式, 两委, 六事) are matched
# before this test and never reach it.
_MEASURES = "个批届轮级类家名人次项年条期处件支张元户岗篇部位天号份座所"


_NUMBER = re.compile(rf"^第?[{_NUMERALS}.．%％]+[{_MEASURES}]?$")


class StudyTokenizer(jieba.Tokenizer):
    """A dedicated jieba tokenizer with an optional lexicon matcher.

    `matcher` is None for plain jieba (the ablation baseline). The POS tagger
    over this tokenizer is built on first use and kept with it, because
    building one reads jieba's whole dictionary of tags; so is its no-HMM
    cut (`cutter`), which remembers the weight of every word it has met.
    """

    def __init__(self, cache_dir: Path, matcher: TermMatcher | None = None,
                 dictionary: "JiebaDictionary | None" = None):
        super().__init__()
        cache_dir = Path(cache_dir)
        cache_dir.mkdir(parents=True, exist_ok=True)
        self.tmp_dir = str(cache_dir)
        self.cache_file = CACHE_FILE_NAME
        self.matcher = matcher
        self._word_tags: dict[str, str] | None = None
        if dictionary is not None:
            # What `initialize()` loads for jieba's default dictionary, and the
            # tag table the POS tagger would read from it, taken from one load
            # (`jieba_dictionary`); the prefix table is copied because add_word
            # changes it, and the tag table when the tagger is made.
            self.FREQ, self.total = dict(dictionary.freq), dictionary.total
            self._word_tags = dictionary.tags
            self.initialized = True
        self._pos: jieba.posseg.POSTokenizer | None = None
        self._cutter: PosCut | None = None
        self._plain_cutter: PlainCut | None = None

    @property
    def cache_path(self) -> Path:
        return Path(self.tmp_dir) / self.cache_file

    @property
    def pos(self) -> jieba.posseg.POSTokenizer:
        if self._pos is None:
            self.check_initialized()
            if self._word_tags is None:
                self._pos = jieba.posseg.POSTokenizer(self)
            else:
                # POSTokenizer.__init__ only reads the tag table from the dictionary file, which is already loaded.
                pos = jieba.posseg.POSTokenizer.__new__(jieba.posseg.POSTokenizer)
                pos.tokenizer, pos.word_tag_tab = self, dict(self._word_tags)
                self._pos = pos
        return self._pos

    @property
    def cutter(self) -> PosCut:
        """The no-HMM POS cut over this tokenizer, remembering word weights between calls."""
        if self._cutter is None:
            self._cutter = PosCut(self.pos)
        return self._cutter

    @property
    def plain_cutter(self) -> PlainCut:
        """jieba's plain cut with the HMM over this tokenizer, remembering word weights between calls."""
        if self._plain_cutter is None:
            self._plain_cutter = PlainCut(self)
        return self._plain_cutter

    def add_word(self, word, freq=None, tag=None):
        # jieba's del_word, suggest_freq and load_userdict all come here: the
        # remembered word weights are stale after any of them.
        self._cutter = self._plain_cutter = None
        super().add_word(word, freq, tag)


@dataclass(frozen=True)
class JiebaDictionary:
    """jieba's default dictionary as a fresh `jieba.Tokenizer` loads it: the prefix table and total of
    `initialize()`, and the tag table `jieba.posseg.POSTokenizer` reads."""
    freq: dict[str, int]
    total: int
    tags: dict[str, str]


def load_jieba_dictionary() -> JiebaDictionary:
    """jieba's default dictionary, read by jieba's own code from the file it ships.

    Returns
    -------
    JiebaDictionary
        The prefix table and total (`Tokenizer.gen_pfdict`) and the POS tags (`POSTokenizer.load_word_tag`).
    """
    tokenizer = jieba.Tokenizer()
    freq, total = tokenizer.gen_pfdict(tokenizer.get_dict_file())
    return JiebaDictionary(freq, total, jieba.posseg.POSTokenizer(tokenizer).word_tag_tab)


def jieba_dictionary(artifacts: Path) -> JiebaDictionary:
    """`load_jieba_dictionary()`, built once and kept under `artifacts` (pipeline/common/artifacts.py).

    Loading it replaces, per tokenizer, jieba's own cache load and the tagger's parse of the dictionary file;
    the study's tokenizer and the plain one start from the same load.

    Parameters
    ----------
    artifacts : Path
        The artifacts folder (`Paths.artifacts`).

    Returns
    -------
    JiebaDictionary
        jieba's default dictionary.
    """
    # The dictionary's bytes, this module (which reads it) and jieba's version (whose code parses it).
    key = artifact_key([Path(jieba.__file__).parent / jieba.DEFAULT_DICT_NAME, Path(__file__)], {}, ["jieba"])
    return artifact(artifacts, "jieba-dictionary", key, load_jieba_dictionary)


def build_tokenizer(terms: Iterable[str], cache_dir: Path, term_freq: int,
                    dictionary: JiebaDictionary | None = None) -> StudyTokenizer:
    """A dedicated tokenizer that keeps every string of `terms` whole.

    `terms` are the lexicon's terms and variants (`lexicon_strings`). Each is
    added to jieba with frequency `term_freq` and tag `LEXICON_TAG`; jieba's
    total is then restored (see the module docstring). The prefix-dictionary
    cache is written to `cache_dir/jieba.cache`.

    Parameters
    ----------
    terms : Iterable[str]
        The strings to keep whole: lexicon terms and variants, and the notation.
    cache_dir : Path
        Folder of jieba's prefix-dictionary cache.
    term_freq : int
        jieba frequency of each term (segment.lexicon_freq).
    dictionary : JiebaDictionary or None
        jieba's default dictionary, already loaded (`jieba_dictionary`); None initialises from jieba's cache.

    Returns
    -------
    StudyTokenizer
        The initialised tokenizer, its matcher holding the width-folded terms.

    Raises
    ------
    ValueError
        When `term_freq` is below 1.
    """
    terms = sorted({fold_width(t) for t in terms if t})
    if term_freq < 1:
        raise ValueError("term_freq must be a positive frequency")
    tokenizer = StudyTokenizer(cache_dir, TermMatcher(terms), dictionary)
    tokenizer.initialize()
    base_total = tokenizer.total
    for term in terms:
        tokenizer.add_word(term, freq=term_freq, tag=LEXICON_TAG)
    tokenizer.total = base_total
    return tokenizer


def build_plain_tokenizer(cache_dir: Path, dictionary: JiebaDictionary | None = None) -> StudyTokenizer:
    """jieba's default dictionary in a dedicated tokenizer, with no lexicon.

    Parameters
    ----------
    cache_dir : Path
        Folder of jieba's prefix-dictionary cache.
    dictionary : JiebaDictionary or None
        jieba's default dictionary, already loaded (`jieba_dictionary`); None initialises from jieba's cache.

    Returns
    -------
    StudyTokenizer
        The initialised tokenizer, for the ablation's plain-jieba baseline.
    """
    tokenizer = StudyTokenizer(cache_dir, dictionary=dictionary)
    tokenizer.initialize()
    return tokenizer


def segment(text: str, tokenizer: jieba.Tokenizer, hmm: bool,
            matches: Sequence[tuple[int, int, str]] | None = None) -> list[tuple[str, str]]:
    """(word, POS tag) pairs covering `text`: their words concatenate to `text`.

    With a `StudyTokenizer` that has a lexicon, lexicon matches come out as
    single words tagged `LEXICON_TAG` and only the text between them is cut
    by jieba's POS tagger; `hmm` switches jieba's HMM for unknown words.
    `matches` are the lexicon matches when the caller has already found them
    (`tokenizer.matcher.find(text)`).

    Parameters
    ----------
    text : str
        A unit of a cleaned article.
    tokenizer : jieba.Tokenizer
        The study's tokenizer (`build_tokenizer`), or a plain jieba one.
    hmm : bool
        Whether jieba's HMM cuts unknown words (segment.hmm).
    matches : Sequence[tuple[int, int, str]] or None
        The (start, end, string) lexicon matches in `text`; None finds them with the tokenizer's matcher.

    Returns
    -------
    list[tuple[str, str]]
        The (word, POS tag) pairs, in text order.
    """
    study = isinstance(tokenizer, StudyTokenizer)
    if matches is None:
        matcher = getattr(tokenizer, "matcher", None)
        matches = matcher.find(text) if matcher is not None else ()
    if not hmm:
        cutter = tokenizer.cutter if study else PosCut(jieba.posseg.POSTokenizer(tokenizer))
        return cutter.cut_around(text, matches, LEXICON_TAG)
    pos = tokenizer.pos if study else jieba.posseg.POSTokenizer(tokenizer)
    pairs: list[tuple[str, str]] = []
    cursor = 0
    for start, end, _string in matches:
        if start > cursor:
            pairs.extend(tagged_cut(text[cursor:start], pos, hmm))
        pairs.append((text[start:end], LEXICON_TAG))
        cursor = end
    if cursor < len(text):
        pairs.extend(tagged_cut(text[cursor:], pos, hmm))
    return pairs


def tagged_cut(text: str, pos: jieba.posseg.POSTokenizer, hmm: bool) -> list[tuple[str, str]]:
    """jieba's POS cut of `text` as (word, tag) pairs.

    With the HMM on, this is `pos.cut`. With it off, the same cut is made by
    `PosCut` (`pipeline.text.poscut`), without jieba's per-word `pair`
    objects, generators and per-character dictionaries, in less than half of
    jieba's time. `tests/text/test_segment.py` compares the two on the corpus,
    on edge cases and on random texts.
    """
    if hmm:
        return [(p.word, p.flag) for p in pos.cut(text, HMM=True)]
    return PosCut(pos).cut(text)


def jieba_words(text: str, tokenizer: jieba.Tokenizer, hmm: bool) -> list[str]:
    """jieba's own cut of the whole text, without the lexicon pre-split (for measurement).

    Parameters
    ----------
    text : str
        A unit of a cleaned article.
    tokenizer : jieba.Tokenizer
        The tokenizer whose cut is measured.
    hmm : bool
        Whether jieba's HMM cuts unknown words.

    Returns
    -------
    list[str]
        jieba's words, in text order.
    """
    return tokenizer.lcut(text, HMM=hmm)


def general_stopwords() -> frozenset[str]:
    """The maintained general Chinese stopword list (stopwords-iso), width-folded.

    Returns
    -------
    frozenset[str]
        The stopwords-iso Chinese stopwords.
    """
    return frozenset(fold_width(w) for w in stopwordsiso.stopwords("zh"))


@dataclass(frozen=True)
class FilterRules:
    """What `filter_tokens` keeps.

    canonical: lexicon string -> canonical term (lexicon tokens are always kept);
    stopwords: general and domain stopwords; single_char_whitelist: one-character
    words kept; excluded_words: toponyms, persons and roles that the tags miss;
    keep_words: words kept although their tag is excluded (or is a numeral tag);
    excluded_tags: jieba tags of place and person names.
    """

    canonical: Mapping[str, str]
    stopwords: frozenset[str]
    single_char_whitelist: frozenset[str]
    excluded_words: frozenset[str]
    keep_words: frozenset[str]
    excluded_tags: frozenset[str] = DEFAULT_EXCLUDED_TAGS
    notation: Mapping[str, str] = field(default_factory=dict)  # bracket notation -> its one token


def make_filter_rules(lexicon: pd.DataFrame, stopwords: Iterable[str], single_char_whitelist: Iterable[str],
                      exclusions: Mapping[str, Iterable[str]],
                      excluded_tags: Iterable[str] = DEFAULT_EXCLUDED_TAGS,
                      notation: Mapping[str, str] | None = None) -> FilterRules:
    """Assemble `FilterRules` from the loaded lexicon and word lists.

    `exclusions` is `load_sectioned_wordlist(vocab_exclusions, ("exclude", "keep"))`.

    Parameters
    ----------
    lexicon : pd.DataFrame
        The governance lexicon (`load_lexicon`).
    stopwords : Iterable[str]
        The general and domain stopwords.
    single_char_whitelist : Iterable[str]
        One-character words kept as content tokens.
    exclusions : Mapping[str, Iterable[str]]
        The `exclude` and `keep` sections of the vocabulary exclusions.
    excluded_tags : Iterable[str]
        POS tags whose words are not content tokens unless kept (segment.exclude_tags).
    notation : Mapping[str, str] or None
        Each notation string and its token (`names.load_notation`); None for none.

    Returns
    -------
    FilterRules
        The rules `classify_word` applies.
    """
    return FilterRules(canonical=canonical_map(lexicon),
                       stopwords=frozenset(fold_width(w) for w in stopwords),
                       single_char_whitelist=frozenset(single_char_whitelist),
                       excluded_words=frozenset(exclusions.get("exclude", ())),
                       keep_words=frozenset(exclusions.get("keep", ())),
                       excluded_tags=frozenset(excluded_tags),
                       notation=dict(notation or {}))


def is_punctuation(word: str) -> bool:
    """No letter, digit or CJK character: punctuation, symbols, whitespace."""
    return not any(ch.isalnum() for ch in word)


def is_number(word: str) -> bool:
    """Digits, Chinese numerals, or a numeral with one measure word."""
    if _NUMBER.match(word):
        return True
    # Mixed digit-letter codes (3A, 5A, 1+10) carry no Chinese word.
    return not CJK.search(word) and any(ch.isdigit() for ch in word)


def _countable(word: str, tag: str, keep_words: frozenset[str]) -> bool:
    if is_punctuation(word) or is_number(word):
        return False
    # jieba tags numerals with measure words as m (一批, 首批, 余万元); a few
    # m-tagged words carry meaning here (一线, 多元, 多方) and are kept by name.
    return tag != "m" or word in keep_words


def classify_word(word: str, tag: str, rules: FilterRules) -> tuple[str | None, str | None]:
    """(countable token, content token) of one segmented word, None where it is not one.

    Bracket notation (村(社区)) becomes the one token it stands for (村社区).
    Countable tokens make a place's total: no punctuation or numbers; variants
    mapped to canonical terms; stopwords, one-character words and excluded
    toponyms/persons/roles still in. Content tokens feed the emphasis and
    topic vocabularies: lexicon terms always (as their canonical form);
    anything else only when it is not punctuation or a number, one character
    long (unless whitelisted), a stopword, an excluded word, or tagged as a
    place or person name (unless listed under keep). The answer depends on
    the word and tag alone, so callers may remember it.

    Parameters
    ----------
    word : str
        One word of the segmentation.
    tag : str
        Its POS tag (`LEXICON_TAG` for a lexicon match).
    rules : FilterRules
        The filter rules (`make_filter_rules`).

    Returns
    -------
    tuple[str or None, str or None]
        The countable token and the content token of the word.
    """
    word = fold_width(word.strip())
    if not word:
        return None, None
    if word in rules.notation:
        token = rules.notation[word]
        return token, token
    if tag == LEXICON_TAG or word in rules.canonical:
        term = rules.canonical.get(word, word)
        return term, term
    if not _countable(word, tag, rules.keep_words):
        return None, None
    if ((len(word) == 1 and word not in rules.single_char_whitelist)
            or word in rules.stopwords or word in rules.excluded_words
            or (tag in rules.excluded_tags and word not in rules.keep_words)):
        return word, None
    return word, word


def countable_tokens(pairs: Sequence[tuple[str, str]], rules: FilterRules) -> list[str]:
    """The tokens that count towards a place's total (see `classify_word`).

    Parameters
    ----------
    pairs : Sequence[tuple[str, str]]
        The (word, POS tag) pairs of a segmentation.
    rules : FilterRules
        The filter rules (`make_filter_rules`).

    Returns
    -------
    list[str]
        The countable tokens, in text order.
    """
    return [counted for counted, _ in (classify_word(w, t, rules) for w, t in pairs) if counted]


def filter_tokens(pairs: Sequence[tuple[str, str]], rules: FilterRules) -> list[str]:
    """Content tokens for the emphasis and topic vocabularies (see `classify_word`).

    Parameters
    ----------
    pairs : Sequence[tuple[str, str]]
        The (word, POS tag) pairs of a segmentation.
    rules : FilterRules
        The filter rules (`make_filter_rules`).

    Returns
    -------
    list[str]
        The content tokens, in text order.
    """
    return [content for _, content in (classify_word(w, t, rules) for w, t in pairs) if content]


def plain_token(word: str, stopwords: frozenset[str]) -> str | None:
    """The ablation's token for one word of plain jieba's cut; None for a word it drops.

    Parameters
    ----------
    word : str
        One word of plain jieba's cut.
    stopwords : frozenset[str]
        The general stopwords.

    Returns
    -------
    str or None
        The width-folded, stripped word; None for a word under two characters, punctuation, a number or a
        stopword.
    """
    word = fold_width(word.strip())
    if len(word) < 2 or is_punctuation(word) or is_number(word) or word in stopwords:
        return None
    return word


def plain_tokens(text: str, tokenizer: jieba.Tokenizer, stopwords: Iterable[str] | frozenset[str],
                 hmm: bool = True, token_of: Callable[[str], str | None] | None = None) -> list[str]:
    """The ablation baseline: plain jieba, package stopwords, no one-character words, no numbers.

    Uses jieba's own cut (its default HMM setting unless told otherwise) on a
    tokenizer without lexicon, e.g. `build_plain_tokenizer`; a `StudyTokenizer`
    makes that cut with `PlainCut`, which gives jieba's words in less time.
    `token_of` is `plain_token` with these stopwords when the caller keeps
    one that remembers its answers.

    Parameters
    ----------
    text : str
        A unit of a cleaned article.
    tokenizer : jieba.Tokenizer
        A tokenizer without lexicon (`build_plain_tokenizer`).
    stopwords : Iterable[str] or frozenset[str]
        The general stopwords.
    hmm : bool
        Whether jieba's HMM cuts unknown words.
    token_of : Callable[[str], str or None] or None
        The token of one word (`plain_token` with these stopwords); None makes one.

    Returns
    -------
    list[str]
        The ablation's tokens, in text order.
    """
    if token_of is None:
        token_of = functools.partial(plain_token, stopwords=stopwords if isinstance(stopwords, frozenset)
                                     else frozenset(stopwords))
    if hmm and isinstance(tokenizer, StudyTokenizer):
        cut = tokenizer.plain_cutter.lcut(text)
    else:
        cut = tokenizer.lcut(text, HMM=hmm)
    return [token for token in map(token_of, cut) if token is not None]
