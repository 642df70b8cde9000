"""The findings' own tables: what each place stresses, what the places share, which dimension leads where,
how the keyword-assisted topics are named, and each article's footing.

Every claim of the findings is a row of one of these tables, computed here
from the result tables the stages wrote, so that the prose (`findings.py`)
only formats them. Each kind of claim has one definition, stated once in the
findings' definitions and applied here:

* a place **stresses** a concept when its weighted log-odds against the other
  places (with the background prior) is positive, it stays in the place's
  top list (`emphases.stability_top` long) in at least `min_stability` of
  bootstrap resamples, and it rests on at least `min_sentences` sentences in
  at least `min_units` passages (two mentions in one list are vocabulary, not
  emphasis), and it belongs to a dimension, not to the genre's frame;
* a dimension is **present** in a place when the lower end of the 95%
  interval of its share is at least `presence_floor`, by the dictionary (share
  of sentences) and by the topic model (share of modelled tokens) alike, and
  **shared** when present in at least `shared_min_places` places;
* a place's **lead** is the dimension the most sentences mention (frame
  aside); equal counts are a tie, and a lead is **clear** only when its
  interval lies wholly above the runner-up's, otherwise within noise.

Dimension shares are counted by `profile_variant` of `profile_shares.csv`:
by default without local brand names and the speaker's own institution
(民政部门 in an interview with the bureau), which the lexicon marks as saying
who speaks rather than what is said; the count with them is kept beside it.

Comparisons with floors are made at `RANK_DIGITS` significant digits
(`pipeline.common.numeric`), so float noise from another machine cannot move
a claim.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Mapping

import pandas as pd

from pipeline.common.numeric import rank_key
from pipeline.common.params import StudyParams
from pipeline.text.concepts import Concepts, Dimension

__all__ = ["FindingsSettings", "Names", "Headline", "build_headline", "coder_reliability", "leading_concepts", "dimension_leads",
           "shared_dimensions", "topic_names", "article_footing", "HEADLINE_TABLES"]

HEADLINE_TABLES = ("findings_concepts", "findings_leads", "findings_shared", "findings_topics", "findings_articles")
Tables = Mapping[str, pd.DataFrame]


@dataclass(frozen=True)
class FindingsSettings:
    """The thresholds the findings' definitions name (from params.yaml: themes and report.findings)."""

    presence_floor: float = 0.05
    shared_min_places: int = 4
    min_stability: float = 0.6
    top_concepts: int = 3
    one_article_share: float = 0.75
    seeds_for_name: int = 5
    min_sentences: int = 3
    min_units: int = 2
    list_top: int = 15
    profile_variant: str = "without_flagged"
    # The lexicon's category that names the unit of governance, not a dimension (themes.seeded.frame_category).
    frame: str = "governance_frame"

    @classmethod
    def from_params(cls, params: StudyParams) -> "FindingsSettings":
        """From the study's parameters: the themes' presence floor, shared count and frame, report.findings' rest."""
        return cls(presence_floor=params.themes.presence_floor, shared_min_places=params.themes.shared_min_places,
                   list_top=params.emphases.stability_top, frame=params.themes.seeded.frame_category,
                   **params.report.findings.model_dump())


@dataclass(frozen=True)
class Names:
    """How a reader sees ids: dimensions by name and Chinese label, concepts by their English gloss."""

    dimensions: Mapping[str, Dimension] = field(default_factory=dict)
    glosses: Mapping[str, str] = field(default_factory=dict)
    # Dimensions the independent coders could not code reliably: their names carry a dagger.
    unreliable: frozenset[str] = frozenset()

    @classmethod
    def of(cls, concepts: Concepts) -> "Names":
        """The names the lexicon's concept level carries."""
        return cls(concepts.dimensions, {c.concept: c.gloss for c in concepts.concepts})

    def dimension(self, key: str) -> str:
        found = self.dimensions.get(key)
        name = found.readable() if found else key.replace("_", " ")
        return name + (" †" if key in self.unreliable else "")

    def short(self, key: str) -> str:
        found = self.dimensions.get(key)
        return found.name if found else key.replace("_", " ")


@dataclass(frozen=True)
class Headline:
    """The findings' tables; each is empty when the tables it needs are missing."""

    concepts: pd.DataFrame
    leads: pd.DataFrame
    shared: pd.DataFrame
    topics: pd.DataFrame
    articles: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        return dict(zip(HEADLINE_TABLES, (self.concepts, self.leads, self.shared, self.topics, self.articles)))


def _missing(*frames: pd.DataFrame | None) -> bool:
    return any(f is None or f.empty for f in frames)


def _kwic_line(kwic: pd.DataFrame | None, place: str, concept: str) -> str:
    """A keyword-in-context line of `concept` in `place`, the match in 【】: the first in the passage that uses
    the concept most (its first such passage in reading order), where the emphasis is, not a passing mention."""
    if kwic is None or kwic.empty or "concept" not in kwic.columns:
        return ""
    rows = kwic[(kwic["place"] == place) & (kwic["concept"] == concept)]
    if rows.empty:
        return ""
    uses = rows.groupby("unit_id", sort=False).size()
    row = rows[rows["unit_id"] == uses.idxmax()].iloc[0].fillna("")
    return f"…{row['left']}【{row['match']}】{row['right']}…"


def leading_concepts(place_concepts: pd.DataFrame | None, kwic: pd.DataFrame | None, names: Names,
                     settings: FindingsSettings, statistics: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each place's `top_concepts` stressed concepts (see the module's definition), in rank order, with
    the concept's uses in the other places (from `concept_statistics.csv`, when given)."""
    columns = ["place", "rank", "concept", "label", "gloss", "dimension", "count", "sentences", "units", "q",
               "stability", "guardrail", "elsewhere", "kwic"]
    totals = (statistics.groupby("concept")["count"].sum() if statistics is not None and not statistics.empty
              else pd.Series(dtype=float))
    if _missing(place_concepts):
        return pd.DataFrame(columns=columns)
    c = place_concepts
    keep = ((c["method"] == "logodds") & (rank_key(c["stability"].to_numpy()) >= settings.min_stability)
            & (rank_key(c["z"].to_numpy()) > 0) & (c["sentences"] >= settings.min_sentences)
            & (c["units"] >= settings.min_units) & (c["dimension"] != settings.frame))
    rows = []
    for place in dict.fromkeys(c["place"]):
        part = c[keep & (c["place"] == place)].sort_values(["rank", "concept"]).head(settings.top_concepts)
        rows += [{"place": place, "rank": int(r["rank"]), "concept": r["concept"], "label": r["label"],
                  "gloss": names.glosses.get(r["concept"], ""), "dimension": names.dimension(r["dimension"]),
                  "count": int(r["count"]), "sentences": int(r["sentences"]), "units": int(r["units"]), "q": r["q"],
                  "stability": r["stability"], "guardrail": r.get("guardrail", ""),
                  "elsewhere": int(totals.get(r["concept"], r["count"]) - r["count"]) if len(totals) else "",
                  "kwic": _kwic_line(kwic, place, r["concept"])} for _, r in part.iterrows()]
    return pd.DataFrame(rows, columns=columns)


def _variant(profile_shares: pd.DataFrame, variant: str, frame: str) -> pd.DataFrame:
    """One variant of the profile (frame aside); `all` when the table lacks the variant asked for."""
    have = set(profile_shares["variant"])
    chosen = variant if variant in have else "all"
    return profile_shares[(profile_shares["variant"] == chosen) & (profile_shares["category"] != frame)]


def dimension_leads(profile_shares: pd.DataFrame | None, names: Names, variant: str = "all",
                    frame: str = FindingsSettings.frame) -> pd.DataFrame:
    """Per place, the dimension the most sentences mention (frame aside, in `variant` of the profile), its
    runner-up and the verdict; `leads_with_all` is the lead when every lexicon term counts."""
    columns = ["place", "sentences", "leads_with", "mentioning", "share", "runner_up", "runner_up_mentioning",
               "runner_up_share", "verdict", "leads_with_all"]
    if _missing(profile_shares):
        return pd.DataFrame(columns=columns)
    everything = _variant(profile_shares, "all", frame)
    shares = _variant(profile_shares, variant, frame)
    rows = []
    for place, part in shares.groupby("place", sort=False):
        part = part.sort_values(["mentioning", "category"], ascending=[False, True])
        top = int(part["mentioning"].iloc[0])
        leaders, rest = part[part["mentioning"] == top], part[part["mentioning"] < top]
        lead = leaders.iloc[0]
        # The runner-up is the best dimension below the lead (below every tied one).
        runner = rest.iloc[0] if not rest.empty else None
        if top == 0:
            verdict = "none"
        elif len(leaders) > 1:
            verdict = "tie"
        elif runner is not None and rank_key([lead["ci_low"]])[0] > rank_key([runner["ci_high"]])[0]:
            verdict = "clear"
        else:
            verdict = "within noise"
        whole = everything[everything["place"] == place]
        most = whole[whole["mentioning"] == whole["mentioning"].max()].sort_values("category")
        rows.append({"place": place, "sentences": int(lead["sentences"]),
                     "leads_with": " = ".join(names.dimension(k) for k in leaders["category"]) if top else "",
                     "mentioning": top, "share": lead["share"],
                     "runner_up": names.dimension(runner["category"]) if runner is not None else "",
                     "runner_up_mentioning": int(runner["mentioning"]) if runner is not None else 0,
                     "runner_up_share": runner["share"] if runner is not None else 0.0,
                     "verdict": verdict,
                     "leads_with_all": " = ".join(names.dimension(k) for k in most["category"])
                     if int(whole["mentioning"].max()) > 0 else ""})
    return pd.DataFrame(rows, columns=columns)


def _present(frame: pd.DataFrame, column: str, floor: float) -> list[str]:
    return list(frame.loc[rank_key(frame[column].to_numpy()) >= floor, "place"])


def shared_dimensions(profile_shares: pd.DataFrame | None, quality: pd.DataFrame | None,
                      place_topics: pd.DataFrame | None, names: Names, settings: FindingsSettings) -> pd.DataFrame:
    """Per dimension (frame aside): where the dictionary (`settings.profile_variant`; `dictionary_places_all`
    counting every term) and the stable topic find it present, whether each calls it shared, and why they
    differ. `topic_point_places` counts the places where a stable topic's share itself reaches the floor."""
    columns = ["dimension", "name", "places", "dictionary_places", "dictionary_places_all", "topic", "topic_places",
               "topic_point_places", "dictionary_shared", "topic_shared", "verdict", "why"]
    if _missing(profile_shares):
        return pd.DataFrame(columns=columns)
    everything = _variant(profile_shares, "all", settings.frame)
    shares = _variant(profile_shares, settings.profile_variant, settings.frame)
    places = list(dict.fromkeys(shares["place"]))
    need = min(settings.shared_min_places, len(places))
    floor = settings.presence_floor
    fitted = (quality.dropna(subset=["topic"]).set_index("dimension") if not _missing(quality)
              else pd.DataFrame(columns=["found"]))
    rows = []
    for dimension in dict.fromkeys(shares["category"]):
        by_dictionary = _present(shares[shares["category"] == dimension], "ci_low", floor)
        by_all = _present(everything[everything["category"] == dimension], "ci_low", floor)
        if dimension in fitted.index and place_topics is not None and not place_topics.empty:
            stable = str(fitted.loc[dimension, "found"]).lower() == "true"
            topic = place_topics[place_topics["dimension"] == dimension]
            point = _present(topic, "share", floor) if stable else []
            by_topic = _present(topic, "ci_low", floor) if stable else []
            status = "stable" if stable else "unstable"
        else:
            point, by_topic, status = [], [], "none"
        d_shared, t_shared = len(by_dictionary) >= need, len(by_topic) >= need
        if d_shared == t_shared:
            why = ""
        elif d_shared and status == "none":
            why = "no topic was seeded for it (too few lexicon tokens)"
        elif d_shared and status == "unstable":
            why = "its topic changes from seed to seed"
        elif d_shared:
            why = (f"the topic's share reaches the floor in {len(point)} articles; its interval, resampling "
                   f"passages, clears it in {len(by_topic)} (the dictionary's, over sentences, is narrower)")
        else:
            why = f"the dictionary's interval reaches the floor in {len(by_dictionary)} articles"
        verdict = ("shared by both" if d_shared and t_shared else "shared by the dictionary" if d_shared
                   else "shared by the topics" if t_shared else "not shared")
        rows.append({"dimension": dimension, "name": names.dimension(dimension), "places": len(places),
                     "dictionary_places": len(by_dictionary), "dictionary_places_all": len(by_all), "topic": status, "topic_places": len(by_topic),
                     "topic_point_places": len(point), "dictionary_shared": d_shared, "topic_shared": t_shared,
                     "verdict": verdict, "why": why})
    out = pd.DataFrame(rows, columns=columns)
    return out.sort_values(["dictionary_places", "topic_places", "dimension"], ascending=[False, False, True],
                           kind="stable").reset_index(drop=True)


def topic_names(quality: pd.DataFrame | None, topics: pd.DataFrame | None, place_topics: pd.DataFrame | None,
                names: Names, settings: FindingsSettings) -> pd.DataFrame:
    """Each seeded topic's reader-facing name, stability, top words, and whether it lives in one article.

    A topic is named after its dimension when at least `seeds_for_name` of its
    top ten words are the dimension's seeds; otherwise after its own top three
    words, with the dimension it was seeded from in brackets. It lives in one
    place when that place holds at least `one_article_share` of its summed
    shares across places."""
    columns = ["topic", "dimension", "title", "named_from", "stable", "stability", "top_words", "seeds_in_top10",
               "home", "home_share", "one_place"]
    if _missing(quality, topics, place_topics):
        return pd.DataFrame(columns=columns)
    rows = []
    for _, q in quality.dropna(subset=["topic"]).iterrows():
        topic, dimension = int(q["topic"]), q["dimension"]
        words = list(topics[topics["topic"] == topic].sort_values("rank")["term"].head(10))
        shares = place_topics[place_topics["topic"] == topic]
        total = float(shares["share"].sum())
        home = shares.sort_values(["share", "place"], ascending=[False, True]).iloc[0] if total > 0 else None
        home_share = float(home["share"]) / total if home is not None else 0.0
        by_dimension = dimension != "free" and int(q["seeds_in_top10"]) >= settings.seeds_for_name
        title = (names.short(dimension) if by_dimension
                 else "·".join(words[:3]) + (f" (seeded: {names.short(dimension)})" if dimension != "free" else " (unseeded)"))
        rows.append({"topic": topic, "dimension": dimension, "title": title,
                     "named_from": "dimension" if by_dimension else "words",
                     "stable": str(q["found"]).lower() == "true", "stability": q["stability"],
                     "top_words": "·".join(words[:5]), "seeds_in_top10": int(q["seeds_in_top10"]),
                     "home": home["place"] if home is not None else "", "home_share": home_share,
                     "one_place": rank_key([home_share])[0] >= settings.one_article_share})
    return pd.DataFrame(rows, columns=columns)


def article_footing(documents: pd.DataFrame | None) -> pd.DataFrame:
    """Each place's article with its genre, author, occasion, source and date; blanks read "unknown"."""
    columns = ["place", "doc_id", "genre", "author", "occasion", "source", "date"]
    if _missing(documents):
        return pd.DataFrame(columns=columns)
    out = documents.reindex(columns=columns).astype(object)
    blank = out.isna() | out.apply(lambda column: column.astype(str).str.strip() == "")
    return out.mask(blank, "unknown")


def coder_reliability(agreement: pd.DataFrame | None) -> pd.DataFrame:
    """Per dimension, the independent coders' agreement on all their sentences (empty without coders):
    `alpha`, `reliable`, `lexicon_changed`.

    Parameters
    ----------
    agreement : pd.DataFrame or None
        The `validation_agreement` table, or None when the run has none.

    Returns
    -------
    pd.DataFrame
        The rows of the `all` subset, one per dimension.
    """
    if _missing(agreement):
        return pd.DataFrame(columns=["dimension", "coders", "coders_in_all", "sentences", "alpha", "reliable_at",
                                     "min_positive", "reliable", "lexicon_changed"])
    return agreement[agreement["subset"] == "all"].reset_index(drop=True)


def build_headline(tables: Tables, names: Names, settings: FindingsSettings) -> Headline:
    """Every findings table from the result tables (by name); what a table needs and lacks leaves it empty.

    Parameters
    ----------
    tables : Tables
        The run's result tables by name (such as `profile_shares`, `seeded_topics`, `validation_agreement`).
    names : Names
        How ids read: dimensions by name and Chinese label, concepts by their gloss.
    settings : FindingsSettings
        The thresholds the findings' definitions name.

    Returns
    -------
    Headline
        The findings' tables: leading concepts, dimension leads, shared dimensions, topics and article footing.
    """
    reliability = coder_reliability(tables.get("validation_agreement"))
    unreliable = reliability.loc[~reliability["reliable"].astype(str).str.lower().eq("true"), "dimension"]
    names = replace(names, unreliable=frozenset(unreliable))
    return Headline(
        concepts=leading_concepts(tables.get("place_concepts"), tables.get("kwic"), names, settings,
                                  tables.get("concept_statistics")),
        leads=dimension_leads(tables.get("profile_shares"), names, settings.profile_variant, settings.frame),
        shared=shared_dimensions(tables.get("profile_shares"), tables.get("seeded_topic_quality"),
                                 tables.get("seeded_place_topics"), names, settings),
        topics=topic_names(tables.get("seeded_topic_quality"), tables.get("seeded_topics"),
                           tables.get("seeded_place_topics"), names, settings),
        articles=article_footing(tables.get("documents")))
