"""The report a scholar opens first: findings before appendices, and light enough to open anywhere."""

from __future__ import annotations

import re

from pipeline.common.config import Paths

REPORT = Paths.at().results / "report.html"
MAX_BYTES = 2_000_000


def test_the_report_weighs_under_two_megabytes():
    size = REPORT.stat().st_size
    assert size < MAX_BYTES, f"results/report.html is {size / 1e6:.2f} MB; figures and the font must fit in 2 MB"


def test_the_report_opens_with_its_title_and_findings_and_holds_the_findings_text():
    page = REPORT.read_text(encoding="utf-8")
    headings = [re.sub(r"<[^>]+>|¶", "", h).strip() for h in re.findall(r"<h[12][^>]*>(.*?)</h[12]>", page, re.S)]
    assert headings[0].startswith("Community governance (社区治理)")
    assert headings[1] == "Findings"
    assert headings.index("Appendices") < next(i for i, h in enumerate(headings) if h.startswith("Appendix 1:"))
    findings = (Paths.at().results / "findings.md").read_text(encoding="utf-8")
    first_sentence = findings.split(". ")[0]
    assert first_sentence in page.replace("&#x27;", "'").replace("&amp;", "&")
