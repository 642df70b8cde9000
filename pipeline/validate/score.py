"""Score independent coders: agreement per dimension, the dictionary against the adjudicated codes, and the
topic model against them.

Agreement is Krippendorff's alpha for nominal (0/1) codes per dimension, from
the maintained `krippendorff` package; a dimension below `RELIABLE_ALPHA`
(Krippendorff's lowest bound for tentative conclusions, 0.667), or one that
fewer than `MIN_POSITIVE` sentences were coded to by any coder (too few for
alpha to tell), is flagged as not shown to be reliably codable. The adjudicated code of a sentence is the rule written
in the kit's instructions before any coding: a dimension is coded when a
strict majority of the coders code it (with two coders, both). Against it,
the dictionary's precision, recall and F1 come with Wilson 95% intervals
(scipy), for the study's articles and the held-out pages apart. A study
sentence lies in one text unit of the topic model; the unit's leading seeded
topic agrees with the coders when its dimension is among the sentence's
adjudicated codes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import krippendorff
import numpy as np
import pandas as pd
from scipy.stats import binomtest

from pipeline.common.errors import InputError

__all__ = ["RELIABLE_ALPHA", "MIN_POSITIVE", "CoderSheets", "pool_sheets", "read_coder_sheets", "adjudicate", "nominal_alpha", "agreement_table",
           "dictionary_table", "topic_agreement", "stale_dimensions"]

RELIABLE_ALPHA = 0.667
# Fewer sentences than this that any coder put in a dimension, and its alpha rests on too few to tell.
MIN_POSITIVE = 15


@dataclass(frozen=True)
class CoderSheets:
    """Every coder's 0/1 codes on the same sentences: `codes[coder]` is sentences × dimensions, NaN where
    that coder did not code the sentence (sheets pooled with fewer coders)."""

    sentence_ids: tuple[str, ...]
    dimensions: tuple[str, ...]
    codes: Mapping[str, np.ndarray]


def pool_sheets(parts: Sequence[CoderSheets]) -> CoderSheets:
    """Several sheets as one: their sentences in turn, coder slots by position, NaN where a sheet has fewer
    coders (alpha counts the values there are; the majority is of the coders who coded the sentence).

    Parameters
    ----------
    parts : Sequence[CoderSheets]
        The coders' codes of each sheet folder, all on the same dimensions.

    Returns
    -------
    CoderSheets
        One sheet, coders named coder_1, coder_2, ... by slot.

    Raises
    ------
    ValueError
        When the sheets code different dimensions.
    """
    dims = parts[0].dimensions
    if any(p.dimensions != dims for p in parts):
        raise ValueError("sheets pooled for scoring must code the same dimensions")
    slots = max(len(p.codes) for p in parts)
    codes = {}
    for k in range(slots):
        blocks = []
        for part in parts:
            coded = list(part.codes.values())
            blocks.append(coded[k].astype(float) if k < len(coded)
                          else np.full((len(part.sentence_ids), len(dims)), np.nan))
        codes[f"coder_{k + 1}"] = np.vstack(blocks)
    return CoderSheets(tuple(i for p in parts for i in p.sentence_ids), dims, codes)


def read_coder_sheets(paths: Sequence[Path], dimensions: Sequence[str]) -> CoderSheets:
    """Read the coders' sheets (CSV: `sentence_id`, one 0/1 column per dimension), checking each.

    Parameters
    ----------
    paths : Sequence[Path]
        The coders' sheets of one folder (`coder_*.csv`).
    dimensions : Sequence[str]
        The dimensions coded, as `sheet.json` records them.

    Returns
    -------
    CoderSheets
        Every coder's 0/1 codes, by the sheet's file stem.

    Raises
    ------
    InputError
        Naming the sheet and the problem: fewer than two sheets, a missing column, a value other than 0/1,
        or sentences that differ from the first sheet's.
    """
    if len(paths) < 2:
        raise InputError(Path(paths[0]).parent if paths else Path("."),
                         "agreement needs at least two coders' sheets (coder_*.csv)")
    ids: tuple[str, ...] | None = None
    codes = {}
    for path in map(Path, paths):
        sheet = pd.read_csv(path, dtype=str, keep_default_na=False)
        missing = [c for c in ("sentence_id", *dimensions) if c not in sheet.columns]
        if missing:
            raise InputError(path, f"missing column(s) {', '.join(missing)}")
        values = sheet[list(dimensions)].apply(lambda c: c.str.strip())
        bad = ~values.isin(["0", "1"])
        if bad.to_numpy().any():
            row, column = np.argwhere(bad.to_numpy())[0]
            raise InputError(path, f"line {row + 2}, column {dimensions[column]}: {values.iat[row, column]!r} "
                                   "is not 0 or 1; code every dimension of every sentence")
        order = tuple(sheet["sentence_id"])
        if ids is None:
            ids = order
        elif order != ids:
            raise InputError(path, "its sentences differ from the first sheet's; every coder codes the same sheet")
        codes[path.stem] = values.to_numpy(dtype=int)
    return CoderSheets(ids or (), tuple(dimensions), codes)


def adjudicate(sheets: CoderSheets) -> np.ndarray:
    """The adjudicated codes: a dimension is coded when a strict majority of the coders who coded the
    sentence code it.

    Parameters
    ----------
    sheets : CoderSheets
        Every coder's codes on the same sentences (NaN where a coder did not code one).

    Returns
    -------
    np.ndarray
        0/1 codes, sentences x dimensions.
    """
    stacked = np.stack([c.astype(float) for c in sheets.codes.values()])
    return (np.nansum(stacked, axis=0) * 2 > np.sum(~np.isnan(stacked), axis=0)).astype(int)


def nominal_alpha(matrix: np.ndarray) -> float:
    """Krippendorff's alpha (nominal) of coders × units; NaN when every code is the same (no variation)."""
    values = np.asarray(matrix, dtype=float)
    if len(np.unique(values[~np.isnan(values)])) < 2:
        return float("nan")
    return float(krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal"))


def agreement_table(sheets: CoderSheets, subsets: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """Per subset and dimension: coders, sentences, sentences any coder coded, raw agreement, alpha, flag.

    Parameters
    ----------
    sheets : CoderSheets
        Every coder's codes on the same sentences.
    subsets : Mapping[str, np.ndarray]
        Each subset's name ("all", "study", "heldout") and its boolean mask over the sentences.

    Returns
    -------
    pd.DataFrame
        One row per subset and dimension, with `reliable` true when alpha reaches `RELIABLE_ALPHA` and at least
        `MIN_POSITIVE` sentences were coded to the dimension by any coder.
    """
    rows = []
    for subset, mask in subsets.items():
        for j, dimension in enumerate(sheets.dimensions):
            matrix = np.stack([c[mask, j] for c in sheets.codes.values()]).astype(float)
            alpha = nominal_alpha(matrix)
            positive = int(np.nansum(np.nanmax(matrix, axis=0))) if mask.any() else 0
            rows.append({"subset": subset, "dimension": dimension, "coders": matrix.shape[0],
                         "sentences": int(mask.sum()), "any_coder_positive": positive,
                         "all_agree": float(np.mean(np.nanmin(matrix, axis=0) == np.nanmax(matrix, axis=0)))
                         if mask.any() else np.nan,
                         "alpha": alpha, "reliable_at": RELIABLE_ALPHA, "min_positive": MIN_POSITIVE,
                         "reliable": bool(alpha == alpha and alpha >= RELIABLE_ALPHA and positive >= MIN_POSITIVE)})
    return pd.DataFrame(rows)


def _wilson(successes: int, trials: int) -> tuple[float, float]:
    if trials == 0:
        return float("nan"), float("nan")
    ci = binomtest(successes, trials).proportion_ci(confidence_level=0.95, method="wilson")
    return float(ci.low), float(ci.high)


def dictionary_table(truth: np.ndarray, found: np.ndarray, dimensions: Sequence[str],
                     subsets: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """Per subset and dimension: the dictionary's precision, recall and F1 against the adjudicated codes.

    Parameters
    ----------
    truth : np.ndarray
        The adjudicated 0/1 codes, sentences x dimensions.
    found : np.ndarray
        The dictionary's 0/1 codes, sentences x dimensions.
    dimensions : Sequence[str]
        The dimensions, in the columns' order.
    subsets : Mapping[str, np.ndarray]
        Each subset's name and its boolean mask over the sentences.

    Returns
    -------
    pd.DataFrame
        One row per subset and dimension: counts, precision and recall with Wilson 95% intervals, and F1.
    """
    rows = []
    for subset, mask in subsets.items():
        for j, dimension in enumerate(dimensions):
            t, f = truth[mask, j] == 1, found[mask, j] == 1
            tp, coded, flagged = int((t & f).sum()), int(t.sum()), int(f.sum())
            precision = tp / flagged if flagged else np.nan
            recall = tp / coded if coded else np.nan
            f1 = 2 * tp / (coded + flagged) if coded + flagged else np.nan
            (p_low, p_high), (r_low, r_high) = _wilson(tp, flagged), _wilson(tp, coded)
            rows.append({"subset": subset, "dimension": dimension, "sentences": int(mask.sum()), "coded": coded,
                         "dictionary": flagged, "both": tp, "precision": precision, "precision_low": p_low,
                         "precision_high": p_high, "recall": recall, "recall_low": r_low, "recall_high": r_high,
                         "f1": f1})
    return pd.DataFrame(rows)


def topic_agreement(truth: pd.DataFrame, unit_of: Mapping[str, str], unit_topics: pd.DataFrame) -> pd.DataFrame:
    """Per dimension: of the study sentences whose unit's leading seeded topic is that dimension, how many the
    coders put in it (a free topic's units are not scored).

    Parameters
    ----------
    truth : pd.DataFrame
        Adjudicated codes, indexed by sentence_id, one 0/1 column per dimension.
    unit_of : Mapping[str, str]
        The text unit each study sentence lies in.
    unit_topics : pd.DataFrame
        `seeded_unit_agreement.csv` (`unit_id`, `model_dimension`).

    Returns
    -------
    pd.DataFrame
        Columns dimension, sentences, coded_as_topic, share, share_low and share_high (a Wilson 95% interval).
    """
    lead = dict(zip(unit_topics["unit_id"], unit_topics["model_dimension"]))
    rows: dict[str, list[int]] = {}
    for sentence_id, unit in unit_of.items():
        dimension = lead.get(unit)
        if sentence_id not in truth.index or dimension is None or dimension not in truth.columns:
            continue
        rows.setdefault(dimension, []).append(int(truth.loc[sentence_id, dimension]))
    out = []
    for dimension, hits in sorted(rows.items()):
        low, high = _wilson(sum(hits), len(hits))
        out.append({"dimension": dimension, "sentences": len(hits), "coded_as_topic": sum(hits),
                    "share": sum(hits) / len(hits), "share_low": low, "share_high": high})
    return pd.DataFrame(out, columns=["dimension", "sentences", "coded_as_topic", "share", "share_low", "share_high"])


def stale_dimensions(sheet_json: Path, current: Mapping[str, str]) -> list[str]:
    """The dimensions whose dictionary changed since the sheet was drawn (by `sheet.json`'s digests).

    Parameters
    ----------
    sheet_json : Path
        The sheet's `sheet.json`, with the lexicon digests at drawing time.
    current : Mapping[str, str]
        The current lexicon's digest per dimension (`lexicon_digests`).

    Returns
    -------
    list[str]
        The dimensions whose digest differs or exists on one side only, sorted.
    """
    recorded = json.loads(Path(sheet_json).read_text(encoding="utf-8"))["lexicon_digests"]
    return sorted(d for d in set(recorded) | set(current) if recorded.get(d) != current.get(d))
