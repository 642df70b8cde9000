"""The seeded model's stage: fits, validation of every seeded topic, and its tables.

Validation per seeded topic (see pipeline/themes/seeded.py for the model):
stability across seeds (mean top-term Jaccard over all pairs of seeds; topics
share an index, so nothing is matched), its seeds among its top terms, the
non-seed terms it adds, c_npmi coherence of its top terms (Röder, Both &
Hinneburg 2015; one co-occurrence accumulator for all topics) and stm's FREX
exclusivity. Per unit: whether the dimension of its dominant seeded topic is
the dimension whose lexicon terms occur most in the unit (the dictionary's
answer); units without any seeded dimension's term are left out of the rate.
"""

from __future__ import annotations

from itertools import combinations
from typing import Sequence

import numpy as np
import pandas as pd

from pipeline.common.numeric import rank_key
from pipeline.common.params import SeededParams, ThemeParams
from pipeline.text.units import Unit
from pipeline.themes.group_prevalence import covariate_shares
from pipeline.themes.ldavis import LdavisInputs
from pipeline.themes.matching import jaccard
from pipeline.themes.params import round_frame, top_terms
from pipeline.themes.results import SeededResult, SeededSummary
from pipeline.themes.scaling import schedule, stratified_sample
from pipeline.themes.seeded import FREE, SeededFit, SeededFitData, SeededPrep, fit_all, prepare, seed_table
from pipeline.themes.stm_measures import frex_exclusivity
from pipeline.themes.sweep import coherence_scores, single_thread_blas

__all__ = ["quality_table", "run_seeded", "sensitivity_table", "topic_stability", "unit_agreement"]


def topic_stability(runs: Sequence[Sequence[Sequence[str]]]) -> list[float]:
    """Per topic index: mean Jaccard of its top-term sets over all pairs of runs."""
    pairs = list(combinations(range(len(runs)), 2))
    k = len(runs[0])
    return [float(np.mean([jaccard(runs[a][t], runs[b][t]) for a, b in pairs])) for t in range(k)]


def unit_agreement(units, theta: np.ndarray, topic_dims: Sequence[str], term_categories: dict[str, str]) -> pd.DataFrame:
    """Per unit: the leading topic's dimension (a free topic included: hiding it would show a seeded topic
    with a tiny share as the unit's lead) against the dictionary's most counted dimension(s); also the best
    seeded topic and its share. A unit a free topic leads has no agreement to score."""
    seeded = [k for k, d in enumerate(topic_dims) if d != FREE]
    dims = [topic_dims[k] for k in seeded]
    rows = []
    for i, unit in enumerate(units):
        counts = {d: 0 for d in dims}
        for tok in unit["tokens"]:
            cat = term_categories.get(tok)
            if cat in counts:
                counts[cat] += 1
        best = max(counts.values()) if counts else 0
        top_dims = sorted(d for d, n in counts.items() if n == best) if best > 0 else []
        # The first of the leading topics at RANK_DIGITS digits, so that noise cannot swap near-equal shares.
        lead = int(np.argmax(rank_key(theta[i])))
        sub = theta[i, seeded]
        best_seeded = dims[int(np.argmax(rank_key(sub)))]
        rows.append({
            "unit_id": unit["unit_id"], "place": unit["place"], "model_dimension": topic_dims[lead],
            "model_share": float(theta[i, lead]), "seeded_dimension": best_seeded, "seeded_share": float(sub.max()),
            "dictionary_dimension": ";".join(top_dims), "dictionary_terms": int(sum(counts.values())),
            "agree": (topic_dims[lead] in top_dims) if top_dims and topic_dims[lead] != FREE else None,
        })
    return round_frame(pd.DataFrame(rows))


def _tops(phi: np.ndarray, vocab, topn: int) -> list[list[tuple[str, float]]]:
    return [top_terms(row, vocab, topn) for row in phi]


def quality_table(prep: SeededPrep, fits_main: Sequence[SeededFit], tops_main, sp: SeededParams, topn: int, frex_weight: float,
                  sample: Sequence[int]) -> pd.DataFrame:
    """One row per dimension (seeded or not) and per free topic; c_npmi is counted on the units at
    indices `sample` (every unit unless the corpus exceeds themes.selection_max_units)."""
    terms_main = [[t for t, _ in top] for top in tops_main]
    stability = topic_stability([[[t for t, _ in top] for top in _tops(f.phi, prep.vocab, topn)]
                                 for f in fits_main])
    texts, corpus = [prep.texts[i] for i in sample], [prep.corpus[i] for i in sample]
    with single_thread_blas():
        npmi = coherence_scores(terms_main, "c_npmi", texts, corpus, prep.dictionary, topn)
    excl = frex_exclusivity(fits_main[0].phi, topn, frex_weight)
    rows = []
    for k, dim in enumerate(prep.topic_dims):
        seeds = {t for t, _ in prep.seeds.get(dim, [])} if dim != FREE else set()
        rows.append({
            "topic": k + 1, "dimension": dim, "stability": stability[k], "c_npmi": npmi[k],
            "exclusivity": float(excl[k]),
            "seeds_in_top10": sum(t in seeds for t in terms_main[k][:10]),
            "added_terms": "/".join(t for t in terms_main[k][:10] if t not in seeds),
            "found": bool(dim != FREE and stability[k] >= sp.min_stability), "seeds": len(seeds),
            "reason": _reason(dim, stability[k], sp.min_stability),
        })
    for dim in prep.dimensions:
        if not prep.seeds[dim]:
            rows.append({
                "topic": None, "dimension": dim, "stability": float("nan"), "c_npmi": float("nan"),
                "exclusivity": float("nan"), "seeds_in_top10": 0, "added_terms": "", "found": False, "seeds": 0,
                "reason": f"no lexicon term above min_keyword_share={sp.min_keyword_share:g} of tokens: no topic",
            })
    return round_frame(pd.DataFrame(rows))


def _reason(dim: str, stability: float, floor: float) -> str:
    if dim == FREE:
        return "free topic (no seeds)"
    if stability >= floor:
        return f"stable: {stability:.2f} >= {floor:g}"
    return f"unstable across seeds: {stability:.2f} < {floor:g}"


def sensitivity_table(prep: SeededPrep, fits_by_weight: dict[float, list[SeededFit]], main: float, sp: SeededParams, topn: int):
    """Per weight factor and topic: stability, seeds in top 10, and top-10 overlap with the main weight's fit."""
    main_terms = [[t for t, _ in top] for top in _tops(fits_by_weight[main][0].phi, prep.vocab, topn)]
    rows = []
    for weight, fits in fits_by_weight.items():
        runs = [[[t for t, _ in top] for top in _tops(f.phi, prep.vocab, topn)] for f in fits]
        stab = topic_stability(runs)
        for k, dim in enumerate(prep.topic_dims):
            seeds = {t for t, _ in prep.seeds.get(dim, [])} if dim != FREE else set()
            rows.append({
                "factor": weight / sp.weight, "weight": weight, "topic": k + 1, "dimension": dim,
                "stability": stab[k], "seeds_in_top10": sum(t in seeds for t in runs[0][k][:10]),
                "jaccard_with_main": jaccard(runs[0][k], main_terms[k]),
                "found": bool(dim != FREE and stab[k] >= sp.min_stability),
            })
    return round_frame(pd.DataFrame(rows).sort_values(["factor", "topic"], kind="stable").reset_index(drop=True))


def run_seeded(
    units: Sequence[Unit],
    term_categories: dict[str, str],
    themes_params: ThemeParams,
    doc_covariates: dict[str, dict[str, str]],
) -> SeededResult:
    """The seeded model's tables, LDAvis inputs and a summary for the run manifest.

    Parameters
    ----------
    units : sequence of dict
        The text units (`tokens`, `place`, `doc_id`, `unit_id`).
    term_categories : dict
        Lexicon term -> its dimension.
    themes_params : ThemeParams
        The `themes:` section of the parameters (with its `seeded:` section).
    doc_covariates : dict
        doc_id -> {covariate: value}, for the shares by group.

    Returns
    -------
    SeededResult
    """
    p = themes_params
    sp = p.seeded
    units = list(units)
    prep = prepare(units, term_categories, p.no_below, p.no_above, sp)
    passes, iterations = schedule(p, len(prep.corpus))
    # Unit proportions come from the main weight's first seed only (the fit every unit table reads).
    data = SeededFitData(dictionary=prep.dictionary, corpus=prep.corpus, seeds=prep.seeds, topic_dims=prep.topic_dims,
                         sp=sp, passes=passes, iterations=iterations, alpha=p.alpha, chunksize=p.chunksize,
                         theta_of=(sp.weight, sp.seeds[0]))
    weights = [sp.weight] + [sp.weight * f for f in sp.sensitivity if sp.weight * f != sp.weight]
    jobs = [(w, s) for w in weights for s in sp.seeds]
    fits = fit_all(data, jobs, p.processes)
    by_weight = {w: [f for (wj, _), f in zip(jobs, fits) if wj == w] for w in weights}
    main = by_weight[sp.weight]
    final = main[0]
    topn = p.topn_terms
    tops = _tops(final.phi, prep.vocab, topn)
    dims = prep.topic_dims

    topics = pd.DataFrame([
        {"topic": k + 1, "dimension": dims[k], "rank": r + 1, "term": term, "weight": w,
         "seed": term in {t for t, _ in prep.seeds.get(dims[k], [])} if dims[k] != FREE else False}
        for k in range(len(dims)) for r, (term, w) in enumerate(tops[k])
    ])
    # Coherence on the exploratory sweep's sample of units (all of them in a small corpus).
    sample = stratified_sample(units, p.selection_max_units, p.selection_seed)
    quality = quality_table(prep, main, tops, sp, topn, p.frex_weight, sample)
    lengths = np.array([sum(c for _, c in bow) for bow in prep.corpus], dtype=np.float64)
    with single_thread_blas():
        groups = covariate_shares(units, final.theta, lengths, doc_covariates, p.bootstrap_samples,
                                  p.bootstrap_seed)
    groups.insert(3, "dimension", groups["topic"].map(lambda t: dims[t - 1]))
    groups = round_frame(groups)
    places = groups[groups["covariate"] == "place"].drop(columns="covariate").rename(columns={"group": "place"})
    agreement = unit_agreement(units, final.theta, dims, term_categories)
    judged = agreement["agree"].dropna()
    term_frequency = np.zeros(len(prep.vocab))
    for bow in prep.corpus:
        for term_id, count in bow:
            term_frequency[term_id] += count
    found = quality[quality["found"]]
    summary = SeededSummary(
        dimensions=len(prep.dimensions), seeded_topics=sum(d != FREE for d in dims), free_topics=prep.n_free,
        found=int(len(found)), found_dimensions=list(found["dimension"]),
        unit_agreement=float(judged.astype(float).mean()) if len(judged) else float("nan"),
        units_judged=int(len(judged)), fits=len(jobs), passes=passes, iterations=iterations,
        coherence_units=len(sample))
    return SeededResult(
        seeded_topics=round_frame(topics),
        seeded_topic_quality=quality,
        seeded_place_topics=places.reset_index(drop=True),
        seeded_group_topics=groups[groups["covariate"] != "place"].reset_index(drop=True),
        seeded_sensitivity=sensitivity_table(prep, by_weight, sp.weight, sp, topn),
        seeded_unit_agreement=agreement,
        seeded_seeds=round_frame(seed_table(prep, sp)),
        ldavis_inputs=LdavisInputs(final.phi, final.theta, lengths, prep.vocab, term_frequency, p.ldavis_terms),
        summary=summary,
    )
