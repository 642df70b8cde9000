"""Topic prevalence by covariate (place, level, province) with bootstrap intervals.

This answers the question R's stm answers with `estimateEffect`, descriptively:
a group's share of a topic is the token-weighted mean of its units' topic
proportions. Its 95% interval is a percentile bootstrap over the group's
articles when the group has at least two (a cluster bootstrap: units of one
article are not independent draws), and otherwise over its units; the latter
describes variation across one article's passages, not across articles, and
is marked `units_optimistic` in the `interval` column. An interval is widened
to include its share where a skewed bootstrap distribution would miss it.
Each group's resampling is seeded from the seed and the group's name, so
adding a group leaves the other groups' intervals unchanged.
"""

from __future__ import annotations

import zlib
from typing import Any, Sequence

import numpy as np
import pandas as pd

from pipeline.text.units import Unit

__all__ = ["CLUSTER", "DENSE_MEMBER_CELLS", "OPTIMISTIC", "covariate_shares", "group_shares"]

CLUSTER = "cluster"
OPTIMISTIC = "units_optimistic"


def _rng(seed: int, covariate: str, group: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(f"{covariate}\x00{group}".encode("utf-8"))])


def _weighted_share(theta: np.ndarray, w: np.ndarray) -> np.ndarray:
    if w.sum() <= 0:
        return theta.mean(axis=0)
    return (w @ theta) / w.sum()


# Above this many article x unit cells the per-article sums are accumulated
# unit by unit instead of through a dense membership matrix, which for one
# group of 5,000 articles and 69,000 units would take 2.8 GB. Both give the
# same sums up to the order of floating-point additions; the corpus and its
# tenfold resample (at most 35,000 cells) stay on the matrix path.
DENSE_MEMBER_CELLS = 1_000_000


def _article_sums(th: np.ndarray, w: np.ndarray, unit_docs: Sequence[str],
                  articles: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Token-weighted topic sums and token totals of each article: (articles x topics, articles)."""
    weighted = w[:, None] * th
    if len(articles) * len(unit_docs) <= DENSE_MEMBER_CELLS:
        member = np.array([[d == a for d in unit_docs] for a in articles], dtype=np.float64)
        return member @ weighted, member @ w
    code = {a: j for j, a in enumerate(articles)}
    rows = np.array([code[d] for d in unit_docs])
    num = np.zeros((len(articles), th.shape[1]))
    np.add.at(num, rows, weighted)
    return num, np.bincount(rows, weights=w, minlength=len(articles))


def group_shares(
    theta: np.ndarray,
    lengths: np.ndarray,
    unit_docs: Sequence[str],
    unit_groups: Sequence[str],
    covariate: str,
    samples: int,
    seed: int,
) -> pd.DataFrame:
    """One row per group x topic: share, 95% interval, articles, units and the kind of interval."""
    theta = np.asarray(theta, dtype=np.float64)
    lengths = np.asarray(lengths, dtype=np.float64)
    docs, groups = list(unit_docs), list(unit_groups)
    k = theta.shape[1]
    rows: list[dict[str, Any]] = []
    members: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        members.setdefault(g, []).append(i)
    for group, where in members.items():
        idx = np.array(where)
        th, w = theta[idx], lengths[idx]
        if w.sum() <= 0:
            # No modelled token in the group: every unit counts equally, in the share and in its resamples.
            w = np.ones_like(w)
        share = _weighted_share(th, w)
        articles = list(dict.fromkeys(docs[i] for i in idx))
        rng = _rng(seed, covariate, str(group))
        if len(articles) >= 2:
            kind = CLUSTER
            # Per-article token-weighted sums; a resample of articles adds them up.
            num_a, den_a = _article_sums(th, w, [docs[i] for i in idx], articles)
            draws = rng.multinomial(len(articles), np.full(len(articles), 1.0 / len(articles)), size=samples)
            draws = draws.astype(np.float64)
            num, den = draws @ num_a, draws @ den_a
        else:
            kind = OPTIMISTIC
            n = len(idx)
            draws = rng.multinomial(n, np.full(n, 1.0 / n), size=samples).astype(np.float64)
            num, den = draws @ (w[:, None] * th), draws @ w
        boot = num / np.where(den > 0, den, 1.0)[:, None]
        low, high = np.quantile(boot, [0.025, 0.975], axis=0)
        for t in range(k):
            rows.append({
                "covariate": covariate, "group": group, "topic": t + 1, "share": share[t],
                "ci_low": min(low[t], share[t]), "ci_high": max(high[t], share[t]),
                "articles": len(articles), "units": len(idx), "interval": kind,
            })
    return pd.DataFrame(rows)


def covariate_shares(
    units: Sequence[Unit],
    theta: np.ndarray,
    lengths: np.ndarray,
    doc_covariates: dict[str, dict[str, str]],
    samples: int,
    seed: int,
) -> pd.DataFrame:
    """Shares by place (from the units) and by every covariate in `doc_covariates` (doc_id -> {name: value}).

    Parameters
    ----------
    units : Sequence[Unit]
        The modelled text units, each with its article and place.
    theta : np.ndarray
        Units x topics proportions of the final model.
    lengths : np.ndarray
        Each unit's modelled token count, the weight of its proportions.
    doc_covariates : dict[str, dict[str, str]]
        Each article's covariates by name; every article must have every covariate any article has.
    samples : int
        The number of bootstrap draws for the 95% intervals.
    seed : int
        The seed of the bootstrap.

    Returns
    -------
    pd.DataFrame
        One row per covariate, group and topic: share, 95% interval, articles, units and the kind of interval.
    """
    docs = [u["doc_id"] for u in units]
    parts = [group_shares(theta, lengths, docs, [u["place"] for u in units], "place", samples, seed)]
    names = sorted({name for cov in doc_covariates.values() for name in cov})
    for name in names:
        missing = sorted({d for d in docs if name not in doc_covariates.get(d, {})})
        if missing:
            raise ValueError(f"themes: article(s) {', '.join(missing)} lack the covariate {name!r}")
        values = [str(doc_covariates[d][name]) for d in docs]
        parts.append(group_shares(theta, lengths, docs, values, name, samples, seed))
    return pd.concat(parts, ignore_index=True)
