"""What R users need to redo the analyses in quanteda and stm: document-term
matrices, the vocabulary, document variables and the lexicon as a dictionary.

Everything is built from the study's own units and tokens (the `tokens` of
`results/corpus/units.jsonl`, after stopwords, names and notation have been
handled), so an R user starts from exactly the counts the study counts.

* `dtm_units.mtx` / `dtm_articles.mtx`: Matrix Market coordinate files
  (integer counts; rows are units or articles in `docvars_*.csv` order,
  columns are terms in `vocabulary.txt` order, both 1-based as the format
  requires). Written here rather than by `scipy.io.mmwrite` so that the bytes
  do not depend on a scipy version.
* `vocabulary.txt`: one term a line, in column order (sorted by code point,
  so that the order never depends on the corpus's word order).
* `docvars_units.csv`, `docvars_articles.csv`: unit_id/doc_id, place, level,
  province and the manifest's other columns.
* `dictionary.yml`: the lexicon in the YAML layout quanteda's
  `dictionary(file = ...)` reads: one key per dimension, its terms and
  variants as values.
* `dictionary_concepts.yml`: the same with the lexicon's three levels,
  dimension -> concept -> terms and variants (`lexicon/concepts.csv`).
"""

from __future__ import annotations

from collections import Counter
from typing import Mapping, Sequence

import pandas as pd

from pipeline.text.concepts import Concepts
from pipeline.text.units import Unit

__all__ = ["DOCVAR_COLUMNS", "EXPORT_FILES", "article_tokens", "build_exports", "count_rows", "docvars_articles",
           "docvars_units", "matrix_market", "quanteda_concept_dictionary", "quanteda_dictionary", "vocabulary"]

EXPORT_FILES = ("dtm_units.mtx", "dtm_articles.mtx", "vocabulary.txt", "docvars_units.csv",
                "docvars_articles.csv", "dictionary.yml", "dictionary_concepts.yml")
DOCVAR_COLUMNS = ("doc_id", "place", "level", "province", "source", "date")


def vocabulary(units: Sequence[Unit]) -> list[str]:
    """Every token of the units, sorted by code point."""
    return sorted({token for unit in units for token in unit["tokens"]})


def count_rows(token_lists: Sequence[Sequence[str]], vocab: Sequence[str]) -> list[dict[int, int]]:
    """Per document, its nonzero counts keyed by 0-based column."""
    column = {term: j for j, term in enumerate(vocab)}
    return [{column[t]: n for t, n in Counter(tokens).items()} for tokens in token_lists]


def matrix_market(rows: Sequence[Mapping[int, int]], n_columns: int, comment: str) -> str:
    """A Matrix Market coordinate integer file: entries by row, then column, both 1-based."""
    entries = [(i + 1, j + 1, n) for i, row in enumerate(rows) for j, n in sorted(row.items())]
    lines = ["%%MatrixMarket matrix coordinate integer general", f"% {comment}",
             f"{len(rows)} {n_columns} {len(entries)}"]
    lines += [f"{i} {j} {n}" for i, j, n in entries]
    return "\n".join(lines) + "\n"


def article_tokens(units: Sequence[Unit], doc_ids: Sequence[str]) -> list[list[str]]:
    """All tokens of each article, in the given article order."""
    by_doc: dict[str, list[str]] = {doc_id: [] for doc_id in doc_ids}
    for unit in units:
        by_doc[unit["doc_id"]].extend(unit["tokens"])
    return [by_doc[doc_id] for doc_id in doc_ids]


def docvars_articles(documents: pd.DataFrame) -> pd.DataFrame:
    return documents[[c for c in DOCVAR_COLUMNS if c in documents.columns]].reset_index(drop=True)


def docvars_units(units: Sequence[Unit], articles: pd.DataFrame) -> pd.DataFrame:
    frame = pd.DataFrame({"unit_id": [u["unit_id"] for u in units], "doc_id": [u["doc_id"] for u in units]})
    return frame.merge(articles.drop(columns=[c for c in ("source", "date") if c in articles]), on="doc_id",
                       how="left", validate="many_to_one")


def _yaml_string(value: str) -> str:
    """A double-quoted YAML scalar (safe for any term: +, %, ·, digits)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def quanteda_dictionary(lexicon: pd.DataFrame, separator: str = "|") -> str:
    """The lexicon as a quanteda YAML dictionary: dimension -> its terms and their variants."""
    lines = []
    for category, group in lexicon.groupby("category", sort=True):
        entries = []
        for term, variants in zip(group["term"], group["variants"].fillna("")):
            entries.append(term)
            entries.extend(v for v in str(variants).split(separator) if v)
        lines.append(f"{category}:")
        lines.extend(f"  - {_yaml_string(entry)}" for entry in sorted(set(entries)))
    return "\n".join(lines) + "\n"


def quanteda_concept_dictionary(lexicon: pd.DataFrame, concepts: Concepts, separator: str = "|") -> str:
    """The lexicon with its three levels as a quanteda YAML dictionary: dimension -> concept -> terms and variants
    (`dfm_lookup(levels = 1)` counts dimensions, `levels = 2` concepts)."""
    variants = dict(zip(lexicon["term"], lexicon["variants"].fillna("")))
    members = concepts.terms_of()
    lines = []
    for dimension in sorted({c.dimension for c in concepts.concepts}):
        lines.append(f"{dimension}:")
        for concept in sorted(c.concept for c in concepts.concepts if c.dimension == dimension):
            entries = set(members[concept])
            entries.update(v for t in members[concept] for v in str(variants.get(t, "")).split(separator) if v)
            lines.append(f"  {concept}:")
            lines.extend(f"    - {_yaml_string(entry)}" for entry in sorted(entries))
    return "\n".join(lines) + "\n"


def build_exports(units: Sequence[Unit], documents: pd.DataFrame,
                  lexicon: pd.DataFrame, concepts: Concepts | None = None) -> dict[str, str | pd.DataFrame]:
    """Every export by file name: text for .mtx/.txt/.yml, a table for .csv (the three-level dictionary
    only when `concepts` is given).

    Parameters
    ----------
    units : Sequence[Unit]
        The text units of the segmentation, with their tokens, article and place.
    documents : pd.DataFrame
        The article table, one row per article, from which the article docvars come.
    lexicon : pd.DataFrame
        The study's lexicon (term, category), written as the quanteda dictionary.
    concepts : Concepts or None, optional
        The lexicon's concepts, for the dictionary by dimension, concept and term.

    Returns
    -------
    dict[str, str | pd.DataFrame]
        File name in `results/exports/` to its text or table.
    """
    vocab = vocabulary(units)
    articles = docvars_articles(documents)
    doc_ids = list(articles["doc_id"])
    return {
        "dtm_units.mtx": matrix_market(count_rows([u["tokens"] for u in units], vocab), len(vocab),
                                       "rows: docvars_units.csv; columns: vocabulary.txt"),
        "dtm_articles.mtx": matrix_market(count_rows(article_tokens(units, doc_ids), vocab), len(vocab),
                                          "rows: docvars_articles.csv; columns: vocabulary.txt"),
        "vocabulary.txt": "".join(f"{term}\n" for term in vocab),
        "docvars_units.csv": docvars_units(units, articles),
        "docvars_articles.csv": articles,
        "dictionary.yml": quanteda_dictionary(lexicon),
        **({"dictionary_concepts.yml": quanteda_concept_dictionary(lexicon, concepts)} if concepts else {}),
    }
