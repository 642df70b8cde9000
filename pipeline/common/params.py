"""The study's parameters as one typed configuration: every key of params.yaml, its type, range and relations.

`StudyParams` is built once from the parameters file (`load_params`)
and handed down: each stage takes its own section (`params.themes`,
`params.clean.garble`, ...) as a typed, frozen object. Every check of a
setting lives here, once: a type or range on its field, and a relation
between keys as a validator of the section that holds them. `problems`
turns pydantic's errors into one readable line each, naming the key, the
value and what is expected.

To add a parameter, add one field to its section (and, when it must agree
with another key, a line to that section's validator).
"""

from __future__ import annotations

import codecs
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Iterator, Literal, Mapping, Union

import annotated_types as at
import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from pipeline.common.errors import InputError

__all__ = [
    "BenchParams", "CacheParams", "ChromeParams", "CleanParams", "ConceptParams", "DaskParams", "EmphasesParams",
    "FindingsParams", "GarbleParams", "IngestParams", "NearDuplicateParams", "PageParams", "ProfileParams", "ReportParams",
    "SeededParams", "SegmentParams", "StudyParams", "ThemeParams", "UnitParams", "NON_STUDY_SECTIONS",
    "described_keys", "expected", "load_params", "merged", "problems",
]


class Section(BaseModel):
    """A section of params.yaml: every key named, no unknown key, no coercion of a word into a number."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)

    def record(self) -> dict[str, Any]:
        """The section as plain values in params.yaml's shape (for the run manifest and cache keys)."""
        return self.model_dump(mode="json", exclude_none=True)

    # The set of fields given would pickle in the order of string hashes, which differs between processes;
    # sorted, the same settings pickle to the same bytes everywhere (the engine's recipe tokens hash them).
    def __getstate__(self) -> dict[Any, Any]:
        state = super().__getstate__()
        return {**state, "__pydantic_fields_set__": sorted(state["__pydantic_fields_set__"])}

    def __setstate__(self, state: dict[Any, Any]) -> None:
        super().__setstate__({**state, "__pydantic_fields_set__": set(state["__pydantic_fields_set__"])})


def _problem(kind: str, text: str) -> PydanticCustomError:
    # The text is passed as context, so that braces in a quoted value are not read as a template.
    return PydanticCustomError(kind, "{text}", {"text": text})


def _codec(name: str) -> str:
    try:
        codecs.lookup(name)
    except LookupError:
        raise _problem("codec", f"{name!r} is not a codec Python knows (e.g. utf-8, gb18030, big5hkscs, big5)") from None
    return name


# A number keeps the type params.yaml gave it (500 stays an integer), so the
# run manifest records the file's values as written.
Number = Union[int, float]
Prob = Annotated[Number, Field(ge=0.0, le=1.0)]
Count = Annotated[int, Field(ge=1)]
Seed = Annotated[int, Field(ge=0)]
NonNegative = Annotated[Number, Field(ge=0.0)]
LogP = Annotated[Number, Field(le=0.0)]
Positive = Annotated[Number, Field(gt=0.0)]
# gensim's LdaModel prior: a named rule, one positive number, or one per topic/term.
LdaPrior = Union[Literal["auto", "symmetric", "asymmetric"], Annotated[Number, Field(gt=0.0)],
                 Annotated[list[Annotated[Number, Field(gt=0.0)]], Field(min_length=1)]]
Codec = Annotated[str, AfterValidator(_codec)]


def _as_tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


# YAML gives lists; the settings hold tuples, so that a section is immutable.
Texts = Annotated[tuple[str, ...], BeforeValidator(_as_tuple)]
Ints = Annotated[tuple[int, ...], BeforeValidator(_as_tuple)]
Seeds = Annotated[tuple[Seed, ...], BeforeValidator(_as_tuple), Field(min_length=2)]


def _order(section: str, low_name: str, low: Any, high_name: str, high: Any, why: str) -> None:
    if low > high:
        raise _problem("relation", f"{section}.{low_name} = {low!r} is above {section}.{high_name} = {high!r}; {why}")


def _distinct(section: str, name: str, seeds: list[int]) -> None:
    if len(set(seeds)) != len(seeds):
        raise _problem("relation", f"{section}.{name} = {seeds!r} repeats a seed; stability compares distinct seeds")


class PageParams(Section):
    """How a saved web page becomes an article's text (pipeline/corpus/pages.py)."""

    # The names of pipeline/corpus/extractors.py's EXTRACTORS (tests/corpus/test_pages.py checks they agree).
    extractor: Literal["trafilatura", "trafilatura_precision", "trafilatura_recall", "readability",
                       "justext_length", "justext_punct", "both", "union",
                       "recall_in_readability",
                       "trafilatura_tidy", "tidy_in_readability", "tidy_union",
                       "tidy_checked"]
    headline: bool
    min_chars: Count


class IngestParams(Section):
    codecs: Annotated[list[Codec], Field(min_length=1)]
    min_cjk_share: Prob
    min_chinese_chars: Count
    pages: PageParams


class NearDuplicateParams(Section):
    check: bool
    shingle_chars: Count
    threshold: Prob


class ChromeParams(Section):
    """The line classifier's reach: how short a chrome line is, and how far from either end of an article."""

    max_chars: Count
    head_lines: Annotated[int, Field(ge=0)]
    tail_lines: Annotated[int, Field(ge=0)]


class GarbleParams(Section):
    """The garble detector's thresholds (pipeline/corpus/garble.py)."""

    char_logp_threshold: LogP
    isolated_logp_threshold: LogP
    pair_bonus: NonNegative
    cover_bonus: NonNegative
    min_gain: NonNegative
    repair_min_mean_logp: LogP
    repair_min_pair_share: Prob
    max_grow: Annotated[int, Field(ge=0)]
    run_gap: Annotated[int, Field(ge=0)]
    max_span: Count
    name_max_chars: Annotated[int, Field(ge=0)]
    name_min_gain: NonNegative
    # A longer name: up to this many Hanzi when a division's suffix follows two or more of them.
    place_max_chars: Annotated[int, Field(ge=0)]
    place_suffixes: Texts


class CleanParams(Section):
    processes: Count
    near_duplicates: NearDuplicateParams
    chrome: ChromeParams
    garble: GarbleParams


class SegmentParams(Section):
    hmm: bool
    lexicon_freq: Count
    exclude_tags: Texts
    processes: Count


class UnitParams(Section):
    max_chars: Count
    min_chars: Annotated[int, Field(ge=0)]

    @model_validator(mode="after")
    def _relations(self) -> "UnitParams":
        _order("units", "min_chars", self.min_chars, "max_chars", self.max_chars,
               "a heading cannot be longer than a unit")
        return self


class ProfileParams(Section):
    confidence: Annotated[Number, Field(ge=0.5, le=0.999)]
    bootstrap_samples: Annotated[int, Field(ge=0)]
    seed: Seed


class ConceptParams(Section):
    top_n: Count
    background_prior_strength: Positive
    background_pseudo_count: Positive
    generic_share: Prob


class EmphasesParams(Section):
    top_n: Count
    min_term_count: Count
    min_term_sentences: Count
    kwic_window: Annotated[int, Field(ge=0)]
    sublinear_tf: bool
    prior_strength: Positive
    min_count: Annotated[int, Field(ge=0)]
    min_expected: NonNegative
    min_units: Annotated[int, Field(ge=0)]
    bootstrap_samples: Count
    stability_top: Count
    random_state: Seed
    agreement_top: Count
    figure_top: Count
    concepts: ConceptParams


class SeededParams(Section):
    """The keyword-assisted model (pipeline/themes/seeded.py)."""

    frame_category: str
    max_keywords: Count
    min_keyword_share: Annotated[Number, Field(ge=0.0, lt=1.0)]
    weight: Positive
    sensitivity: Annotated[tuple[Positive, ...], BeforeValidator(_as_tuple)]
    eta: Positive
    # Free topics beside the seeded ones (at most five: more would crowd out the dimensions).
    max_free: Annotated[int, Field(ge=0, le=5)]
    seeds: Seeds
    min_stability: Prob

    @model_validator(mode="after")
    def _relations(self) -> "SeededParams":
        _distinct("themes.seeded", "seeds", list(self.seeds))
        return self


class ThemeParams(Section):
    """The exploratory LDA: the K sweep, the final fit and its cross-checks (pipeline/themes/)."""

    k_min: Annotated[int, Field(ge=2)]
    k_max: Annotated[int, Field(ge=2)]
    # A fixed K: the final model uses it, and the sweep over k_min..k_max is
    # still fitted for the diagnostics table. Left out, the sweep chooses K.
    k: Annotated[int, Field(ge=2)] | None = None
    seeds: Annotated[Ints, Field(min_length=2)]
    final_seed: Seed
    passes: Count
    iterations: Count
    # Passes and E-step cap by corpus size, and the K sweep's sample (pipeline/themes/scaling.py).
    unit_visits: Count
    min_passes: Count
    min_iterations: Count
    selection_max_units: Annotated[int, Field(ge=2)]
    selection_seed: Seed
    alpha: LdaPrior
    eta: LdaPrior
    chunksize: Count
    no_below: Count
    no_above: Prob
    exclude_categories: Texts
    holdout_fraction: Annotated[Number, Field(ge=0.0, le=0.99)]
    split_seed: Seed
    topn_terms: Annotated[int, Field(ge=2)]
    min_stability: Prob
    frex_weight: Annotated[Number, Field(gt=0.0, lt=1.0)]
    presence_floor: Prob
    shared_min_places: Count
    bootstrap_samples: Count
    bootstrap_seed: Seed
    nmf_close_jaccard: Prob
    nmf_max_iter: Count
    nmf_seed: Seed
    ablation: bool
    ldavis_terms: Count
    processes: Count
    seeded: SeededParams

    @model_validator(mode="after")
    def _relations(self) -> "ThemeParams":
        _order("themes", "k_min", self.k_min, "k_max", self.k_max, "the sweep needs k_min <= k_max")
        _distinct("themes", "seeds", list(self.seeds))
        return self


class FindingsParams(Section):
    """What the findings call stressed, shared and leading (pipeline/report/headline.py)."""

    top_concepts: Count
    min_stability: Prob
    min_sentences: Count
    min_units: Count
    profile_variant: Literal["all", "without_flagged"]
    one_article_share: Annotated[Number, Field(ge=0.5, le=1.0)]
    seeds_for_name: Annotated[int, Field(ge=0, le=10)]


class ReportParams(Section):
    execute_notebooks: bool
    kernels: Annotated[int, Field(ge=1)] | None = None
    figure_processes: Annotated[int, Field(ge=1)] = 1
    findings: FindingsParams


class CacheParams(Section):
    max_mb: NonNegative | None = None


class DaskParams(Section):
    scheduler: str | None = None


class BenchTargets(Section):
    minutes_largest: NonNegative
    peak_gb: NonNegative
    segment_vs_jieba: NonNegative
    workers_speedup: NonNegative
    study_vs_jieba: NonNegative | None = None


class BenchParams(Section):
    seed: Seed
    scales: Annotated[tuple[Count, ...], BeforeValidator(_as_tuple), Field(min_length=1)]
    articles_per_place: Count
    segment_ratio_scales: Ints
    themes_ratio_scale: Count
    workers_ratio_slices: Count
    whole_stage_pairs: Count
    report_scales: Ints
    sample_seconds: Annotated[Number, Field(ge=0.001)]
    # Partial sections applied to the study's own parameters for the benchmark
    # (checked as those sections' keys by StudyParams).
    overrides: dict[str, Any]
    targets: BenchTargets
    quick_scales: Ints | None = None
    quick_segment_ratio_scales: Ints | None = None
    quick_themes_ratio_scale: Count | None = None
    quick_workers_ratio_slices: Count | None = None
    quick_whole_stage_pairs: Count | None = None
    quick_overrides: dict[str, Any] | None = None

    def resolved(self, quick: bool) -> dict[str, Any]:
        """The section as plain values for full or quick mode (a quick_* key, when set, wins in quick mode)."""
        record = self.record()
        values = {k: v for k, v in record.items() if not k.startswith("quick_")}
        if quick:
            values.update({k.removeprefix("quick_"): v for k, v in record.items() if k.startswith("quick_")})
        return values

    @model_validator(mode="after")
    def _relations(self) -> "BenchParams":
        for quick in (False, True):
            values = self.resolved(quick)
            if not set(values["segment_ratio_scales"]) <= set(values["scales"]) \
                    or values["themes_ratio_scale"] not in values["scales"]:
                mode = "quick_" if quick else ""
                raise _problem("relation", f"bench.{mode}segment_ratio_scales and bench.{mode}themes_ratio_scale "
                                           f"must be among bench.{mode}scales")
        return self


# Sections that configure tooling around the study, not the study's results:
# they are left out of the run manifest and of the run's fingerprint.
NON_STUDY_SECTIONS = ("bench", "cache", "dask")


class StudyParams(Section):
    """Every parameter of the study, checked: the whole of params.yaml."""

    ingest: IngestParams
    clean: CleanParams
    segment: SegmentParams
    units: UnitParams
    profile: ProfileParams
    emphases: EmphasesParams
    themes: ThemeParams
    report: ReportParams
    cache: CacheParams = CacheParams()
    dask: DaskParams = DaskParams()
    bench: BenchParams | None = None

    @model_validator(mode="after")
    def _overrides(self) -> "StudyParams":
        if self.bench is None:
            return self
        base = self.study_record()
        for name, override in (("overrides", self.bench.overrides), ("quick_overrides", self.bench.quick_overrides)):
            found = problems(merged(base, override or {}), StudyParams)
            if found:
                raise _problem("override", "\n".join(f"bench.{name}: {line}" for line in found))
        return self

    def study_record(self) -> dict[str, Any]:
        """The parameters that can change a result, as plain values."""
        return {k: v for k, v in self.record().items() if k not in NON_STUDY_SECTIONS}

    def updated(self, changes: Mapping[str, Any]) -> "StudyParams":
        """These parameters with `changes` (a partial params.yaml mapping) applied, checked again."""
        return StudyParams.model_validate(merged(self.record(), changes))


def merged(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `changes` laid over it, section by section (a mapping replaces only the keys it names).

    Parameters
    ----------
    base : Mapping[str, Any]
        The parameters laid over (the study's params.yaml, as a mapping).
    changes : Mapping[str, Any]
        The changes, nested as `base`; a mapping merges with the mapping it meets, anything else replaces.

    Returns
    -------
    dict[str, Any]
        A new mapping; `base` is left unchanged.
    """
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


# --- readable problems -------------------------------------------------------

def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return (rest[0] if len(rest) == 1 else Union[tuple(rest)]), True
    return annotation, False


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    metadata: list[Any] = []
    while typing.get_origin(annotation) is Annotated:
        annotation, *more = typing.get_args(annotation)
        metadata.extend(more)
    flat: list[Any] = []
    for item in metadata:
        flat.extend(getattr(item, "metadata", []) or [item])
    return annotation, flat


def _range(metadata: list[Any]) -> str:
    low = next((("[", m.ge) for m in metadata if isinstance(m, at.Ge)), None) or \
        next((("(", m.gt) for m in metadata if isinstance(m, at.Gt)), None)
    high = next(((m.le, "]") for m in metadata if isinstance(m, at.Le)), None) or \
        next(((m.lt, ")") for m in metadata if isinstance(m, at.Lt)), None)
    if low and high:
        return f" in {low[0]}{low[1]:g}, {high[0]:g}{high[1]}"
    if low:
        return f" {'>=' if low[0] == '[' else '>'} {low[1]:g}"
    if high:
        return f" {'<=' if high[1] == ']' else '<'} {high[0]:g}"
    return ""


_WORDS = {bool: "true or false", int: "an integer", str: "a text"}
_PLURAL = {int: "integers", str: "texts"}


def expected(annotation: Any, metadata: list[Any] = ()) -> str:
    """What a key of this type accepts, in words ("an integer >= 1", "a list of texts, with at least 1 item(s)")."""
    annotation, nullable = _strip_optional(annotation)
    annotation, more = _unwrap(annotation)
    metadata = [*metadata, *more]
    origin = typing.get_origin(annotation)
    if annotation == LdaPrior or (origin is Union and Literal["auto", "symmetric", "asymmetric"] in typing.get_args(annotation)):
        text = "auto, symmetric, asymmetric, a positive number or a list of them"
    elif annotation == Number:
        text = "a number" + _range(metadata)
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        text = "a section (a mapping of keys)"
    elif origin is Literal:
        text = "one of " + ", ".join(map(str, typing.get_args(annotation)))
    elif origin in (list, tuple):
        item, item_meta = _unwrap(typing.get_args(annotation)[0])
        noun = "numbers" if item == Number else _PLURAL.get(item, "values")
        text = f"a list of {noun}" + _range(item_meta)
        least = next((m.min_length for m in metadata if isinstance(m, at.MinLen)), 0)
        if least:
            text += f", with at least {least} item(s)"
    elif origin is dict:
        text = "a mapping of keys"
    else:
        text = _WORDS.get(annotation, "a value") + _range(metadata)
    return text + (", or null" if nullable else "")


def _field(model: type[BaseModel], path: list[str]) -> tuple[Any, list[Any], int]:
    """The field `path` leads to: (its annotation, its metadata, how many parts of the path name fields)."""
    annotation, metadata, depth = None, [], 0
    for part in path:
        inner = _strip_optional(annotation)[0] if annotation is not None else model
        if not (isinstance(inner, type) and issubclass(inner, BaseModel)) or part not in inner.model_fields:
            break
        info = inner.model_fields[part]
        annotation, metadata, depth = info.annotation, list(info.metadata), depth + 1
    return annotation, metadata, depth


def _value(raw: Any, path: list[str]) -> Any:
    for part in path:
        raw = raw.get(part) if isinstance(raw, Mapping) else None
    return raw


def _line(error: dict[str, Any], raw: Mapping[str, Any], model: type[BaseModel]) -> list[str]:  # noqa: PLR0911 (one return for each kind of pydantic error)
    loc = [str(p) for p in error["loc"]]
    annotation, metadata, depth = _field(model, loc)
    path = loc[:depth]
    dotted = ".".join(path)
    kind = error["type"]
    if kind in ("relation", "override"):
        return error["msg"].split("\n")
    if kind == "extra_forbidden":
        # The unknown key's owner: the section the path leads to, or the whole file at the top.
        owner = _strip_optional(annotation)[0] if depth else model
        where = f"in section {dotted}" if depth else "as a section"
        return [f"{'.'.join(loc[: depth + 1])}: unknown key {where} (known: {', '.join(sorted(owner.model_fields))}); "
                "check its spelling"]
    if kind == "missing":
        if depth == 1 and model is StudyParams:
            return [f"{dotted}: missing section; copy it from the project's params.yaml"]
        return [f"{dotted}: missing; expected {expected(annotation, metadata)} (see the project's params.yaml)"]
    if kind == "codec":
        return [f"{dotted}: {error['msg']}"]
    return [f"{dotted} = {_value(raw, path)!r}: expected {expected(annotation, metadata)}"]


def _checked(raw: Any, model: type[BaseModel]) -> tuple[BaseModel | None, list[str]]:
    """The validated model and no problems, or None and every problem, one readable line each."""
    if not isinstance(raw, Mapping):
        return None, ["must be a YAML mapping of sections (ingest, clean, ...)"]
    try:
        return model.model_validate(raw), []
    except ValidationError as exc:
        return None, list(dict.fromkeys(line for error in exc.errors() for line in _line(error, raw, model)))


def problems(raw: Any, model: type[BaseModel] | None = None) -> list[str]:
    """Every problem of a parameters mapping, one readable line each (empty when it is valid)."""
    return _checked(raw, model or StudyParams)[1]


def described_keys(model: type[BaseModel] = StudyParams, prefix: str = "") -> Iterator[tuple[str, str]]:
    """Every key of the parameters, dotted, with what it accepts."""
    for name, info in model.model_fields.items():
        dotted = f"{prefix}{name}"
        inner = _strip_optional(info.annotation)[0]
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            yield from described_keys(inner, dotted + ".")
        else:
            yield dotted, expected(info.annotation, list(info.metadata))


def load_params(path: Path) -> StudyParams:
    """The parameters in `path`, after every key has been checked.

    Parameters
    ----------
    path : Path
        A YAML file shaped like the project's params.yaml.

    Returns
    -------
    StudyParams
        Every section, typed and frozen.

    Raises
    ------
    InputError
        Naming the file and every problem, one line each.
    """
    path = Path(path)
    try:
        params = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, "parameters file not found; pass --params with an existing file") from None
    except IsADirectoryError:
        raise InputError(path, "is a folder; pass --params with a YAML file") from None
    except UnicodeDecodeError as exc:
        raise InputError(path, f"is not UTF-8 (invalid byte at offset {exc.start}); save it as UTF-8") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where is not None else ""
        raise InputError(path, f"is not valid YAML{at} ({getattr(exc, 'problem', None) or exc}); fix the syntax and rerun") from None
    if not isinstance(params, dict):
        raise InputError(path, "must be a YAML mapping of sections (ingest, clean, ...)")
    checked, found = _checked(params, StudyParams)
    if found:
        raise InputError(path, found)
    return checked
