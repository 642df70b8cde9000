"""Compare two results folders by what they say, not only by their bytes.

On the machine that wrote the committed results a regeneration is byte for
byte the same. Elsewhere (another CPU, another BLAS kernel, another
architecture) floating-point sums can end in other last bits, so the
comparison works at three levels:

* **identical**: every file has the same bytes;
* **equivalent**: some files differ, but only in floating-point numbers that
  lie within `TOLERANCE` of each other (numbers rounded for reading, as in a
  page or a sentence, may also differ by one unit of their last digit), and
  in figures drawn from those numbers; every text cell,
  every integer and so every conclusion (term and concept lists and their
  ranks, chosen K, found dimensions, labels, leads, the findings text) is the
  same;
* **different**: anything else, reported cell by cell.

How each kind of file is read:

* tables (`.csv`): cell by cell. Integers must be equal and two decimal
  numbers close (`numbers_close`); text must be equal word for word, and a
  number written inside it (a share, an interval in an evidence column)
  follows the same rule as a number in its own cell.
* `findings.md`: byte for byte, since every number printed there is a finding.
* pages, notebooks and the run manifest (`.html`, `.ipynb`, `.json`): as text
  in which every number is a token. The text between numbers must be equal,
  integers must be equal, decimals must be close (`numbers_close` with
  `last_digit`). Embedded images are judged
  through the tables they are drawn from; the manifest's digests of the output
  files and its `git` block are left out (the files themselves are compared,
  and a clone may lack the commit).
* figures (`.png`): the same pixel size; their pixels are drawn from the
  tables, which are compared. When every other file has the same bytes, a
  figure is drawn from the same numbers, so its pixels must match too, but
  for antialiasing noise: more than `FIGURE_NOISE` of them changed (or a file
  that no longer decodes) is a difference, the sign of a figure edited or
  drawn by other code.
* everything else (cleaned texts, tokens, counts, the R exports): byte for byte.

The tolerance and the rule for numbers are `pipeline.run.numbers`, quoted in the README.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Literal

from pipeline.run.numbers import TOLERANCE, Tolerance, is_integer, is_number, numbers_close, relative_difference

__all__ = ["Comparison", "Difference", "Drift", "changed_pixel_share", "compare_files", "compare_notebooks",
           "compare_trees", "FIGURE_NOISE", "NOT_REGENERATED", "EXACT_NAMES", "MANIFEST_SKIPPED", "MANIFEST_KEYS_ONLY", "FINGERPRINT", "REPORT_LIMIT",
           "Verdict"]

# Folders under results/ that a study run does not produce (the benchmark writes them).
NOT_REGENERATED = ("bench",)
# Files compared byte for byte even though they hold decimals: every number in them is a finding.
EXACT_NAMES = ("findings.md",)
# The manifest's keys that describe the checkout or repeat what the files say.
MANIFEST_SKIPPED = ("git", "manifest_sha256")
MANIFEST_KEYS_ONLY = ("outputs",)
FINGERPRINT = "fingerprint"
# How many differences a report prints before it summarises the rest.
REPORT_LIMIT = 12
# The share of a figure's pixels that may differ when every table it could be
# drawn from has the same bytes: room for a rasteriser that antialiases an edge
# otherwise on another architecture (a few hundred pixels of a figure of about
# a million), far below what a changed bar, label or line moves.
FIGURE_NOISE = 0.001

Verdict = Literal["identical", "equivalent", "different"]


_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.])")
_DATA_URI = re.compile(r"data:([\w/+.-]+);base64,([A-Za-z0-9+/=]+)")


@dataclass(frozen=True)
class Difference:
    """One substantive difference: a file, where in it, and the two values."""

    file: str
    where: str
    expected: str
    actual: str

    def __str__(self) -> str:
        return f"{self.file}, {self.where}: {_clip(self.expected)!r} -> {_clip(self.actual)!r}"


@dataclass(frozen=True)
class Drift:
    """One pair of decimal numbers that differ within the tolerance."""

    file: str
    where: str
    expected: str
    actual: str
    relative: float


@dataclass
class Comparison:
    """What a comparison of two results folders found."""

    files: int = 0
    differences: list[Difference] = field(default_factory=list)
    drifts: list[Drift] = field(default_factory=list)
    # Files whose bytes differ but whose content is within the tolerance.
    equivalent_files: list[str] = field(default_factory=list)
    # Figures whose pixels differ at the same size (judged through their tables).
    figures: list[str] = field(default_factory=list)
    tolerance: Tolerance = TOLERANCE

    @property
    def verdict(self) -> Verdict:
        if self.differences:
            return "different"
        return "equivalent" if self.equivalent_files else "identical"

    @property
    def largest(self) -> Drift | None:
        return max(self.drifts, key=lambda d: d.relative, default=None)

    def merge(self, other: "Comparison") -> "Comparison":
        return Comparison(self.files + other.files, self.differences + other.differences,
                          self.drifts + other.drifts, self.equivalent_files + other.equivalent_files,
                          self.figures + other.figures, self.tolerance)

    def report(self, limit: int = REPORT_LIMIT) -> str:
        """The verdict and its evidence as lines a reader can act on."""
        tol = self.tolerance
        rule = (f"decimals within a relative {tol.rtol:g} (absolute {tol.atol:g}), numbers rounded for reading "
                "within one unit of their last digit; text, integers and the findings exactly")
        if self.verdict == "identical":
            return (f"identical: all {self.files} files have the same bytes (the run manifest's checkout block "
                    "and file digests aside).")
        lines = []
        if self.verdict == "different":
            lines.append(f"different: {len(self.differences)} difference(s) beyond the tolerance ({rule}):")
            lines += [f"  {d}" for d in self.differences[:limit]]
            if len(self.differences) > limit:
                files = sorted({d.file for d in self.differences})
                lines.append(f"  ... and {len(self.differences) - limit} more, in: {', '.join(files)}")
        else:
            lines.append(f"equivalent: {len(self.equivalent_files)} of {self.files} files differ in their bytes, "
                         f"all within the tolerance ({rule}); every conclusion is the same.")
        if self.drifts:
            top = self.largest
            by_file: dict[str, int] = {}
            for d in self.drifts:
                by_file[d.file] = by_file.get(d.file, 0) + 1
            lines.append(f"  largest relative difference {top.relative:.2g}: {top.file}, {top.where} "
                         f"({top.expected} -> {top.actual})")
            lines.append(f"  {len(self.drifts)} numbers differ within the tolerance, in {len(by_file)} files: "
                         + ", ".join(f"{name} ({n})" for name, n in sorted(by_file.items())))
        if self.figures:
            lines.append(f"  {len(self.figures)} figures differ in their pixels at the same size (drawn from the "
                         f"compared tables): {', '.join(sorted(self.figures))}")
        return "\n".join(lines)


def _clip(text: str, width: int = 80) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _compare_cell(name: str, where: str, a: str, b: str, out: Comparison, tol: Tolerance,
                  decimal_column: bool = False) -> None:
    if a == b:
        return
    if is_number(a) and is_number(b):
        # A decimal column prints 1.0 as "1" (%.6g), so its integer-looking cells are decimals too.
        if numbers_close(a, b, tol, as_decimals=decimal_column):
            out.drifts.append(Drift(name, where, a, b, relative_difference(float(a), float(b))))
        else:
            out.differences.append(Difference(name, where, a, b))
        return
    # Text: its words exactly, the numbers written into it (an interval, a share) by the number rule.
    inner = _compare_text(name, a, b, tol)
    out.drifts += [Drift(name, where, d.expected, d.actual, d.relative) for d in inner.drifts]
    if inner.differences:
        out.differences.append(Difference(name, where, a, b))


def _compare_csv(name: str, a: bytes, b: bytes, tol: Tolerance) -> Comparison:
    out = Comparison(tolerance=tol)
    rows_a = list(csv.reader(io.StringIO(a.decode("utf-8"))))
    rows_b = list(csv.reader(io.StringIO(b.decode("utf-8"))))
    if not rows_a or not rows_b or rows_a[0] != rows_b[0]:
        out.differences.append(Difference(name, "header", ",".join(rows_a[0] if rows_a else []),
                                          ",".join(rows_b[0] if rows_b else [])))
        return out
    header = rows_a[0]
    decimal_columns = {j for rows in (rows_a, rows_b) for row in rows[1:] for j, cell in enumerate(row)
                       if is_number(cell) and not is_integer(cell)}
    if len(rows_a) != len(rows_b):
        out.differences.append(Difference(name, "number of rows", str(len(rows_a) - 1), str(len(rows_b) - 1)))
    for i, (ra, rb) in enumerate(zip(rows_a[1:], rows_b[1:]), start=1):
        if len(ra) != len(rb):
            out.differences.append(Difference(name, f"row {i}", ",".join(ra), ",".join(rb)))
            continue
        for j, (col, x, y) in enumerate(zip(header, ra, rb)):
            _compare_cell(name, f"row {i}, column {col}", x, y, out, tol, decimal_column=j in decimal_columns)
    return out


def _normalise_data_uris(text: str) -> str:
    """Embedded images become a placeholder (judged through their tables); other
    embedded files (fonts) keep a digest of their bytes, so they must be equal."""
    def repl(match: re.Match) -> str:
        mime, payload = match.group(1), match.group(2)
        if mime.startswith("image/"):
            return f"data:{mime};embedded-image"
        return f"data:{mime};sha256={hashlib.sha256(payload.encode()).hexdigest()}"
    return _DATA_URI.sub(repl, text)


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _compare_text(name: str, a: str, b: str, tol: Tolerance) -> Comparison:
    """Text with numbers: the parts between numbers equal, the numbers close."""
    out = Comparison(tolerance=tol)
    nums_a, nums_b = list(_NUMBER.finditer(a)), list(_NUMBER.finditer(b))
    skeleton_a, skeleton_b = _NUMBER.split(a), _NUMBER.split(b)
    if len(nums_a) != len(nums_b) or skeleton_a != skeleton_b:
        # Find the first place where the text (numbers aside) parts company.
        for i, (x, y) in enumerate(zip(skeleton_a, skeleton_b)):
            if x != y:
                at = nums_a[i - 1].end() if i and i - 1 < len(nums_a) else 0
                k = next((j for j, (c, d) in enumerate(zip(x, y)) if c != d), min(len(x), len(y)))
                out.differences.append(Difference(name, f"line {_line_of(a, at + k)} (text)",
                                                  x[max(0, k - 30): k + 50], y[max(0, k - 30): k + 50]))
                return out
        out.differences.append(Difference(name, "text", f"{len(nums_a)} numbers", f"{len(nums_b)} numbers"))
        return out
    for ma, mb in zip(nums_a, nums_b):
        x, y = ma.group(0), mb.group(0)
        if x == y:
            continue
        where = f"line {_line_of(a, ma.start())}, near {a[max(0, ma.start() - 30): ma.start()]!r}"
        if numbers_close(x, y, tol, last_digit=True):
            out.drifts.append(Drift(name, where, x, y, relative_difference(float(x), float(y))))
        else:
            out.differences.append(Difference(name, where, x, y))
    return out


def _manifest_text(data: bytes) -> str:
    manifest = json.loads(data.decode("utf-8"))
    manifest.pop(FINGERPRINT, None)  # compared on its own, with a message of its own
    for key in MANIFEST_SKIPPED:
        manifest.pop(key, None)
    for key in MANIFEST_KEYS_ONLY:
        if isinstance(manifest.get(key), dict):
            manifest[key] = sorted(manifest[key])
    return json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True)


def _notebook_text(data: bytes) -> str:
    """A notebook as text, its image outputs replaced by a placeholder."""
    notebook = json.loads(data.decode("utf-8"))
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            bundle = output.get("data", {})
            for mime in bundle:
                if mime.startswith("image/"):
                    bundle[mime] = "embedded-image"
    return _normalise_data_uris(json.dumps(notebook, ensure_ascii=False, indent=1, sort_keys=True))


def _png_size(data: bytes) -> tuple[int, int] | None:
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


def compare_files(name: str, a: bytes, b: bytes, tol: Tolerance = TOLERANCE) -> Comparison:
    """Compare one file of the committed results (`a`) with its regeneration (`b`)."""
    found = Comparison(files=1, tolerance=tol)
    if a == b:
        return found
    base = Path(name).name
    suffix = Path(name).suffix.lower()
    if base in EXACT_NAMES:
        found = found.merge(_compare_text_exact(name, a, b))
    elif suffix == ".csv":
        found = found.merge(_compare_csv(name, a, b, tol))
    elif base == "manifest.json":
        prints = [json.loads(x.decode("utf-8")).get(FINGERPRINT) for x in (a, b)]
        if prints[0] != prints[1]:
            found.differences.append(Difference(
                name, "fingerprint (a hash of the code, data, parameters and package versions): the committed "
                "results were made from other inputs", str(prints[0]), str(prints[1])))
        text_a, text_b = _manifest_text(a), _manifest_text(b)
        if text_a == text_b and not found.differences:
            return found  # only the checkout or the digests differ: the same results
        found = found.merge(_compare_text(name, text_a, text_b, tol))
    elif suffix == ".ipynb":
        found = found.merge(_compare_text(name, _notebook_text(a), _notebook_text(b), tol))
    elif suffix in (".html", ".json"):
        found = found.merge(_compare_text(name, _normalise_data_uris(a.decode("utf-8")),
                                          _normalise_data_uris(b.decode("utf-8")), tol))
    elif suffix == ".png":
        size_a, size_b = _png_size(a), _png_size(b)
        if size_a is None or size_a != size_b:
            found.differences.append(Difference(name, "pixel size", str(size_a), str(size_b)))
        else:
            found.figures.append(name)
    else:
        found = found.merge(_compare_text_exact(name, a, b))
    if not found.differences:
        found.equivalent_files.append(name)
    return found


def _compare_text_exact(name: str, a: bytes, b: bytes) -> Comparison:
    out = Comparison()
    try:
        ta, tb = a.decode("utf-8"), b.decode("utf-8")
    except UnicodeDecodeError:
        out.differences.append(Difference(name, "bytes", f"{len(a)} bytes", f"{len(b)} bytes"))
        return out
    la, lb = ta.splitlines(), tb.splitlines()
    line = next((i for i, (x, y) in enumerate(zip(la, lb)) if x != y), min(len(la), len(lb)))
    out.differences.append(Difference(name, f"line {line + 1}", la[line] if line < len(la) else "(end)",
                                      lb[line] if line < len(lb) else "(end)"))
    return out


def _files(folder: Path) -> set[str]:
    if not folder.exists():
        return set()
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if p.is_file() and p.relative_to(folder).parts[0] not in NOT_REGENERATED}


def _compare_named(pairs: Iterable[tuple[str, Path, Path]], tol: Tolerance) -> Comparison:
    out = Comparison(tolerance=tol)
    for name, a, b in pairs:
        out = out.merge(compare_files(name, a.read_bytes(), b.read_bytes(), tol))
    return out


def compare_trees(expected: Path, actual: Path, tol: Tolerance = TOLERANCE) -> Comparison:
    """Compare the committed results folder `expected` with a regeneration `actual`.

    Parameters
    ----------
    expected, actual : Path
        Two results folders (the `bench/` folder, which a study run does not
        write, is left out).
    tol : Tolerance
        When two decimals count as the same result.

    Returns
    -------
    Comparison
        Its `verdict` is "identical", "equivalent" or "different"; `report()`
        says what differs, where, and by how much.
    """
    want, have = _files(expected), _files(actual)
    out = _compare_named(((name, expected / name, actual / name) for name in sorted(want & have)), tol)
    out.differences += [Difference(name, "file", "present", "missing") for name in sorted(want - have)]
    out.differences += [Difference(name, "file", "absent", "present") for name in sorted(have - want)]
    if out.figures and not out.differences and set(out.equivalent_files) <= set(out.figures):
        # Nothing a figure is drawn from changed: its pixels may differ only by antialiasing noise.
        for name in out.figures:
            changed = changed_pixel_share((expected / name).read_bytes(), (actual / name).read_bytes())
            if changed is None or changed > FIGURE_NOISE:
                out.differences.append(Difference(
                    name, "pixels, every other file unchanged", "the committed figure",
                    "a file that does not decode" if changed is None else f"{changed:.2%} of its pixels changed"))
    return out


def changed_pixel_share(a: bytes, b: bytes) -> float | None:
    """The share of pixels that differ between two PNG images of one size (None when either does not decode).

    Parameters
    ----------
    a, b : bytes
        Two PNG files.

    Returns
    -------
    float or None
        Between 0 and 1; None for a file Pillow cannot decode, or images of different sizes.
    """
    # Pillow is loaded only when two figures' pixels are compared
    import numpy as np
    from PIL import Image

    try:
        with Image.open(io.BytesIO(a)) as image_a, Image.open(io.BytesIO(b)) as image_b:
            pixels_a, pixels_b = np.asarray(image_a.convert("RGBA")), np.asarray(image_b.convert("RGBA"))
    except (OSError, ValueError, SyntaxError):  # Pillow's errors for truncated, corrupt or unknown files
        return None
    if pixels_a.shape != pixels_b.shape:
        return None
    return float((pixels_a != pixels_b).any(axis=-1).mean())


def compare_notebooks(expected: Path, actual: Path, tol: Tolerance = TOLERANCE) -> Comparison:
    """Compare each executed notebook in `actual` with the committed one of the same name in `expected`.

    Parameters
    ----------
    expected : Path
        The folder of the committed notebooks.
    actual : Path
        The folder of the freshly executed notebooks.
    tol : Tolerance, optional
        When two printed decimals count as the same result.

    Returns
    -------
    Comparison
        The differences found; an executed notebook without a committed one is a difference.
    """
    pairs = []
    out = Comparison(tolerance=tol)
    for executed in sorted(actual.glob("*.ipynb")):
        committed = expected / executed.name
        if not committed.exists():
            out.differences.append(Difference(f"notebooks/{executed.name}", "file", "absent", "present"))
            continue
        pairs.append((f"notebooks/{executed.name}", committed, executed))
    return out.merge(_compare_named(pairs, tol))
