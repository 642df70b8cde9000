"""The NMF cross-check: NMF topics over the same units and vocabulary, matched to the LDA topics."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from pipeline.themes.matching import match_topics
from pipeline.common.params import ThemeParams
from pipeline.themes.params import round_frame, top_terms
from pipeline.themes.sweep import single_thread_blas

__all__ = ["nmf_match_table", "nmf_topics"]


def _count_matrix(corpus, n_terms: int):
    # scipy and scikit-learn (~3 s) are loaded only when the cross-check runs
    from scipy.sparse import csr_matrix

    indptr, indices, data = [0], [], []
    for bow in corpus:
        for term_id, count in sorted(bow):
            indices.append(term_id)
            data.append(count)
        indptr.append(len(indices))
    return csr_matrix((np.array(data, dtype=np.float64), indices, indptr), shape=(len(corpus), n_terms))


def nmf_topics(corpus, vocab: Sequence[str], k: int, p: ThemeParams) -> list[list[tuple[str, float]]]:
    """Top terms of NMF components fitted to TF-IDF of the same units and vocabulary.

    Parameters
    ----------
    corpus : list of list of tuple[int, int]
        The units' bags of words on the final model's dictionary.
    vocab : Sequence[str]
        The dictionary's terms by id.
    k : int
        The number of components, the final model's K.
    p : ThemeParams
        The themes parameters: NMF seed and iteration cap, and how many top terms to keep.

    Returns
    -------
    list[list[tuple[str, float]]]
        Per component, its `p.topn_terms` heaviest (term, weight) pairs.
    """
    # scipy and scikit-learn (~3 s) are loaded only when the cross-check runs
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfTransformer

    tfidf = TfidfTransformer().fit_transform(_count_matrix(corpus, len(vocab)))
    model = NMF(n_components=k, init="nndsvd", random_state=p.nmf_seed, max_iter=p.nmf_max_iter)
    with single_thread_blas():
        model.fit(tfidf)
    return [top_terms(row, vocab, p.topn_terms) for row in model.components_]


def nmf_match_table(
    lda_tops: Sequence[Sequence[tuple[str, float]]],
    nmf_tops: Sequence[Sequence[tuple[str, float]]],
    labels: dict[int, str],
    close_jaccard: float,
) -> pd.DataFrame:
    """Each final LDA topic with its Hungarian match among the NMF components, by top-term Jaccard.

    Parameters
    ----------
    lda_tops : Sequence[Sequence[tuple[str, float]]]
        The final model's topics, in order, as (term, weight) top terms.
    nmf_tops : Sequence[Sequence[tuple[str, float]]]
        The NMF components' top terms, from `nmf_topics`.
    labels : dict[int, str]
        Each topic's label by its 1-based number.
    close_jaccard : float
        The Jaccard from which a match counts as close (`themes.nmf_close_jaccard`).

    Returns
    -------
    pd.DataFrame
        One row per matched topic: its NMF component, the Jaccard, whether it is close, and the shared and
        own top terms of each.
    """
    lda_terms = [[t for t, _ in topic] for topic in lda_tops]
    nmf_terms = [[t for t, _ in topic] for topic in nmf_tops]
    rows = []
    for a, b, sim in match_topics(lda_terms, nmf_terms):
        shared = [t for t in lda_terms[a] if t in set(nmf_terms[b])]
        rows.append(
            {
                "topic": a + 1,
                "label": labels[a + 1],
                "nmf_component": b + 1,
                "jaccard": sim,
                "close": bool(sim >= close_jaccard),
                "shared_terms": "/".join(shared),
                "lda_terms": "/".join(lda_terms[a]),
                "nmf_terms": "/".join(nmf_terms[b]),
            }
        )
    return round_frame(pd.DataFrame(rows))
