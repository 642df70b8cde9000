"""How the themes stage scales with the corpus: the passes and E-step cap of every LDA fit, and the
stratified sample the K sweep runs on when the corpus is large.

Passes. gensim fits LDA by online variational Bayes (Hoffman, Blei & Bach
2010): the corpus is read in chunks of `chunksize` units, and each chunk
updates the topics. On a few dozen units one pass is one update, and the
topics need many passes to settle; on tens of thousands of units a single
pass already makes dozens of updates, each from more text than the whole
small corpus, and Hoffman et al. found one pass over a large corpus as good
as many passes over a small one. So a fit is given a budget of unit visits
(`unit_visits`, passes x units) rather than a number of passes:

    passes = clamp(ceil(unit_visits / units), min_passes, passes)

With the project's values (14,000 visits, at most 20 passes) every corpus up
to 700 units keeps the full 20 passes, the real corpus and its tenfold
resample included; a corpus of 69,000 units gets `min_passes`.

Iterations. `iterations` caps gensim's E-step per unit and pass; the E-step
stops earlier once the unit's topic proportions change by less than 0.001
(gensim's `gamma_threshold`). The cap is cut in the same proportion as the
passes, so that a unit's E-step iterations over the whole fit (passes x cap)
shrink with its passes, but never below `min_iterations` (50, gensim's own
default) and never above `iterations`:

    iterations = min(iterations, max(min_iterations, ceil(iterations x passes / max passes)))

Sample. Above `selection_max_units` units the K sweep (and its ablation on
plain tokens) runs on a sample of that many units, stratified by place
(`stratified_sample`); its held-out split is drawn within the sample and its
coherence counted on the sample's training units. The final models (the
exploratory model at the chosen K, its other seeds and every keyword-assisted
fit) are fitted on all units; the coherence of their topics is counted on the
same sample, so a reader can compare it with the sweep's. Below the threshold
nothing changes: the sweep sees every unit.
"""

from __future__ import annotations

import math
import zlib
from typing import Sequence

import numpy as np

from pipeline.common.params import ThemeParams
from pipeline.text.units import Unit

__all__ = ["allocate", "fit_schedule", "schedule", "stratified_sample"]


def fit_schedule(n_units: int, passes: int, iterations: int, unit_visits: int, min_passes: int,
                 min_iterations: int) -> tuple[int, int]:
    """(passes, iterations) of one LDA fit on `n_units` units, by the rule in this module's docstring."""
    if n_units < 1:
        return passes, iterations
    floor = min(min_passes, passes)
    fit_passes = min(passes, max(floor, math.ceil(unit_visits / n_units)))
    cap = math.ceil(iterations * fit_passes / passes)
    fit_iterations = min(iterations, max(min_iterations, cap))
    return fit_passes, fit_iterations


def schedule(p: ThemeParams, n_units: int) -> tuple[int, int]:
    """(passes, iterations) of every LDA fit on `n_units` units under the themes parameters `p`.

    Parameters
    ----------
    p : ThemeParams
        The themes parameters: passes, iterations, unit visits and their floors.
    n_units : int
        The number of units the fit sees.

    Returns
    -------
    tuple[int, int]
        The fit's passes and its cap on E-step iterations.
    """
    return fit_schedule(n_units, p.passes, p.iterations, p.unit_visits, p.min_passes, p.min_iterations)


def _place_rng(seed: int, place: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(place.encode("utf-8"))])


def allocate(sizes: Sequence[int], total: int) -> list[int]:
    """Units drawn from each place: one each, the rest in proportion to the places' sizes.

    Largest remainders (Hamilton's method) make the counts add up to `total`;
    ties go to the earlier place. No place gets more than it has.
    """
    sizes = [int(s) for s in sizes]
    if total >= sum(sizes):
        return list(sizes)
    if total < len(sizes):
        raise ValueError(f"a sample of {total} units cannot keep all {len(sizes)} places")
    # One unit each first, so that a small place is never left out.
    rest = total - len(sizes)
    spare = [s - 1 for s in sizes]
    pool = sum(spare)
    quotas = [rest * s / pool for s in spare]
    counts = [math.floor(q) for q in quotas]
    order = sorted(range(len(sizes)), key=lambda i: (-(quotas[i] - counts[i]), i))
    for i in order[: rest - sum(counts)]:
        counts[i] += 1
    return [c + 1 for c in counts]


def stratified_sample(units: Sequence[Unit], max_units: int, seed: int) -> list[int]:
    """Indices (ascending) of at most `max_units` units, every place kept, places in proportion.

    All units when there are no more than `max_units`. Each place's draw is
    seeded from `seed` and the place's name.

    Parameters
    ----------
    units : Sequence[Unit]
        The text units, each with its place.
    max_units : int
        The largest sample (`themes.selection_max_units`); a ValueError when sampling is needed and it is
        below the number of places.
    seed : int
        The seed of the draw.

    Returns
    -------
    list[int]
        The sampled units' indices.
    """
    by_place: dict[str, list[int]] = {}
    for i, unit in enumerate(units):
        by_place.setdefault(unit["place"], []).append(i)
    if len(units) <= max_units:
        return list(range(len(units)))
    if max_units < len(by_place):
        raise ValueError(
            f"themes.selection_max_units = {max_units} is below the number of places ({len(by_place)}); "
            "raise it so that the K sweep's sample keeps every place"
        )
    counts = allocate([len(idx) for idx in by_place.values()], max_units)
    chosen: list[int] = []
    for (place, idx), n in zip(by_place.items(), counts):
        chosen.extend(int(i) for i in _place_rng(seed, place).permutation(idx)[:n])
    return sorted(chosen)
