"""The study's findings, written from the findings tables: what a scholar reads first.

The README's findings section, `results/findings.md` and the report's first
pages are all this text, so none can drift from the tables: the runner
writes the findings tables (`pipeline/report/headline.py`) and this
Markdown from them, and a test checks that every number it states is in a
table.

The text is an abstract of at most six plain sentences, the articles' footing
(which article stands for each place), then one table per question (what
each article stresses, what the articles share, which dimension leads
where), and the definitions each claim uses, stated once. A section whose table is empty (a stage turned off) is left out
rather than guessed.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import pandas as pd

from pipeline.common.numeric import rank_key
from pipeline.report.headline import FindingsSettings, Headline, coder_reliability
from pipeline.report.results import md_code, md_text

__all__ = ["findings_markdown", "abstract_sentences", "markdown_table", "replace_section", "section_of", "START", "END",
           "MAX_ABSTRACT_SENTENCES", "PLURAL", "Tables"]

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
    """A Markdown table cell that shows the value as written: article text (titles, authors, passages in
    context) may hold pipes, which would split the cell, line breaks, which would end the row, or markup."""
    return md_text(value)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table whose cells show their values as written (`md_text`).

    Parameters
    ----------
    header : Sequence[str]
        The column names, written as they are (the study's own words).
    rows : Sequence[Sequence[object]]
        The rows' values; strings may be article text.

    Returns
    -------
    str
        The table's lines, without a final newline.
    """
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
    listed = "; ".join(f"{'、'.join(map(md_text, names))} "
                       f"({'a ' + md_text(level) if len(names) == 1 else md_text(PLURAL.get(level, level + 's'))})"
                       for level, names in levels.items())
    per = "one article per place" if len(docs) == len(places) else "a few articles per place"
    biggest = places["province"].value_counts()
    inside = (f"; {int(biggest.iloc[0])} of the {len(places)} places are in {md_text(biggest.index[0])}"
              if not biggest.empty and int(biggest.iloc[0]) > 1 else "")  # no province recorded: nothing to say
    return (f"The study reads web articles on community governance (社区治理) from {len(places)} "
            f"place{'s' if len(places) != 1 else ''}, "
            f"{per}: {listed}{inside}.")


def _stresses(head: Headline) -> str | None:
    c = head.concepts
    if c.empty:
        return None
    first = c.groupby("place", sort=False).head(1)
    listed = "; ".join(f"{md_text(r.place)} {md_text(r.label)} ({md_text(r.gloss)})" for r in first.itertuples())
    return (f"Counting each policy concept's terms together, against the other articles and against what "
            f"government work reports say anyway, each article stresses some concepts more than the others do, "
            f"led by {listed}; each rests on {int(c['sentences'].min())} to {int(c['sentences'].max())} "
            f"sentences, and none is a difference shown to exceed chance.")


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
    text = (f"By the dictionary, {_join([md_text(n) for n in by_dictionary['name']]) or 'no dimension'} "
            f"{'is' if len(by_dictionary) == 1 else 'are'} present in at least {need} of the "
            f"{int(s['places'].iloc[0])} articles (in at least {_pct(settings.presence_floor)} of an article's "
            f"sentences, at the lower end of the 95% interval)")
    if len(both) == len(by_dictionary) == len(by_topics):
        return text + "; the keyword-assisted topic model agrees."
    found = (f"finds {_join([md_text(n) for n in both['name']])} present at the same floor" if not both.empty
             else "finds none of them present at the same floor")
    return (text + f"; the keyword-assisted topic model, whose intervals rest on one article's passages, {found}, "
            f"so its shares are read as description only.")


def _leads(head: Headline) -> str | None:
    lead = head.leads[head.leads["verdict"] != "none"]
    if lead.empty:
        return None
    counts = lead["verdict"].value_counts()
    parts = [f"{int(counts.get(v, 0))} {w}" for v, w in (("clear", "clear"), ("within noise", "within noise"),
                                                          ("tie", "tied")) if counts.get(v, 0)]
    # A dimension tied for the most sentences is at the top as much as one alone there.
    tops = pd.Series([name for names in lead["leads_with"] for name in names.split(" = ")]).value_counts()
    top, n = md_text(tops.index[0]), int(tops.iloc[0])
    where = f"in {n} of the {len(lead)} articles" if n > 1 else "in one article"
    clear = int(counts.get("clear", 0))
    opening = ("No article has a clear lead" if clear == 0 else f"{clear} of the {len(lead)} articles have a clear lead")
    return (f"{opening} ({_join(parts)}; frame, brand names and the speaker's own office aside); the dimension "
            f"most often at the top, alone or tied, is {top}, {where}.")


def _expectations(tables: Tables) -> str | None:
    summary = tables.get("expectation_summary")
    if summary is None or summary.empty:
        return None
    overall = summary[summary["place"] == "all"].set_index("set")
    parts = [f"{int(overall.loc[name, 'hits'])} of {int(overall.loc[name, 'expected'])} expected {name}"
             for name in ("concepts", "terms") if name in overall.index]
    if not parts:
        return None
    return (f"An independent coder's expectations, written blind from the articles (`data/expectations/`), are "
            f"met for {' and '.join(parts)} among the places' top-ranked lists, by rank alone.")


def _caveat(head: Headline) -> str | None:
    a = head.articles
    if a.empty or a["place"].duplicated().any():
        return None
    genres = [md_text(g) for g in dict.fromkeys(a["genre"]) if g != "unknown"]
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
    rows = [(r.place if r.place != prev else "", r.label, r.gloss, r.dimension, r.count, r.sentences, r.units,
             r.elsewhere, _pct(r.stability), f"{float(rank_key(r.q)):.2f}", r.kwic)
            for r, prev in zip(c.itertuples(), [None, *c["place"][:-1]])]
    return ["### What each article stresses", "",
            f"Up to {settings.top_concepts} concepts each article stresses most (definitions below): uses of the "
            f"concept's terms, the sentences and passages they fall in, its uses in the other articles together, "
            f"the share of resamples in which it stays in the top {settings.list_top}, its q (Benjamini–Hochberg "
            f"over every article × concept comparison), and a use in context from the passage that uses it most.",
            "", markdown_table(["place", "concept", "gloss", "dimension", "uses", "sentences", "passages", "uses elsewhere",
                        "stable in", "q", "in context"], rows),
            ""]


def _shared_section(head: Headline, settings: FindingsSettings, figure: str | None) -> list[str]:
    s = head.shared
    if s.empty:
        return []
    need = min(settings.shared_min_places, int(s["places"].iloc[0]))
    shown = s[(s["dictionary_places"] >= need) | (s["dictionary_places_all"] >= need)
              | (s["topic_point_places"] >= need) | s["topic_shared"].astype(bool)]
    total = int(s["places"].iloc[0])
    rows = [(r.name, f"{r.dictionary_places} of {total}", f"{r.dictionary_places_all} of {total}",
             f"{r.topic_places} of {total}" if r.topic == "stable" else f"{r.topic} topic",
             f"{r.topic_point_places} of {total}" if r.topic == "stable" else "",
             r.why or ("both call it shared" if r.dictionary_shared else "neither calls it shared"))
            for r in shown.itertuples()]
    out = ["### What the articles share", "",
           f"Dimensions present in at least {need} articles by the dictionary (with or without brand names and "
           f"self-references) or by a stable topic, or whose stable topic's share reaches the floor in as many "
           f"(definitions below).", "",
           markdown_table(["dimension", "dictionary", "dictionary, every term", "stable topic", "topic share at the floor",
                   "why they differ"], rows), ""]
    if figure:
        out += [f"![Stable keyword-assisted topics by place]({figure})", "",
                "*Figure.* The keyword-assisted topics that are stable across seeds, by place: a point is the "
                "topic's share of the place's modelled tokens, its bar the 95% interval from resampling the "
                "article's passages (optimistic with one article per place). A topic is named after its dimension "
                "only when at least half of its top ten words are that dimension's seeds, otherwise after its own "
                "top words; a topic marked *one place* draws most of its share from one article. Unstable topics are in the "
                "appendix figure `themes_seeded_place_topics_unstable.png`.", ""]
    return out


def _leads_section(head: Headline) -> list[str]:
    lead = head.leads
    if lead.empty:
        return []
    rows = [(r.place, r.leads_with, r.mentioning, r.runner_up, r.runner_up_mentioning, r.sentences, r.verdict,
             r.leads_with_all) for r in lead.itertuples()]
    return ["### Which dimension leads in each article", "",
            markdown_table(["place", "most sentences mention", "sentences", "runner-up", "its sentences", "of all sentences",
                    "lead", "counting every term"], rows), ""]


def _footing_section(head: Headline) -> list[str]:
    a = head.articles
    if a.empty:
        return []
    rows = [(r.place, r.genre, r.author, r.occasion, r.source, r.date) for r in a.itertuples()]
    return ["### Footing: one article stands for each place", "",
            "Every comparison below is between these articles, whose genre, author and occasion change with the "
            "place.", "",
            markdown_table(["place", "genre", "author", "occasion", "source", "date"], rows), ""]


def _filled(column: pd.Series) -> pd.Series:
    """Cells with text: a column the results left all empty reads back as numbers (NaN), not as ""."""
    return column.notna() & (column.astype(str).str.strip() != "")


def _review_harm(tables: Tables, shown: int = 5) -> list[str]:
    """The harm check in one paragraph: kept lines listed for review that supply a term to a top list."""
    review = tables.get("cleaning_review")
    if review is None or "top_terms" not in review.columns:
        return []
    flagged = review[_filled(review["top_terms"])]
    if flagged.empty:
        return [f"**Cleaning's leftovers.** None of the {len(review)} kept line{'s' if len(review) != 1 else ''} "
                "listed for review "
                "(`cleaning_review.csv`: short lines at an article's head or tail with no sentence end) supplies a "
                "term to a place's top list or a topic's top terms.", ""]
    # A line is the article's own text: shown as it is, never as markup.
    items = [f"{md_code(r.line)} ({md_text(r.doc_id)}: {md_text(r.top_terms)})" for r in flagged.head(shown).itertuples()]
    more = f"; and {len(flagged) - shown} more" if len(flagged) > shown else ""
    alone = int(_filled(review["only_from_line"]).sum()) if "only_from_line" in review.columns else 0
    return [f"**Cleaning's leftovers.** Of the {len(review)} kept lines listed for review (`cleaning_review.csv`: "
            f"short lines at an article's head or tail with no sentence end), {len(flagged)} supply a term to a "
            "place's top list or a topic's top terms (column `top_terms`): " + "; ".join(items) + more + ". "
            f"{alone} of them {'is' if alone == 1 else 'are'} the only source of such a term (column "
            "`only_from_line`). "
            "A title or heading belongs there; a line that is chrome does not, and moves the lists it supplies.", ""]


def _definitions(settings: FindingsSettings) -> list[str]:
    floor = _pct(settings.presence_floor)
    return ["### Definitions", "",
            f"- **Stresses**: a concept's weighted log-odds in the article against all other articles, shrunk "
            f"towards its share of government work reports, is positive; the concept stays in the article's top "
            f"{settings.list_top} in at least {_pct(settings.min_stability)} of bootstrap resamples of the "
            f"article's passages; it rests on at least {settings.min_sentences} sentences in at least "
            f"{settings.min_units} passages; and it belongs to a dimension, not to the genre's frame. A place's "
            f"own programme names (brands) count here, because naming its programme is what an article stresses; "
            f"a concept no other article uses tops its list easily and is stable almost by construction, so "
            f"*uses elsewhere* says how far it is the article's own word.",
            f"- **Present**: by the dictionary, at least {floor} of an article's sentences mention the dimension "
            f"(brand names and the speaker's own office aside, unless the column says every term); by the topic "
            f"model, at least {floor} of its modelled tokens fall in the dimension's stable topic; each at the "
            f"lower end of the 95% interval. *Topic share at the floor* counts the articles where a stable "
            f"topic's share itself reaches {floor}. **Shared**: present in at least {settings.shared_min_places} "
            f"articles.",
            "- **Leads**: the dimension the most sentences of the article mention, the frame, brand names and the "
            "speaker's own office aside; equal counts are a **tie**. A lead is **clear** when its 95% interval lies "
            "wholly above the runner-up's, otherwise **within noise**.",
            "- **Intervals**: the dictionary's are Wilson intervals over an article's sentences, which treat "
            "sentences as independent and so are narrower than they should be; the topic model's and the "
            "stability's resample an article's passages. Both describe one text's variation, not variation across "
            "articles or authors.", ""]


def _reliability(tables: Tables) -> list[str]:
    """How far the dimensions can be coded at all, from the independent coders' agreement."""
    table = coder_reliability(tables.get("validation_agreement"))
    if table.empty:
        return ["- **Reliability**: no independent coding of this lexicon's dimensions is on record.", ""]
    alpha = table["alpha"].dropna()
    flagged = list(table.loc[~table["reliable"].astype(str).str.lower().eq("true"), "dimension"])
    changed = list(table.loc[table["lexicon_changed"].astype(str).str.lower().eq("true"), "dimension"])
    total = int(table["coders_in_all"].max()) if "coders_in_all" in table else int(table["coders"].max())
    line = (f"- **Reliability**: {total} independent language-model coders (instances of one model, not people: "
            f"`data/validation/` says who and how), {int(table['coders'].max())} per sentence, coded "
            f"{int(table['sentences'].max())} sentences without seeing the dictionary's output, from a codebook "
            f"that names typical terms; Krippendorff's alpha per dimension runs from "
            f"{float(rank_key(alpha.min())):.2f} to {float(rank_key(alpha.max())):.2f}, and the dictionary's "
            f"precision and recall against their codes are in `validation_dictionary.csv` (appendix 4). ")
    floor, fewest = f"{float(rank_key(table['reliable_at'].max())):g}", int(table["min_positive"].max())
    line += (f"Marked † wherever a claim rests on them, as not shown to be reliably codable (alpha below {floor}, "
             f"or fewer than {fewest} sentences coded to them by any coder): "
             f"{', '.join(d.replace('_', ' ') for d in flagged)}." if flagged else
             f"Every dimension reaches {floor} on at least {fewest} coded sentences.")
    line += " Coders of one model agreeing likely overstates what people would reach."
    if changed:
        line += (f" The lexicon changed after the coding for {', '.join(d.replace('_', ' ') for d in changed)}: "
                 f"their validation is stale.")
    return [line, ""]


def findings_markdown(head: Headline, tables: Tables, settings: FindingsSettings, figure: str | None = None) -> str:
    """The findings in Markdown: the abstract, a section per question, the footing and the definitions.

    Parameters
    ----------
    head : Headline
        The findings' tables, from `build_headline`.
    tables : Tables
        The run's result tables by name (for the abstract and the coders' reliability).
    settings : FindingsSettings
        The thresholds the findings' definitions name.
    figure : str or None, optional
        The path of the figure of stable keyword-assisted topics by place, shown with the shared dimensions.

    Returns
    -------
    str
        The findings text, ending with one newline.
    """
    abstract = abstract_sentences(head, tables, settings)
    parts = [" ".join(abstract), ""] if abstract else []
    parts += _footing_section(head) + _review_harm(tables)
    parts += _concepts_section(head, settings) + _shared_section(head, settings, figure)
    # The reliability line is the last item of the definitions list, not a list of its own.
    parts += _leads_section(head) + (_definitions(settings)[:-1] + _reliability(tables) if abstract else [])
    return "\n".join(parts).rstrip("\n") + "\n"


def replace_section(document: str, section: str) -> str:
    """The document with the text between the findings markers replaced by `section`.

    Parameters
    ----------
    document : str
        The README's text.
    section : str
        The findings as the README shows them.

    Returns
    -------
    str
        The document with the markers kept and only the text between them replaced.
    """
    start, end = document.find(START), document.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the README has no {START} ... {END} section to write the findings into")
    return document[:start + len(START)] + "\n" + section + document[end:]


def section_of(document: str) -> str:
    """The text between the findings markers of `document`, leading blank lines dropped.

    Parameters
    ----------
    document : str
        The README's text.

    Returns
    -------
    str
        The findings section as it stands, or "" when the document lacks the markers.
    """
    start, end = document.find(START), document.find(END)
    return document[start + len(START):end].lstrip("\n") if 0 <= start < end else ""
