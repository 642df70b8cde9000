"""The corpus stage for a whole corpus: ingest every article, clean and simplify it (in worker processes when asked), and its tables."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, ContextManager

import pandas as pd

from pipeline.common.config import Paths
from pipeline.common.parallel import ordered_map
from pipeline.corpus import clean as clean_stage
from pipeline.corpus import ingest, script

log = logging.getLogger("pipeline")


@dataclass
class CleanDocument:
    doc: ingest.Document
    script: str
    text: str  # cleaned and simplified
    audit: list[dict]


@dataclass
class Cleaner:
    """What cleaning one article needs; built once per process."""
    converter: Any
    model: Any  # pipeline.corpus.charmodel.CharModel
    patterns: list
    garble: Any  # pipeline.corpus.garble.GarbleDetector


def build_cleaner(paths: Paths, params: dict) -> Cleaner:
    from pipeline.corpus.charmodel import CharModel
    from pipeline.corpus.garble import GarbleDetector

    converter = script.make_converter("t2s")
    model = CharModel.from_jieba_dictionary(converter)
    return Cleaner(converter, model, clean_stage.load_boilerplate(paths.lexicon / "boilerplate.yaml"),
                   GarbleDetector(model, params["clean"]["garble"]))


def clean_article(text: str, cleaner: Cleaner) -> tuple[str, str, list[dict]]:
    """(script, cleaned simplified text, audit rows) of one raw article text."""
    rules = clean_stage.default_rules(cleaner.patterns, cleaner.garble.article_rule())
    cleaned, audit = clean_stage.clean_text(text, rules)
    return (script.detect_script(cleaned, cleaner.converter), script.to_simplified(cleaned, cleaner.converter),
            audit)


def ingest_and_clean(paths: Paths, params: dict, timed: Callable[[str], ContextManager]) -> list[CleanDocument]:
    """Every article of the manifest, ingested and cleaned; `timed(name)` times each step."""
    cleaner = build_cleaner(paths, params)
    with timed("ingest"):
        docs = ingest.load_documents(paths.raw, paths.manifest_csv, params["ingest"]["codecs"],
                                     cleaner.model.mean_logp, params["ingest"]["min_cjk_share"])
        log.info("ingest: read %d articles listed in %s", len(docs), paths.manifest_csv.name)
    with timed("clean"):
        processes = params["clean"].get("processes", 1)
        # Workers build their own cleaner; a serial run reuses this one.
        build, build_args = ((build_cleaner, (paths, params)) if processes > 1 and len(docs) > 1
                             else (_same, (cleaner,)))
        cleaned = ordered_map(clean_article, [d.text for d in docs], build, build_args, processes, "clean")
        documents = [CleanDocument(doc, kind, text, audit) for doc, (kind, text, audit) in zip(docs, cleaned)]
        log.info("clean: %d changes logged", sum(len(d.audit) for d in documents))
    return documents


def _same(value: Any) -> Any:
    return value


def cleaning_audit_table(documents: list[CleanDocument]) -> pd.DataFrame:
    rows = [{"doc_id": d.doc.doc_id, **row} for d in documents for row in d.audit]
    columns = ["doc_id", "step", "rule", "start", "end", "before", "after", "note"]
    return pd.DataFrame(rows, columns=columns)


def documents_table(documents: list[CleanDocument], extra: dict[str, dict[str, int]] | None = None) -> pd.DataFrame:
    rows = []
    for d in documents:
        row = {"doc_id": d.doc.doc_id, "place": d.doc.place, "level": d.doc.level,
               "province": d.doc.province, "source": d.doc.source, "date": d.doc.date,
               "file": d.doc.file, "codec": d.doc.codec, "script": d.script,
               "chars_raw": len(d.doc.text), "chars_clean": len(d.text),
               "changes": len(d.audit)}
        row.update((extra or {}).get(d.doc.doc_id, {}))
        rows.append(row)
    return pd.DataFrame(rows)
