"""The corpus stage for a whole corpus: ingest every article, clean and simplify it (on the run's dask workers when asked), and its tables."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, ContextManager

import pandas as pd

from pipeline.common.artifacts import artifact, artifact_key
from pipeline.common.config import Paths
from pipeline.common.engine import ordered_map, same
from pipeline.common.errors import InputError
from pipeline.common.params import ChromeParams, CleanParams, StudyParams
from pipeline.corpus import charmodel, chrome
from pipeline.corpus import clean as clean_stage
from pipeline.corpus import duplicates, ingest, script
from pipeline.corpus.charmodel import CharModel, jieba_dictionary_path
from pipeline.corpus.garble import GarbleDetector

__all__ = ["CleanDocument", "Cleaner", "article_rules", "build_cleaner", "character_model", "clean_article", "cleaning_audit_table",
           "documents_table", "ingest_and_clean"]

log = logging.getLogger("pipeline")


@dataclass
class CleanDocument:
    doc: ingest.Document
    script: str
    text: str  # cleaned and simplified
    audit: list[dict]
    meta: dict | None = None  # author and date named by the chrome removed (chrome.metadata)


@dataclass
class Cleaner:
    """What cleaning one article needs; built once per process."""
    converter: Any
    model: Any  # pipeline.corpus.charmodel.CharModel
    patterns: list
    garble: Any  # pipeline.corpus.garble.GarbleDetector
    chrome: Any = None  # pipeline.corpus.chrome.ChromeLexicon
    chrome_settings: ChromeParams | None = None


def build_cleaner(paths: Paths, params: CleanParams) -> Cleaner:
    """What cleaning one article needs, built once per process.

    Parameters
    ----------
    paths : Paths
        The study's paths; the boilerplate and chrome lexicons are read from its `lexicon` folder.
    params : CleanParams
        The cleaning parameters of params.yaml (garble, chrome).

    Returns
    -------
    Cleaner
        The t2s converter, the character model, the boilerplate, the garble detector and the chrome rules.
    """

    converter = script.make_converter("t2s")
    model = character_model(paths, converter)
    return Cleaner(converter, model, clean_stage.load_boilerplate(paths.lexicon / "boilerplate.yaml"),
                   GarbleDetector(model, params.garble),
                   chrome.load_chrome(paths.lexicon / "chrome.yaml"),
                   params.chrome)


def character_model(paths: Paths, converter: Any) -> CharModel:
    """The character model of jieba's dictionary, built once and kept under build/artifacts/.

    Parameters
    ----------
    paths : Paths
        The study's paths (the artifacts folder).
    converter : opencc.OpenCC
        The t2s converter (`script.make_converter("t2s")`), used when the model is built.

    Returns
    -------
    CharModel
        The model `CharModel.from_jieba_dictionary(converter)` builds.
    """
    # The dictionary's bytes, the code that builds the model, and the libraries that read and convert it.
    key = artifact_key([jieba_dictionary_path(), Path(charmodel.__file__)], {"converter": "t2s"},
                       ["jieba", "opencc", "numpy"])
    return artifact(paths.artifacts, "charmodel", key, lambda: CharModel.from_jieba_dictionary(converter))


def article_rules(cleaner: Cleaner, repeated: frozenset[str] = frozenset()) -> list:
    """The cleaning rules for one article (its garble search remembers the readings of the cleaner's articles).

    Parameters
    ----------
    cleaner : Cleaner
        What cleaning needs (`build_cleaner`).
    repeated : frozenset[str]
        The article's lines that recur in other articles of its source (`chrome.repeated_lines`).

    Returns
    -------
    list
        The cleaning rules (text -> edits), in the order they run.
    """
    chrome_rule = (chrome.chrome_rule(cleaner.chrome, cleaner.chrome_settings, repeated)
                   if cleaner.chrome is not None else None)
    return clean_stage.default_rules(cleaner.patterns, cleaner.garble.article_rule(), chrome_rule)


def clean_article(item: str | tuple[str, frozenset[str]], cleaner: Cleaner) -> tuple[str, str, list[dict]]:
    """(script, cleaned simplified text, audit rows) of one raw article text (and its repeated lines).

    Parameters
    ----------
    item : str or tuple[str, frozenset[str]]
        The raw article text, or the text and its repeated lines.
    cleaner : Cleaner
        What cleaning needs (`build_cleaner`).

    Returns
    -------
    tuple[str, str, list[dict]]
        The script of the cleaned text ("traditional" or "simplified"), the cleaned text in simplified script,
        and the cleaning audit rows.
    """
    text, repeated = (item, frozenset()) if isinstance(item, str) else item
    cleaned, audit = clean_stage.clean_text(text, article_rules(cleaner, repeated))
    return (script.detect_script(cleaned, cleaner.converter), script.to_simplified(cleaned, cleaner.converter),
            audit)


def ingest_and_clean(paths: Paths, params: StudyParams, timed: Callable[[str], ContextManager]) -> list[CleanDocument]:
    """Every article of the manifest, ingested and cleaned; `timed(name)` times each step.

    Parameters
    ----------
    paths : Paths
        The study's paths (data/raw/, the manifest, the lexicons).
    params : StudyParams
        The study's parameters (ingest, clean).
    timed : Callable[[str], ContextManager]
        The run's timer of a named step.

    Returns
    -------
    list[CleanDocument]
        The articles in manifest order, each with its script, cleaned simplified text, audit and metadata.

    Raises
    ------
    InputError
        When an input fails a check, or two articles are near-duplicates the manifest does not mark.
    """
    cleaner = build_cleaner(paths, params.clean)
    with timed("ingest"):
        docs = ingest.load_documents(paths.raw, paths.manifest_csv, params.ingest.codecs,
                                     cleaner.model.mean_logp, params.ingest.min_cjk_share, params.ingest.pages)
        log.info("ingest: read %d articles listed in %s", len(docs), paths.manifest_csv.name)
    with timed("clean"):
        processes = params.clean.processes
        # Workers build their own cleaner; a serial run reuses this one.
        build, build_args = ((build_cleaner, (paths, params.clean)) if processes > 1 and len(docs) > 1
                             else (same, (cleaner,)))
        repeated = chrome.repeated_lines([d.text for d in docs], [d.source for d in docs])
        jobs = list(zip([d.text for d in docs], repeated))
        try:
            cleaned = ordered_map(clean_article, jobs, build, build_args, processes, "clean",
                                  cost=lambda job: len(job[0]))  # longest texts first
        except clean_stage.Unsettled:
            raise _unsettled_input(docs, jobs, cleaner, paths) from None
        documents = [CleanDocument(doc, kind, text, _page_audit(doc) + audit, _metadata(audit, cleaner))
                     for doc, (kind, text, audit) in zip(docs, cleaned)]
        log.info("clean: %d changes logged", sum(len(d.audit) for d in documents))
        settings = params.clean.near_duplicates
        if settings.check:
            duplicates.check_near_duplicates(documents, paths.raw, settings.shingle_chars, float(settings.threshold))
    return documents


def _unsettled_input(docs: list[ingest.Document], jobs: list, cleaner: Cleaner, paths: Paths) -> InputError:
    """The article whose cleaning did not settle, named: found again in this process, on the error path only."""
    for doc, job in zip(docs, jobs):
        try:
            clean_article(job, cleaner)
        except clean_stage.Unsettled as exc:
            return InputError(paths.raw / doc.file, f"{exc}. Its text is most likely garbled throughout (a page saved "
                                                    "in one encoding and read in another, or saved twice over); "
                                                    "open it to check, then save it again or remove it and its "
                                                    "manifest row")
    return InputError(paths.raw, "cleaning did not settle on an article, but not when it was cleaned again alone")


def _page_audit(doc: ingest.Document) -> list[dict]:
    """The audit row of a saved page's extraction: how much of the page's visible text the extractor dropped.

    Step 0, before every cleaning rule; its span is empty because the dropped text never reached the article's
    text (the raw page is untouched in data/raw/, and the note says how much was dropped).
    """
    page = doc.page
    if page is None:
        return []
    dropped = max(page.page_chars - page.text_chars, 0)
    note = (f"saved page ({page.encoding}, {page.encoding_from}): {page.page_chars} visible characters, "
            f"{page.text_chars} kept as main text by {page.extractor}, {dropped} dropped")
    return [{"step": 0, "rule": "page_extraction", "start": 0, "end": 0, "before": "", "after": "", "note": note}]


def _metadata(audit: list[dict], cleaner: Cleaner) -> dict[str, str]:
    """Author and date named by the chrome an article lost; the author in simplified script, like the text."""
    meta = chrome.metadata(audit, cleaner.chrome)
    meta["author"] = script.to_simplified(meta["author"], cleaner.converter)
    return meta


def _first_known(*sources: tuple[str, str] | None) -> tuple[str, str]:
    """(value, where it came from) of the first source with a value: the manifest wins, then the page, then
    the chrome cleaning removed; ("", "") when none has one."""
    for source in sources:
        if source is not None and source[1]:
            return source[1], source[0]
    return "", ""


def cleaning_audit_table(documents: list[CleanDocument]) -> pd.DataFrame:
    """Every change cleaning made, article by article.

    Parameters
    ----------
    documents : list[CleanDocument]
        The cleaned articles, in corpus order.

    Returns
    -------
    pd.DataFrame
        One row per change: doc_id, step, rule, start, end, before, after, note.
    """
    rows = [{"doc_id": d.doc.doc_id, **row} for d in documents for row in d.audit]
    columns = ["doc_id", "step", "rule", "start", "end", "before", "after", "note"]
    return pd.DataFrame(rows, columns=columns)


def documents_table(documents: list[CleanDocument], extra: dict[str, dict[str, int]] | None = None) -> pd.DataFrame:
    """One row per article: its manifest fields, what ingest and cleaning found, and its size.

    Parameters
    ----------
    documents : list[CleanDocument]
        The cleaned articles, in corpus order.
    extra : dict[str, dict[str, int]] or None
        Further counts by doc_id (the segmentation's units and tokens), added as columns.

    Returns
    -------
    pd.DataFrame
        doc_id, place, level, province, source, date and author, genre, occasion, file, format (text or page),
        codec, script, chars_page (a page's visible characters), chars_raw (the text cleaning received),
        chars_clean, changes, title, and where the title, date and author came from (title_from, date_from,
        author_from: "manifest", the page's extractor, "removed chrome", or "" when none was found), and the
        `extra` columns.
    """
    rows = []
    for d in documents:
        page = d.doc.page
        title, title_from = _first_known(("manifest", d.doc.title), (page.title_from, page.title) if page else None)
        date, date_from = _first_known(("manifest", d.doc.date), (page.date_from, page.date) if page else None,
                                       ("removed chrome", (d.meta or {}).get("date", "")))
        author, author_from = _first_known(("manifest", d.doc.author),
                                           (page.author_from, page.author) if page else None,
                                           ("removed chrome", (d.meta or {}).get("author", "")))
        row = {"doc_id": d.doc.doc_id, "place": d.doc.place, "level": d.doc.level,
               "province": d.doc.province, "source": d.doc.source,
               "date": date, "author": author, "genre": d.doc.genre, "occasion": d.doc.occasion,
               "file": d.doc.file, "format": "page" if page else "text", "codec": d.doc.codec, "script": d.script,
               "chars_page": page.page_chars if page else "",
               "chars_raw": len(d.doc.text), "chars_clean": len(d.text),
               "changes": sum(row["rule"] != "page_extraction" for row in d.audit),
               "title": title, "title_from": title_from, "date_from": date_from, "author_from": author_from}
        row.update((extra or {}).get(d.doc.doc_id, {}))
        rows.append(row)
    return pd.DataFrame(rows)
