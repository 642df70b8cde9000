"""Kept lines that still look like chrome, for a researcher to check by eye, and what they weigh in the findings.

After cleaning, a line near an article's head or tail that is short and does
not end like a sentence is either a title or heading (keep) or chrome that no
rule knew (a site name, a caption, a menu of a new site). The table lists
them per article; a new site's leftovers are found in a minute, and a line
that is chrome belongs in lexicon/chrome.yaml as a rule for its kind.

The harm check says which of those lines could move a finding: a line whose
tokens include a term on its place's top list of emphases (terms or
concepts) or among a topic's top terms. A heading that does so is content; a
piece of chrome that does so is harm, and the review table and the findings
name it so that a reader checks it first.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Iterable, Mapping, Sequence

import pandas as pd

from pipeline.common.params import ChromeParams
from pipeline.corpus.chrome import SENTENCE_END

__all__ = ["HARM_COLUMNS", "LIST_TABLES", "REVIEW_COLUMNS", "harm_check", "line_tokens", "review_lines", "review_table", "top_lists"]

REVIEW_COLUMNS = ["doc_id", "line", "reason"]
# Added by the harm check: the top-list terms a line's tokens supply, those the line alone supplies (every
# occurrence of the term in its place, or in the corpus for a topic's terms, is in this line: without the line the
# term would not be on the list at all), and the lists they are on.
HARM_COLUMNS = ["top_terms", "only_from_line", "top_lists"]


def review_lines(text: str, settings: ChromeParams) -> list[tuple[str, str]]:
    """(line, reason) for every kept line at the head or tail that is short and not a sentence."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    out = []
    for index, line in enumerate(lines):
        at_head = index < settings.head_lines
        at_tail = index >= len(lines) - settings.tail_lines
        chars = sum(not c.isspace() for c in line)
        if not (at_head or at_tail) or chars > settings.max_chars or SENTENCE_END.search(line):
            continue
        where = f"head line {index + 1}" if at_head else f"tail line {len(lines) - index} from the end"
        out.append((line, f"{where} of {len(lines)}; {chars} chars, no sentence end"))
    return out


def review_table(documents: list, settings: ChromeParams) -> pd.DataFrame:
    """The review rows of every article (documents are stage.CleanDocument), in corpus order.

    Parameters
    ----------
    documents : list
        The cleaned articles (stage.CleanDocument), in corpus order.
    settings : ChromeParams
        The chrome settings of params.yaml (head and tail lines, the longest line to review).

    Returns
    -------
    pd.DataFrame
        One row per line to review: doc_id, line, reason.
    """
    rows = [{"doc_id": d.doc.doc_id, "line": line, "reason": reason}
            for d in documents for line, reason in review_lines(d.text, settings)]
    return pd.DataFrame(rows, columns=REVIEW_COLUMNS)


def line_tokens(units: Sequence[Mapping], line: str) -> list[str]:
    """The tokens the segmentation counted in one kept line of an article.

    Parameters
    ----------
    units : sequence of Unit
        The article's text units (text, tokens and each token's span in the text).
    line : str
        A line of the article's cleaned text.

    Returns
    -------
    list[str]
        The tokens lying inside the line, wherever a unit holds it (a unit holding the whole line) or the line
        holds a unit whole (a line longer than one unit), in unit order.
    """
    found: list[str] = []
    for unit in units:
        text = unit["text"]
        if line in text:
            start = text.index(line)
            end = start + len(line)
            found += [t for t, (s, e) in zip(unit["tokens"], unit["spans"]) if s >= start and e <= end]
        elif text and text in line:
            found += list(unit["tokens"])
    return found


# The result tables the top lists come from, and the name each topic model's lists go by.
LIST_TABLES = ("place_terms", "place_concepts", "topics", "seeded_topics")
_TOPIC_MODELS = (("topics", "topic"), ("seeded_topics", "seeded topic"))


def top_lists(tables: Mapping[str, pd.DataFrame], top: int) -> pd.DataFrame:
    """Every term on a top list the findings draw on, with its place ("" for a topic, which belongs to all).

    Parameters
    ----------
    tables : Mapping[str, pd.DataFrame]
        The run's tables by name (`LIST_TABLES`; a missing one has no lists): place_terms (place, method, rank,
        term), place_concepts (place, method, rank, concept, terms as "term count; ..."), and the topic
        models' top terms, topics and seeded_topics (topic, rank, term).
    top : int
        The length of a place's list a reader sees (emphases.stability_top): rows ranked below it are not on it.

    Returns
    -------
    pd.DataFrame
        place, term, list (e.g. "place terms, logodds #2", "concept grassroots_governance, tfidf #1",
        "seeded topic 3 #5").
    """
    rows = []
    if "place_terms" in tables:
        rows += [{"place": r.place, "term": r.term, "list": f"place terms, {r.method} #{r.rank}"}
                 for r in tables["place_terms"].itertuples() if r.rank <= top]
    if "place_concepts" in tables:
        for r in tables["place_concepts"].itertuples():
            for item in str(r.terms).split(";") if r.rank <= top else ():
                term = item.strip().rsplit(" ", 1)[0]
                if term:
                    rows.append({"place": r.place, "term": term, "list": f"concept {r.concept}, {r.method} #{r.rank}"})
    for name, model in _TOPIC_MODELS:
        rows += [{"place": "", "term": r.term, "list": f"{model} {r.topic} #{r.rank}"}
                 for r in tables.get(name, pd.DataFrame(columns=["topic", "rank", "term"])).itertuples()]
    return pd.DataFrame(rows, columns=["place", "term", "list"])


def harm_check(review: pd.DataFrame, units: Iterable[Mapping], lists: pd.DataFrame) -> pd.DataFrame:
    """The review table with, for each kept line, the top-list terms its tokens supply.

    Parameters
    ----------
    review : pd.DataFrame
        The review rows (`review_table`).
    units : iterable of Unit
        The corpus's text units (doc_id, place, text, tokens, spans).
    lists : pd.DataFrame
        The top lists (`top_lists`).

    Returns
    -------
    pd.DataFrame
        The review columns, then top_terms (the line's tokens on a top list of its place or of a topic,
        "; "-separated, "" for none), only_from_line (those of them whose every occurrence in the place, or in the
        corpus for a topic's term, is in this line) and top_lists (for each such term, the lists it is on).
    """
    by_doc: dict[str, list[Mapping]] = defaultdict(list)
    place_of: dict[str, str] = {}
    in_place: Counter = Counter()  # (place, token) -> count; ("", token) -> count in the whole corpus
    for unit in units:
        by_doc[unit["doc_id"]].append(unit)
        place_of[unit["doc_id"]] = unit["place"]
        for token in unit["tokens"]:
            in_place[(unit["place"], token)] += 1
            in_place[("", token)] += 1
    listed: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in lists.itertuples():
        listed[(r.place, r.term)].append(r.list)
    terms_out, alone_out, lists_out = [], [], []
    for r in review.itertuples():
        place = place_of.get(r.doc_id, "")
        in_line = Counter(line_tokens(by_doc.get(r.doc_id, []), r.line))
        hits, alone = {}, []
        for token in in_line:
            scopes = [scope for scope in (place, "") if listed.get((scope, token))]
            if scopes:
                hits[token] = listed.get((place, token), []) + listed.get(("", token), [])
                if any(in_place[(scope, token)] <= in_line[token] for scope in scopes):
                    alone.append(token)
        terms_out.append("; ".join(hits))
        alone_out.append("; ".join(alone))
        lists_out.append("; ".join(f"{term}: {', '.join(on)}" for term, on in hits.items()))
    out = review[REVIEW_COLUMNS].copy()
    out["top_terms"], out["only_from_line"], out["top_lists"] = terms_out, alone_out, lists_out
    return out
