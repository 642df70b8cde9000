"""The R exports reproduce the study's counts, on a small corpus and on the committed results."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest
import yaml
from scipy.io import mmread

from pipeline.common import io
from pipeline.common.config import Paths
from pipeline.report.exports import build_exports, matrix_market, quanteda_dictionary

UNITS = [
    {"unit_id": "a-0001", "doc_id": "a", "place": "甲市", "tokens": ["社区", "治理", "社区"]},
    {"unit_id": "a-0002", "doc_id": "a", "place": "甲市", "tokens": ["网格"]},
    {"unit_id": "b-0001", "doc_id": "b", "place": "乙县", "tokens": ["治理", "互联网+政务服务"]},
]
DOCUMENTS = pd.DataFrame({"doc_id": ["a", "b"], "place": ["甲市", "乙县"], "level": ["city", "county"],
                          "province": ["某省", "某省"], "source": ["", "x"], "date": ["", "2020"], "chars_raw": [1, 2]})
LEXICON = pd.DataFrame({"term": ["网格", "互联网+政务服务", "社会工作者"],
                        "category": ["grid_management", "digital_governance", "social_forces"],
                        "variants": ["", "", "社工|社会工作人员"]})


def dense(path_text: str, tmp_path, name: str):
    path = tmp_path / name
    path.write_text(path_text, encoding="utf-8")
    return mmread(str(path)).toarray()


def test_unit_matrix_holds_each_units_counts_in_vocabulary_order(tmp_path):
    out = build_exports(UNITS, DOCUMENTS, LEXICON)
    vocab = out["vocabulary.txt"].splitlines()
    assert vocab == sorted(vocab) == ["互联网+政务服务", "治理", "社区", "网格"]
    matrix = dense(out["dtm_units.mtx"], tmp_path, "u.mtx")
    assert matrix.shape == (3, 4)
    for i, unit in enumerate(UNITS):
        assert dict(zip(vocab, matrix[i])) == {t: Counter(unit["tokens"]).get(t, 0) for t in vocab}


def test_article_matrix_is_the_sum_of_its_units(tmp_path):
    out = build_exports(UNITS, DOCUMENTS, LEXICON)
    units = dense(out["dtm_units.mtx"], tmp_path, "u.mtx")
    articles = dense(out["dtm_articles.mtx"], tmp_path, "a.mtx")
    assert (articles[0] == units[0] + units[1]).all() and (articles[1] == units[2]).all()
    assert list(out["docvars_articles.csv"]["doc_id"]) == ["a", "b"]
    assert list(out["docvars_units.csv"]["place"]) == ["甲市", "甲市", "乙县"]


def test_matrix_market_header_counts_entries_and_rows_without_entries():
    text = matrix_market([{0: 2}, {}], 3, "note")
    assert text.splitlines()[:3] == ["%%MatrixMarket matrix coordinate integer general", "% note", "2 3 1"]


def test_dictionary_lists_terms_and_variants_under_their_dimension():
    loaded = yaml.safe_load(quanteda_dictionary(LEXICON))
    assert loaded == {"digital_governance": ["互联网+政务服务"], "grid_management": ["网格"],
                      "social_forces": sorted(["社会工作者", "社工", "社会工作人员"])}


def test_committed_exports_reproduce_the_committed_units(tmp_path):
    results = Paths.at().results
    exports = results / "exports"
    if not exports.exists():
        pytest.fail("results/exports/ is missing: run `make results`")
    units = io.read_jsonl(results / "corpus" / "units.jsonl")
    vocab = (exports / "vocabulary.txt").read_text(encoding="utf-8").splitlines()
    matrix = mmread(str(exports / "dtm_units.mtx")).tocsr()
    docvars = pd.read_csv(exports / "docvars_units.csv", keep_default_na=False)
    assert list(docvars["unit_id"]) == [u["unit_id"] for u in units]
    for i, unit in enumerate(units):
        row = matrix.getrow(i)
        assert {vocab[j]: int(n) for j, n in zip(row.indices, row.data)} == dict(Counter(unit["tokens"]))


def test_concept_dictionary_nests_terms_and_variants_under_concept_and_dimension():
    from pipeline.report.exports import quanteda_concept_dictionary
    from pipeline.text.concepts import Concept, Concepts

    concepts = Concepts((Concept("social_work", "social_forces", "社会工作", "social work", "test"),
                         Concept("grid", "grid_management", "网格", "grid", "test"),
                         Concept("online_services", "digital_governance", "互联网+政务服务", "online", "test")),
                        {"互联网+政务服务": "online_services", "网格": "grid", "社会工作者": "social_work"})
    loaded = yaml.safe_load(quanteda_concept_dictionary(LEXICON, concepts))
    assert loaded == {"digital_governance": {"online_services": ["互联网+政务服务"]},
                      "grid_management": {"grid": ["网格"]},
                      "social_forces": {"social_work": sorted(["社会工作者", "社工", "社会工作人员"])}}
