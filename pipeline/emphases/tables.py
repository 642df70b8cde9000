"""Place-specific emphases: what each place stresses more than the others.

Two measures, reported side by side for every place:

* **TF-IDF** (scikit-learn `TfidfVectorizer` with a callable analyzer, so that
  the study's own tokens are used as they are and one-character terms such as
  村 or 站 are kept; the default token pattern would drop them). A "document"
  here is *all of a place's text*: the tokens of every unit of that place,
  concatenated. With smooth idf, idf = ln((1 + P) / (1 + df)) + 1 for P places,
  so with five places a term used by every place has idf exactly 1: it is not
  removed, only weighted below terms used by fewer places. With so few
  documents idf takes only five values, and TF-IDF is mostly a frequency list
  nudged towards local terms; read it next to the log-odds.

* **Weighted log-odds ratio with an informative Dirichlet prior** (Monroe,
  Colaresi & Quinn 2008, "Fightin' Words", Political Analysis 16(4)), each
  place against all other places pooled. The prior is alpha_w =
  prior_strength x (corpus share of w), so a0 = prior_strength; rare terms are
  shrunk towards the corpus rate. For place i and the pooled rest j::

      delta_w = log((y_iw + a_w) / (n_i + a0 - y_iw - a_w))
              - log((y_jw + a_w) / (n_j + a0 - y_jw - a_w))
      var_w  ~= 1 / (y_iw + a_w) + 1 / (y_jw + a_w)
      z_w     = delta_w / sqrt(var_w)

  Two-sided p-values come from the standard normal; Benjamini-Hochberg
  q-values are taken across all place x term tests at once (every term of the
  vocabulary, for every place, including terms a place never uses). Log-odds
  rows are ranked by z (evidence: effect and amount of data together, as
  Monroe et al. rank); `score` on those rows is delta (the effect size alone).

Ranking (`pipeline.emphases.ranking`): a term is ranked in a place only when
it passes the count and dispersion floor (`min_term_count` tokens in at least
`min_term_sentences` sentences, counted from token positions by
`pipeline.emphases.evidence`); the others are listed in `below_floor`, not
ranked. Ranks are competition ranks (ties share a rank, `tied` marks them),
and a top-n list never holds more than n rows: a tie that crosses the cut is
left out of the list and named in one line of `cut_table` ("and 10 more tied
at rank 13: ..."). Rows within a tie are listed by term only for display.

Multiple testing: the q-values are Benjamini-Hochberg over every place x
vocabulary term with a finite p (terms a place never uses included);
`multiple_testing` reports that number, `n_tests`.

Uncertainty: a bootstrap. A place with several articles resamples its
articles (a cluster bootstrap: units of one article move together); a place
with one article resamples its units, the only variation it has. Both
statistics are recomputed and a term's `stability` is the share of resamples
in which its competition rank is at most `stability_top` among the place's
eligible terms (used in the resample and passing the floor): every term tied
at the cut counts as in. The multinomial variance behind z treats tokens as
independent, which they are not (terms cluster in paragraphs), so z
overstates the evidence; the bootstrap is the check on that. When a place
rests on one article the resampling sees only the variation between that
article's paragraphs, never between articles: such rows carry the
`one_article` flag. With very few units a resample can hardly differ from the
original (one unit: never), so stability is then close to 0 or 1 by
construction: such rows carry `few_units`.

Flags in `guardrail` (semicolon-joined, in this order): `one_article` (the
place has one distinct doc_id), `few_units` (fewer than `min_units` units),
`below_min_count` (the term occurs fewer than `min_count` times in the place),
`small_expected` (its count expected under the pooled corpus rate, n_i x
y_w / N, is below `min_expected`, where the normal approximation behind z is
poor).

Places are listed in the order they first occur in the units (the runner
passes them in manifest order).

Everything here is a pure function of the units, the lexicon categories and the
parameters; the runner writes the files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from pipeline.common.params import EmphasesParams
from pipeline.emphases.evidence import dispersion
from pipeline.emphases.ranking import competition_ranks, cut_line, floor_mask, split_at_cut, tied_mask
from pipeline.emphases.scores import (METHODS, benjamini_hochberg, bootstrap_stability, count_units, log_odds_vs_rest,
                                       two_sided_p)
from pipeline.text.units import Unit

__all__ = ["BELOW_FLOOR_COLUMNS", "CUT_COLUMNS", "Emphases", "TABLE_COLUMNS", "below_floor",
           "compute_emphases", "cut_table", "emphases_table", "heatmap_matrix", "method_key", "methods_agreement",
           "multiple_testing", "place_summary", "place_terms", "ranks", "term_statistics"]

TABLE_COLUMNS = ["place", "method", "rank", "tied", "term", "score", "z", "q", "category",
                 "stability", "count", "sentences", "peak_sentence", "units", "guardrail"]


BELOW_FLOOR_COLUMNS = ["place", "term", "category", "count", "sentences", "peak_sentence", "units", "z", "q"]


@dataclass(frozen=True)
class Emphases:
    """Every place x term statistic; arrays are places x terms, aligned with `vocab`.

    Arrays follow `places` (code-point order); `place_order` is the order for
    output tables.
    """

    places: tuple[str, ...]
    place_order: tuple[str, ...]
    vocab: tuple[str, ...]
    categories: tuple[str, ...]
    docs_per_place: np.ndarray
    units_per_place: np.ndarray
    counts: np.ndarray
    sentences: np.ndarray  # sentences holding the term, from token positions
    units_with: np.ndarray  # units holding the term
    peak_sentence: np.ndarray  # most tokens of the term in one sentence
    ranked: np.ndarray  # passes the count and dispersion floor
    expected: np.ndarray  # count expected under the pooled corpus rate
    tfidf: np.ndarray
    delta: np.ndarray
    z: np.ndarray
    p: np.ndarray
    q: np.ndarray
    n_tests: int  # p-values the q-values were computed over
    stability: dict[str, np.ndarray]  # method -> places x terms
    min_count: int
    min_expected: float
    min_units: int
    # What log-odds lists rank by: "z" (effect and evidence together, Monroe et al.'s ranking with the corpus
    # prior) or "delta" (the effect the prior has shrunk; for a background prior, see `compute_emphases`).
    logodds_key: str = "z"

    def ordered_places(self) -> list[int]:
        """Row indices of `places` in output order."""
        index = {p: i for i, p in enumerate(self.places)}
        return [index[p] for p in self.place_order]


def compute_emphases(units: Sequence[Unit], term_categories: Mapping[str, str],
                     params: EmphasesParams, background: Mapping[str, float] | None = None,
                     rank_by: str = "z") -> Emphases:
    """TF-IDF, weighted log-odds with q-values, evidence counts and bootstrap stability for every place x term.

    Parameters
    ----------
    units : the text units (`tokens`, and `spans` with `text` for the sentence counts)
    term_categories : term -> category (dimension), for the tables
    params : the `emphases` section of the parameters
    background : term -> positive prior share, optional
        The log-odds prior then spreads `prior_strength` by these shares (a
        background corpus, Monroe et al. 2008, section 3.5) instead of by the
        corpus' own term shares; every term of the units needs a share.
    rank_by : "z" or "delta"
        What the log-odds lists (and their bootstrap stability) rank by. With
        a background prior, rank by delta: the prior's pseudo-counts enter z's
        variance as if they were data, so a concept every policy text uses
        (large prior) gets a large z from a small, shrunk delta and would lead
        a list on two uses; delta is the quantity the prior shrinks.

    Returns
    -------
    Emphases
        Every place x term statistic, arrays aligned with the vocabulary, places in the units' order for output.
    """
    if rank_by not in ("z", "delta"):
        raise ValueError(f"rank_by must be 'z' or 'delta', got {rank_by!r}")
    counted = count_units(units, sublinear_tf=bool(params.sublinear_tf))
    counts = counted.place_counts().toarray().astype(np.int64)
    sentences, units_with, peak_sentence = dispersion(units, counted.places, counted.vocab)
    ranked = floor_mask(counts, sentences, int(params.min_term_count), int(params.min_term_sentences))
    shares = None
    if background is not None:
        lacking = [t for t in counted.vocab if not background.get(t, 0) > 0]
        if lacking:
            raise ValueError(f"the background prior has no positive share for {', '.join(lacking[:5])}")
        shares = np.array([background[t] for t in counted.vocab], dtype=np.float64)
    delta, z = log_odds_vs_rest(counts, float(params.prior_strength), shares)
    p = two_sided_p(z)
    total = counts.sum()
    expected = counts.sum(axis=1, keepdims=True) * counts.sum(axis=0, keepdims=True) / total
    stability = bootstrap_stability(
        counted, samples=int(params.bootstrap_samples), top=int(params.stability_top),
        prior_strength=float(params.prior_strength), sublinear_tf=bool(params.sublinear_tf),
        random_state=int(params.random_state), eligible=ranked, prior_shares=shares, rank_by=rank_by)
    return Emphases(
        places=counted.places, place_order=tuple(dict.fromkeys(u["place"] for u in units)),
        vocab=counted.vocab,
        categories=tuple(term_categories.get(t, "") or "" for t in counted.vocab),
        docs_per_place=counted.docs_per_place, units_per_place=counted.units_per_place,
        counts=counts, sentences=sentences, units_with=units_with, peak_sentence=peak_sentence, ranked=ranked,
        expected=expected, tfidf=counted.place_tfidf,
        delta=delta, z=z, p=p, q=benjamini_hochberg(p), n_tests=int(np.isfinite(p).sum()), stability=stability,
        min_count=int(params.min_count), min_expected=float(params.min_expected),
        min_units=int(params.min_units), logodds_key=rank_by)


def _guardrail(one_article: bool, few_units: bool, count: int, expected: float, min_count: int,
               min_expected: float) -> str:
    flags = []
    if one_article:
        flags.append("one_article")
    if few_units:
        flags.append("few_units")
    if count < min_count:
        flags.append("below_min_count")
    if expected < min_expected:
        flags.append("small_expected")
    return ";".join(flags)


def method_key(em: Emphases, method: str) -> np.ndarray:
    """What a method ranks by: log-odds z (or delta, `Emphases.logodds_key`), or the TF-IDF weight."""
    if method == "logodds":
        return em.delta if em.logodds_key == "delta" else em.z
    return em.tfidf


def ranks(em: Emphases, method: str) -> np.ndarray:
    """Competition ranks (places x terms; 0 where a term is not ranked) among terms passing the floor."""
    return competition_ranks(method_key(em, method), em.ranked)


def emphases_table(em: Emphases, top_n: int) -> pd.DataFrame:
    """At most `top_n` ranked terms per place and method: a tie across the cut is not listed in part
    (`split_at_cut`); `cut_table` names it in one line.

    tfidf rows: score = TF-IDF weight, ranked by it. logodds rows: score =
    delta, ranked by z. On both, z and q are the term's log-odds z and q for
    that place, and count/sentences/units its evidence there.

    Parameters
    ----------
    em : Emphases
        The place x term (or place x concept) statistics.
    top_n : int
        The most rows a place's list holds per method.

    Returns
    -------
    pd.DataFrame
        The `TABLE_COLUMNS` rows, places in output order, then method, rank and term.
    """
    frames = []
    vocab = np.array(em.vocab, dtype=object)
    categories = np.array(em.categories, dtype=object)
    for method in METHODS:
        key = method_key(em, method)
        rank = ranks(em, method)
        tied = tied_mask(key, em.ranked)
        score = em.delta if method == "logodds" else em.tfidf
        for i in em.ordered_places():
            order = np.flatnonzero(split_at_cut(rank[i], top_n)[0])
            one_article = bool(em.docs_per_place[i] == 1)
            few_units = bool(em.units_per_place[i] < em.min_units)
            frames.append(pd.DataFrame({
                "place": em.places[i], "method": method,
                "rank": rank[i, order].astype(np.int64), "tied": tied[i, order],
                "term": vocab[order], "score": score[i, order], "z": em.z[i, order], "q": em.q[i, order],
                "category": categories[order], "stability": em.stability[method][i, order],
                "count": em.counts[i, order].astype(np.int64),
                "sentences": em.sentences[i, order].astype(np.int64),
                "peak_sentence": em.peak_sentence[i, order].astype(np.int64),
                "units": em.units_with[i, order].astype(np.int64),
                "guardrail": [_guardrail(one_article, few_units, int(c), float(e), em.min_count, em.min_expected)
                              for c, e in zip(em.counts[i, order], em.expected[i, order])],
            }))
    return _in_place_order(pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=TABLE_COLUMNS),
                           em, ["method", "rank", "term"])[TABLE_COLUMNS]


CUT_COLUMNS = ["place", "method", "rank", "tied_terms", "line"]


def cut_table(em: Emphases, top_n: int, name: Callable[[str], str] | None = None,
              count_column: str = "tied_terms") -> pd.DataFrame:
    """One line per place and method whose top `top_n` a tie crosses: the tied entries the list leaves out,
    in entry order, each written by `name` (the entry itself by default).

    Parameters
    ----------
    em : Emphases
        The place x term (or place x concept) statistics.
    top_n : int
        The list length the tie crosses.
    name : Callable[[str], str] or None
        How an entry is written in the line (a concept as its label and id); None writes the entry itself.
    count_column : str
        The name of the column counting the tied entries ("tied_terms", or "tied_concepts" for concepts).

    Returns
    -------
    pd.DataFrame
        Columns place, method, rank, `count_column` and line; no rows when no tie crosses a cut.
    """
    rows = []
    for method in METHODS:
        rank = ranks(em, method)
        for i in em.ordered_places():
            cross = np.flatnonzero(split_at_cut(rank[i], top_n)[1])
            if cross.size:
                r = int(rank[i, cross[0]])
                members = sorted(em.vocab[j] for j in cross)
                rows.append({"place": em.places[i], "method": method, "rank": r, count_column: len(members),
                             "line": cut_line([name(m) for m in members] if name else members, r)})
    return pd.DataFrame(rows, columns=[count_column if c == "tied_terms" else c for c in CUT_COLUMNS])


def _in_place_order(frame: pd.DataFrame, em: Emphases, then: list[str]) -> pd.DataFrame:
    position = {p: k for k, p in enumerate(em.place_order)}
    frame = frame.assign(_place=frame["place"].map(position))
    return frame.sort_values(["_place", *then], kind="stable").drop(columns="_place").reset_index(drop=True)


def below_floor(em: Emphases) -> pd.DataFrame:
    """Terms a place uses that fall below the count and dispersion floor: reported, not ranked.

    Parameters
    ----------
    em : Emphases
        The place x term statistics.

    Returns
    -------
    pd.DataFrame
        The `BELOW_FLOOR_COLUMNS` rows, places in output order, then term.
    """
    place_idx, term_idx = np.nonzero((em.counts > 0) & ~em.ranked)
    frame = pd.DataFrame({
        "place": np.array(em.places, dtype=object)[place_idx],
        "term": np.array(em.vocab, dtype=object)[term_idx],
        "category": np.array(em.categories, dtype=object)[term_idx],
        "count": em.counts[place_idx, term_idx], "sentences": em.sentences[place_idx, term_idx],
        "peak_sentence": em.peak_sentence[place_idx, term_idx],
        "units": em.units_with[place_idx, term_idx], "z": em.z[place_idx, term_idx], "q": em.q[place_idx, term_idx],
    })
    return _in_place_order(frame, em, ["term"])[BELOW_FLOOR_COLUMNS]


def multiple_testing(em: Emphases) -> pd.DataFrame:
    """The family the q-values were corrected over: places x vocabulary terms with a finite p.

    Parameters
    ----------
    em : Emphases
        The place x term statistics.

    Returns
    -------
    pd.DataFrame
        One row: places, terms, n_tests, the family in words and the method (Benjamini-Hochberg).
    """
    return pd.DataFrame([{"places": len(em.places), "terms": len(em.vocab), "n_tests": em.n_tests,
                          "family": "every place x every vocabulary term (terms a place never uses included)",
                          "method": "Benjamini-Hochberg"}])


def place_terms(units: Sequence[Unit], term_categories: Mapping[str, str],
                params: EmphasesParams) -> pd.DataFrame:
    """results/tables/place_terms.csv: ranked terms per place by TF-IDF and by weighted log-odds."""
    return emphases_table(compute_emphases(units, term_categories, params), int(params.top_n))


def term_statistics(em: Emphases) -> pd.DataFrame:
    """Every place x term the place uses: evidence, delta, z, p, q, tfidf, ranks and stabilities.

    q was computed over all place x term tests, including the terms a place
    never uses (those rows are not listed); `multiple_testing` gives their number.

    Parameters
    ----------
    em : Emphases
        The place x term (or place x concept) statistics.

    Returns
    -------
    pd.DataFrame
        One row per place x used term, places in output order, then term.
    """
    place_idx, term_idx = np.nonzero(em.counts > 0)
    rank_lo, rank_tf = ranks(em, "logodds"), ranks(em, "tfidf")
    frame = pd.DataFrame({
        "place": np.array(em.places, dtype=object)[place_idx],
        "term": np.array(em.vocab, dtype=object)[term_idx],
        "category": np.array(em.categories, dtype=object)[term_idx],
        "count": em.counts[place_idx, term_idx],
        "sentences": em.sentences[place_idx, term_idx],
        "peak_sentence": em.peak_sentence[place_idx, term_idx],
        "units": em.units_with[place_idx, term_idx],
        "ranked": em.ranked[place_idx, term_idx],
        "expected": em.expected[place_idx, term_idx],
        "delta": em.delta[place_idx, term_idx],
        "z": em.z[place_idx, term_idx],
        "p": em.p[place_idx, term_idx],
        "q": em.q[place_idx, term_idx],
        "tfidf": em.tfidf[place_idx, term_idx],
        "rank_logodds": rank_lo[place_idx, term_idx],
        "rank_tfidf": rank_tf[place_idx, term_idx],
        "stability_logodds": em.stability["logodds"][place_idx, term_idx],
        "stability_tfidf": em.stability["tfidf"][place_idx, term_idx],
    })
    return _in_place_order(frame, em, ["term"])


def methods_agreement(place_terms_df: pd.DataFrame, top: int = 30) -> pd.DataFrame:
    """Per place, how many of the rank <= `top` terms TF-IDF and log-odds share (overlap, Jaccard).

    Both sets keep every term tied at the cut; `distinct_z` counts the
    distinct log-odds z values among them, so a reader sees how much of the
    agreement rests on tied blocks.

    Parameters
    ----------
    place_terms_df : pd.DataFrame
        The place_terms table (`emphases_table`).
    top : int
        The rank up to which the two methods' terms are compared (`agreement_top`).

    Returns
    -------
    pd.DataFrame
        Columns place, logodds_terms, tfidf_terms, overlap, jaccard and distinct_z, one row per place.
    """
    rows = []
    head = place_terms_df[place_terms_df["rank"] <= top]
    for place in dict.fromkeys(head["place"]):
        part = head[head["place"] == place]
        sets = {m: set(part.loc[part["method"] == m, "term"]) for m in METHODS}
        both = sets["logodds"] & sets["tfidf"]
        either = sets["logodds"] | sets["tfidf"]
        lo = part[part["method"] == "logodds"]
        rows.append({"place": place, "logodds_terms": len(sets["logodds"]), "tfidf_terms": len(sets["tfidf"]),
                     "overlap": len(both), "jaccard": len(both) / len(either) if either else float("nan"),
                     "distinct_z": int(lo["z"].round(10).nunique())})
    return pd.DataFrame(rows, columns=["place", "logodds_terms", "tfidf_terms", "overlap", "jaccard", "distinct_z"])


def heatmap_matrix(em: Emphases, top: int = 15) -> pd.DataFrame:
    """Places x terms matrix of log-odds z over the union of each place's listed top `top` terms
    (`split_at_cut`: a tie across the cut is left out).

    Columns follow the places in output order, each place's terms by rank
    (within a tie by term, for display), first occurrence kept.

    Parameters
    ----------
    em : Emphases
        The place x term statistics.
    top : int
        The list length whose listed terms become columns.

    Returns
    -------
    pd.DataFrame
        Log-odds z, indexed by place (output order), one column per term.
    """
    columns: list[int] = []
    rank = ranks(em, "logodds")
    order = em.ordered_places()
    for i in order:
        chosen = np.flatnonzero(split_at_cut(rank[i], top)[0])
        for j in chosen[np.lexsort((np.array(em.vocab, dtype=object)[chosen], rank[i, chosen]))]:
            if j not in columns:
                columns.append(int(j))
    return pd.DataFrame(em.z[np.ix_(order, columns)], index=pd.Index(em.place_order, name="place"),
                        columns=pd.Index([em.vocab[j] for j in columns], name="term"))


def place_summary(em: Emphases) -> pd.DataFrame:
    """Per place: articles, units and tokens behind its emphases (the evidence base), ranked and below-floor terms.

    Parameters
    ----------
    em : Emphases
        The place x term statistics.

    Returns
    -------
    pd.DataFrame
        Columns place, articles, units, tokens, terms_used and terms_ranked, places in output order.
    """
    order = em.ordered_places()
    used = (em.counts > 0).sum(axis=1)
    ranked = em.ranked.sum(axis=1)
    return pd.DataFrame({"place": list(em.place_order), "articles": em.docs_per_place[order].astype(np.int64),
                         "units": em.units_per_place[order].astype(np.int64),
                         "tokens": em.counts.sum(axis=1)[order].astype(np.int64),
                         "terms_used": used[order].astype(np.int64), "terms_ranked": ranked[order].astype(np.int64)})
