"""The runner: wires the stages, reads the parameters once, writes results atomically.

Each stage function takes plain values and returns plain values; only this
module touches the file system (through pipeline.io) and decides where
things go (through pipeline.config.Paths).
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from pipeline import clean as clean_stage
from pipeline import ingest, io, provenance, script
from pipeline.parallel import ordered_map
from pipeline.cache import StageCache, files_digest, input_files, run_fingerprint
from pipeline.config import Paths
from pipeline.params import study_params

log = logging.getLogger("pipeline")


@dataclass
class CleanDocument:
    doc: ingest.Document
    script: str
    text: str  # cleaned and simplified
    audit: list[dict]


@dataclass
class StudyState:
    """What the stages have produced so far in one run."""
    params: dict[str, Any]
    documents: list[CleanDocument] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: dict[str, float] = field(default_factory=dict)
    cache: StageCache = field(default_factory=lambda: StageCache(Path("."), enabled=False))
    keys: dict[str, str] = field(default_factory=dict)


def peak_rss_mb() -> float:
    """Peak resident memory so far of this process and of its finished workers, in MB."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024  # ru_maxrss is in KiB on Linux


class _Timer:
    def __init__(self, state: StudyState, name: str):
        self.state, self.name = state, name

    def __enter__(self):
        self.start = time.perf_counter()
        log.info("stage %s: started", self.name)
        return self

    def __exit__(self, *exc):
        self.state.timings[self.name] = time.perf_counter() - self.start
        self.state.peak_rss_mb[self.name] = peak_rss_mb()
        if exc[0] is None:
            log.info("stage %s: done in %.1f s", self.name, self.state.timings[self.name])


# ------------------------------------------------------------------ stages ---

def stage_corpus(paths: Paths, state: StudyState) -> None:
    """Ingest, clean and simplify every article (cached by the raw files, patterns and parameters)."""
    params = state.params
    raw_files = [p for p in input_files(paths) if not p.is_relative_to(paths.lexicon)]
    key = state.cache.key("corpus", raw=files_digest(raw_files, paths.root),
                          patterns=files_digest([paths.lexicon / "boilerplate.yaml"], paths.root),
                          params=[params["ingest"], params["clean"]])
    state.keys["corpus"] = key
    state.documents = state.cache.get_or_compute(key, lambda: _ingest_and_clean(paths, state))


@dataclass
class Cleaner:
    """What cleaning one article needs; built once per process."""
    converter: Any
    model: Any  # pipeline.charmodel.CharModel
    patterns: list
    garble: Any  # pipeline.garble.GarbleDetector


def build_cleaner(paths: Paths, params: dict) -> Cleaner:
    from pipeline.charmodel import CharModel
    from pipeline.garble import GarbleDetector

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


def _ingest_and_clean(paths: Paths, state: StudyState) -> list[CleanDocument]:
    params = state.params
    cleaner = build_cleaner(paths, params)
    with _Timer(state, "ingest"):
        docs = ingest.load_documents(paths.raw, paths.manifest_csv, params["ingest"]["codecs"],
                                     cleaner.model.mean_logp, params["ingest"]["min_cjk_share"])
        log.info("ingest: read %d articles listed in %s", len(docs), paths.manifest_csv.name)
    with _Timer(state, "clean"):
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


@dataclass
class Segmentation:
    """Everything the segmentation stage hands on.

    Per place only counts are kept (countable tokens, lexicon survival), not
    the full segmentation, so that memory grows with the vocabulary rather
    than with the corpus.
    """
    lexicon: pd.DataFrame
    units: list[dict]
    countable_by_place: dict[str, Counter]
    survival_by_place: dict[str, dict[str, tuple[int, int]]]
    doc_counts: dict[str, dict[str, int]]


@dataclass
class Segmenter:
    """What segmenting one article needs; built once per process."""
    tokenizer: Any
    plain_tokenizer: Any  # None when the themes ablation is off: its tokens are not needed
    general_stopwords: frozenset
    rules: Any
    classify: Callable[[str, str], tuple[str | None, str | None]]  # segment.classify_word, remembered
    coverage_matcher: Any
    hmm: bool
    max_chars: int
    min_chars: int


# (word, tag) pairs whose classification a segmenter remembers; a corpus's
# vocabulary of tagged words stays well below this.
_CLASSIFY_CACHE_SIZE = 1 << 20


def build_segmenter(paths: Paths, params: dict, lexicon: pd.DataFrame) -> Segmenter:
    from pipeline import lexicon as lex_mod
    from pipeline import segment as seg_mod

    seg_params, unit_params = params["segment"], params["units"]
    general = seg_mod.general_stopwords()
    stopwords = general | set(lex_mod.load_wordlist(paths.lexicon / "stopwords_domain.txt"))
    rules = seg_mod.make_filter_rules(
        lexicon, stopwords, lex_mod.load_wordlist(paths.lexicon / "single_char_whitelist.txt"),
        lex_mod.load_sectioned_wordlist(paths.lexicon / "vocab_exclusions.txt", ("exclude", "keep")),
        seg_params["exclude_tags"])
    ablation = bool(params["themes"].get("ablation", False))
    tokenizer = seg_mod.build_tokenizer(lex_mod.lexicon_strings(lexicon), paths.jieba_cache, seg_params["lexicon_freq"])
    coverage = lex_mod.TermMatcher(rules.canonical)
    # The coverage check counts the same strings the segmentation keeps whole;
    # when both matchers hold the same strings, one search serves both.
    if coverage.strings == tokenizer.matcher.strings:
        coverage = tokenizer.matcher
    return Segmenter(
        tokenizer=tokenizer,
        plain_tokenizer=seg_mod.build_plain_tokenizer(paths.jieba_cache) if ablation else None,
        general_stopwords=general, rules=rules,
        classify=functools.lru_cache(maxsize=_CLASSIFY_CACHE_SIZE)(functools.partial(seg_mod.classify_word, rules=rules)),
        coverage_matcher=coverage, hmm=seg_params["hmm"],
        max_chars=unit_params["max_chars"], min_chars=unit_params.get("min_chars", 0))


def segment_article(doc_id: str, place: str, text: str, segmenter: Segmenter) -> dict:
    """Units and their tokens, countable-token counts and lexicon survival of one article.

    Units carry `plain_tokens` (the ablation's plain-jieba baseline) when the
    segmenter has a plain tokenizer.
    """
    from pipeline import lexicon as lex_mod
    from pipeline import segment as seg_mod
    from pipeline.units import make_units

    units, countable, survival = [], Counter(), {}
    shared = segmenter.coverage_matcher is segmenter.tokenizer.matcher
    for number, piece in enumerate(make_units(text, segmenter.max_chars, segmenter.min_chars), start=1):
        matches = segmenter.tokenizer.matcher.find(piece)
        pairs = seg_mod.segment(piece, segmenter.tokenizer, segmenter.hmm, matches)
        # No lexicon term spans a line break, so an article's survival counts
        # are the sum of its units'.
        lex_mod.add_survival_counts(survival, lex_mod.survival_counts(
            piece, [w for w, _ in pairs], segmenter.coverage_matcher, segmenter.rules.canonical,
            matches if shared else None))
        classified = [segmenter.classify(w, t) for w, t in pairs]
        countable.update(counted for counted, _ in classified if counted)
        unit = {"unit_id": f"{doc_id}-{number:04d}", "doc_id": doc_id, "place": place, "text": piece,
                "tokens": [content for _, content in classified if content]}
        if segmenter.plain_tokenizer is not None:
            unit["plain_tokens"] = seg_mod.plain_tokens(piece, segmenter.plain_tokenizer, segmenter.general_stopwords)
        units.append(unit)
    return {"units": units, "countable": countable, "survival": survival}


def _segment_job(job: tuple[str, str, str], segmenter: Segmenter) -> dict:
    return segment_article(*job, segmenter)


def segment_articles(paths: Paths, params: dict, lexicon: pd.DataFrame, jobs: list[tuple[str, str, str]],
                     processes: int) -> list[dict]:
    """Segment (doc_id, place, text) jobs, in worker processes when asked; output in job order."""
    return ordered_map(_segment_job, jobs, build_segmenter, (paths, params, lexicon), processes, "segment")


def stage_segment(paths: Paths, state: StudyState) -> Segmentation:
    """Cut every article into units and tokens (cached by the corpus, lexicon files and parameters)."""
    lexicon_files = [p for p in paths.lexicon.rglob("*") if p.is_file() and p.name != "boilerplate.yaml"]
    key = state.cache.key("segment", corpus=state.keys.get("corpus"),
                          lexicon=files_digest(lexicon_files, paths.root),
                          params=[state.params["segment"], state.params["units"]],
                          ablation=bool(state.params["themes"].get("ablation", False)))
    state.keys["segment"] = key
    return state.cache.get_or_compute(key, lambda: _segment_corpus(paths, state))


def _segment_corpus(paths: Paths, state: StudyState) -> Segmentation:
    from pipeline import lexicon as lex_mod

    with _Timer(state, "segment"):
        lexicon = lex_mod.load_lexicon(paths.lexicon / "governance_terms.csv")
        jobs = [(d.doc.doc_id, d.doc.place, d.text) for d in state.documents]
        done = segment_articles(paths, state.params, lexicon, jobs, state.params["segment"].get("processes", 1))
        units: list[dict] = []
        countable_by_place: dict[str, Counter] = {}
        survival_by_place: dict[str, dict[str, tuple[int, int]]] = {}
        doc_counts: dict[str, dict[str, int]] = {}
        for (doc_id, place, _), article in zip(jobs, done):
            units.extend(article["units"])
            countable_by_place.setdefault(place, Counter()).update(article["countable"])
            lex_mod.add_survival_counts(survival_by_place.setdefault(place, {}), article["survival"])
            doc_counts[doc_id] = {"units": len(article["units"]), "tokens": sum(article["countable"].values())}
        log.info("segment: %d units, %d tokens in the vocabularies", len(units), sum(len(u["tokens"]) for u in units))
    return Segmentation(lexicon, units, countable_by_place, survival_by_place, doc_counts)


def _corpus_figures(out: Paths, documents: pd.DataFrame, audit: pd.DataFrame) -> None:
    from pipeline import figures_corpus
    from pipeline.results import read_table

    figures_corpus.plot_cleaning(documents, audit, out.figures / "cleaning.png")
    figures_corpus.plot_lexicon_profile(read_table(out.tables / "lexicon_profile.csv"), out.figures / "lexicon_profile.png")


def write_segment_outputs(out: Paths, seg: Segmentation) -> None:
    from pipeline import lexicon as lex_mod

    io.write_jsonl(seg.units, out.units_jsonl)
    coverage = lex_mod.coverage_table(seg.survival_by_place, seg.lexicon)
    coverage.insert(coverage.columns.get_loc("category") + 1, "gloss",
                    coverage["term"].map(dict(zip(seg.lexicon["term"], seg.lexicon["gloss"]))))
    io.write_csv(coverage, out.tables / "lexicon_coverage.csv")
    io.write_csv(lex_mod.lexicon_profile(seg.countable_by_place, seg.lexicon), out.tables / "lexicon_profile.csv")


def stage_emphases(out: Paths, state: StudyState, seg: Segmentation) -> None:
    from pipeline import emphases
    from pipeline import figures_emphases as figures
    from pipeline.lexicon import category_map

    params = state.params["emphases"]

    def compute():
        with _Timer(state, "emphases"):
            return emphases.compute_emphases(seg.units, category_map(seg.lexicon), params)

    em = state.cache.get_or_compute(state.cache.key("emphases", segment=state.keys.get("segment"), params=params), compute)
    with _Timer(state, "emphases_output"):
        table = emphases.emphases_table(em, params["top_n"])
        io.write_csv(table, out.tables / "place_terms.csv")
        io.write_csv(emphases.methods_agreement(table, params["agreement_top"]), out.tables / "methods_agreement.csv")
        io.write_csv(emphases.place_summary(em), out.tables / "place_summary.csv")
        io.write_csv(emphases.term_statistics(em), out.tables / "term_statistics.csv")
        figures.plot_top_logodds(table, out.figures / "place_terms_logodds.png", top=params["figure_top"])
        figures.plot_zscore_heatmap(emphases.heatmap_matrix(em, top=params["figure_top"]),
                                    out.figures / "place_terms_heatmap.png")


THEME_TABLES = ("k_selection", "k_summary", "topics", "unit_topics", "place_topics", "topic_roles",
                "nmf_match", "ablation", "k_selection_plain")


def stage_themes(paths: Paths, out: Paths, state: StudyState, seg: Segmentation) -> None:
    from pipeline import themes
    from pipeline.lexicon import category_map

    params = state.params["themes"]
    labels = themes.load_topic_labels(paths.lexicon / "topic_labels.csv")

    def compute():
        with _Timer(state, "themes"):
            return themes.run_themes(seg.units, category_map(seg.lexicon), params, labels)

    found = state.cache.get_or_compute(
        state.cache.key("themes", segment=state.keys.get("segment"), params=params, labels=labels), compute)
    with _Timer(state, "themes_output"):
        for name in THEME_TABLES:
            if name in found:
                io.write_csv(found[name], out.tables / f"{name}.csv")
        state.extras["themes"] = found["summary"]
        themes.write_ldavis_html(found["ldavis_inputs"], out.results / "lda.html",
                                 title=f"LDA topics (K = {found['chosen_k']})",
                                 note="Topic numbers match results/tables/topics.csv.",
                                 terms=params["ldavis_terms"])
        _theme_figures(out, found, params)


def _theme_figures(out: Paths, found: dict, params: dict) -> None:
    from pipeline import figures_themes

    figures_themes.write_theme_figures(found, out.figures, params["min_stability"])


def stage_report(paths: Paths, out: Paths, state: StudyState, notebooks_out: Path) -> list[Path]:
    """Execute the notebooks against the new results and export the HTML report."""
    from pipeline.report import build_report

    sources = sorted(paths.notebooks.glob("[0-9][0-9]_*.ipynb")) if paths.notebooks.exists() else []
    if not state.params["report"]["execute_notebooks"] or not sources:
        return []
    key = state.cache.key("report", results=files_digest([p for p in out.results.rglob("*") if p.is_file()], out.results),
                          notebooks=files_digest(sources, paths.root))

    def compute() -> dict[str, bytes]:
        with _Timer(state, "report"):
            scratch = Path(tempfile.mkdtemp(prefix="study-report-"))
            try:
                written = build_report(sources, scratch, out.results, scratch / "report.html",
                                       state.params["report"].get("kernels", 1))
                return {p.name: p.read_bytes() for p in [*written, scratch / "report.html"]}
            finally:
                shutil.rmtree(scratch, ignore_errors=True)

    produced = state.cache.get_or_compute(key, compute)
    notebooks_out.mkdir(parents=True, exist_ok=True)
    for name, data in produced.items():
        (out.results / name if name == "report.html" else notebooks_out / name).write_bytes(data)
    return [notebooks_out / name for name in produced if name != "report.html"]


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


def write_corpus_outputs(out: Paths, state: StudyState) -> None:
    for d in state.documents:
        io.write_text(d.text + "\n", out.clean_corpus / f"{d.doc.doc_id}.txt")
    io.write_csv(cleaning_audit_table(state.documents), out.tables / "cleaning_audit.csv")


# ----------------------------------------------------------------- the run ---

def run_manifest(paths: Paths, out: Paths, params: dict, params_file: Path, summary: dict) -> dict:
    inputs = sorted(p for p in paths.raw.iterdir() if p.is_file() and not p.name.startswith("."))
    inputs += [paths.manifest_csv, params_file]
    inputs += sorted(p for p in paths.lexicon.rglob("*") if p.is_file())
    outputs = sorted(p for p in out.results.rglob("*") if p.is_file() and p.name != "manifest.json")
    def rel(p: Path) -> str:
        try:
            return p.resolve().relative_to(paths.root).as_posix()
        except ValueError:
            return p.name
    params = study_params(params)
    return {
        "parameters": params,
        "parameters_file": rel(params_file),
        "inputs": {rel(p): io.sha256_file(p) for p in inputs},
        "outputs": {p.relative_to(out.results).as_posix(): io.sha256_file(p) for p in outputs},
        "packages": provenance.package_versions(),
        "git": provenance.git_state(paths.root),
        "seeds": provenance.collect_seeds(params),
        "summary": summary,
        "fingerprint": run_fingerprint(paths, params, provenance.package_versions()),
        "python": "3.11",
    }


def up_to_date(paths: Paths, params: dict, target: Path) -> bool:
    """True when target/manifest.json records this run's fingerprint and every output is intact."""
    import json

    manifest_path = target / "manifest.json"
    if not manifest_path.exists():
        return False
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return False
    if manifest.get("fingerprint") != run_fingerprint(paths, params, provenance.package_versions()):
        return False
    outputs = manifest.get("outputs", {})
    return all((target / name).exists() and io.sha256_file(target / name) == digest for name, digest in outputs.items())


def run_study(paths: Paths, params: dict, params_file: Path, results_dir: Path | None = None,
              notebooks_dir: Path | None = None, use_cache: bool = True, force: bool = True) -> StudyState:
    """Run every stage and swap the new results in only if all of them succeed.

    Executed notebooks go to `notebooks_dir` (default: the project's
    notebooks/), each replaced only after the whole run has succeeded. With
    `use_cache`, stages whose dependencies are unchanged are read from
    build/cache/; without `force`, a run whose fingerprint matches the
    results' manifest does nothing.
    """
    target = Path(results_dir) if results_dir else paths.results
    notebooks_target = Path(notebooks_dir) if notebooks_dir else paths.notebooks
    state = StudyState(params=params, cache=StageCache(paths.build / "cache", enabled=use_cache))
    if not force and up_to_date(paths, params, target):
        log.info("results in %s are up to date with the code, inputs and parameters; nothing to do", target)
        return state
    executed_dir = Path(tempfile.mkdtemp(prefix="study-notebooks-"))
    try:
        _run_into_staging(paths, state, params_file, target, executed_dir)
        notebooks_target.mkdir(parents=True, exist_ok=True)
        for executed in sorted(executed_dir.glob("*.ipynb")):
            shutil.copyfile(executed, notebooks_target / f".{executed.name}.tmp")
            os.replace(notebooks_target / f".{executed.name}.tmp", notebooks_target / executed.name)
    finally:
        shutil.rmtree(executed_dir, ignore_errors=True)
    log.info("results written to %s", target)
    return state


def _run_into_staging(paths: Paths, state: StudyState, params_file: Path, target: Path, executed_dir: Path) -> None:
    params = state.params
    with io.staged_directory(target, keep=("bench",)) as staging:
        out = paths.with_results(staging)
        stage_corpus(paths, state)
        write_corpus_outputs(out, state)
        seg = stage_segment(paths, state)
        write_segment_outputs(out, seg)
        documents = documents_table(state.documents, seg.doc_counts)
        io.write_csv(documents, out.tables / "documents.csv")
        _corpus_figures(out, documents, cleaning_audit_table(state.documents))
        stage_emphases(out, state, seg)
        stage_themes(paths, out, state, seg)
        # The notebooks read the manifest (parameters, package versions), so it
        # is written before they run, and again after to list the report.
        io.write_json(run_manifest(paths, out, params, params_file, state.extras), out.run_manifest)
        stage_report(paths, out, state, executed_dir)
        io.write_json(run_manifest(paths, out, params, params_file, state.extras), out.run_manifest)
