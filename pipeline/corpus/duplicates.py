"""Near-duplicate articles: the same text posted twice, whatever the script or the readings.

Mirror sites carry one article in both scripts, some with pinyin readings
inserted; byte-level fingerprints do not see that. Here each article is
compared after cleaning and conversion to simplified script, as the set of
its character k-grams (shingles) over Hanzi, letters and digits only, so that
punctuation, spacing and layout do not count. Two articles whose shingle sets
have a Jaccard similarity at or above the threshold are the same text; the run
stops, naming both files, unless the manifest marks one as a deliberate
duplicate of the other (column duplicate_of).

The comparison is exact (every pair), with a size bound that skips pairs
whose Jaccard cannot reach the threshold (|A ∩ B| / |A ∪ B| <= min/max size).
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

from pipeline.common.errors import InputError


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
    """(i, j, similarity) for every pair i < j at or above the threshold."""
    sets = [shingles(t, k) for t in texts]
    order = sorted(range(len(sets)), key=lambda i: len(sets[i]))
    pairs = []
    for x, i in enumerate(order):
        for j in order[x + 1:]:
            small, large = len(sets[i]), len(sets[j])
            if large and small / large < threshold:
                break  # sorted by size: every later set is larger still
            value = jaccard(sets[i], sets[j])
            if value >= threshold:
                pairs.append((min(i, j), max(i, j), value))
    return sorted(pairs)


def check_near_duplicates(documents: list, raw_dir: Path, k: int, threshold: float) -> None:
    """Stop on a near-duplicate pair the manifest does not mark (documents are stage.CleanDocument)."""
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
