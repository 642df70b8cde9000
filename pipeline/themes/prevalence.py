"""Topic prevalence by place with bootstrap intervals, the shared/specific roles, and unit-topic proportions."""

from __future__ import annotations

import zlib
from typing import Sequence

import numpy as np
import pandas as pd

from pipeline.themes.params import round_frame

__all__ = ["place_shares", "topic_roles", "unit_topics_table"]


def _place_seed(seed: int, place: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(place.encode("utf-8"))])


def place_shares(
    theta: np.ndarray,
    lengths: np.ndarray,
    places: Sequence[str],
    samples: int,
    seed: int,
) -> pd.DataFrame:
    """Token-weighted topic shares per place with 95% bootstrap intervals.

    Resampling draws multinomial counts of units (equivalent to drawing units
    with replacement), which needs samples x units memory, not
    samples x units x topics.

    Parameters
    ----------
    theta : np.ndarray
        Units x topics proportions (rows sum to 1).
    lengths : np.ndarray
        The units' modelled token counts.
    places : Sequence[str]
        Each unit's place.
    samples : int
        The number of bootstrap draws.
    seed : int
        The seed of the bootstrap; each place's draws are seeded from it and the place's name.

    Returns
    -------
    pd.DataFrame
        One row per place and topic (numbered 1..K): share, 95% interval, units, tokens and the kind of interval.
    """
    theta = np.asarray(theta, dtype=np.float64)
    lengths = np.asarray(lengths, dtype=np.float64)
    places = list(places)
    k = theta.shape[1]
    rows = []
    members: dict[str, list[int]] = {}
    for i, place in enumerate(places):
        members.setdefault(place, []).append(i)
    for place, where in members.items():
        idx = np.array(where)
        th, w = theta[idx], lengths[idx]
        if w.sum() <= 0:
            # No modelled token at all: every unit counts equally.
            w = np.ones_like(w)
        share = (w @ th) / w.sum()
        n = len(idx)
        rng = _place_seed(seed, place)
        counts = rng.multinomial(n, np.full(n, 1.0 / n), size=samples).astype(np.float64)
        den = counts @ w
        num = counts @ (w[:, None] * th)
        unweighted = counts @ th / n
        boot = np.where(den[:, None] > 0, num / np.where(den > 0, den, 1.0)[:, None], unweighted)
        low, high = np.quantile(boot, [0.025, 0.975], axis=0)
        for t in range(k):
            rows.append(
                {
                    "place": place,
                    "topic": t + 1,
                    "share": share[t],
                    "ci_low": min(low[t], share[t]),
                    "ci_high": max(high[t], share[t]),
                    "units": n,
                    "tokens": int(lengths[idx].sum()),
                    # Units of one place are resampled as if independent: the
                    # interval is optimistic (group_topics.csv resamples
                    # articles where a place has several).
                    "interval": "units_optimistic",
                }
            )
    return round_frame(pd.DataFrame(rows))


def topic_roles(
    place_topics: pd.DataFrame,
    labels: dict[int, str],
    suggested: dict[int, str],
    prevalence: dict[int, float],
    stability: dict[int, float],
    presence_floor: float,
    shared_min_places: int,
) -> pd.DataFrame:
    """Shared or specific, with the evidence spelled out in numbers.

    Parameters
    ----------
    place_topics : pd.DataFrame
        The topic shares per place with their 95% intervals (`place_shares`).
    labels : dict[int, str]
        Each topic's label by its 1-based number.
    suggested : dict[int, str]
        Each topic's suggested label, before the researcher's overrides.
    prevalence : dict[int, float]
        Each topic's share of all modelled tokens.
    stability : dict[int, float]
        Each topic's stability across seeds.
    presence_floor : float
        The share the lower 95% bound must reach for a topic to be present in a place.
    shared_min_places : int
        The number of places a topic must be present in to be shared (at most all of them).

    Returns
    -------
    pd.DataFrame
        One row per topic: role, the places it is present in, the evidence, prevalence, stability and labels.
    """
    n_places = place_topics["place"].nunique()
    need = min(shared_min_places, n_places)
    rows = []
    for topic in sorted(labels):
        sub = place_topics[place_topics["topic"] == topic].sort_values(["share", "place"], ascending=[False, True])
        present = sub[sub["ci_low"] >= presence_floor]
        role = "shared" if len(present) >= need else "specific"
        places = list(present["place"]) if len(present) else [sub.iloc[0]["place"]]
        detail = "; ".join(f"{r.place} {r.share:.2f} [{r.ci_low:.2f}, {r.ci_high:.2f}]" for r in sub.itertuples())
        if len(present):
            head = (
                f"present (lower 95% bound of share >= {presence_floor:g}) in {len(present)} of {n_places} places"
                f" (shared needs {need})"
            )
        else:
            head = (
                f"present in no place (no lower 95% bound reaches {presence_floor:g}); "
                f"largest share in {places[0]}"
            )
        rows.append(
            {
                "topic": topic,
                "label": labels[topic],
                "role": role,
                "places": ";".join(places),
                "evidence": f"{head}; share [95% CI] by place: {detail}; corpus-wide prevalence "
                f"{prevalence[topic]:.3f}; stability across seeds {stability[topic]:.2f}",
                "places_present": len(present),
                "prevalence": prevalence[topic],
                "stability": stability[topic],
                "suggested_label": suggested[topic],
            }
        )
    return round_frame(pd.DataFrame(rows))


def unit_topics_table(units, theta: np.ndarray) -> pd.DataFrame:
    """Long table of unit-topic proportions: one row per unit and topic, units in input order.

    Parameters
    ----------
    units : Sequence[Unit]
        The modelled text units, with their ids and place.
    theta : np.ndarray
        Units x topics proportions of the final model.

    Returns
    -------
    pd.DataFrame
        unit_id, doc_id, place, topic (1-based) and proportion.
    """
    n, k = theta.shape
    frame = pd.DataFrame(
        {
            "unit_id": np.repeat([u["unit_id"] for u in units], k),
            "doc_id": np.repeat([u["doc_id"] for u in units], k),
            "place": np.repeat([u["place"] for u in units], k),
            "topic": np.tile(np.arange(1, k + 1), n),
            "proportion": np.asarray(theta, dtype=np.float64).reshape(-1),
        }
    )
    return round_frame(frame)
