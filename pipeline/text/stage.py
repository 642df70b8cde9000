"""The segmentation stage for a whole corpus: units and tokens of every article (on the run's dask workers when asked), with per-place counts."""

from __future__ import annotations

import functools
import logging
from collections import Counter
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, Callable, ContextManager, Sequence

import pandas as pd

from pipeline.common.config import Paths
from pipeline.common.engine import ordered_map
from pipeline.common.params import StudyParams
from pipeline.corpus.stage import CleanDocument
from pipeline.text import lexicon as lex_mod
from pipeline.text import segment as seg_mod
from pipeline.text.coverage import add_survival_counts, survival_counts
from pipeline.text.matching import TermMatcher
from pipeline.text.names import NameRules, load_name_rules, load_notation, place_name_positions
from pipeline.text.units import make_units, Unit

__all__ = ["Segmentation", "Segmenter", "build_segmenter", "segment_article", "segment_articles", "segment_corpus",
           "segment_job"]

log = logging.getLogger("pipeline")


@dataclass
class Segmentation:
    """Everything the segmentation stage hands on.

    Per place only counts are kept (countable tokens, lexicon survival), not
    the full segmentation, so that memory grows with the vocabulary rather
    than with the corpus.
    """
    lexicon: pd.DataFrame
    units: list[Unit]
    countable_by_place: dict[str, Counter]
    survival_by_place: dict[str, dict[str, tuple[int, int]]]
    doc_counts: dict[str, dict[str, int]]


@dataclass
class Segmenter:
    """What segmenting one article needs; built once per process."""
    tokenizer: Any
    plain_tokenizer: Any  # None when the themes ablation is off: its tokens are not needed
    general_stopwords: frozenset
    rules: Any
    classify: Callable[[str, str], tuple[str | None, str | None]]  # segment.classify_word, remembered
    plain_token: Callable[[str], str | None]  # segment.plain_token with the general stopwords, remembered
    coverage_matcher: Any
    names: NameRules
    hmm: bool
    max_chars: int
    min_chars: int


# (word, tag) pairs whose classification a segmenter remembers (and words
# whose ablation token it remembers); a corpus's vocabulary stays well below this.
_CLASSIFY_CACHE_SIZE = 1 << 20


def build_segmenter(paths: Paths, params: StudyParams, lexicon: pd.DataFrame) -> Segmenter:
    """What segmenting one article needs, built once per process.

    Parameters
    ----------
    paths : Paths
        The study's paths: the word lists, the notation and the gazetteer under its `lexicon` folder, jieba's cache.
    params : StudyParams
        The study's parameters (segment, units, themes.ablation).
    lexicon : pd.DataFrame
        The governance lexicon (`load_lexicon`).

    Returns
    -------
    Segmenter
        The tokenizers, filter rules, name rules and unit sizes.
    """
    seg_params, unit_params = params.segment, params.units
    general = seg_mod.general_stopwords()
    stopwords = general | set(lex_mod.load_wordlist(paths.lexicon / "stopwords_domain.txt"))
    exclusions = lex_mod.load_sectioned_wordlist(paths.lexicon / "vocab_exclusions.txt", ("exclude", "keep"))
    notation = load_notation(paths.lexicon / "notation.csv")
    rules = seg_mod.make_filter_rules(
        lexicon, stopwords, lex_mod.load_wordlist(paths.lexicon / "single_char_whitelist.txt"),
        exclusions, list(seg_params.exclude_tags), notation)
    names = load_name_rules(paths.lexicon, stopwords, set(rules.canonical) | set(notation) | set(exclusions["keep"]))
    ablation = params.themes.ablation
    # Notation is kept whole like a lexicon term, then mapped to its token.
    # jieba's dictionary is loaded once (from build/artifacts/) for both tokenizers.
    dictionary = seg_mod.jieba_dictionary(paths.artifacts)
    tokenizer = seg_mod.build_tokenizer([*lex_mod.lexicon_strings(lexicon), *notation], paths.jieba_cache,
                                        seg_params.lexicon_freq, dictionary)
    coverage = TermMatcher(rules.canonical)
    # The coverage check counts the same strings the segmentation keeps whole;
    # when both matchers hold the same strings, one search serves both.
    if coverage.strings == tokenizer.matcher.strings:
        coverage = tokenizer.matcher
    return Segmenter(
        tokenizer=tokenizer,
        plain_tokenizer=seg_mod.build_plain_tokenizer(paths.jieba_cache, dictionary) if ablation else None,
        general_stopwords=general, rules=rules,
        classify=functools.lru_cache(maxsize=_CLASSIFY_CACHE_SIZE)(functools.partial(seg_mod.classify_word, rules=rules)),
        plain_token=functools.lru_cache(maxsize=_CLASSIFY_CACHE_SIZE)(
            functools.partial(seg_mod.plain_token, stopwords=general)),
        coverage_matcher=coverage, names=names, hmm=seg_params.hmm,
        max_chars=unit_params.max_chars, min_chars=unit_params.min_chars)


def segment_article(doc_id: str, place: str, text: str, segmenter: Segmenter) -> dict:
    """Units and their tokens, countable-token counts and lexicon survival of one article.

    Every unit has `tokens` (the content tokens) and `spans`, one (start, end)
    pair per token, the [start, end) character range of the unit's `text`: where the token was read
    (a notation token spans its whole bracket form). Place names are counted
    but are not tokens. Units carry `plain_tokens` (the ablation's plain-jieba
    baseline) when the segmenter has a plain tokenizer.

    Parameters
    ----------
    doc_id : str
        The article's doc_id.
    place : str
        The article's place.
    text : str
        The cleaned, simplified article.
    segmenter : Segmenter
        What segmentation needs (`build_segmenter`).

    Returns
    -------
    dict
        "units" (the article's units, in order), "countable" (a Counter of its countable tokens), "survival"
        (canonical term -> (occurrences, kept whole)).
    """

    units, countable, survival = [], Counter(), {}
    matcher, coverage = segmenter.tokenizer.matcher, segmenter.coverage_matcher
    for number, piece in enumerate(make_units(text, segmenter.max_chars, segmenter.min_chars), start=1):
        # One search serves the segmentation and the coverage count.
        matches, covered = matcher.find_also(piece, coverage)
        pairs = seg_mod.segment(piece, segmenter.tokenizer, segmenter.hmm, matches)
        # No lexicon term spans a line break, so an article's survival counts
        # are the sum of its units'.
        words = [w for w, _ in pairs]
        add_survival_counts(survival, survival_counts(piece, words, coverage, segmenter.rules.canonical, covered))
        classified = list(map(segmenter.classify, words, [t for _, t in pairs]))
        countable.update([counted for counted, _ in classified if counted])
        name_at = place_name_positions(pairs, segmenter.names, seg_mod.LEXICON_TAG)
        kept = [i for i, (_, content) in enumerate(classified) if content and i not in name_at]
        bounds = list(accumulate(map(len, words), initial=0))
        tokens = [classified[i][1] for i in kept]
        # Pairs as tuples: in a corpus of thousands of articles they are the
        # most numerous objects, and tuples of ints cost far less to build, to
        # send back from a dask worker and to keep than lists (the garbage
        # collector stops tracking them). units.jsonl writes them as [start, end].
        spans = tuple((bounds[i], bounds[i + 1]) for i in kept)
        unit = {"unit_id": f"{doc_id}-{number:04d}", "doc_id": doc_id, "place": place, "text": piece,
                "tokens": tokens, "spans": spans}
        if segmenter.plain_tokenizer is not None:
            unit["plain_tokens"] = seg_mod.plain_tokens(piece, segmenter.plain_tokenizer, segmenter.general_stopwords,
                                                        token_of=segmenter.plain_token)
        units.append(unit)
    return {"units": units, "countable": countable, "survival": survival}


def segment_job(job: tuple[str, str, str], segmenter: Segmenter) -> dict:
    """One job of `segment_articles`, on a worker or in this process.

    Parameters
    ----------
    job : tuple[str, str, str]
        The article's doc_id, place and cleaned text.
    segmenter : Segmenter
        What segmentation needs (`build_segmenter`).

    Returns
    -------
    dict
        As `segment_article`.
    """
    return segment_article(*job, segmenter)


def segment_articles(paths: Paths, params: StudyParams, lexicon: pd.DataFrame, jobs: list[tuple[str, str, str]],
                     processes: int) -> list[dict]:
    """Segment (doc_id, place, text) jobs, on the run's dask workers when asked; output in job order.

    Parameters
    ----------
    paths : Paths
        The study's paths (for `build_segmenter`).
    params : StudyParams
        The study's parameters (for `build_segmenter`).
    lexicon : pd.DataFrame
        The governance lexicon (`load_lexicon`).
    jobs : list[tuple[str, str, str]]
        One (doc_id, place, cleaned text) per article.
    processes : int
        Worker processes (segment.processes); 1 means this process.

    Returns
    -------
    list[dict]
        One `segment_article` result per job.
    """
    return ordered_map(segment_job, jobs, build_segmenter, (paths, params, lexicon), processes, "segment",
                       cost=lambda job: len(job[2]))  # longest texts first


def segment_corpus(paths: Paths, params: StudyParams, documents: Sequence[CleanDocument],
                   timed: Callable[[str], ContextManager]) -> Segmentation:
    """Units and tokens of every cleaned article, with per-place counts; `timed(name)` times the step.

    Parameters
    ----------
    paths : Paths
        The study's paths (the lexicon, jieba's cache).
    params : StudyParams
        The study's parameters (segment, units, themes).
    documents : Sequence[CleanDocument]
        The cleaned articles, in corpus order.
    timed : Callable[[str], ContextManager]
        The run's timer of a named step.

    Returns
    -------
    Segmentation
        The lexicon, every unit, per place the countable tokens and the lexicon survival, and each article's
        units and tokens.
    """

    with timed("segment"):
        lexicon = lex_mod.load_lexicon(paths.lexicon / "governance_terms.csv")
        jobs = [(d.doc.doc_id, d.doc.place, d.text) for d in documents]
        done = segment_articles(paths, params, lexicon, jobs, params.segment.processes)
        units: list[Unit] = []
        countable_by_place: dict[str, Counter] = {}
        survival_by_place: dict[str, dict[str, tuple[int, int]]] = {}
        doc_counts: dict[str, dict[str, int]] = {}
        for (doc_id, place, _), article in zip(jobs, done):
            units.extend(article["units"])
            countable_by_place.setdefault(place, Counter()).update(article["countable"])
            add_survival_counts(survival_by_place.setdefault(place, {}), article["survival"])
            doc_counts[doc_id] = {"units": len(article["units"]), "tokens": sum(article["countable"].values())}
        log.info("segment: %d units, %d tokens in the vocabularies", len(units), sum(len(u["tokens"]) for u in units))
    return Segmentation(lexicon, units, countable_by_place, survival_by_place, doc_counts)
