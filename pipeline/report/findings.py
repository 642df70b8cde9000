"""The study's findings, written from the findings tables: what a scholar reads first.

The README's findings section, `results/findings.md` and the report's first
pages are all this text, so none can drift from the tables: the runner
writes the findings tables (`pipeline/report/headline.py`) and this
Markdown from them, and a test checks that every number it states is in a
table.

The text is an abstract of at most six plain sentences, then one table per
question (what each place stresses, what the places share, which dimension
leads where), the articles' footing, and the definitions each claim uses,
stated once. A section whose table is empty (a stage turned off) is left out
rather than guessed.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import pandas as pd

from pipeline.common.numeric import rank_key
from pipeline.report.headline import FindingsSettings, Headline

__all__ = ["findings_markdown", "abstract_sentences", "replace_section", "section_of", "START", "END",
           "MAX_ABSTRACT_SENTENCES"]

START, END = "<!-- findings:start -->", "<!-- findings:end -->"
MAX_ABSTRACT_SENTENCES = 6
PLURAL = {"city": "cities", "county": "counties", "community": "communities"}
Tables = Mapping[str, pd.DataFrame]


def _join(items: Sequence[str]) -> str:
    items = list(items)
    if not items:
        return ""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _pct(value: float) -> str:
    """A share as a whole percentage, read at `RANK_DIGITS` significant digits first, so that noise in the
    last digits of a table (another machine's BLAS) cannot move it across a rounding edge (0.605)."""
    return f"{float(rank_key(value)):.0%}"


def _cell(value: object) -> str:
    """A Markdown table cell: pipes would split the cell, line breaks the row."""
    return str(value).replace("|", "｜").replace("\n", " ")


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _corpus(tables: Tables) -> str | None:
    docs = tables.get("documents")
    if docs is None or docs.empty:
        return None
    places = docs.drop_duplicates("place")
    levels = {level: [p for p, lv in zip(places["place"], places["level"]) if lv == level]
              for level in dict.fromkeys(places["level"])}
    listed = "; ".join(f"{'、'.join(names)} ({'a ' + level if len(names) == 1 else PLURAL.get(level, level + 's')})"
                       for level, names in levels.items())
    per = "one article per place" if len(docs) == len(places) else "a few articles per place"
    biggest = places["province"].value_counts()
    inside = (f"; {int(biggest.iloc[0])} of the {len(places)} places are in {biggest.index[0]}"
              if int(biggest.iloc[0]) > 1 else "")
    return (f"The study reads web articles on community governance (社区治理) from {len(places)} "
            f"place{'s' if len(places) != 1 else ''}, "
            f"{per}: {listed}{inside}.")


def _stresses(head: Headline) -> str | None:
    c = head.concepts
    if c.empty:
        return None
    first = c.groupby("place", sort=False).head(1)
    listed = "; ".join(f"{r.place} {r.label} ({r.gloss})" for r in first.itertuples())
    return (f"Counting each policy concept's terms together, against the other places and against what "
            f"government work reports say anyway, each place stresses concepts of its own, first {listed}; "
            f"each concept in the table below rests on {int(c['sentences'].min())} to {int(c['sentences'].max())} "
            f"sentences of its article.")


def _shared(head: Headline, settings: FindingsSettings) -> str | None:
    s = head.shared
    if s.empty:
        return None
    need = min(settings.shared_min_places, int(s["places"].iloc[0]))
    by_dictionary = s[s["dictionary_shared"].astype(bool)]
    by_topics = s[s["topic_shared"].astype(bool)]
    both = by_dictionary[by_dictionary["topic_shared"].astype(bool)]
    if by_dictionary.empty and by_topics.empty:
        return (f"No dimension is present in {need} or more places by either the dictionary or the topic model "
                f"(present: at least {_pct(settings.presence_floor)} of a place's text at the lower end of the "
                f"95% interval).")
    text = (f"By the dictionary, {_join(list(by_dictionary['name'])) or 'no dimension'} "
            f"{'is' if len(by_dictionary) == 1 else 'are'} present in at least {need} of the "
            f"{int(s['places'].iloc[0])} places (in at least {_pct(settings.presence_floor)} of a place's sentences, "
            f"at the lower end of the 95% interval)")
    if len(both) == len(by_dictionary) == len(by_topics):
        return text + "; the keyword-assisted topic model agrees."
    confirmed = (f"confirms {_join(list(both['name']))}" if not both.empty else "confirms none of them")
    return text + f"; the keyword-assisted topic model {confirmed} at the same floor, for the reasons the table gives."


def _leads(head: Headline) -> str | None:
    lead = head.leads[head.leads["verdict"] != "none"]
    if lead.empty:
        return None
    counts = lead["verdict"].value_counts()
    parts = [f"{int(counts.get(v, 0))} {w}" for v, w in (("clear", "clear"), ("narrow", "narrow"), ("tie", "tied"))
             if counts.get(v, 0)]
    firsts = lead["leads_with"].value_counts()
    top, n = firsts.index[0], int(firsts.iloc[0])
    where = f"in {n} of the {len(lead)} places" if n > 1 else "in one place"
    tail = ("; a lead that is not clear says little about a place's profile"
            if int(counts.get("clear", 0)) < len(lead) else "")
    return (f"The dimension the most sentences mention (frame aside) is {top} {where}; of the {len(lead)} leads, "
            f"{_join(parts)}{tail}.")


def _expectations(tables: Tables) -> str | None:
    summary = tables.get("expectation_summary")
    if summary is None or summary.empty:
        return None
    overall = summary[summary["place"] == "all"].set_index("set")
    parts = [f"{int(overall.loc[name, 'hits'])} of {int(overall.loc[name, 'expected'])} expected {name}"
             for name in ("concepts", "terms") if name in overall.index]
    if not parts:
        return None
    return (f"A close reader's expectations, written before any list was computed, are met for "
            f"{' and '.join(parts)} in the places' top lists.")


def _caveat(head: Headline) -> str | None:
    a = head.articles
    if a.empty or a["place"].duplicated().any():
        return None
    genres = [g for g in dict.fromkeys(a["genre"]) if g != "unknown"]
    kinds = f" ({_join(genres)})" if genres else ""
    return (f"Each place is a single article, and genre, author and occasion change with the place{kinds}, so every "
            f"contrast here is between texts: it shows what these authors stressed on these occasions, not what "
            f"the places do.")


def abstract_sentences(head: Headline, tables: Tables, settings: FindingsSettings) -> list[str]:
    """The abstract: at most `MAX_ABSTRACT_SENTENCES` plain sentences, one per question the study answers."""
    made = [_corpus(tables), _stresses(head), _shared(head, settings), _leads(head), _expectations(tables),
            _caveat(head)]
    return [s for s in made if s][:MAX_ABSTRACT_SENTENCES]


def _concepts_section(head: Headline, settings: FindingsSettings) -> list[str]:
    c = head.concepts
    if c.empty:
        return []
    rows = [(r.place if r.place != prev else "", r.label, r.gloss, r.dimension, r.count, r.sentences,
             _pct(r.stability), r.kwic) for r, prev in zip(c.itertuples(), [None, *c["place"][:-1]])]
    return ["### What each place stresses", "",
            f"The {settings.top_concepts} concepts each place stresses most (definitions below): uses of the "
            f"concept's terms, the sentences they fall in, the share of resamples in which the concept stays in "
            f"the place's top list, and its first use in context.", "",
            _table(["place", "concept", "gloss", "dimension", "uses", "sentences", "stable in", "in context"], rows),
            ""]


def _shared_section(head: Headline, settings: FindingsSettings, figure: str | None) -> list[str]:
    s = head.shared
    if s.empty:
        return []
    need = min(settings.shared_min_places, int(s["places"].iloc[0]))
    shown = s[(s["dictionary_places"] >= need) | (s["topic_point_places"] >= need) | s["topic_shared"].astype(bool)]
    total = int(s["places"].iloc[0])
    rows = [(r.name, f"{r.dictionary_places} of {total}",
             f"{r.topic_places} of {total}" if r.topic != "none" else "no topic",
             f"{r.topic_point_places} of {total}" if r.topic != "none" else "", r.topic, r.why or ("both call it shared" if r.dictionary_shared else "neither calls it shared"))
            for r in shown.itertuples()]
    out = ["### What the places share", "",
           f"Dimensions present in at least {need} places by either method, or whose topic share reaches the floor "
           f"in as many (definitions below).", "",
           _table(["dimension", "present by the dictionary", "present by the topics", "topic share at the floor",
                   "topic", "why they differ"], rows), ""]
    if figure:
        out += [f"![Stable keyword-assisted topics by place]({figure})", "",
                "*Figure.* The keyword-assisted topics that are stable across seeds, by place: a point is the "
                "topic's share of the place's modelled tokens, its bar the 95% interval from resampling the "
                "article's passages (optimistic with one article per place). A topic is named after its dimension "
                "only when its top words are mostly that dimension's seeds, otherwise after its own top words; a "
                "topic marked *one place* draws most of its share from one article. Unstable topics are in the "
                "appendix figure `themes_seeded_place_topics_unstable.png`.", ""]
    return out


def _leads_section(head: Headline) -> list[str]:
    lead = head.leads
    if lead.empty:
        return []
    rows = [(r.place, r.leads_with, r.mentioning, r.runner_up, r.runner_up_mentioning, r.sentences, r.verdict)
            for r in lead.itertuples()]
    return ["### Which dimension leads in each place", "",
            _table(["place", "leads with", "sentences", "runner-up", "its sentences", "of", "lead"], rows), ""]


def _footing_section(head: Headline) -> list[str]:
    a = head.articles
    if a.empty:
        return []
    rows = [(r.place, r.genre, r.author, r.occasion, r.source, r.date) for r in a.itertuples()]
    return ["### Footing: which article stands for each place", "",
            _table(["place", "genre", "author", "occasion", "source", "date"], rows), ""]


def _definitions(settings: FindingsSettings) -> list[str]:
    floor = _pct(settings.presence_floor)
    return ["### Definitions", "",
            f"- **Stresses**: a concept's weighted log-odds in the place against all other places, shrunk towards "
            f"its share of government work reports, is positive, and the concept stays in the place's top list "
            f"in at least {_pct(settings.min_stability)} of bootstrap resamples of the article's passages.",
            f"- **Present**: at least {floor} of a place's sentences mention the dimension (dictionary), or at least "
            f"{floor} of its modelled tokens fall in the dimension's stable topic, at the lower end of the 95% "
            f"interval. **Shared**: present in at least {settings.shared_min_places} places.",
            "- **Leads**: the dimension the most sentences of the place mention, the frame aside; equal counts are a "
            "**tie**. A lead is **clear** when its 95% interval lies wholly above the runner-up's, otherwise "
            "**narrow**.",
            "- **Intervals** resample passages within one article, so they describe one text's variation, not "
            "variation across articles or authors.", ""]


def findings_markdown(head: Headline, tables: Tables, settings: FindingsSettings, figure: str | None = None) -> str:
    """The findings in Markdown: the abstract, a section per question, the footing and the definitions."""
    abstract = abstract_sentences(head, tables, settings)
    parts = [" ".join(abstract), ""] if abstract else []
    parts += _concepts_section(head, settings) + _shared_section(head, settings, figure) + _leads_section(head)
    parts += _footing_section(head) + (_definitions(settings) if abstract else [])
    return "\n".join(parts).rstrip("\n") + "\n"


def replace_section(document: str, section: str) -> str:
    """The document with the text between the findings markers replaced by `section`."""
    start, end = document.find(START), document.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the README has no {START} ... {END} section to write the findings into")
    return document[:start + len(START)] + "\n" + section + document[end:]


def section_of(document: str) -> str:
    start, end = document.find(START), document.find(END)
    return document[start + len(START):end].lstrip("\n") if 0 <= start < end else ""
