"""Near-duplicate articles: the same text posted twice, whatever the script or the readings.

Mirror sites carry one article in both scripts, some with pinyin readings
inserted; byte-level fingerprints do not see that. Here each article is
compared after cleaning and conversion to simplified script, as the set of
its character k-grams (shingles) over Hanzi, letters and digits only, so that
punctuation, spacing and layout do not count. Two articles whose shingle sets
have a Jaccard similarity at or above the threshold are the same text; the run
stops, naming both files, unless the manifest marks one as a deliberate
duplicate of the other (column duplicate_of).

The comparison is exact: prefix filtering finds every pair that can reach
the threshold without comparing all pairs, so thousands of articles are
checked in seconds.
"""

from __future__ import annotations

import math
import unicodedata
from pathlib import Path

from pipeline.common.errors import InputError

__all__ = ["check_near_duplicates", "jaccard", "near_duplicate_pairs", "shingles"]


def shingles(text: str, k: int) -> frozenset[str]:
    """The character k-grams of a text's letters and digits (Hanzi included)."""
    kept = "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")
    if len(kept) < k:
        return frozenset([kept]) if kept else frozenset()
    return frozenset(kept[i:i + k] for i in range(len(kept) - k + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def near_duplicate_pairs(texts: list[str], k: int, threshold: float) -> list[tuple[int, int, float]]:
    """(i, j, similarity) for every pair i < j at or above the threshold.

    Exact, by prefix filtering: with each set's shingles ordered rarest first
    (document frequency, then the shingle), two sets with Jaccard >= t must
    share a shingle among the first |A| - ceil(t·|A|) + 1 of either, so only
    pairs that do are compared.
    """
    sets = [shingles(t, k) for t in texts]
    frequency: dict[str, int] = {}
    for s in sets:
        for shingle in s:
            frequency[shingle] = frequency.get(shingle, 0) + 1
    index: dict[str, list[int]] = {}
    candidates: set[tuple[int, int]] = set()
    for i, s in enumerate(sets):
        ordered = sorted(s, key=lambda x: (frequency[x], x))
        prefix = ordered[:len(ordered) - math.ceil(threshold * len(ordered)) + 1] if ordered else []
        for shingle in prefix:
            for j in index.get(shingle, ()):
                candidates.add((j, i))
            index.setdefault(shingle, []).append(i)
    pairs = []
    for i, j in sorted(candidates):
        small, large = sorted((len(sets[i]), len(sets[j])))
        if large and small / large < threshold:
            continue  # |A ∩ B| / |A ∪ B| <= min/max size
        value = jaccard(sets[i], sets[j])
        if value >= threshold:
            pairs.append((i, j, value))
    return pairs


def check_near_duplicates(documents: list, raw_dir: Path, k: int, threshold: float) -> None:
    """Stop on a near-duplicate pair the manifest does not mark (documents are stage.CleanDocument).

    Parameters
    ----------
    documents : list
        The cleaned, simplified articles (stage.CleanDocument), in corpus order.
    raw_dir : Path
        The folder of the raw articles, data/raw/, named in the message.
    k : int
        Characters per shingle.
    threshold : float
        Share of shared shingles from which two articles are near-duplicates.

    Raises
    ------
    InputError
        On the first near-duplicate pair whose manifest rows do not mark one as the `duplicate_of` the other.
    """
    texts = [d.text for d in documents]
    for i, j, value in near_duplicate_pairs(texts, k, threshold):
        a, b = documents[i].doc, documents[j].doc
        if b.duplicate_of == a.doc_id or a.duplicate_of == b.doc_id:
            continue
        raise InputError(raw_dir / b.file,
                         f"is a near-duplicate of {a.file} (doc_id {a.doc_id!r}): after cleaning and conversion to "
                         f"simplified script {value:.0%} of their {k}-character shingles are shared "
                         f"(threshold {threshold:.0%}). Remove one of them and its manifest row, or, to keep both on "
                         f"purpose, set duplicate_of={a.doc_id} in the manifest row of {b.doc_id!r}")
