"""The governance profile with uncertainty: the share of sentences that mention each dimension.

Unit of measurement: the *sentence* (split at 。！？； as `pipeline.text.units`
splits text into sentences, within each unit; a sentence counts only if it
holds a letter, digit or Hanzi). A sentence *mentions* a dimension when at
least one of its tokens is a lexicon term of that dimension. Per place and
dimension: `sentences` (all sentences of the place), `mentioning`, and
`share` = mentioning / sentences. A share of sentences, unlike a rate per
10,000 tokens, does not grow when one sentence repeats a term.

Intervals (level `confidence`):

* a place with one article: the Wilson score interval for a binomial
  proportion (Wilson 1927), which stays inside [0, 1] and behaves at shares
  near 0 with small n. It treats sentences as independent draws, which they
  are not quite (sentences of one paragraph share a topic), so it is a lower
  bound on the uncertainty;
* a place with several articles: a cluster bootstrap over articles (draw as
  many articles as the place has, with replacement; share = their mentioning
  sentences over their sentences; percentile interval), because the
  articles, not the sentences, are the sampled units.

Sensitivity: `variant` = `all` counts every lexicon term; `without_flagged`
leaves out terms whose lexicon `kind` is `brand` (a programme name coined by
one place) or `self_reference` (the author's own institution), so that a
"lead" resting on a city's own label or on the interviewee's bureau shows as
such.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from pipeline.common.params import ProfileParams
from pipeline.text.lexicon import category_map
from pipeline.text.units import sentence_count, token_sentences, Unit

__all__ = ["FLAGGED_KINDS", "PROFILE_COLUMNS", "profile_shares", "profile_tables", "wilson_interval"]

PROFILE_COLUMNS = ["place", "variant", "category", "articles", "sentences", "mentioning", "share",
                   "ci_low", "ci_high", "interval"]


FLAGGED_KINDS = ("brand", "self_reference")


def wilson_interval(successes: int, n: int, confidence: float) -> tuple[float, float]:
    """Wilson score interval of successes / n (scipy's, without continuity correction); (nan, nan) when n is 0.

    At 0 and n successes the bounds are 0 and 1 exactly.

    Parameters
    ----------
    successes : int
        The sentences that mention a dimension.
    n : int
        All sentences.
    confidence : float
        The confidence level, between 0 and 1 exclusive.

    Returns
    -------
    tuple[float, float]
        The lower and upper bounds of the interval.

    Raises
    ------
    ValueError
        When `confidence` is not between 0 and 1.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    if n <= 0:
        return float("nan"), float("nan")
    ci = binomtest(int(successes), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def _article_counts(units: Sequence[Unit], term_category: Mapping[str, str],
                    categories: Sequence[str]) -> dict[tuple[str, str], tuple[int, np.ndarray]]:
    """(place, doc_id) -> (sentences, mentioning sentences per category)."""
    column = {c: k for k, c in enumerate(categories)}
    found: dict[tuple[str, str], tuple[int, np.ndarray]] = {}
    for unit in units:
        key = (unit["place"], unit["doc_id"])
        total, mentioning = found.get(key, (0, np.zeros(len(categories), dtype=np.int64)))
        mentioned: set[tuple[int, int]] = set()
        for token, sentence in zip(unit["tokens"], token_sentences(unit)):
            category = term_category.get(token)
            if category is not None:
                mentioned.add((sentence, column[category]))
        for _, k in mentioned:
            mentioning[k] += 1
        found[key] = (total + sentence_count(unit["text"]), mentioning)
    return found


def profile_shares(units: Sequence[Unit], lexicon: pd.DataFrame, *, confidence: float,
                   bootstrap_samples: int, seed: int, exclude_kinds: Iterable[str] = (),
                   variant: str = "all") -> pd.DataFrame:
    """One row per place x dimension (zeros included); places in the order they first occur in `units`."""
    excluded = set(exclude_kinds)
    kinds = dict(zip(lexicon["term"], lexicon["kind"])) if "kind" in lexicon else {}
    term_category = {t: c for t, c in category_map(lexicon).items() if kinds.get(t, "") not in excluded}
    categories = sorted(set(category_map(lexicon).values()))
    by_article = _article_counts(units, term_category, categories)
    rng = np.random.default_rng(seed)
    rows = []
    for place in dict.fromkeys(u["place"] for u in units):
        articles = [v for (p, _), v in sorted(by_article.items()) if p == place]
        sentences = np.array([a[0] for a in articles], dtype=np.int64)
        mentioning = np.vstack([a[1] for a in articles])
        total, hits = int(sentences.sum()), mentioning.sum(axis=0)
        clustered = len(articles) > 1 and bootstrap_samples > 0
        if clustered:
            draws = rng.integers(0, len(articles), size=(bootstrap_samples, len(articles)))
            drawn_total = sentences[draws].sum(axis=1)
            shares = mentioning[draws].sum(axis=1) / np.maximum(drawn_total, 1)[:, None]
            tail = (1 - confidence) / 2
            low, high = np.quantile(shares, tail, axis=0), np.quantile(shares, 1 - tail, axis=0)
        for k, category in enumerate(categories):
            if clustered:
                interval, ci = "cluster_bootstrap", (float(low[k]), float(high[k]))
            else:
                interval, ci = "wilson", wilson_interval(int(hits[k]), total, confidence)
            rows.append({"place": place, "variant": variant, "category": category, "articles": len(articles),
                         "sentences": total, "mentioning": int(hits[k]),
                         "share": hits[k] / total if total else float("nan"),
                         "ci_low": ci[0], "ci_high": ci[1], "interval": interval})
    return pd.DataFrame(rows, columns=PROFILE_COLUMNS)


def profile_tables(units: Sequence[Unit], lexicon: pd.DataFrame,
                   params: ProfileParams) -> dict[str, pd.DataFrame]:
    """profile_shares.csv (both variants, long) and profile_sensitivity.csv (side by side).

    Parameters
    ----------
    units : Sequence[Unit]
        The text units of the segmentation.
    lexicon : pd.DataFrame
        The governance lexicon (`load_lexicon`), with its `kind` column.
    params : ProfileParams
        The profile parameters of params.yaml (confidence, bootstrap_samples, seed).

    Returns
    -------
    dict[str, pd.DataFrame]
        "profile_shares": both variants' shares, one under the other; "profile_sensitivity": per place and
        dimension, the shares with and without the flagged kinds side by side, and their `change`.
    """
    common = dict(confidence=float(params.confidence), bootstrap_samples=params.bootstrap_samples, seed=params.seed)
    full = profile_shares(units, lexicon, **common)
    without = profile_shares(units, lexicon, exclude_kinds=FLAGGED_KINDS, variant="without_flagged", **common)
    keys = ["place", "category"]
    side = full[[*keys, "sentences", "mentioning", "share", "ci_low", "ci_high"]].merge(
        without[[*keys, "mentioning", "share", "ci_low", "ci_high"]], on=keys, suffixes=("", "_without_flagged"))
    side["change"] = side["share_without_flagged"] - side["share"]
    return {"profile_shares": pd.concat([full, without], ignore_index=True), "profile_sensitivity": side}
