"""The findings text: written from the findings tables, plain, and the README holds exactly what the tables say."""

from __future__ import annotations

import re
from dataclasses import replace

import pandas as pd
import pytest

from pipeline.common.config import PROJECT_ROOT, Paths
from pipeline.report.findings import (
    MAX_ABSTRACT_SENTENCES,
    abstract_sentences,
    findings_markdown,
    replace_section,
    section_of,
)
from pipeline.report.headline import FindingsSettings, Names, build_headline
from pipeline.report.publish import FINDINGS_TABLES, findings_of, lexicon_names, readme_text
from pipeline.report.results import read_table
from pipeline.common.params import load_params

LEXICON = PROJECT_ROOT / "lexicon"
CODE_NAME = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")


@pytest.fixture(scope="module")
def committed():
    """The findings the writer makes of the committed tables, with the project's names and parameters."""
    settings = FindingsSettings.from_params(load_params(PROJECT_ROOT / "params.yaml"))
    tables = {name: read_table(Paths.at().tables / f"{name}.csv") for name in FINDINGS_TABLES}
    head, text = findings_of(Paths.at().tables, lexicon_names(LEXICON), settings)
    return head, text, tables, settings


def test_readme_holds_what_the_findings_writer_makes_of_the_committed_tables(committed):
    """Recomputed here: a README or a table edited by hand, or a writer change never carried into the README,
    fails."""
    _, text, _, _ = committed
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert section_of(readme) == readme_text(text), "README findings differ from what the tables say: run `make results`"
    assert (Paths.at().results / "findings.md").read_text(encoding="utf-8") == text


def test_committed_findings_tables_are_what_the_writer_computes(committed):
    head, _, _, _ = committed
    for name, table in head.tables().items():
        on_disk = read_table(Paths.at().tables / f"{name}.csv")
        assert list(on_disk.columns) == list(table.columns), name
        assert len(on_disk) == len(table), name


def test_abstract_is_at_most_six_plain_sentences_without_code_names(committed):
    head, _, tables, settings = committed
    sentences = abstract_sentences(head, tables, settings)
    assert 1 <= len(sentences) <= MAX_ABSTRACT_SENTENCES == 6
    for sentence in sentences:
        assert not CODE_NAME.search(sentence), sentence
        assert sentence.endswith("."), sentence
    # Every Chinese concept named in the abstract comes with its English gloss in brackets.
    for label, gloss in zip(head.concepts.groupby("place", sort=False).head(1)["label"],
                            head.concepts.groupby("place", sort=False).head(1)["gloss"]):
        assert f"{label} ({gloss})" in " ".join(sentences)


def test_findings_state_each_definition_once(committed):
    _, text, _, _ = committed
    for term in ("**Stresses**", "**Present**", "**Shared**", "**Leads**", "**clear**", "**tie**"):
        assert text.count(term) == 1, term
    # "clearly" is a claim no definition supports.
    assert "clearly" not in text


def test_findings_state_the_footing_first_then_the_concepts_then_what_is_shared(committed):
    _, text, _, _ = committed
    order = [text.index(h) for h in ("### Footing", "### What each article stresses", "### What the articles share",
                                     "### Which dimension leads in each article", "### Definitions")]
    assert order == sorted(order)


def test_a_missing_table_leaves_its_section_out():
    empty = build_headline({}, Names(), FindingsSettings())
    assert findings_markdown(empty, {}, FindingsSettings()) == "\n"
    docs = pd.DataFrame({"doc_id": ["a"], "place": ["甲市"], "level": ["city"], "province": ["乙省"],
                         "genre": ["interview"], "author": [""], "occasion": [""], "source": [""], "date": [""]})
    head = build_headline({"documents": docs}, Names(), FindingsSettings())
    text = findings_markdown(head, {"documents": docs}, FindingsSettings())
    assert text.startswith("The study reads web articles on community governance (社区治理) from 1 place, one article per place")
    assert "### What each article stresses" not in text and "### Footing" in text
    assert "| 甲市 | interview | unknown | unknown | unknown | unknown |" in text


def test_the_caveat_is_written_only_when_every_place_has_one_article():
    docs = pd.DataFrame({"doc_id": ["a", "b"], "place": ["甲市", "乙市"], "level": ["city", "city"],
                         "province": ["丙省", "丁省"], "genre": ["interview", "report"]})
    one = abstract_sentences(build_headline({"documents": docs}, Names(), FindingsSettings()), {"documents": docs},
                             FindingsSettings())
    assert one[-1].startswith("Each place is a single article") and "(interview and report)" in one[-1]
    several = pd.concat([docs, docs.iloc[[0]].assign(doc_id="a2")], ignore_index=True)
    two = abstract_sentences(build_headline({"documents": several}, Names(), FindingsSettings()),
                             {"documents": several}, FindingsSettings())
    assert not any(s.startswith("Each place is a single article") for s in two)
    assert "a few articles per place" in two[0]


def test_the_leads_sentence_counts_verdicts_and_counts_a_tie_at_the_top_as_the_top(committed):
    head, _, tables, settings = committed
    leads = pd.DataFrame({"place": ["甲市", "乙市", "丙市"], "sentences": [10, 10, 10], "leads_with": ["A", "A = B", "B"],
                          "mentioning": [5, 5, 5], "share": [0.5, 0.5, 0.5], "runner_up": ["B", "C", "A"],
                          "runner_up_mentioning": [1, 2, 4], "runner_up_share": [0.1, 0.2, 0.4],
                          "verdict": ["clear", "tie", "within noise"], "leads_with_all": ["A", "A", "B"]})
    sentences = abstract_sentences(replace(head, leads=leads), tables, settings)
    assert any(s.startswith("1 of the 3 articles have a clear lead (1 clear, 1 within noise and 1 tied;")
               and s.endswith("the dimension most often at the top, alone or tied, is A, in 2 of the 3 articles.")
               for s in sentences), sentences
    none_clear = abstract_sentences(replace(head, leads=leads.assign(verdict="within noise")), tables, settings)
    assert any(s.startswith("No article has a clear lead (3 within noise;") for s in none_clear)


def test_replace_section_needs_both_markers():
    doc = "a\n<!-- findings:start -->\nold\n<!-- findings:end -->\nb"
    assert section_of(replace_section(doc, "new\n")) == "new\n"
    with pytest.raises(ValueError, match="findings"):
        replace_section("no markers", "x")


def test_reliability_names_flagged_and_stale_dimensions_and_who_coded(committed):
    head, _, tables, settings = committed
    agreement = pd.DataFrame({"subset": ["all", "all", "study"], "dimension": ["grid_management", "rule_of_law",
                                                                                "rule_of_law"],
                              "coders": [3, 3, 3], "coders_in_all": [6, 6, 6], "sentences": [330, 330, 160], "any_coder_positive": [13, 49, 20],
                              "alpha": [0.97, 0.5, 0.9], "reliable_at": [0.667] * 3, "min_positive": [15] * 3,
                              "reliable": [False, False, True], "lexicon_changed": [False, True, True],
                              "sheet": ["round2"] * 3})
    text = findings_markdown(head, {**tables, "validation_agreement": agreement}, settings)
    line = next(x for x in text.splitlines() if x.startswith("- **Reliability**"))
    assert "6 independent language-model coders (instances of one model, not people" in line
    assert "3 per sentence, coded 330 sentences" in line
    assert "alpha per dimension runs from 0.50 to 0.97" in line
    assert "grid management, rule of law." in line and "fewer than 15 sentences" in line
    assert "The lexicon changed after the coding for rule of law: their validation is stale." in line
    # Flagged dimensions carry a dagger in the tables.
    flagged = build_headline({**tables, "validation_agreement": agreement}, lexicon_names(LEXICON), settings)
    assert all(("†" in d) == d.startswith(("grid management", "rule of law")) for d in flagged.concepts["dimension"])
    none = findings_markdown(head, {k: v for k, v in tables.items() if k != "validation_agreement"}, settings)
    assert "no independent coding of this lexicon's dimensions is on record" in none


def test_the_harm_paragraph_counts_what_the_review_table_flags(committed, tmp_path):
    head, _, tables, settings = committed
    review = pd.DataFrame({"doc_id": ["hefei", "hefei", "suzhou"], "line": ["构建群众自治圈", "<社区>首页", "编辑"],
                           "reason": ["head"] * 3, "top_terms": ["群众自治", "首页", ""],
                           "only_from_line": ["", "首页", ""], "top_lists": ["x", "y", ""]})
    # read back as a run reads it: a column the run left empty comes back as numbers (NaN)
    review.to_csv(tmp_path / "review.csv", index=False)
    text = findings_markdown(head, {**tables, "cleaning_review": read_table(tmp_path / "review.csv")}, settings)
    assert "Of the 3 kept lines listed for review" in text and ", 2 supply a term" in text
    assert "1 of them is the only source" in text
    assert "`<社区>首页` (hefei: 首页)" in text  # the article's own words, in a code span: shown, never markup
    empty = review.assign(top_terms=float("nan"), only_from_line=float("nan"))
    text = findings_markdown(head, {**tables, "cleaning_review": empty}, settings)
    assert "None of the 3 kept lines listed for review" in text
