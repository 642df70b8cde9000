"""The runner: wires the stages, reads the parameters once, writes results atomically.

Each stage function takes plain values and returns plain values; only this
module touches the file system (through pipeline.common.io) and decides where
things go (through pipeline.common.config.Paths). The stages themselves live
in their packages (pipeline.corpus, .text, .emphases, .themes, .report); here
they are given their inputs, cached, timed, and their outputs written: every
table, figure and page a stage produces goes through `write_outputs`
(pipeline/run/outputs.py), which writes only what the stage declares.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Mapping

import pandas as pd

from pipeline.common import engine, io
from pipeline.common.config import Paths
from pipeline.common.cluster import study_workers
from pipeline.common.engine import study_engine
from pipeline.common.errors import InputError
from pipeline.common.outputs import StageOutputs, tables_of
from pipeline.common.params import StudyParams
from pipeline.corpus.ingest import check_articles
from pipeline.corpus.review import LIST_TABLES, harm_check, review_table, top_lists
from pipeline.corpus.stage import cleaning_audit_table, documents_table, ingest_and_clean
from pipeline.emphases import tables as emphases
from pipeline.emphases.concepts import compute_concept_emphases, load_background
from pipeline.emphases.expectations import read_expectations
from pipeline.emphases.stage import emphases_tables
from pipeline.figures import corpus as figures_corpus
from pipeline.figures import emphases as figures
from pipeline.figures.plotting import cjk_font_path, term_glosses
from pipeline.figures.themes import theme_figures
from pipeline.report.exports import build_exports
from pipeline.report.headline import FindingsSettings, Names
from pipeline.report.publish import embed_fonts, findings_outputs, sync_codebook, sync_readme, sync_validation
from pipeline.report.results import read_table
from pipeline.report.validation import dictionary_validation
from pipeline.run import guard, provenance
from pipeline.run.cache import StageCache, files_digest, input_files, run_fingerprint
from pipeline.run.outputs import Figures, write_outputs
from pipeline.run.state import StageTimer as _Timer
from pipeline.run.state import StudyState
from pipeline.text.concepts import Concepts, load_concepts, load_dimensions
from pipeline.text.coverage import coverage_table, lexicon_profile
from pipeline.text.lexicon import canonical_map, category_map
from pipeline.text.names import load_notation
from pipeline.text.profile import profile_tables
from pipeline.text.stage import Segmentation, segment_corpus
from pipeline.themes.labels import load_topic_labels
from pipeline.themes.ldavis import ldavis_html
from pipeline.themes.model import run_themes
from pipeline.themes.results import SeededSummary, ThemesSummary
from pipeline.themes.seeded_tables import run_seeded
from pipeline.validate.kit import score_all

__all__ = ["CLEANING_LEXICON", "KEEP", "load_concept_level", "preflight",
           "run_manifest", "run_study", "stage_corpus", "stage_emphases", "stage_report", "stage_segment",
           "stage_themes", "up_to_date", "write_corpus_outputs", "write_dictionary_validation", "write_exports",
           "write_segment_outputs"]

log = logging.getLogger("pipeline")

# Lexicon files read by cleaning (the corpus stage), not by segmentation.
CLEANING_LEXICON = ("boilerplate.yaml", "chrome.yaml")


def stage_corpus(paths: Paths, state: StudyState) -> None:
    """Ingest, clean and simplify every article (cached by the raw files, patterns and parameters).

    Parameters
    ----------
    paths : Paths
        The project's folders and files.
    state : StudyState
        The run so far; the cleaned documents and the stage's cache key are stored in it.
    """
    params = state.params
    raw_files = [p for p in input_files(paths) if not p.is_relative_to(paths.lexicon)]
    key = state.cache.key("corpus", raw=files_digest(raw_files, paths.root),
                          patterns=files_digest([paths.lexicon / n for n in CLEANING_LEXICON], paths.root),
                          params=[params.ingest.record(), params.clean.record()])
    state.keys["corpus"] = key
    state.documents = state.cache.get_or_compute(
        key, lambda: ingest_and_clean(paths, params, functools.partial(_Timer, state)))


def stage_segment(paths: Paths, state: StudyState) -> Segmentation:
    """Cut every article into units and tokens (cached by the corpus, lexicon files and parameters).

    Parameters
    ----------
    paths : Paths
        The project's folders and files.
    state : StudyState
        The run so far, holding the cleaned documents; the stage's cache key is stored in it.

    Returns
    -------
    Segmentation
        The lexicon, the units with their tokens, and the counts per place and per article.
    """
    lexicon_files = [p for p in input_files(paths) if p.is_relative_to(paths.lexicon) and p.name not in CLEANING_LEXICON]
    key = state.cache.key("segment", corpus=state.keys.get("corpus"),
                          lexicon=files_digest(lexicon_files, paths.root),
                          params=[state.params.segment.record(), state.params.units.record()],
                          ablation=state.params.themes.ablation)
    state.keys["segment"] = key
    return state.cache.get_or_compute(
        key, lambda: segment_corpus(paths, state.params, state.documents, functools.partial(_Timer, state)))


def _corpus_figures(out: Paths, documents: pd.DataFrame, audit: pd.DataFrame, drawer: Figures) -> None:
    # The tables are read here, so that a worker drawing the figures needs no access to the results folder.
    write_outputs(out, "corpus_figures", StageOutputs(figures={
        "cleaning.png": functools.partial(figures_corpus.plot_cleaning, documents, audit),
        "lexicon_profile.png": functools.partial(figures_corpus.plot_lexicon_profile,
                                                 read_table(out.tables / "lexicon_profile.csv")),
        "profile_shares.png": functools.partial(figures_corpus.plot_profile_shares,
                                                read_table(out.tables / "profile_shares.csv"))}), drawer)


def write_segment_outputs(out: Paths, seg: Segmentation, params: StudyParams) -> None:

    io.write_jsonl(seg.units, out.units_jsonl)
    coverage = coverage_table(seg.survival_by_place, seg.lexicon)
    coverage.insert(coverage.columns.get_loc("category") + 1, "gloss",
                    coverage["term"].map(dict(zip(seg.lexicon["term"], seg.lexicon["gloss"]))))
    write_outputs(out, "segment", StageOutputs(tables={
        "lexicon_coverage": coverage, "lexicon_profile": lexicon_profile(seg.countable_by_place, seg.lexicon),
        **profile_tables(seg.units, seg.lexicon, params.profile)}))


def write_dictionary_validation(paths: Paths, out: Paths, seg: Segmentation, documents: pd.DataFrame,
                                frame: str) -> None:
    """The lexicon's precision and recall per dimension against the hand-coded sentences."""
    coded = paths.validation / "coded_sentences.csv"
    write_outputs(out, "dictionary_validation", StageOutputs(tables={
        "dictionary_validation": dictionary_validation(coded, seg.lexicon, documents["doc_id"], frame)} if coded.exists() else {}))


def load_concept_level(paths: Paths, seg: Segmentation) -> Concepts:
    """The lexicon's concept level, checked against the lexicon the segmentation used (read once per run)."""
    categories = category_map(seg.lexicon)
    concepts = load_concepts(paths.lexicon / "concepts.csv", paths.lexicon / "term_concepts.csv", categories)
    return replace(concepts, dimensions=load_dimensions(paths.lexicon / "dimensions.csv", categories.values()))


def write_exports(out: Paths, seg: Segmentation, documents: pd.DataFrame, concepts: Concepts) -> None:
    """Document-term matrices, vocabulary, docvars and the dictionaries for R (quanteda, stm)."""
    for name, content in build_exports(seg.units, documents, seg.lexicon, concepts).items():
        if isinstance(content, pd.DataFrame):
            io.write_csv(content, out.exports / name)
        else:
            io.write_text(content, out.exports / name)


def stage_emphases(out: Paths, state: StudyState, seg: Segmentation, concepts: Concepts,
                   drawer: Figures | None = None) -> None:
    """Emphases on terms (the discovery view) and on the lexicon's concepts (the primary list), with their
    evidence, the blind expectations and the generic language the lists hold.

    Parameters
    ----------
    out : Paths
        The run's output folders.
    state : StudyState
        The run so far (parameters, stage cache and keys).
    seg : Segmentation
        The segmented units and the lexicon.
    concepts : Concepts
        The lexicon's concept level.
    drawer : Figures or None, optional
        Where the figures are drawn (None: here, now).
    """

    params = state.params.emphases
    background = load_background(out.background_counts)

    def compute():
        with _Timer(state, "emphases"):
            return emphases.compute_emphases(seg.units, category_map(seg.lexicon), params)

    def compute_concepts():
        with _Timer(state, "emphases_concepts"):
            return compute_concept_emphases(seg.units, concepts, background.counts, params)

    em = state.cache.get_or_compute(state.cache.key("emphases", segment=state.keys.get("segment"), params=params.record()), compute)
    files = [out.lexicon / "concepts.csv", out.lexicon / "term_concepts.csv", out.background_counts,
             out.background_counts.with_name("summary.json")]
    em_concepts = state.cache.get_or_compute(
        state.cache.key("emphases_concepts", segment=state.keys.get("segment"), params=params.record(),
                        inputs=files_digest(files, out.root)), compute_concepts)
    with _Timer(state, "emphases_output"):
        expectations = out.root / "data" / "expectations"
        produced = emphases_tables(em, em_concepts, seg.units, params, concepts, canonical_map(seg.lexicon),
                                   background,
                                   read_expectations(expectations / "blind_expectations.csv", ("place", "term", "gloss")),
                                   read_expectations(expectations / "blind_concepts.csv",
                                                     ("place", "concept", "terms", "gloss")))
        glosses = term_glosses(seg.lexicon, out.lexicon / "glossary.csv")
        top = params.figure_top
        write_outputs(out, "emphases", StageOutputs(tables=produced, figures={
            "place_terms_logodds.png": functools.partial(figures.plot_top_logodds, produced["place_terms"],
                                                         top=top, glosses=glosses),
            "place_terms_heatmap.png": functools.partial(figures.plot_zscore_heatmap,
                                                         emphases.heatmap_matrix(em, top=top), glosses=glosses),
            "place_concepts_logodds.png": functools.partial(
                figures.plot_top_logodds, produced["place_concepts"], top=top,
                glosses={c.label: c.gloss for c in concepts.concepts}, entry="label", noun="政策概念",
                measure="score")}), drawer)


def stage_themes(paths: Paths, out: Paths, state: StudyState, seg: Segmentation, drawer: Figures | None = None) -> None:
    """The exploratory and the seeded topic models (each cached), their tables, figures and LDAvis pages.

    Parameters
    ----------
    paths : Paths
        The project's folders and files.
    out : Paths
        The run's output folders.
    state : StudyState
        The run so far (parameters, stage cache and keys); the models' summaries are stored in it.
    seg : Segmentation
        The segmented units and the lexicon.
    drawer : Figures or None, optional
        Where the figures are drawn (None: here, now).
    """
    params = state.params.themes
    labels = load_topic_labels(paths.lexicon / "topic_labels.csv")
    covariates = {d.doc.doc_id: {"level": d.doc.level, "province": d.doc.province} for d in state.documents}
    notation_file = paths.lexicon / "notation.csv"
    notation = sorted(set(load_notation(notation_file).values())) if notation_file.exists() else []

    def compute():
        with _Timer(state, "themes"):
            return run_themes(seg.units, category_map(seg.lexicon), params, labels, covariates, notation)

    def compute_seeded():
        with _Timer(state, "themes_seeded"):
            return run_seeded(seg.units, category_map(seg.lexicon), params, covariates)

    found = state.cache.get_or_compute(
        state.cache.key("themes", segment=state.keys.get("segment"), params=params.record(), labels=labels,
                        covariates=covariates), compute)
    seeded = state.cache.get_or_compute(
        state.cache.key("themes_seeded", segment=state.keys.get("segment"), params=params.record(), covariates=covariates),
        compute_seeded)
    with _Timer(state, "themes_output"):
        state.summaries["themes"] = found.summary
        state.summaries["themes_seeded"] = seeded.summary
        glosses = term_glosses(seg.lexicon, out.lexicon / "glossary.csv")
        write_outputs(out, "themes", StageOutputs(
            tables={**tables_of(found), **tables_of(seeded)},
            figures=theme_figures(found, params.min_stability, glosses),
            pages={"lda.html": ldavis_html(found.ldavis_inputs, title=f"LDA topics (K = {found.chosen_k})",
                                           note="Topic numbers match results/tables/topics.csv.",
                                           terms=params.ldavis_terms),
                   "lda_seeded.html": ldavis_html(
                       seeded.ldavis_inputs, title="Keyword-assisted topics (one per seeded governance dimension)",
                       note="Topic numbers match results/tables/seeded_topics.csv.", terms=params.ldavis_terms)}),
            drawer)


def stage_report(paths: Paths, out: Paths, state: StudyState, notebooks_out: Path, findings: str) -> list[Path]:
    """Execute the notebooks against the new results and export the HTML report, the findings first."""
    sources = sorted(paths.notebooks.glob("[0-9][0-9]_*.ipynb")) if paths.notebooks.exists() else []
    if not state.params.report.execute_notebooks or not sources:
        return []
    # nbformat (~2 s, through jsonschema) is loaded only when the notebooks are executed
    from pipeline.report.notebooks import build_report

    key = state.cache.key("report", results=files_digest([p for p in out.results.rglob("*") if p.is_file()], out.results),
                          notebooks=files_digest(sources, paths.root))

    def compute() -> dict[str, bytes]:
        with _Timer(state, "report"):
            scratch = _scratch(paths, "report")
            try:
                written = build_report(sources, scratch, out.results, scratch / "report.html",
                                       state.params.report.kernels or 1, findings)
                return {p.name: p.read_bytes() for p in [*written, scratch / "report.html"]}
            finally:
                shutil.rmtree(scratch, ignore_errors=True)

    produced = state.cache.get_or_compute(key, compute)
    notebooks_out.mkdir(parents=True, exist_ok=True)
    for name, data in produced.items():
        (out.results / name if name == "report.html" else notebooks_out / name).write_bytes(data)
    return [notebooks_out / name for name in produced if name != "report.html"]


def write_corpus_outputs(out: Paths, state: StudyState) -> None:
    for d in state.documents:
        io.write_text(d.text + "\n", out.clean_corpus / f"{d.doc.doc_id}.txt")
    write_outputs(out, "corpus", StageOutputs(tables={"cleaning_audit": cleaning_audit_table(state.documents)}))


def write_review(out: Paths, state: StudyState, seg: Segmentation) -> None:
    """The kept lines to review, each with the top-list terms it supplies (the harm check), once the emphases and
    topics are written: the top lists are the reader's (emphases.stability_top rows per place and method, a
    topic's listed terms)."""
    tables = {name: read_table(out.tables / f"{name}.csv") for name in LIST_TABLES
              if (out.tables / f"{name}.csv").exists()}
    lists = top_lists(tables, state.params.emphases.stability_top)
    review = harm_check(review_table(state.documents, state.params.clean.chrome), seg.units, lists)
    if (review["top_terms"] != "").any():
        # Information, not a warning: a title or heading is meant to supply terms; the findings name the lines.
        log.info("review: %d kept line(s) of cleaning_review.csv supply a term to a top list; check that each is "
                 "a heading, not chrome (column top_terms)", int((review["top_terms"] != "").sum()))
    write_outputs(out, "review", StageOutputs(tables={"cleaning_review": review}))


def run_manifest(paths: Paths, out: Paths, params: StudyParams, params_file: Path,
                 summaries: Mapping[str, ThemesSummary | SeededSummary]) -> dict:
    inputs = sorted(p for p in paths.raw.iterdir() if p.is_file() and not p.name.startswith("."))
    inputs += [paths.manifest_csv, params_file]
    inputs += [p for p in input_files(paths) if p.is_relative_to(paths.lexicon) or p.is_relative_to(paths.validation)
               or p == paths.background_counts]
    outputs = sorted(p for p in out.results.rglob("*") if p.is_file() and p.name != "manifest.json")
    def rel(p: Path) -> str:
        try:
            return p.resolve().relative_to(paths.root).as_posix()
        except ValueError:
            return p.name
    record = params.study_record()
    return guard.seal({
        "parameters": record,
        "parameters_file": rel(params_file),
        "inputs": {rel(p): io.sha256_file(p) for p in inputs},
        "outputs": {p.relative_to(out.results).as_posix(): io.sha256_file(p) for p in outputs},
        "packages": provenance.package_versions(),
        "git": provenance.git_state(paths.root),
        "seeds": provenance.collect_seeds(record),
        "summary": {name: found.manifest() for name, found in summaries.items()},
        "fingerprint": run_fingerprint(paths, params, provenance.package_versions()),
        "python": "3.11",
    })


def up_to_date(paths: Paths, params: StudyParams, target: Path) -> bool:
    """True when target/manifest.json is intact, records this run's fingerprint, lists exactly the outputs there,
    and records the inputs' bytes as they are (the fingerprint reads the parameters' values, so an edited comment
    in params.yaml leaves it alone, while the manifest, and so `make check`, records the file's digest)."""
    manifest = guard.read_manifest(target)
    if manifest is None or manifest.get("fingerprint") != run_fingerprint(paths, params, provenance.package_versions()):
        return False
    for name, digest in manifest.get("inputs", {}).items():
        path = paths.root / name
        if path.is_file() and io.sha256_file(path) != digest:
            return False
    return guard.outputs_intact(target, manifest, KEEP)


# Folders of results/ that a study run does not write and carries over (the benchmark's).
KEEP = ("bench",)


def _scratch(paths: Paths, name: str) -> Path:
    root = guard.scratch_root(paths.build)
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=root))


def preflight(paths: Paths, params: StudyParams, target: Path) -> None:
    """Every input and the results folder checked before any stage runs (raises InputError)."""
    guard.check_results_folder(target, KEEP)
    ingest = params.ingest
    check_articles(paths.raw, paths.manifest_csv, ingest.codecs, ingest.min_cjk_share, ingest.min_chinese_chars,
                   ingest.pages)
    if not paths.lexicon.is_dir():
        raise InputError(paths.lexicon, "the lexicon folder is missing")


def run_study(paths: Paths, params: StudyParams, params_file: Path, results_dir: Path | None = None,
              notebooks_dir: Path | None = None, use_cache: bool = True, force: bool = True) -> StudyState:
    """Run every stage and swap the new results in only if all of them succeed.

    Executed notebooks go to `notebooks_dir` (default: the project's
    notebooks/), each replaced only after the whole run has succeeded. With
    `use_cache`, stages whose dependencies are unchanged are read from
    build/cache/; without `force`, a run whose fingerprint matches the
    results' manifest does nothing.

    Parameters
    ----------
    paths : Paths
        The project's folders and files.
    params : StudyParams
        The run's parameters.
    params_file : Path
        The parameters file they were read from, recorded in the run manifest.
    results_dir : Path or None, optional
        The results folder to write (default: the project's results/).
    notebooks_dir : Path or None, optional
        The folder of the executed notebooks.
    use_cache : bool, optional
        Whether stages may be read from and written to build/cache/.
    force : bool, optional
        Whether to run even when the results are up to date.

    Returns
    -------
    StudyState
        What the stages produced (nothing when the results were already up to date), with the stage cache.
    """
    target = Path(results_dir) if results_dir else paths.results
    notebooks_target = Path(notebooks_dir) if notebooks_dir else paths.notebooks
    cache_mb = 500 if params.cache.max_mb is None else params.cache.max_mb
    state = StudyState(params=params, cache=StageCache(paths.build / "cache", enabled=use_cache, max_mb=cache_mb))
    guard.clear_leftovers([target])
    preflight(paths, params, target)
    if not force and up_to_date(paths, params, target):
        log.info("results in %s are up to date with the code, inputs and parameters; nothing to do", target)
        return state
    executed_dir = _scratch(paths, "notebooks")
    try:
        with study_engine(params, paths.build):  # the dask cluster, if any stage asks for one; closed here
            _run_into_staging(paths, state, params_file, target, executed_dir)
        notebooks_target.mkdir(parents=True, exist_ok=True)
        for executed in sorted(executed_dir.glob("*.ipynb")):
            part = notebooks_target / f".{executed.name}.{os.getpid()}.tmp"
            shutil.copyfile(executed, part)
            os.replace(part, notebooks_target / executed.name)
    except KeyboardInterrupt as exc:
        done = list(dict.fromkeys(state.cache.hits + state.cache.written))
        exc.kept = (f"{target} was left as it was" + (f"; the stages done so far ({', '.join(done)}) are kept in "
                    "build/cache/ and the next run reuses them" if done and use_cache else ""))
        raise
    finally:
        shutil.rmtree(executed_dir, ignore_errors=True)
    if target == paths.results:
        _sync_documents(paths, target)
    log.info("results written to %s", target)
    return state


def _sync_documents(paths: Paths, target: Path) -> None:
    """After a run into the project's own results/: the README's findings and the codebook's term tables."""
    readme = paths.root / "README.md"
    if readme.exists() and sync_readme(readme, (target / "findings.md").read_text(encoding="utf-8")):
        log.info("README.md: findings section rewritten from the new tables")
    codebook = paths.lexicon / "CODEBOOK.md"
    if codebook.exists() and sync_codebook(paths.lexicon / "governance_terms.csv", codebook):
        log.info("lexicon/CODEBOOK.md: terms by dimension rewritten from the lexicon")
    validation = paths.validation / "README.md"
    if validation.exists() and (target / "tables" / "dictionary_validation.csv").exists() and sync_validation(
            validation, target / "tables" / "dictionary_validation.csv", paths.lexicon):
        log.info("data/validation/README.md: precision and recall rewritten from the new table")


def _figure_processes(params: StudyParams) -> int:
    """`report.figure_processes` when another stage works on the run's dask cluster, else 1: a cluster
    started for the figures alone (2-3 s) would cost more than drawing them in this process."""
    parallel = params.dask.scheduler is not None or study_workers(params) > 1
    return params.report.figure_processes if parallel else 1


def _run_into_staging(paths: Paths, state: StudyState, params_file: Path, target: Path, executed_dir: Path) -> None:
    params = state.params
    with io.staged_directory(target, keep=KEEP) as staging, \
            engine.pool(engine.same, (None,), _figure_processes(params)) as figure_pool:
        out = paths.with_results(staging)
        drawer = Figures(figure_pool)
        stage_corpus(paths, state)
        write_corpus_outputs(out, state)
        seg = stage_segment(paths, state)
        write_segment_outputs(out, seg, params)
        documents = documents_table(state.documents, seg.doc_counts)
        write_outputs(out, "documents", StageOutputs(tables={"documents": documents}))
        concepts = load_concept_level(paths, seg)
        write_exports(out, seg, documents, concepts)
        write_dictionary_validation(paths, out, seg, documents, state.params.themes.seeded.frame_category)
        _corpus_figures(out, documents, cleaning_audit_table(state.documents), drawer)
        stage_emphases(out, state, seg, concepts, drawer)
        stage_themes(paths, out, state, seg, drawer)
        write_review(out, state, seg)
        # The coders' sheets against this run.
        write_outputs(out, "validation", StageOutputs(tables=score_all(paths.validation, seg.lexicon, out.tables,
                                                                       seg.units)))
        # The notebooks read the manifest (parameters, package versions), so it
        # is written before they run, and again after to list the report.
        drawer.finish()
        io.write_json(run_manifest(paths, out, params, params_file, state.summaries), out.run_manifest)
        produced = findings_outputs(out.tables, Names.of(concepts), FindingsSettings.from_params(params))
        write_outputs(out, "findings", produced, drawer)
        drawer.finish()
        findings = produced.pages["findings.md"]
        stage_report(paths, out, state, executed_dir, findings)
        embed_fonts(out.results, cjk_font_path(), paths.artifacts)
        io.write_json(run_manifest(paths, out, params, params_file, state.summaries), out.run_manifest)
        # Checked again just before the swap: a file the user added to the
        # results folder during the run is not deleted either.
        guard.check_results_folder(target, KEEP)
