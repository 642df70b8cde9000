"""Shared themes: LDA over text units, the choice of K, stability across seeds,
and topic prevalence by place with bootstrap intervals.

Method
------
* Topics: latent Dirichlet allocation (Blei, Ng & Jordan 2003) fitted with
  gensim's online variational Bayes (Hoffman, Blei & Bach 2010). Only the
  single-process `LdaModel` is used, always with an explicit `random_state`:
  `LdaMulticore` interleaves its workers' updates and is not reproducible.
* Choice of K: every K in `k_min..k_max` is fitted once per seed on a training
  split of the units. Each (K, seed) run is scored by coherence of its top
  terms (c_v and c_npmi, Röder, Both & Hinneburg 2015; u_mass, Mimno et al.
  2011), by held-out perplexity (`2 ** -log_perplexity` on units held out by a
  seeded split, stratified by place), and by stability: the mean agreement of
  its topics with the runs of the other seeds at the same K, after matching
  topics one-to-one with the Hungarian method on the Jaccard similarity of
  their top-term sets (Greene, O'Callaghan & Cunningham 2014; this is the
  rank-insensitive variant of their average-Jaccard agreement, which keeps
  agreement from turning on near-tied weights).
  Each run is also scored as stm's searchK scores it: mean FREX exclusivity
  and mean semantic coherence of its topics (pipeline/themes/stm_measures.py).
  Rule (`choose_k`): among the K whose mean stability across seeds is at least
  `min_stability`, the K on the frontier of mean c_npmi and mean exclusivity
  (not beaten on both by another stable K); of the frontier, the most stable
  K, ties to the smaller K. c_npmi is the primary coherence (c_v's author
  advises against c_v, Palmetto issue #76; c_v is reported alongside).
  If no K is stable enough, the most stable K is taken (ties to the smaller K)
  and the reason says so.
* Scale (pipeline/themes/scaling.py): every fit's passes and E-step cap
  follow its number of units (a budget of unit visits, `unit_visits`), and
  above `selection_max_units` units the sweep, its held-out split and its
  coherence run on a sample of units stratified by place; the corpus and its
  tenfold resample are below both thresholds and are fitted as described here.
* Final model: fitted on all units at the chosen K with `final_seed`. Topics
  are numbered 1..K (1-based everywhere: tables, figures and the LDAvis page)
  in decreasing order of corpus-wide prevalence (share of all modelled
  tokens). Unit-topic proportions are the normalised variational posterior of
  every unit (what `get_document_topics(minimum_probability=0)` returns, without
  its silent floor of 1e-8 that would drop tiny proportions).
* Labels: each topic gets a suggested label from the governance lexicon: the
  category holding the largest summed weight among the topic's top terms,
  then its two top terms ("digital_governance: 智慧社区/网格"); a topic with no
  lexicon term among its top terms is labelled "no_category: 甲/乙". A
  researcher's labels replace the suggestions through `lexicon/topic_labels.csv`
  (columns `topic,label`; header only when there are no overrides; `topic` is
  the 1-based number in `results/tables/topics.csv`). An override belongs to
  one fitted model: after a change of data or parameters the numbering may
  change, so `topic_roles` keeps the `suggested_label` beside the label in use,
  and an override naming a topic beyond K stops the run.
* Prevalence by place: a place's share of a topic is the token-weighted mean
  of its units' topic proportions, i.e. the expected share of the place's
  modelled tokens drawn from the topic (weighting keeps a short fragment from
  counting as much as a full paragraph). Shares sum to 1 within a place. 95%
  intervals are percentile bootstrap intervals resampling units within place
  (seeded per place from `bootstrap_seed` and the place's name, so adding a
  place leaves the other places' intervals unchanged); an interval is widened
  to include its share where the percentile interval of a skewed bootstrap
  distribution would miss it. Units of one article are not independent, so
  with one article per place these intervals are optimistic: they describe
  variation across the article's passages, not across articles.
* Roles: a topic is *present* in a place when the lower 95% bound of its share
  is at least `presence_floor`; it is *shared* when present in at least
  `shared_min_places` places (capped at the number of places) and *specific*
  otherwise. With five places of which three are in Anhui, the default of four
  places means a shared topic always reaches beyond Anhui.
* Cross-checks: NMF (scikit-learn, TF-IDF of the same units over the same
  vocabulary, same K, `init='nndsvd'`) matched to the LDA topics by the
  Hungarian method on top-term Jaccard; and an ablation that repeats the K
  sweep on plain jieba tokens. Coherence depends on the vocabulary it is
  computed over, so the two segmentations' coherence values are compared as
  profiles across K, not as absolute levels.

Everything here is a pure function of its arguments; the runner reads the
override file with `load_topic_labels` and writes the returned tables.
Floats in the tables are rounded to six significant digits and term ranks are
sorted by rounded weight, then term, so that last-bit differences of BLAS
arithmetic between machines cannot reorder terms or change labels.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Sequence

import numpy as np
import pandas as pd

from pipeline.common.numeric import rank_key
from pipeline.common.params import ThemeParams
from pipeline.text.units import Unit
from pipeline.themes.crosscheck import nmf_match_table, nmf_topics
from pipeline.themes.group_prevalence import covariate_shares
from pipeline.themes.labels import apply_labels, suggest_label
from pipeline.themes.ldavis import LdavisInputs
from pipeline.themes.matching import final_topic_stability
from pipeline.themes.params import (SEGMENTATIONS, TOKEN_FIELD, check_units, round_frame,
                                    top_terms)
from pipeline.themes.prevalence import place_shares, topic_roles, unit_topics_table
from pipeline.themes.results import ThemesResult, ThemesSummary
from pipeline.themes.scaling import schedule, stratified_sample
from pipeline.themes.selection import settle_k, summarise_sweep
from pipeline.themes.stm_measures import frex_exclusivity, semantic_coherence
from pipeline.themes.sweep import (FINAL, FullCorpora, SweepData, segmentation_data, coherence_scores, fit_lda, job_pool,
                                   single_thread_blas, split_units, submit_tasks, sweep_coherence, sweep_table)
from pipeline.themes.vocabulary import frame_vocabulary, pruning_table, without_terms

__all__ = ["final_model", "run_themes", "topic_quality", "topics_table"]


__all__ = ["FinalModel", "final_model", "topic_quality", "topics_table", "run_themes"]


@dataclass(frozen=True)
class FinalModel:
    """The final model with its topics renumbered 1..K by decreasing prevalence (`order[new topic - 1]` is
    gensim's topic index): topics x terms `phi`, units x topics `theta`, the units' token counts, the
    topics' corpus shares and top terms, the vocabulary and the terms' corpus counts."""

    model: Any
    order: list[int]
    phi: np.ndarray
    theta: np.ndarray
    lengths: np.ndarray
    prevalence: np.ndarray
    tops: list[list[tuple[str, float]]]
    vocab: list[str]
    term_frequency: np.ndarray

    def ldavis_inputs(self, terms: int) -> LdavisInputs:
        """The model as pyLDAvis reads it, listing `terms` terms per topic."""
        return LdavisInputs(self.phi, self.theta, self.lengths, self.vocab, self.term_frequency, terms)


def final_model(seg_full: FullCorpora, k: int, p: ThemeParams) -> FinalModel:
    """Fit the final model and renumber its topics 1..K by decreasing prevalence."""
    corpus, vocab = seg_full.all, seg_full.vocab
    with single_thread_blas():
        model = fit_lda(corpus, seg_full.dictionary, k, p.final_seed, p)
        phi = model.get_topics().astype(np.float64)
        gamma, _ = model.inference(corpus)
    gamma = np.asarray(gamma, dtype=np.float64)
    theta = gamma / gamma.sum(axis=1, keepdims=True)
    if not (np.isfinite(phi).all() and np.isfinite(theta).all()):
        raise FloatingPointError(f"themes: the final LDA model (K={k}, seed={p.final_seed}) is not finite")
    lengths = np.array([sum(c for _, c in bow) for bow in corpus], dtype=np.float64)
    total = lengths.sum()
    prevalence = (lengths @ theta) / total if total > 0 else theta.mean(axis=0)
    tops = [top_terms(row, vocab, p.topn_terms) for row in phi]
    prev_r = rank_key(prevalence)
    order = sorted(range(k), key=lambda t: (-prev_r[t], tops[t][0][0] if tops[t] else ""))
    term_frequency = np.zeros(len(vocab))
    for bow in corpus:
        for term_id, count in bow:
            term_frequency[term_id] += count
    return FinalModel(model=model, order=order, phi=phi[order], theta=theta[:, order], lengths=lengths,
                      prevalence=prevalence[order], tops=[tops[t] for t in order], vocab=vocab,
                      term_frequency=term_frequency)


def topic_quality(final: FinalModel, full: FullCorpora, texts, sample, labels, stability, p: ThemeParams) -> pd.DataFrame:
    """Per final topic: c_npmi (primary) and c_v from one accumulator each over the sweep's units (`texts`,
    the units at indices `sample`: every unit unless the corpus is sampled), stm's FREX exclusivity and
    semantic coherence over all units, and stability across seeds."""
    terms = [[t for t, _ in top] for top in final.tops]
    corpus = [full.all[i] for i in sample]
    npmi = coherence_scores(terms, "c_npmi", texts, corpus, full.dictionary, p.topn_terms)
    cv = coherence_scores(terms, "c_v", texts, corpus, full.dictionary, p.topn_terms)
    excl = frex_exclusivity(final.phi, p.topn_terms, p.frex_weight)
    ids = full.dictionary.token2id
    semcoh = semantic_coherence([[ids[t] for t in top] for top in terms], [{i for i, _ in bow} for bow in full.all])
    return round_frame(pd.DataFrame({
        "topic": range(1, len(terms) + 1), "label": [labels[t + 1] for t in range(len(terms))],
        "c_npmi": npmi, "c_v": cv, "exclusivity": excl, "semantic_coherence": semcoh,
        "stability": [float(s) for s in stability], "top_terms": ["/".join(t[:5]) for t in terms],
    }))


def topics_table(tops, labels: dict[int, str], term_categories: dict[str, str]) -> pd.DataFrame:
    rows = [
        {
            "topic": t + 1,
            "label": labels[t + 1],
            "rank": r + 1,
            "term": term,
            "weight": w,
            "category": term_categories.get(term, ""),
        }
        for t, topic in enumerate(tops)
        for r, (term, w) in enumerate(topic)
    ]
    return round_frame(pd.DataFrame(rows))


def run_themes(
    units: Sequence[Unit],
    term_categories: dict[str, str],
    params: ThemeParams,
    labels_override: dict[int, str],
    doc_covariates: dict[str, dict[str, str]] | None = None,
    frame_tokens: Sequence[str] = (),
) -> ThemesResult:
    """The themes stage: every table of the K sweep, the final model and the cross-checks.

    Terms of `exclude_categories` and the `frame_tokens` (the tokens notation
    becomes) are dropped from the units' tokens before anything is fitted.

    Parameters
    ----------
    units : sequence of dict
        The text units (`tokens`, `place`, `doc_id`, `unit_id`; `plain_tokens` for the ablation).
    term_categories : dict
        Lexicon term -> its dimension.
    params : dict
        The `themes:` section of the parameters.
    labels_override : dict
        Topic number -> a researcher's label (lexicon/topic_labels.csv).
    doc_covariates : dict, optional
        doc_id -> {covariate: value}, for the shares by group.
    frame_tokens : sequence of str
        The tokens notation becomes, left out of the model.

    Returns
    -------
    ThemesResult
        Its tables (the fields marked `table()`, `k_selection_plain` only when
        the ablation runs), the chosen K and its reason, the manifest's
        summary, the final model and its LDAvis inputs.
    """
    p = params
    # The frame's terms and the notation tokens name the unit of governance,
    # not a theme; the exploratory model leaves them out (the tables say so).
    excluded = frame_vocabulary(term_categories, p.exclude_categories, frame_tokens)
    units = without_terms(units, excluded)
    # Every product in this process runs on one BLAS thread too (bootstrap,
    # prevalence, NMF), so the tables do not depend on the machine's cores.
    with single_thread_blas():
        out = _run_themes(units, term_categories, p, labels_override)
        inputs = out.ldavis_inputs
        groups = covariate_shares(list(units), inputs.doc_topic_dists, inputs.doc_lengths,
                                  doc_covariates or {}, p.bootstrap_samples, p.bootstrap_seed)
        groups.insert(3, "label", groups["topic"].map(dict(zip(out.topics["topic"], out.topics["label"]))))
        pruning = pruning_table([list(u["tokens"]) for u in units], [u["place"] for u in units],
                                p.no_below, p.no_above)
        return replace(out, group_topics=round_frame(groups), vocabulary_pruning=pruning)


def _run_themes(
    units: Sequence[Unit],
    term_categories: dict[str, str],
    p: ThemeParams,
    labels_override: dict[int, str],
) -> ThemesResult:
    """Every table but the shares by group and the vocabulary's pruning (filled in by `run_themes`)."""
    segmentations = SEGMENTATIONS if p.ablation else SEGMENTATIONS[:1]
    for s in segmentations:
        check_units(units, TOKEN_FIELD[s])
    units = list(units)
    # On a large corpus the sweep runs on a stratified sample, and its held-out
    # split is drawn within it (pipeline/themes/scaling.py); otherwise the
    # sample is every unit and this is the plain split.
    sample = stratified_sample(units, p.selection_max_units, p.selection_seed)
    train_s, held_s = split_units([units[i] for i in sample], p.holdout_fraction, p.split_seed)
    train_idx, held_idx = [sample[i] for i in train_s], [sample[i] for i in held_s]
    # Only the lexicon segmentation has a final model, so only it needs corpora of every unit.
    per_seg = {s: segmentation_data(units, TOKEN_FIELD[s], train_idx, held_idx, p, full=s == "lexicon")
               for s in segmentations}

    # What the tasks need, sent once to each worker: sweep corpora on the
    # training dictionary, and full corpora for the other seeds' final fits.
    full = per_seg["lexicon"].full
    data = SweepData(params=p, segmentations={s: per_seg[s].sweep for s in segmentations}, final=full)
    ks = range(p.k_min, p.k_max + 1)
    fits = [("fit", (s, "train", k, seed)) for s in segmentations for k in ks for seed in p.seeds]

    with job_pool(data, p.processes) as pool:
        results = submit_tasks(data, fits, pool)()
        scores = sweep_coherence(data, results, segmentations, pool)
        tables: dict[str, pd.DataFrame] = {}
        choices: dict[str, tuple[int, str]] = {}
        for s in segmentations:
            seg_results = [r for r in results if r.job[0] == s]
            tables[s] = sweep_table(seg_results, scores[s], p.seeds)
            choices[s] = settle_k(tables[s], p.min_stability, p.k if s == "lexicon" else None)
        chosen_k, reason = choices["lexicon"]
        # The other seeds' full-data models at the chosen K (for per-topic
        # stability) run in the pool while this process fits the final model.
        other_seeds = [s for s in p.seeds if s != p.final_seed]
        wait_others = submit_tasks(data, [("fit", (FINAL, "all", chosen_k, s)) for s in other_seeds], pool)
        final = final_model(full, chosen_k, p)
        others = wait_others()
    stability = final_topic_stability(final.tops, [r.tops for r in others])

    suggested = {t + 1: suggest_label(top, term_categories) for t, top in enumerate(final.tops)}
    labels = apply_labels(suggested, dict(labels_override))

    place_topics = place_shares(
        final.theta, final.lengths, [u["place"] for u in units], p.bootstrap_samples, p.bootstrap_seed
    )
    place_topics.insert(2, "label", place_topics["topic"].map(labels))
    prevalence = {t + 1: float(v) for t, v in enumerate(final.prevalence)}
    roles = topic_roles(
        place_topics,
        labels,
        suggested,
        prevalence,
        {t + 1: v for t, v in enumerate(stability)},
        p.presence_floor,
        p.shared_min_places,
    )

    quality = topic_quality(final, full, [list(units[i][TOKEN_FIELD["lexicon"]]) for i in sample], sample, labels,
                            stability, p)
    nmf = nmf_topics(full.all, full.vocab, chosen_k, p)
    nmf_match = nmf_match_table(final.tops, nmf, labels, p.nmf_close_jaccard)

    ablation_parts = []
    for s in segmentations:
        summ = summarise_sweep(tables[s])
        summ.insert(0, "segmentation", s)
        summ["vocabulary"] = len(per_seg[s].sweep.vocab)
        summ["chosen"] = summ["k"] == choices[s][0]
        ablation_parts.append(summ)
    ablation = pd.concat(ablation_parts, ignore_index=True)

    summary = ThemesSummary(
        chosen_k=chosen_k, k_reason=reason, units=len(units), sweep_sampled=len(sample) < len(units),
        sweep_units=len(sample), train_units=len(train_idx), heldout_units=len(held_idx),
        sweep_passes_iterations=list(schedule(p, len(train_idx))), final_passes_iterations=list(schedule(p, len(units))),
        vocabulary_sweep=len(per_seg["lexicon"].sweep.vocab), vocabulary_final=len(full.vocab),
        shared_topics=int((roles["role"] == "shared").sum()), nmf_close=int(nmf_match["close"].sum()),
        chosen_k_plain=choices["plain"][0] if p.ablation else None,
        k_reason_plain=choices["plain"][1] if p.ablation else None)
    empty = pd.DataFrame()
    return ThemesResult(
        k_selection=tables["lexicon"], k_summary=summarise_sweep(tables["lexicon"]),
        topics=topics_table(final.tops, labels, term_categories), unit_topics=unit_topics_table(units, final.theta),
        place_topics=place_topics, topic_roles=roles, topic_quality=quality, nmf_match=nmf_match, ablation=ablation,
        group_topics=empty, vocabulary_pruning=empty, chosen_k=chosen_k, k_reason=reason, summary=summary,
        model=final.model, dictionary=full.dictionary, topic_order=final.order,
        ldavis_inputs=final.ldavis_inputs(p.ldavis_terms),
        k_selection_plain=tables["plain"] if p.ablation else None)
