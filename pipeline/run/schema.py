"""What params.yaml may hold: one entry per key, with its type and range.

Every key of every section is listed in `SCHEMA` by its dotted name. A
parameters file is checked against it before any stage runs, so that a typo,
an unknown section, or a word where a number belongs stops the run at once
with a line naming the file, the key, the value and what is expected.

To add a parameter, add one line to `SCHEMA` (and, when it must agree with
another key, a line to `RELATIONS`).
"""

from __future__ import annotations

import codecs as _codecs
import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

__all__ = ["COUNT", "INF", "Key", "OPTIONAL_SECTIONS", "OVERRIDE_KEYS", "PROB", "RELATIONS", "SCHEMA", "SEED",
           "check_params", "value_problem"]

INF = math.inf


@dataclass(frozen=True)
class Key:
    """One parameter: its kind, allowed range or choices, and whether it may be left out."""

    kind: str  # int, float, bool, str, list[int], list[str], list[float], mapping, lda_prior
    low: float = -INF
    high: float = INF
    choices: tuple = ()
    optional: bool = False
    min_items: int = 0
    nullable: bool = False  # null (YAML) allowed too
    item_check: Callable[[Any], str | None] | None = None  # returns a problem, or None

    def expected(self) -> str:
        words = {"int": "an integer", "float": "a number", "bool": "true or false", "str": "a text",
                 "list[int]": "a list of integers", "list[str]": "a list of texts", "list[float]": "a list of numbers",
                 "mapping": "a mapping of keys", "lda_prior": "auto, symmetric, asymmetric, a positive number or a list of them"}
        text = words[self.kind]
        if self.choices:
            text = "one of " + ", ".join(map(str, self.choices))
        if self.low > -INF and self.high < INF:
            text += f" in [{self.low:g}, {self.high:g}]"
        elif self.low > -INF:
            text += f" >= {self.low:g}"
        elif self.high < INF:
            text += f" <= {self.high:g}"
        if self.min_items:
            text += f", with at least {self.min_items} item(s)"
        if self.nullable:
            text += ", or null"
        return text


def _codec(name: Any) -> str | None:
    try:
        _codecs.lookup(str(name))
    except LookupError:
        return f"{name!r} is not a codec Python knows (e.g. utf-8, gb18030, big5hkscs, big5)"
    return None


PROB = dict(low=0.0, high=1.0)
SEED = Key("int", low=0)
COUNT = Key("int", low=1)

SCHEMA: dict[str, Key] = {
    "ingest.codecs": Key("list[str]", min_items=1, item_check=_codec),
    "ingest.min_cjk_share": Key("float", **PROB),
    "ingest.min_chinese_chars": Key("int", low=1),
    "clean.processes": COUNT,
    "clean.garble.char_logp_threshold": Key("float", high=0.0),
    "clean.garble.isolated_logp_threshold": Key("float", high=0.0),
    "clean.garble.pair_bonus": Key("float", low=0.0),
    "clean.garble.cover_bonus": Key("float", low=0.0),
    "clean.garble.min_gain": Key("float", low=0.0),
    "clean.garble.repair_min_mean_logp": Key("float", high=0.0),
    "clean.garble.repair_min_pair_share": Key("float", **PROB),
    "clean.garble.max_grow": Key("int", low=0),
    "clean.garble.run_gap": Key("int", low=0),
    "clean.garble.max_span": COUNT,
    "segment.hmm": Key("bool"),
    "segment.lexicon_freq": COUNT,
    "segment.exclude_tags": Key("list[str]"),
    "segment.processes": COUNT,
    "units.max_chars": COUNT,
    "units.min_chars": Key("int", low=0),
    "emphases.top_n": COUNT,
    "emphases.sublinear_tf": Key("bool"),
    "emphases.prior_strength": Key("float", low=0.0),
    "emphases.min_count": Key("int", low=0),
    "emphases.min_expected": Key("float", low=0.0),
    "emphases.min_units": Key("int", low=0),
    "emphases.bootstrap_samples": COUNT,
    "emphases.stability_top": COUNT,
    "emphases.random_state": SEED,
    "emphases.agreement_top": COUNT,
    "emphases.figure_top": COUNT,
    "emphases.concepts.top_n": COUNT,
    "emphases.concepts.background_prior_strength": Key("float", low=0.0),
    "emphases.concepts.background_pseudo_count": Key("float", low=0.0),
    "emphases.concepts.generic_share": Key("float", **PROB),
    "themes.k_min": Key("int", low=2),
    "themes.k_max": Key("int", low=2),
    "themes.seeds": Key("list[int]", min_items=2),
    "themes.final_seed": SEED,
    "themes.passes": COUNT,
    "themes.iterations": COUNT,
    # Passes and E-step cap by corpus size, and the K sweep's sample (pipeline/themes/scaling.py).
    "themes.unit_visits": COUNT,
    "themes.min_passes": COUNT,
    "themes.min_iterations": COUNT,
    "themes.selection_max_units": Key("int", low=2),
    "themes.selection_seed": SEED,
    "themes.alpha": Key("lda_prior"),
    "themes.eta": Key("lda_prior"),
    "themes.chunksize": COUNT,
    "themes.no_below": COUNT,
    "themes.no_above": Key("float", low=0.0, high=1.0),
    "themes.holdout_fraction": Key("float", low=0.0, high=0.99),
    "themes.split_seed": SEED,
    "themes.topn_terms": Key("int", low=2),
    "themes.min_stability": Key("float", **PROB),
    "themes.presence_floor": Key("float", **PROB),
    "themes.shared_min_places": COUNT,
    "themes.bootstrap_samples": COUNT,
    "themes.bootstrap_seed": SEED,
    "themes.nmf_close_jaccard": Key("float", **PROB),
    "themes.nmf_max_iter": COUNT,
    "themes.nmf_seed": SEED,
    "themes.ablation": Key("bool"),
    "themes.ldavis_terms": COUNT,
    "themes.processes": COUNT,
    "report.execute_notebooks": Key("bool"),
    "report.kernels": Key("int", low=1, optional=True),
    "report.findings.top_concepts": COUNT,
    "report.findings.min_stability": Key("float", **PROB),
    "report.findings.one_article_share": Key("float", low=0.5, high=1.0),
    "report.findings.seeds_for_name": Key("int", low=0, high=10),
    "report.findings.min_sentences": COUNT,
    "report.findings.min_units": COUNT,
    "report.findings.profile_variant": Key("str", choices=("all", "without_flagged")),
    "cache.max_mb": Key("float", low=0.0, optional=True),
    # The chrome classifier, near-duplicate check and name-safe garble rule;
    # the profile's intervals; the emphases' floors and evidence; the
    # exploratory model's frame exclusion and FREX weight; the keyword-assisted
    # model.
    "clean.near_duplicates.check": Key("bool"),
    "clean.near_duplicates.shingle_chars": Key("int", low=1),
    "clean.near_duplicates.threshold": Key("float", **PROB),
    "clean.chrome.max_chars": Key("int", low=1),
    "clean.chrome.head_lines": Key("int", low=0),
    "clean.chrome.tail_lines": Key("int", low=0),
    "clean.garble.name_max_chars": Key("int", low=0),
    "clean.garble.name_min_gain": Key("float", low=0.0),
    "clean.garble.place_max_chars": Key("int", low=0),
    "clean.garble.place_suffixes": Key("list[str]"),
    "profile.confidence": Key("float", low=0.5, high=0.999),
    "profile.bootstrap_samples": Key("int", low=0),
    "profile.seed": Key("int", low=0),
    "emphases.min_term_count": Key("int", low=1),
    "emphases.min_term_sentences": Key("int", low=1),
    "emphases.kwic_window": Key("int", low=0),
    "themes.exclude_categories": Key("list[str]"),
    "themes.frex_weight": Key("float", **PROB),
    "themes.seeded.frame_category": Key("str"),
    "themes.seeded.max_keywords": Key("int", low=1),
    "themes.seeded.min_keyword_share": Key("float", **PROB),
    "themes.seeded.weight": Key("float", low=0.0),
    "themes.seeded.sensitivity": Key("list[float]", low=0.0),
    "themes.seeded.eta": Key("float", low=0.0),
    "themes.seeded.max_free": Key("int", low=0, high=5),
    "themes.seeded.seeds": Key("list[int]", low=0, min_items=2),
    "themes.seeded.min_stability": Key("float", **PROB),
    "dask.scheduler": Key("str", optional=True, nullable=True),
    "bench.seed": SEED,
    "bench.scales": Key("list[int]", min_items=1),
    "bench.articles_per_place": COUNT,
    "bench.segment_ratio_scales": Key("list[int]"),
    "bench.themes_ratio_scale": COUNT,
    "bench.workers_ratio_slices": COUNT,
    "bench.whole_stage_pairs": COUNT,
    "bench.report_scales": Key("list[int]"),
    "bench.sample_seconds": Key("float", low=0.001),
    "bench.overrides": Key("mapping"),  # its keys are checked as the sections' own keys
    "bench.targets.minutes_largest": Key("float", low=0.0),
    "bench.targets.peak_gb": Key("float", low=0.0),
    "bench.targets.segment_vs_jieba": Key("float", low=0.0),
    "bench.targets.workers_speedup": Key("float", low=0.0),
    "bench.quick_scales": Key("list[int]", optional=True),
    "bench.quick_segment_ratio_scales": Key("list[int]", optional=True),
    "bench.quick_themes_ratio_scale": Key("int", low=1, optional=True),
    "bench.quick_workers_ratio_slices": Key("int", low=1, optional=True),
    "bench.quick_whole_stage_pairs": Key("int", low=1, optional=True),
    "bench.quick_overrides": Key("mapping", optional=True),
}

# Sections that may be left out of a parameters file as a whole.
OPTIONAL_SECTIONS = ("bench", "cache", "dask", "profile")

# Sections whose value is a mapping of other sections' keys (partial parameters).
OVERRIDE_KEYS = ("bench.overrides", "bench.quick_overrides")


def _between(low: str, high: str, why: str) -> Callable[[dict], str | None]:
    def check(params: dict) -> str | None:
        a, b = _get(params, low), _get(params, high)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and a > b:
            return f"{low} = {a!r} is above {high} = {b!r}; {why}"
        return None
    return check


def _distinct_seeds(params: dict) -> str | None:
    seeds = _get(params, "themes.seeds")
    if isinstance(seeds, list) and len(set(map(str, seeds))) != len(seeds):
        return f"themes.seeds = {seeds!r} repeats a seed; stability compares distinct seeds"
    return None


# Checks between keys (each returns a problem or None).
RELATIONS: list[Callable[[dict], str | None]] = [
    _between("themes.k_min", "themes.k_max", "the sweep needs k_min <= k_max"),
    _between("units.min_chars", "units.max_chars", "a heading cannot be longer than a unit"),
    _distinct_seeds,
]

_MISSING = object()


def _get(params: dict, dotted: str) -> Any:
    node: Any = params
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return (isinstance(v, (int, float)) and not isinstance(v, bool)) and not (isinstance(v, float) and math.isnan(v))


def value_problem(key: Key, value: Any) -> str | None:  # noqa: PLR0911 (one return for each kind of key)
    """Why `value` does not fit `key`, or None when it does."""
    kind = key.kind
    if value is None and key.nullable:
        return None
    if kind == "mapping":
        return None if isinstance(value, dict) else "wrong type"
    if kind == "lda_prior":
        if value in ("auto", "symmetric", "asymmetric") or (_is_number(value) and value > 0):
            return None
        if isinstance(value, list) and value and all(_is_number(v) and v > 0 for v in value):
            return None
        return "wrong type"
    if kind.startswith("list["):
        if not isinstance(value, list) or len(value) < key.min_items:
            return "wrong type"
        item = Key(kind[5:-1], key.low, key.high, key.choices, item_check=key.item_check)
        for element in value:
            problem = value_problem(item, element)
            if problem:
                return problem
        return None
    fits = {"int": _is_int, "float": _is_number, "bool": lambda v: isinstance(v, bool),
            "str": lambda v: isinstance(v, str)}[kind](value)
    if not fits:
        return "wrong type"
    if key.choices and value not in key.choices:
        return "wrong type"
    if kind in ("int", "float") and not key.low <= value <= key.high:
        return "wrong type"
    if key.item_check is not None:
        return key.item_check(value)
    return None


def _walk(node: dict, prefix: str, schema: dict[str, Key], problems: list[str]) -> None:
    prefixes = {k.rsplit(".", i)[0] for k in schema for i in range(1, k.count(".") + 1)}
    for name, value in node.items():
        dotted = f"{prefix}.{name}" if prefix else str(name)
        if dotted in schema:
            problem = value_problem(schema[dotted], value)
            if problem == "wrong type":
                problems.append(f"{dotted} = {value!r}: expected {schema[dotted].expected()}")
            elif problem:
                problems.append(f"{dotted}: {problem}")
            if dotted in OVERRIDE_KEYS and isinstance(value, dict):
                _walk_override(value, dotted, schema, problems)
        elif dotted in prefixes:
            if not isinstance(value, dict):
                problems.append(f"{dotted} = {value!r}: expected a section (a mapping of keys)")
            else:
                _walk(value, dotted, schema, problems)
        else:
            known = sorted({k[len(prefix) + 1:].split(".")[0] for k in schema if k.startswith(prefix + ".")}
                           if prefix else {k.split(".")[0] for k in schema})
            where = f"in section {prefix}" if prefix else "as a section"
            problems.append(f"{dotted}: unknown key {where} (known: {', '.join(known)}); check its spelling")


def _walk_override(node: dict, where: str, schema: dict[str, Key], problems: list[str]) -> None:
    found: list[str] = []
    _walk(node, "", schema, found)
    problems.extend(f"{where}: {p}" for p in found)


def check_params(params: dict[str, Any], schema: dict[str, Key] = SCHEMA,
                 relations: Sequence[Callable[[dict], str | None]] = tuple(RELATIONS)) -> list[str]:
    """Every problem of a parameters mapping, one readable line each (empty when it is valid)."""
    problems: list[str] = []
    _walk(params, "", schema, problems)
    sections = {k.split(".")[0] for k in schema}
    for section in sorted(sections):
        if section not in params:
            if section not in OPTIONAL_SECTIONS:
                problems.append(f"{section}: missing section; copy it from the project's params.yaml")
            continue
        if isinstance(params[section], dict):
            _check_required(params[section], section, schema, problems)
    if not problems:
        problems += [p for p in (check(params) for check in relations) if p]
    return list(dict.fromkeys(problems))


def _check_required(node: dict, prefix: str, schema: dict[str, Key], problems: list[str]) -> None:
    for dotted, key in schema.items():
        if not dotted.startswith(prefix + ".") or key.optional:
            continue
        rest = dotted[len(prefix) + 1:].split(".")
        value: Any = node
        for i, part in enumerate(rest):
            if not isinstance(value, dict):
                break
            if part not in value:
                problems.append(f"{'.'.join([prefix, *rest[:i + 1]])}: missing; expected "
                                f"{key.expected() if i == len(rest) - 1 else 'a section'} (see the project's params.yaml)")
                break
            value = value[part]
