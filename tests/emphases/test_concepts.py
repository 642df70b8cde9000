"""Concept-level emphases: the lexicon's concept level, the background prior and the capped lists."""

from __future__ import annotations

import io
import json
import re
from collections import Counter

import numpy as np
import pytest

from pipeline.common.config import PROJECT_ROOT
from pipeline.common.errors import InputError
from pipeline.emphases.concepts import (background_shares, compute_concept_emphases, concept_terms_used,
                                        concept_units, load_background, place_concepts_tables)
from pipeline.emphases.scores import log_odds_vs_rest
from pipeline.common.params import load_params
from pipeline.text.concepts import Concept, Concepts, load_concepts
from pipeline.text.lexicon import category_map, load_lexicon

LEXICON = PROJECT_ROOT / "lexicon"

CATEGORIES = {"慈善": "social_forces", "社区慈善基金": "social_forces", "社会工作": "social_forces",
              "网格员": "grid_management"}


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def concept_files(tmp_path):
    concepts = _write(tmp_path / "concepts.csv", "concept,dimension,label,gloss,reason\n"
                      "charity,social_forces,慈善,charity,Giving and the funds that carry it.\n"
                      "social_work,social_forces,社会工作,social work,Professional social work.\n"
                      "grid,grid_management,网格,grid,The grid and its workers.\n")
    terms = _write(tmp_path / "term_concepts.csv", "term,concept\n慈善,charity\n社区慈善基金,charity\n"
                   "社会工作,social_work\n网格员,grid\n")
    return concepts, terms


def test_the_project_lexicon_has_one_concept_per_term_in_its_dimension():
    categories = category_map(load_lexicon(LEXICON / "governance_terms.csv"))
    concepts = load_concepts(LEXICON / "concepts.csv", LEXICON / "term_concepts.csv", categories)
    assert set(concepts.term_concept) == set(categories)
    by_id = concepts.by_id()
    assert all(by_id[c].dimension == categories[t] for t, c in concepts.term_concept.items())


@pytest.mark.parametrize("edit, message", [
    (("term_concepts.csv", "社会工作,social_work\n", ""), "1 lexicon term(s) have no concept: 社会工作"),
    (("term_concepts.csv", "网格员,grid\n", "网格员,charity\n"), "网格员 is in grid_management, but its concept charity"),
    (("term_concepts.csv", "网格员,grid\n", "网格员,grid\n网格员,grid\n"), "line 6: 网格员 is listed twice"),
    (("term_concepts.csv", "网格员,grid\n", "网格员,grids\n"), "concept 'grids' of 网格员 is not defined"),
    (("concepts.csv", "grid,grid_management,网格,grid,The grid and its workers.\n",
      "grid,grid_management,网格,grid,\n"), "line 4: concept grid has no reason"),
    (("concepts.csv", "social_work,social_forces", "Social-Work,social_forces"), "is not snake_case"),
])
def test_a_broken_concept_file_is_refused_naming_file_and_line(concept_files, edit, message):
    name, old, new = edit
    path = concept_files[0].parent / name
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    with pytest.raises(InputError, match=re.escape(message)) as info:
        load_concepts(*concept_files, CATEGORIES)
    assert str(info.value).startswith(str(path))


def test_concept_units_keep_spans_of_lexicon_tokens_only():
    units = [{"unit_id": "a-1", "doc_id": "a", "place": "甲", "text": "设立社区慈善基金。发展慈善。",
              "tokens": ["设立", "社区慈善基金", "发展", "慈善"], "spans": [[0, 2], [2, 8], [9, 11], [11, 13]]}]
    [mapped] = concept_units(units, {"慈善": "charity", "社区慈善基金": "charity"})
    assert mapped["tokens"] == ["charity", "charity"] and mapped["spans"] == [[2, 8], [11, 13]]
    assert concept_terms_used(units, {"慈善": "charity", "社区慈善基金": "charity"}) == {
        ("甲", "charity"): Counter({"社区慈善基金": 1, "慈善": 1})}


def test_background_shares_sum_a_concepts_terms_and_smooth_unseen_concepts(concept_files):
    concepts = load_concepts(*concept_files, CATEGORIES)
    shares = background_shares(concepts, {"慈善": 6, "社区慈善基金": 1, "网格员": 0}, pseudo_count=1)
    # charity 6 + 1 + 1, social_work 0 + 1, grid 0 + 1: total 10.
    assert shares == pytest.approx({"charity": 0.8, "social_work": 0.1, "grid": 0.1})
    with pytest.raises(ValueError, match="pseudo_count"):
        background_shares(concepts, {}, pseudo_count=0)


def test_a_background_prior_shrinks_what_every_policy_text_says():
    """Two concepts with the same counts (3 uses in place 0, none elsewhere): under the corpus prior they tie;
    under a background prior the one every policy text uses (share 0.3) is shrunk towards no difference and
    falls behind the one the background hardly knows (share 0.001) (Monroe et al. 2008, section 3.5)."""
    counts = np.array([[3, 3, 20, 60], [0, 0, 30, 80]])
    shares = np.array([0.3, 0.001, 0.3, 0.399])
    delta_corpus, z_corpus = log_odds_vs_rest(counts, 500)
    delta, z = log_odds_vs_rest(counts, 500, prior_shares=shares)
    assert z_corpus[0, 0] == z_corpus[0, 1]
    assert z[0, 1] > z[0, 0] and delta[0, 0] < delta_corpus[0, 0] / 4
    # delta for concept 0 by hand: alpha = 500 x 0.3 = 150, n_place = 86, n_rest = 110.
    by_hand = np.log((3 + 150) / (86 + 500 - 3 - 150)) - np.log((0 + 150) / (110 + 500 - 0 - 150))
    assert delta[0, 0] == pytest.approx(by_hand)
    with pytest.raises(ValueError, match="one positive share per term"):
        log_odds_vs_rest(counts, 500, prior_shares=np.array([1.0, 0.0, 0.0, 0.0]))


def _unit(uid, place, concept_tokens):
    text = "。".join(concept_tokens) + "。"
    spans, at = [], 0
    for token in concept_tokens:
        spans.append([at, at + len(token)])
        at += len(token) + 1
    return {"unit_id": uid, "doc_id": place, "place": place, "text": text, "tokens": list(concept_tokens),
            "spans": spans}


def test_lists_never_exceed_top_n_and_a_tie_across_the_cut_becomes_one_line():
    params = load_params(PROJECT_ROOT / "params.yaml").emphases.model_copy(update={"bootstrap_samples": 0})
    names = [f"t{k}" for k in range(6)]
    concepts = Concepts(tuple(Concept(n, "social_forces", n, n, "test") for n in names), {n: n for n in names})
    # 甲 uses t0 most, then t1..t4 equally (a four-way tie), t5 not at all; 乙 uses everything once.
    units = [_unit("甲-1", "甲", ["t0"] * 6 + ["t1", "t2", "t3", "t4"]),
             _unit("甲-2", "甲", ["t1", "t2", "t3", "t4"]), _unit("乙-1", "乙", names), _unit("乙-2", "乙", names)]
    params = params.model_copy(update={"concepts": params.concepts.model_copy(update={"top_n": 3})})
    em = compute_concept_emphases(units, concepts, {n: 10 for n in names}, params)
    table, cut = place_concepts_tables(em, concepts, concept_terms_used(units, concepts.term_concept), 3)
    assert table.groupby(["place", "method"]).size().max() <= 3
    first = table[(table["place"] == "甲") & (table["method"] == "logodds")]
    assert list(first["concept"]) == ["t0"]
    [line] = cut[(cut["place"] == "甲") & (cut["method"] == "logodds")]["line"]
    assert line == "and 4 more tied at rank 2: t1 (t1)、t2 (t2)、t3 (t3)、t4 (t4)"


def test_background_file_errors_name_the_file(tmp_path):
    _write(tmp_path / "summary.json", '{"documents": 3}')
    bad = _write(tmp_path / "counts.csv", "term,count,documents\n社区,many,3\n")
    with pytest.raises(InputError, match="line 2") as info:
        load_background(bad)
    assert str(info.value).startswith(str(bad))
    background = load_background(PROJECT_ROOT / "data" / "background" / "counts.csv")
    assert 0 < background.documents["经济"] <= background.n_documents == 52


def test_kwic_of_a_concept_shows_every_term_of_it(tmp_path):
    from pipeline.emphases.kwic import concept_terms, run_kwic

    members = concept_terms(LEXICON, "慈善")
    assert {"慈善", "社区慈善基金"} <= set(members) and concept_terms(LEXICON, "charity") == members
    with pytest.raises(InputError, match="no concept"):
        concept_terms(LEXICON, "没有这个概念")
    units = tmp_path / "units.jsonl"
    unit = {"unit_id": "s-1", "doc_id": "s", "place": "苏州市", "text": "设立社区慈善基金。发展慈善。",
            "tokens": ["设立", "社区慈善基金", "发展", "慈善"], "spans": [[0, 2], [2, 8], [9, 11], [11, 13]]}
    units.write_text(json.dumps(unit, ensure_ascii=False) + "\n", encoding="utf-8")
    out = io.StringIO()
    assert run_kwic(units, "慈善", None, 2, out=out, terms=members) == 2
    assert "[社区慈善基金]" in out.getvalue() and "[慈善]" in out.getvalue()


def test_expectations_are_optional_but_a_malformed_set_is_refused(tmp_path):
    from pipeline.emphases.expectations import read_expectations

    assert read_expectations(tmp_path / "none.csv", ("place", "term")).empty
    bad = _write(tmp_path / "set.csv", "place,word\n甲,社区\n")
    with pytest.raises(InputError, match="lacks the column"):
        read_expectations(bad, ("place", "term"))


def test_concept_lists_rank_by_the_shrunk_log_odds_not_by_z():
    """A concept the background uses a lot (share 0.6) that place 甲 uses 40 times and 乙 5, against one the
    background hardly knows that 甲 uses in five sentences and 乙 never: z would put the first ahead (its large
    prior counts as data in z's variance); the shrunk delta puts the second ahead, as the prior intends."""
    params = load_params(PROJECT_ROOT / "params.yaml").emphases.model_copy(update={"bootstrap_samples": 0})
    concepts = Concepts((Concept("generic", "social_forces", "泛", "generic", "test"),
                         Concept("local", "social_forces", "特", "local", "test"),
                         Concept("filler", "social_forces", "填", "filler", "test")),
                        {"generic": "generic", "local": "local", "filler": "filler"})
    units = [_unit(f"甲-{k}", "甲", ["generic"] * 8 + ["local"] + ["filler"] * 11) for k in range(5)]
    units += [_unit(f"乙-{k}", "乙", ["generic"] + ["filler"] * 19) for k in range(5)]
    em = compute_concept_emphases(units, concepts, {"generic": 600, "local": 1, "filler": 399}, params)
    i, generic, local = em.places.index("甲"), em.vocab.index("generic"), em.vocab.index("local")
    assert em.z[i, generic] > em.z[i, local]  # the premise: z prefers the generic concept
    assert em.logodds_key == "delta" and em.delta[i, local] > em.delta[i, generic]
    table, _ = place_concepts_tables(em, concepts, concept_terms_used(units, concepts.term_concept), 2)
    first = table[(table["place"] == "甲") & (table["method"] == "logodds")]
    assert list(first["concept"])[:1] == ["local"]
    with pytest.raises(ValueError, match="rank_by"):
        from pipeline.emphases.tables import compute_emphases
        compute_emphases(units, {}, params, rank_by="q")
