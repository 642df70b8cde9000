"""The study's findings in a few sentences, written from the result tables.

The README's findings section and the report's abstract are both this text,
so neither can drift from the tables: the runner writes it to
`results/findings.md` and into the README between its findings markers, and a
test checks that the README holds what the tables say.

Each sentence is a pure function of the tables it names; a sentence whose
table is missing (a stage turned off) is left out rather than guessed. Every
comparison of a value with another or with a floor is made at `RANK_DIGITS`
significant digits (`pipeline.common.numeric`), so that floating-point noise
from another machine cannot change a sentence.
"""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

import pandas as pd

from pipeline.common.numeric import rank_key

FRAME = "governance_frame"
START, END = "<!-- findings:start -->", "<!-- findings:end -->"
Tables = Mapping[str, pd.DataFrame]


def _join(items: Sequence[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def corpus_sentence(tables: Tables) -> str | None:
    docs = tables.get("documents")
    if docs is None or docs.empty:
        return None
    places = list(dict.fromkeys(docs["place"]))
    by_province = docs.drop_duplicates("place")["province"].value_counts()
    biggest, count = by_province.index[0], int(by_province.iloc[0])
    levels = ", ".join(f"{n} {level}" for level, n in docs.drop_duplicates("place")["level"].value_counts().items())
    share = f"; {count} of the {len(places)} places are in {biggest}" if count > 1 else ""
    return (f"The corpus is {len(docs)} article{'s' if len(docs) != 1 else ''} from {len(places)} places "
            f"({levels}){share}, cut into {int(docs['units'].sum())} text units with "
            f"{int(docs['tokens'].sum())} counted tokens, so every place-level contrast below is a contrast "
            f"between {'one article' if len(docs) == len(places) else 'a few articles'} per place.")


def _leads(part: pd.DataFrame, rate: str) -> pd.DataFrame:
    """Each place's leading category: the highest rate at `RANK_DIGITS` digits, ties to the first category name."""
    part = part.assign(_key=rank_key(part[rate].to_numpy()))
    return part.sort_values(["_key", "category"], ascending=[False, True]).groupby("place", sort=False).head(1)


def profile_sentence(tables: Tables) -> str | None:
    """Which dimension (frame aside) each place mentions most, by the dictionary, and whether brands decide it."""
    shares = tables.get("profile_shares")
    changed = ""
    if shares is not None and not shares.empty:
        shares = shares[shares["category"] != FRAME]
        leads, unit = _leads(shares[shares["variant"] == "all"], "share"), "share of sentences"
        plain = _leads(shares[shares["variant"] == "without_flagged"], "share")
        moved = [f"{place} ({a} → {b})" for place, a, b in
                 zip(leads["place"], leads["category"], leads["place"].map(dict(zip(plain["place"], plain["category"]))))
                 if isinstance(b, str) and a != b]
        if moved:
            changed = (f" Without local brand names and institutional self-references the lead changes in "
                       f"{len(moved)} place{'s' if len(moved) != 1 else ''}: {_join(moved)}.")
    else:
        profile = tables.get("lexicon_profile")
        if profile is None or profile.empty:
            return None
        leads, unit = _leads(profile[profile["category"] != FRAME], "per_10k"), "rate per 10,000 tokens"
    counts = leads["category"].value_counts()
    top, n = counts.index[0], int(counts.iloc[0])
    others = [f"{place} ({category})" for place, category in zip(leads["place"], leads["category"]) if category != top]
    rest = f"; the others lead with another: {_join(others)}" if others else ""
    return (f"By the dictionary, the dimension mentioned most (frame terms aside, by {unit}) is {top} "
            f"in {n} of {leads['place'].nunique()} places{rest}.{changed}")


def seeded_sentence(tables: Tables, presence_floor: float = 0.05, shared_min_places: int = 4) -> str | None:
    """What the keyword-assisted model finds: stable dimensions, and which are present in how many places."""
    quality, shares = tables.get("seeded_topic_quality"), tables.get("seeded_place_topics")
    if quality is None or shares is None or quality.empty:
        return None
    dims = quality[quality["dimension"] != "free"]
    found = list(dims.loc[dims["found"].astype(str) == "True", "dimension"])
    places = shares["place"].nunique()
    need = min(shared_min_places, places)
    present = shares[(shares["dimension"].isin(found)) & (rank_key(shares["ci_low"].to_numpy()) >= presence_floor)]
    reach = present.groupby("dimension")["place"].nunique().reindex(found, fill_value=0)
    shared = [d for d in found if reach[d] >= need]
    specific = [f"{d} ({'、'.join(present.loc[present['dimension'] == d, 'place'])})" for d in found if 0 < reach[d] < need]
    return (f"A keyword-assisted topic model with one topic per dimension finds {len(found)} of {len(dims)} "
            f"dimensions as stable topics; counting a dimension as present in a place when the lower 95% bound "
            f"of its share is at least {presence_floor:g}, "
            + (f"{_join(shared)} {'is' if len(shared) == 1 else 'are'} shared by at least {need} places"
               if shared else f"none is shared by {need} or more places")
            + (f", and {_join(specific)} {'is' if len(specific) == 1 else 'are'} specific" if specific else "")
            + _interval_caveat(shares) + ".")


def _interval_caveat(shares: pd.DataFrame) -> str:
    """Units resampled within one article give optimistic intervals; say so where the table used them."""
    if "interval" not in shares.columns:
        return ""
    kinds = set(shares["interval"].dropna())
    if kinds == {"units_optimistic"}:
        return "; with one article per place these intervals are optimistic"
    if "units_optimistic" in kinds:
        return "; where a place has one article its interval is optimistic"
    return ""


def emphases_sentence(tables: Tables, top: int = 3, min_stability: float = 0.6) -> str | None:
    """Each place's most distinctive terms by weighted log-odds that also hold up under the bootstrap."""
    terms = tables.get("place_terms")
    if terms is None or terms.empty:
        return None
    stable = rank_key(terms["stability"].to_numpy()) >= min_stability
    part = terms[(terms["method"] == "logodds") & stable].sort_values(["rank", "term"])
    parts = []
    for place, group in part.groupby("place", sort=False):
        picked = list(group["term"].head(top))
        parts.append(f"{place}: {'、'.join(picked)}")
    if not parts:
        return None
    return (f"In the open vocabulary, distinctive terms that stay in a place's top list in at least "
            f"{min_stability:.0%} of bootstrap resamples: {'; '.join(parts)}.")


def concept_sentence(tables: Tables, top: int = 3, min_stability: float = 0.6) -> str | None:
    """Each place's leading policy concepts by weighted log-odds (background prior) that hold up under the
    bootstrap and are used more there than elsewhere (z > 0): the study's primary list."""
    concepts = tables.get("place_concepts")
    if concepts is None or concepts.empty:
        return None
    keep = ((concepts["method"] == "logodds") & (rank_key(concepts["stability"].to_numpy()) >= min_stability)
            & (rank_key(concepts["z"].to_numpy()) > 0))
    part = concepts[keep].sort_values(["rank", "concept"])
    parts = [f"{place}: {'、'.join(part.loc[part['place'] == place, 'label'].head(top))}"
             for place in dict.fromkeys(concepts["place"]) if (part["place"] == place).any()]  # the table's place order
    if not parts:
        return None
    return (f"Counting each policy concept's terms together and shrinking what every government work report says, "
            f"the concepts each place stresses most (log-odds, in at least {min_stability:.0%} of bootstrap "
            f"resamples): {'; '.join(parts)}.")


def expectations_sentence(tables: Tables) -> str | None:
    """How many blind expectations, written before the lists, the lists find."""
    summary = tables.get("expectation_summary")
    if summary is None or summary.empty:
        return None
    overall = summary[summary["place"] == "all"].set_index("set")
    parts = [f"{int(overall.loc[name, 'hits'])} of {int(overall.loc[name, 'expected'])} expected {name}"
             for name in ("concepts", "terms") if name in overall.index]
    if not parts:
        return None
    return (f"Against a close reader's expectations written before any list was computed, the top 15 lists find "
            f"{' and '.join(parts)}.")


def caveat_sentence(tables: Tables) -> str | None:
    docs = tables.get("documents")
    if docs is None or docs.empty or docs.groupby("place").size().max() > 1:
        return None
    return ("With one article per place, intervals describe variation across an article's passages, not across "
            "articles or authors; a place's emphasis is one author's emphasis in one text.")


SENTENCES: tuple[Callable[[Tables], str | None], ...] = (corpus_sentence, seeded_sentence, profile_sentence,
                                                         concept_sentence, emphases_sentence, expectations_sentence,
                                                         caveat_sentence)


def findings_markdown(tables: Tables, sentences: Sequence[Callable[[Tables], str | None]] = SENTENCES,
                      figure: str | None = None) -> str:
    """The findings paragraph (and the key figure's Markdown, when given)."""
    text = " ".join(s for s in (make(tables) for make in sentences) if s)
    return (f"![{figure.rsplit('/', 1)[-1]}]({figure})\n\n" if figure else "") + text + "\n"


def replace_section(document: str, section: str) -> str:
    """The document with the text between the findings markers replaced by `section`."""
    start, end = document.find(START), document.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the README has no {START} ... {END} section to write the findings into")
    return document[:start + len(START)] + "\n" + section + document[end:]


def section_of(document: str) -> str:
    start, end = document.find(START), document.find(END)
    return document[start + len(START):end].lstrip("\n") if 0 <= start < end else ""
