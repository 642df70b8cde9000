"""Measurements of the segmentation, kept for the lexicon's documentation and the tests: terms split by plain jieba, out-of-dictionary words, the HMM's effect, top tokens and boundary conflicts."""

from __future__ import annotations

from collections import Counter
from typing import Callable, Iterable, Mapping, Sequence

import jieba
import jieba.posseg
import pandas as pd

from pipeline.text.coverage import occurrence_survival
from pipeline.text.lexicon import canonical_map
from pipeline.text.matching import TermMatcher
from pipeline.text.segment import (CJK, LEXICON_TAG, FilterRules, StudyTokenizer, countable_tokens, filter_tokens,
                                   jieba_words, segment)

__all__ = ["boundary_conflicts", "hmm_measurement", "out_of_dictionary", "segmenter_comparison", "term_split_table",
           "top_tokens", "vocabulary_top"]


def term_split_table(texts: Mapping[str, str], lexicon: pd.DataFrame,
                     words_of: Callable[[str], Sequence[str]]) -> pd.DataFrame:
    """Per lexicon term: occurrences in `texts` and how many a segmenter splits.

    `words_of(text)` returns an unfiltered segmentation of the text (words
    that concatenate to it). Rows for terms that occur, sorted by split
    (most first), then term.
    """
    canonical = canonical_map(lexicon)
    matcher = TermMatcher(canonical)
    occurrences: Counter = Counter()
    split: Counter = Counter()
    for key in sorted(texts):
        text = texts[key]
        for term, _s, _e, whole in occurrence_survival(text, list(words_of(text)), matcher, canonical):
            occurrences[term] += 1
            split[term] += int(not whole)
    rows = [{"term": t, "occurrences": occurrences[t], "split": split[t]} for t in occurrences]
    frame = pd.DataFrame(rows, columns=["term", "occurrences", "split"])
    frame["_order"] = -frame["split"]
    return frame.sort_values(["_order", "term"], kind="mergesort").drop(columns="_order").reset_index(drop=True)


def out_of_dictionary(pairs: Sequence[tuple[str, str]], tokenizer: jieba.Tokenizer) -> Counter:
    """Multi-character Chinese words that are in neither jieba's dictionary nor the lexicon.

    With the HMM off, jieba never produces such words; with it on, these are
    its guesses, which the study reads to decide whether the HMM helps.
    """
    found: Counter = Counter()
    for word, tag in pairs:
        if tag == LEXICON_TAG or len(word) < 2 or not CJK.search(word):
            continue
        if not tokenizer.FREQ.get(word):
            found[word] += 1
    return found


def hmm_measurement(texts: Mapping[str, str], tokenizer: StudyTokenizer, lexicon: pd.DataFrame) -> pd.DataFrame:
    """Compare HMM off and on: lexicon survival and out-of-dictionary words.

    One row per setting with: tokens (all words), oov_tokens / oov_types
    (words guessed outside the dictionary), split_presplit (lexicon
    occurrences split with the lexicon pre-split, as the study segments) and
    split_jieba_only (split when the text goes to jieba whole, relying on
    add_word alone), and oov_examples (the most frequent guesses).
    """
    rows = []
    for hmm in (False, True):
        oov: Counter = Counter()
        tokens = 0
        for key in sorted(texts):
            pairs = segment(texts[key], tokenizer, hmm)
            tokens += len(pairs)
            oov.update(out_of_dictionary(pairs, tokenizer))
        ours = term_split_table(texts, lexicon, lambda t, h=hmm: [w for w, _ in segment(t, tokenizer, h)])
        alone = term_split_table(texts, lexicon, lambda t, h=hmm: jieba_words(t, tokenizer, h))
        rows.append({"hmm": hmm, "tokens": tokens, "oov_tokens": sum(oov.values()), "oov_types": len(oov),
                     "occurrences": int(ours["occurrences"].sum()),
                     "split_presplit": int(ours["split"].sum()), "split_jieba_only": int(alone["split"].sum()),
                     "oov_examples": " ".join(w for w, _ in top_tokens([list(oov.elements())], 40))})
    return pd.DataFrame(rows)


def top_tokens(token_lists: Iterable[Sequence[str]], n: int) -> list[tuple[str, int]]:
    """The n most frequent tokens over several lists; ties broken by the token."""
    counts: Counter = Counter()
    for tokens in token_lists:
        counts.update(tokens)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:n]


def segmenter_comparison(texts: Mapping[str, str], lexicon: pd.DataFrame, tokenizer: StudyTokenizer,
                         plain: jieba.Tokenizer, hmm: bool) -> pd.DataFrame:
    """Lexicon occurrences split by plain jieba (HMM on, its default, and off) and by ours.

    One row per segmenter: occurrences, split, terms (that occur), terms_split.
    """
    segmenters = {
        "plain jieba (HMM on)": lambda t: jieba_words(t, plain, True),
        "plain jieba (HMM off)": lambda t: jieba_words(t, plain, False),
        "jieba + add_word only": lambda t: jieba_words(t, tokenizer, hmm),
        "lexicon pre-split (study)": lambda t: [w for w, _ in segment(t, tokenizer, hmm)],
    }
    rows = []
    for name, words_of in segmenters.items():
        table = term_split_table(texts, lexicon, words_of)
        rows.append({"segmenter": name, "occurrences": int(table["occurrences"].sum()),
                     "split": int(table["split"].sum()), "terms": len(table),
                     "terms_split": int((table["split"] > 0).sum())})
    return pd.DataFrame(rows)


def vocabulary_top(texts: Mapping[str, str], tokenizer: StudyTokenizer, rules: FilterRules, hmm: bool,
                   n: int = 20) -> pd.DataFrame:
    """The n most frequent tokens before stopwording (countable tokens) and after (filtered tokens)."""
    pairs = {key: segment(texts[key], tokenizer, hmm) for key in sorted(texts)}
    before = top_tokens([countable_tokens(p, rules) for p in pairs.values()], n)
    after = top_tokens([filter_tokens(p, rules) for p in pairs.values()], n)
    rows = []
    for rank in range(max(len(before), len(after))):
        b = before[rank] if rank < len(before) else ("", 0)
        a = after[rank] if rank < len(after) else ("", 0)
        rows.append({"rank": rank + 1, "before": b[0], "before_count": b[1], "after": a[0], "after_count": a[1]})
    return pd.DataFrame(rows)


def boundary_conflicts(texts: Mapping[str, str], tokenizer: StudyTokenizer, plain: jieba.Tokenizer,
                       context: int = 6) -> pd.DataFrame:
    """Lexicon matches whose edges fall inside a word of plain jieba (HMM off).

    These are the places where forcing a term overrides jieba's own word
    boundaries: sometimes rightly (市政社互动 → 市 | 政社互动), sometimes not
    (a short term inside an unrelated word). The table is for review when
    terms are added. Columns key, term, start, end, context, jieba (plain
    jieba's words around the match, '/'-joined); sorted by key and start.
    """
    rows = []
    for key in sorted(texts):
        text = texts[key]
        words = plain.lcut(text, HMM=False)
        edges = {0}
        spans = []
        position = 0
        for word in words:
            spans.append((position, position + len(word), word))
            position += len(word)
            edges.add(position)
        for start, end, string in tokenizer.matcher.find(text):
            if start in edges and end in edges:
                continue
            around = [w for s, e, w in spans if e > start - 2 and s < end + 2]
            rows.append({"key": key, "term": string, "start": start, "end": end,
                         "context": text[max(0, start - context):end + context].replace("\n", " "),
                         "jieba": "/".join(w.strip() or " " for w in around)})
    return pd.DataFrame(rows, columns=["key", "term", "start", "end", "context", "jieba"])
