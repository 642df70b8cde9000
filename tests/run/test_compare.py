"""The comparison behind `make check`: what another machine's regeneration may and may not change.

The committed results stand in for a regeneration: floating-point noise of
the size measured between BLAS kernels must leave the verdict at
"equivalent" and every conclusion unchanged, and a substantive change (one
count, one term, one decimal moved by a percent) must make it "different",
naming the file and the cell.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from hypothesis import given
from hypothesis import strategies as st

from pipeline.common.config import PROJECT_ROOT
from pipeline.report.headline import FindingsSettings
from pipeline.report.publish import findings_of, lexicon_names
from pipeline.run.compare import changed_pixel_share, compare_files, compare_notebooks, compare_trees
from pipeline.run.numbers import TOLERANCE, numbers_close
from pipeline.common.params import load_params

RESULTS = PROJECT_ROOT / "results"
NOTEBOOKS = PROJECT_ROOT / "notebooks"
# The relative size of the noise measured between OpenBLAS kernels when the topic models ran in single precision.
KERNEL_NOISE = 1e-5
DECIMAL = re.compile(r"^-?\d+\.\d+(?:[eE][-+]?\d+)?$")


def _read_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def _write_rows(path: Path, rows: list[list[str]]) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def _perturb_tables(tables: Path, rng: np.random.Generator, size: float) -> int:
    """Multiply every decimal cell of every table by (1 + u), u uniform in [-size, size]; return how many."""
    changed = 0
    for path in sorted(tables.glob("*.csv")):
        rows = _read_rows(path)
        for row in rows[1:]:
            for j, cell in enumerate(row):
                if DECIMAL.match(cell) and float(cell) != 0.0:
                    row[j] = repr(float(cell) * (1.0 + rng.uniform(-size, size)))
                    changed += 1
        _write_rows(path, rows)
    return changed


@pytest.fixture
def results_copy(tmp_path) -> Path:
    copy = tmp_path / "results"
    shutil.copytree(RESULTS, copy, ignore=shutil.ignore_patterns("bench"))
    return copy


def _first_cell(table: Path, column: str, predicate) -> tuple[int, int]:
    rows = _read_rows(table)
    j = rows[0].index(column)
    i = next(i for i, row in enumerate(rows[1:], start=1) if predicate(row[j]))
    return i, j


# --- the number rule --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("expected, actual, close", [
    ("0.0215355", "0.0215356", True),     # noise in the 6th significant digit
    ("86.674", "86.6738", True),
    ("9.35293", "9.47892", False),        # 1.3%: a rank that moved, not noise
    ("0.329", "0.330", False),            # 0.3%: a table's decimal, not rounded for reading
    ("12", "13", False),                  # integers are exact
    ("2", "2.0", False),                  # an integer never equals a decimal
    ("nan", "nan", True),
    ("nan", "0.1", False),
    ("1e-13", "-1e-13", True),            # both zero up to the rounding of a sum
    ("1e-10", "2e-10", False),            # small, but not zero
])
def test_numbers_close_on_printed_values(expected, actual, close):
    assert numbers_close(expected, actual) is close


@pytest.mark.parametrize("expected, actual, close", [
    ("0.329", "0.330", True),             # one unit of the last digit: 0.32949 and 0.32951
    ("-0.5501", "-0.5502", True),
    ("0.329", "0.331", False),            # two units
    ("0.5", "0.6", True),                 # rounded to one decimal, still one unit
    ("1.0", "1.0625", False),             # not rounded alike: the relative tolerance decides
])
def test_numbers_rounded_for_reading_may_differ_in_their_last_digit(expected, actual, close):
    assert numbers_close(expected, actual, last_digit=True) is close


def test_a_decimal_column_reads_integer_looking_cells_as_decimals():
    # %.6g prints 1.0 as "1": in a column of decimals it is a decimal.
    assert numbers_close("1", "0.999999", as_decimals=True)
    assert not numbers_close("1", "0.999999")
    table = "share\n0.5\n1\n"
    assert compare_files("t.csv", table.encode(), table.replace("\n1\n", "\n0.999999\n").encode()).verdict == "equivalent"
    counts = "count\n5\n1\n"
    assert compare_files("t.csv", counts.encode(), counts.replace("\n1\n", "\n2\n").encode()).verdict == "different"


@given(st.floats(min_value=1e-6, max_value=1e6), st.floats(min_value=-KERNEL_NOISE, max_value=KERNEL_NOISE),
       st.booleans())
def test_kernel_noise_is_within_the_tolerance(x, eps, negative):
    x = -x if negative else x
    assert numbers_close(repr(x), repr(x * (1.0 + eps)))


@given(st.floats(min_value=1e-6, max_value=1e6), st.floats(min_value=10 * TOLERANCE.rtol, max_value=0.5))
def test_a_change_beyond_the_tolerance_is_not_close(x, eps):
    assert not numbers_close(repr(x), repr(x * (1.0 + eps)))


# --- the committed results under noise and under a planted change ------------------------------------------------

def test_committed_results_are_identical_to_themselves():
    found = compare_trees(RESULTS, RESULTS).merge(compare_notebooks(NOTEBOOKS, NOTEBOOKS))
    assert found.verdict == "identical"
    assert found.files > 40


def test_kernel_noise_in_every_table_is_equivalent_and_changes_no_finding(results_copy, tmp_path):
    changed = _perturb_tables(results_copy / "tables", np.random.default_rng(20261207), KERNEL_NOISE)
    assert changed > 500  # the tables hold hundreds of decimals; the test must touch them
    found = compare_trees(RESULTS, results_copy)
    assert found.verdict == "equivalent", found.report()
    assert len(found.drifts) >= changed * 0.9  # a few cells keep their printed value after rounding
    assert found.largest.relative <= KERNEL_NOISE * 1.01
    assert "equivalent" in found.report() and "largest relative difference" in found.report()
    # The findings are written from the tables: noise must not change a word or a number of them.
    settings = FindingsSettings.from_params(load_params(PROJECT_ROOT / "params.yaml"))
    _, findings = findings_of(results_copy / "tables", lexicon_names(PROJECT_ROOT / "lexicon"), settings)
    assert findings == (RESULTS / "findings.md").read_text(encoding="utf-8")


def test_a_planted_count_makes_the_check_fail_naming_file_and_cell(results_copy):
    table = results_copy / "tables" / "place_terms.csv"
    i, j = _first_cell(table, "count", lambda v: v.isdigit() and int(v) > 1)
    rows = _read_rows(table)
    column = rows[0][j]
    rows[i][j] = str(int(rows[i][j]) + 1)
    _write_rows(table, rows)
    found = compare_trees(RESULTS, results_copy)
    assert found.verdict == "different"
    [difference] = found.differences
    assert difference.file == "tables/place_terms.csv"
    assert difference.where == f"row {i}, column {column}"
    assert f"tables/place_terms.csv, row {i}, column {column}" in found.report()


def test_a_swapped_term_and_a_moved_decimal_are_different(results_copy):
    table = results_copy / "tables" / "topics.csv"
    rows = _read_rows(table)
    header = rows[0]
    term, weight = header.index("term"), header.index("weight")
    rows[1][term], rows[2][term] = rows[2][term], rows[1][term]
    rows[3][weight] = repr(float(rows[3][weight]) * 1.01)
    _write_rows(table, rows)
    found = compare_trees(RESULTS, results_copy)
    assert found.verdict == "different"
    assert {d.where for d in found.differences} == {"row 1, column term", "row 2, column term",
                                                     "row 3, column weight"}


def test_numbers_inside_text_cells_follow_the_number_rule(tmp_path):
    header = "topic,evidence\n"
    a = header + '1,"share [95% CI] by place: 淮南市 0.60 [0.31, 0.82]"\n'
    within = header + '1,"share [95% CI] by place: 淮南市 0.61 [0.31, 0.82]"\n'
    beyond = header + '1,"share [95% CI] by place: 淮南市 0.62 [0.31, 0.82]"\n'
    place = header + '1,"share [95% CI] by place: 安徽省 0.60 [0.31, 0.82]"\n'
    assert compare_files("tables/x.csv", a.encode(), within.encode()).verdict == "equivalent"
    assert compare_files("tables/x.csv", a.encode(), beyond.encode()).verdict == "different"
    assert compare_files("tables/x.csv", a.encode(), place.encode()).verdict == "different"


def test_the_findings_are_compared_to_the_byte(results_copy):
    """A share in the findings one percentage point off is a different finding, not noise."""
    path = results_copy / "findings.md"
    text = path.read_text(encoding="utf-8")
    number = re.search(r"\| (\d+)% \|", text)
    assert number, "the findings print at least one percentage in a table"
    nudged = f"| {int(number.group(1)) + 1}% |"
    path.write_text(text[: number.start()] + nudged + text[number.end():], encoding="utf-8")
    found = compare_trees(RESULTS, results_copy)
    assert found.verdict == "different"
    assert [d.file for d in found.differences] == ["findings.md"]


# --- pages, notebooks, the manifest and figures -------------------------------------------------------------------

def _png(width: int, height: int, fill: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    raw = b"".join(b"\x00" + bytes([fill]) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_figures_are_judged_by_size_and_through_their_tables():
    same_size = compare_files("figures/a.png", _png(4, 3, 0), _png(4, 3, 255))
    assert same_size.verdict == "equivalent" and same_size.figures == ["figures/a.png"]
    assert compare_files("figures/a.png", _png(4, 3, 0), _png(5, 3, 0)).verdict == "different"


def _drawn(width: int = 100, height: int = 100, changed: int = 0) -> bytes:
    """A white PNG with `changed` pixels black (from the top left)."""
    image = Image.new("RGB", (width, height), "white")
    for i in range(changed):
        image.putpixel((i % width, i // width), (0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _tree(root, table: str, figure: bytes):
    (root / "tables").mkdir(parents=True)
    (root / "figures").mkdir()
    (root / "tables" / "t.csv").write_text(table, encoding="utf-8")
    (root / "figures" / "f.png").write_bytes(figure)
    return root


def test_a_figure_changed_while_every_table_is_unchanged_is_a_difference(tmp_path):
    committed = _tree(tmp_path / "a", "k,v\n2,0.5\n", _drawn())
    edited = _tree(tmp_path / "b", "k,v\n2,0.5\n", _drawn(changed=200))  # 2% of the pixels
    found = compare_trees(committed, edited)
    assert found.verdict == "different"
    assert [(d.file, d.actual) for d in found.differences] == [("figures/f.png", "2.00% of its pixels changed")]
    # antialiasing noise (at most FIGURE_NOISE of the pixels) stays equivalent
    assert compare_trees(committed, _tree(tmp_path / "c", "k,v\n2,0.5\n", _drawn(changed=10))).verdict == "equivalent"
    # a file that no longer decodes is a difference
    broken = _tree(tmp_path / "d", "k,v\n2,0.5\n", _drawn()[:60])
    assert [d.actual for d in compare_trees(committed, broken).differences] == ["a file that does not decode"]


def test_a_figure_drawn_from_numbers_within_the_tolerance_may_differ_in_its_pixels(tmp_path):
    committed = _tree(tmp_path / "a", "k,v\n2,0.5\n", _drawn())
    elsewhere = _tree(tmp_path / "b", "k,v\n2,0.5000000001\n", _drawn(changed=2000))
    found = compare_trees(committed, elsewhere)
    assert found.verdict == "equivalent" and found.figures == ["figures/f.png"]


def test_changed_pixel_share_counts_pixels_not_bytes():
    assert changed_pixel_share(_drawn(), _drawn()) == 0.0
    assert changed_pixel_share(_drawn(), _drawn(changed=50)) == 0.005
    assert changed_pixel_share(_drawn(), _drawn(width=50)) is None
    assert changed_pixel_share(b"not a png", _drawn()) is None


def test_pages_compare_numbers_within_tolerance_and_images_through_tables():
    page = '<p>K=2, mean stability 0.346</p><img src="data:image/png;base64,{}"><style>@font-face{{src:url(data:font/woff2;base64,{})}}</style>'
    a = page.format("AAAA", "Zm9udA==")
    assert compare_files("report.html", a.encode(), a.replace("0.346", "0.347").encode()).verdict == "equivalent"
    assert compare_files("report.html", a.encode(), a.replace("AAAA", "BBBB").encode()).verdict == "equivalent"
    assert compare_files("report.html", a.encode(), a.replace("K=2", "K=3").encode()).verdict == "different"
    assert compare_files("report.html", a.encode(), a.replace("Zm9udA==", "Zm9udB==").encode()).verdict == "different"
    assert compare_files("report.html", a.encode(), a.replace("stability", "coherence").encode()).verdict == "different"


def test_notebook_images_and_noise_are_equivalent_but_a_changed_word_is_not():
    notebook = (NOTEBOOKS / "03_shared_themes.ipynb").read_bytes()
    data = json.loads(notebook)
    images = [output["data"] for cell in data["cells"] for output in cell.get("outputs", [])
              if any(mime.startswith("image/") for mime in output.get("data", {}))]
    assert images, "notebook 03 draws figures"
    for bundle in images:
        for mime in bundle:
            if mime.startswith("image/"):
                bundle[mime] = "iVBORw0KGgo="
    redrawn = json.dumps(data, ensure_ascii=False, indent=1).encode()
    assert compare_files("notebooks/03.ipynb", notebook, redrawn).verdict == "equivalent"
    reworded = notebook.decode("utf-8").replace("topic", "tpoic", 1).encode()
    assert compare_files("notebooks/03.ipynb", notebook, reworded).verdict == "different"


def test_the_manifest_leaves_out_the_checkout_and_file_digests_but_not_the_summary():
    manifest = json.loads((RESULTS / "manifest.json").read_text(encoding="utf-8"))
    other = json.loads(json.dumps(manifest))
    other["git"] = {"source_commit": "0" * 40}
    first_output = next(iter(other["outputs"]))
    other["outputs"][first_output] = "f" * 64
    other["manifest_sha256"] = "e" * 64
    encode = lambda m: json.dumps(m, ensure_ascii=False, indent=1).encode()  # noqa: E731
    assert compare_files("manifest.json", encode(manifest), encode(other)).verdict == "identical"
    other["summary"]["themes"]["chosen_k"] += 1
    assert compare_files("manifest.json", encode(manifest), encode(other)).verdict == "different"
    other["summary"]["themes"]["chosen_k"] -= 1
    other["fingerprint"] = "0" * 64
    [stale] = compare_files("manifest.json", encode(manifest), encode(other)).differences
    assert stale.where.startswith("fingerprint") and "other inputs" in stale.where


def test_missing_and_extra_files_are_named(results_copy):
    (results_copy / "tables" / "topics.csv").unlink()
    (results_copy / "tables" / "new.csv").write_text("a\n1\n", encoding="utf-8")
    found = compare_trees(RESULTS, results_copy)
    assert found.verdict == "different"
    assert {(d.file, d.actual) for d in found.differences} == {("tables/topics.csv", "missing"),
                                                               ("tables/new.csv", "present")}


def test_the_readme_states_the_tolerance_in_force():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    stated = re.search(r"relative \*\*([0-9.e-]+)\*\* \(absolute ([0-9.e-]+)\)", readme)
    assert stated, "the README states the tolerance of make check"
    assert (float(stated.group(1)), float(stated.group(2))) == (TOLERANCE.rtol, TOLERANCE.atol)
