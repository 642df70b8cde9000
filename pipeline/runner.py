"""The runner: wires the stages, reads the parameters once, writes results atomically.

Each stage function takes plain values and returns plain values; only this
module touches the file system (through pipeline.io) and decides where
things go (through pipeline.config.Paths).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from pipeline import clean as clean_stage
from pipeline import ingest, io, provenance, script
from pipeline.config import Paths

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


class _Timer:
    def __init__(self, state: StudyState, name: str):
        self.state, self.name = state, name

    def __enter__(self):
        self.start = time.perf_counter()
        log.info("stage %s: started", self.name)
        return self

    def __exit__(self, *exc):
        self.state.timings[self.name] = time.perf_counter() - self.start
        if exc[0] is None:
            log.info("stage %s: done in %.1f s", self.name, self.state.timings[self.name])


def _progress(items, description: str):
    return tqdm(items, desc=description, unit="doc", leave=False, disable=None)


# ------------------------------------------------------------------ stages ---

def stage_corpus(paths: Paths, state: StudyState) -> None:
    """Ingest, clean and simplify every article."""
    from pipeline.charmodel import CharModel
    from pipeline.garble import garble_edits

    params = state.params
    converter = script.make_converter("t2s")
    model = CharModel.from_jieba_dictionary(converter)
    with _Timer(state, "ingest"):
        docs = ingest.load_documents(paths.raw, paths.manifest_csv, params["ingest"]["codecs"],
                                     model.mean_logp, params["ingest"]["min_cjk_share"])
        log.info("ingest: read %d articles listed in %s", len(docs), paths.manifest_csv.name)
    with _Timer(state, "clean"):
        patterns = clean_stage.load_boilerplate(paths.lexicon / "boilerplate.yaml")
        garble_params = params["clean"]["garble"]
        rules = clean_stage.default_rules(patterns, lambda text: garble_edits(text, model, garble_params))
        for doc in _progress(docs, "clean"):
            text, audit = clean_stage.clean_text(doc.text, rules)
            state.documents.append(CleanDocument(doc, script.detect_script(text, converter),
                                                 script.to_simplified(text, converter), audit))
        log.info("clean: %d changes logged", sum(len(d.audit) for d in state.documents))


@dataclass
class Segmentation:
    """Everything the segmentation stage hands on."""
    lexicon: pd.DataFrame
    units: list[dict]
    words_by_place: dict[str, list[str]]
    text_by_place: dict[str, str]
    countable_by_place: dict[str, list[str]]
    doc_counts: dict[str, dict[str, int]]


def stage_segment(paths: Paths, state: StudyState) -> Segmentation:
    """Cut every article into units and tokens with the lexicon-aware tokenizer."""
    from pipeline import lexicon as lex_mod
    from pipeline import segment as seg_mod
    from pipeline.units import make_units

    seg_params, unit_params = state.params["segment"], state.params["units"]
    with _Timer(state, "segment"):
        lexicon = lex_mod.load_lexicon(paths.lexicon / "governance_terms.csv")
        tokenizer = seg_mod.build_tokenizer(lex_mod.lexicon_strings(lexicon), paths.jieba_cache,
                                            seg_params["lexicon_freq"])
        plain_tokenizer = seg_mod.build_plain_tokenizer(paths.jieba_cache)
        general = seg_mod.general_stopwords()
        stopwords = general | set(lex_mod.load_wordlist(paths.lexicon / "stopwords_domain.txt"))
        rules = seg_mod.make_filter_rules(
            lexicon, stopwords, lex_mod.load_wordlist(paths.lexicon / "single_char_whitelist.txt"),
            lex_mod.load_sectioned_wordlist(paths.lexicon / "vocab_exclusions.txt", ("exclude", "keep")),
            seg_params["exclude_tags"])
        units: list[dict] = []
        words_by_place: dict[str, list[str]] = {}
        text_by_place: dict[str, str] = {}
        countable_by_place: dict[str, list[str]] = {}
        doc_counts: dict[str, dict[str, int]] = {}
        for d in _progress(state.documents, "segment"):
            place = d.doc.place
            pieces = make_units(d.text, unit_params["max_chars"], unit_params.get("min_chars", 0))
            doc_tokens = 0
            for number, piece in enumerate(pieces, start=1):
                pairs = seg_mod.segment(piece, tokenizer, seg_params["hmm"])
                countable = seg_mod.countable_tokens(pairs, rules)
                doc_tokens += len(countable)
                # Units are joined by a line break, which no lexicon term spans.
                if place in text_by_place:
                    text_by_place[place] += "\n"
                    words_by_place[place].append("\n")
                text_by_place[place] = text_by_place.get(place, "") + piece
                words_by_place.setdefault(place, []).extend(w for w, _ in pairs)
                countable_by_place.setdefault(place, []).extend(countable)
                units.append({"unit_id": f"{d.doc.doc_id}-{number:04d}", "doc_id": d.doc.doc_id, "place": place,
                              "text": piece, "tokens": seg_mod.filter_tokens(pairs, rules),
                              "plain_tokens": seg_mod.plain_tokens(piece, plain_tokenizer, general)})
            doc_counts[d.doc.doc_id] = {"units": len(pieces), "tokens": doc_tokens}
        log.info("segment: %d units, %d tokens in the vocabularies", len(units), sum(len(u["tokens"]) for u in units))
    return Segmentation(lexicon, units, words_by_place, text_by_place, countable_by_place, doc_counts)


def write_segment_outputs(out: Paths, seg: Segmentation) -> None:
    from pipeline import lexicon as lex_mod

    io.write_jsonl(seg.units, out.units_jsonl)
    coverage = lex_mod.lexicon_coverage(seg.text_by_place, seg.words_by_place, seg.lexicon)
    io.write_csv(coverage, out.tables / "lexicon_coverage.csv")
    io.write_csv(lex_mod.lexicon_profile(seg.countable_by_place, seg.lexicon), out.tables / "lexicon_profile.csv")


def stage_emphases(out: Paths, state: StudyState, seg: Segmentation) -> None:
    from pipeline import emphases
    from pipeline import figures_emphases as figures
    from pipeline.lexicon import category_map

    params = state.params["emphases"]
    with _Timer(state, "emphases"):
        em = emphases.compute_emphases(seg.units, category_map(seg.lexicon), params)
        table = emphases.emphases_table(em, params["top_n"])
        io.write_csv(table, out.tables / "place_terms.csv")
        io.write_csv(emphases.methods_agreement(table, params["agreement_top"]), out.tables / "methods_agreement.csv")
        io.write_csv(emphases.place_summary(em), out.tables / "place_summary.csv")
        io.write_csv(emphases.term_statistics(em), out.tables / "term_statistics.csv")
        figures.plot_top_logodds(table, out.figures / "place_terms_logodds.png", top=params["figure_top"])
        figures.plot_zscore_heatmap(emphases.heatmap_matrix(em, top=params["figure_top"]),
                                    out.figures / "place_terms_heatmap.png")


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

def run_manifest(paths: Paths, out: Paths, params: dict, params_file: Path) -> dict:
    inputs = sorted(p for p in paths.raw.iterdir() if p.is_file() and not p.name.startswith("."))
    inputs += [paths.manifest_csv, params_file]
    inputs += sorted(p for p in paths.lexicon.rglob("*") if p.is_file())
    outputs = sorted(p for p in out.results.rglob("*") if p.is_file() and p.name != "manifest.json")
    def rel(p: Path) -> str:
        try:
            return p.resolve().relative_to(paths.root).as_posix()
        except ValueError:
            return p.name
    return {
        "parameters": params,
        "parameters_file": rel(params_file),
        "inputs": {rel(p): io.sha256_file(p) for p in inputs},
        "outputs": {p.relative_to(out.results).as_posix(): io.sha256_file(p) for p in outputs},
        "packages": provenance.package_versions(),
        "git": provenance.git_state(paths.root),
        "seeds": provenance.collect_seeds(params),
        "python": "3.11",
    }


def run_study(paths: Paths, params: dict, params_file: Path, results_dir: Path | None = None) -> StudyState:
    """Run every stage and swap the new results in only if all of them succeed."""
    target = Path(results_dir) if results_dir else paths.results
    state = StudyState(params=params)
    with io.staged_directory(target, keep=("bench",)) as staging:
        out = paths.with_results(staging)
        stage_corpus(paths, state)
        write_corpus_outputs(out, state)
        seg = stage_segment(paths, state)
        write_segment_outputs(out, seg)
        io.write_csv(documents_table(state.documents, seg.doc_counts), out.tables / "documents.csv")
        stage_emphases(out, state, seg)
        io.write_json(run_manifest(paths, out, params, params_file), out.run_manifest)
    log.info("results written to %s", target)
    return state
