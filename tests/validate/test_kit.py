"""The validation kit end to end: a sheet written blind for coders, scored as every run scores it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pipeline.common.config import PROJECT_ROOT, Paths
from pipeline.common.io import read_jsonl
from pipeline.report.codebook import START
from pipeline.report.results import read_table
from pipeline.report.validation import dictionary_codes
from pipeline.text.lexicon import load_lexicon
from pipeline.validate.kit import score_all, score_sheets, write_sheet
from pipeline.validate.sheet import lexicon_digests

LEXICON = load_lexicon(PROJECT_ROOT / "lexicon" / "governance_terms.csv")


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kit") / "sheet"
    sample = write_sheet(PROJECT_ROOT, folder, [PROJECT_ROOT / "tests" / "heldout_c"], {"study": 20, "heldout": 20},
                         0.3, 11, "governance_frame")
    return folder, sample


def test_the_coders_files_show_no_dictionary_output(drawn):
    folder, sample = drawn
    assert list(pd.read_csv(folder / "sheet.csv").columns) == ["sentence_id", "sentence"]
    codebook = (folder / "codebook_for_coders.md").read_text(encoding="utf-8")
    assert START not in codebook and "left out of the coders' copy" in codebook
    assert "strict majority" in (folder / "INSTRUCTIONS.md").read_text(encoding="utf-8")
    record = json.loads((folder / "sheet.json").read_text(encoding="utf-8"))
    assert record["lexicon_digests"] == lexicon_digests(LEXICON) and record["random_state"] == 11
    assert record["drawn"] == {"study": 20, "heldout": 20} and len(sample) == 40
    assert "governance_frame" not in record["dimensions"]


def test_coders_who_agree_score_alpha_one_and_a_third_coder_who_differs_lowers_it(drawn):
    folder, sample = drawn
    dims = json.loads((folder / "sheet.json").read_text(encoding="utf-8"))["dimensions"]
    found = dictionary_codes(sample["sentence"], LEXICON)
    codes = pd.DataFrame([[int(d in f) for d in dims] for f in found], columns=dims)
    codes.insert(0, "sentence_id", sample["sentence_id"])
    for coder in ("a", "b"):
        codes.to_csv(folder / f"coder_{coder}.csv", index=False)
    tables = score_sheets([folder], LEXICON)
    varied = tables["validation_agreement"].query("subset == 'all'").dropna(subset=["alpha"])
    assert len(varied) and (varied["alpha"] == 1.0).all()
    # The dictionary scored against codes that are its own output: perfect wherever it found anything.
    scored = tables["validation_dictionary"].query("subset == 'all' and dictionary > 0")
    assert (scored["precision"] == 1.0).all() and (scored["recall"] == 1.0).all()
    other = codes.copy()
    column = varied["dimension"].iloc[0]
    other[column] = 1 - other[column]
    other.to_csv(folder / "coder_c.csv", index=False)
    again = score_sheets([folder], LEXICON)["validation_agreement"].set_index(["subset", "dimension"])
    assert again.loc[("all", column), "alpha"] < 1.0
    for coder in ("a", "b", "c"):
        (folder / f"coder_{coder}.csv").unlink()


def test_every_run_scores_the_committed_sheets_as_the_committed_tables_hold():
    paths = Paths.at()
    tables = score_all(paths.validation, LEXICON, paths.tables, read_jsonl(paths.units_jsonl))
    assert set(tables) == {"validation_agreement", "validation_dictionary", "validation_topics"}
    for name, table in tables.items():
        committed = read_table(paths.tables / f"{name}.csv")
        assert list(committed.columns) == list(table.columns), name
        assert len(committed) == len(table), name
        numeric = table.select_dtypes("number").columns
        np.testing.assert_allclose(committed[numeric].to_numpy(float), table[numeric].to_numpy(float),
                                   rtol=1e-5, equal_nan=True, err_msg=name)
    agreement = tables["validation_agreement"].query("subset == 'all'")
    assert (agreement["coders"] >= 2).all() and (agreement["sentences"] >= 300).all()
    drawn = pd.read_csv(paths.validation / "round2" / "sample.csv")
    assert (drawn["source"] == "heldout").sum() * 2 >= len(drawn)  # at least half from held-out pages


def test_a_folder_with_fewer_than_two_coders_is_not_scored(tmp_path):
    (tmp_path / "one").mkdir()
    (tmp_path / "one" / "sheet.json").write_text("{}", encoding="utf-8")
    (tmp_path / "one" / "coder_a.csv").write_text("sentence_id\n", encoding="utf-8")
    assert score_all(tmp_path, LEXICON, tmp_path, None) == {}


def test_the_command_refuses_to_draw_over_a_sheet_coders_may_have_started(capsys):
    from pipeline.cli import main

    assert main(["validate", "sheet", "--dir", str(PROJECT_ROOT / "data" / "validation" / "round2")]) == 2
    assert "a sheet is already drawn here" in capsys.readouterr().err


def test_the_score_command_writes_beside_the_sheet_and_prints_alpha(tmp_path, capsys):
    import shutil

    from pipeline.cli import main

    folder = tmp_path / "round2"
    shutil.copytree(PROJECT_ROOT / "data" / "validation" / "round2", folder)
    assert main(["validate", "score", "--dir", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "Krippendorff's alpha by dimension" in out and "party_leadership" in out
    assert (folder / "scores" / "validation_agreement.csv").exists()
