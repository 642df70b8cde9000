"""Page chrome recognised per line from its features, on sites never seen.

Each non-blank line is described by features: its length in non-space
characters, whether it ends like a sentence, whether it lies near the head or
the tail of the article, and, for each rule of lexicon/chrome.yaml, whether
the rule's cue (a date shape, a byline field, navigation or share words, a
journal field, ...) occurs in it, how much of the line the cue covers and how
much it leaves over. A rule claims a line when all its conditions hold; the
line (or, for span rules, the cue's match) is removed and the audit row names
the rule and the features that decided it.

Prose survives because almost every rule demands what prose lacks: no
sentence ending, few characters, and little left once the cue is taken out.
Rules that may fire inside prose (span rules: HTML entities, the 摘要 label, a
dateline) remove only their match.

Some chrome is told by its neighbours rather than by itself: numbered photo
captions, a table of contents, a block of form fields. Run rules look at a
run of consecutive short lines that all carry the rule's cue and claim the
whole run only when the run as a whole has the mark of chrome: enough lines,
an anchor line (a photo credit, a byline field), or lines that recur later in
the article (a table of contents is followed by the sections it lists).

Authors and dates found in removed lines are returned as metadata, so the
study keeps what the chrome said about the article.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipeline.common.errors import InputError
from pipeline.common.params import ChromeParams
from pipeline.corpus.edits import Edit

__all__ = ["ChromeLexicon", "ChromeRule", "KINDS", "SENTENCE_END", "SEPARATORS", "chrome_edits",
           "chrome_rule", "line_verdict", "load_chrome", "metadata", "repeated_lines", "run_claims"]

SENTENCE_END = re.compile(r"[。！？!?…]+[”’」』\"')）\]】]*\s*$")
SEPARATORS = re.compile(r"[\s|｜│/／\\>＞»›·•‧\-—_:：,，、;；()（）【】\[\]「」《》<\"“”'‘’.。*＊~～=+#]+")
KINDS = ("byline", "date", "source", "author_name", "affiliation", "nav", "share", "app", "comment",
         "journal_meta", "caption", "footnote", "footer", "entity", "other")
_DATE = None  # set by load_chrome from the `date` shape


@dataclass(frozen=True)
class ChromeRule:
    name: str
    cue: re.Pattern
    scope: str
    kind: str
    why: str
    edge: str | None = None
    max_chars: int | None = None
    sentence: bool = False
    rest: int | None = None
    min_cover: float | None = None
    min_matches: int = 1
    within: int | None = None
    min_lines: int = 2
    anchor: re.Pattern | None = None
    recurs: int = 0
    unlisted: re.Pattern | None = None


@dataclass(frozen=True)
class ChromeLexicon:
    rules: tuple[ChromeRule, ...]
    date: re.Pattern


def _fill(pattern: str, pieces: dict[str, str]) -> str:
    for _ in range(3):  # shapes may use vocabularies (person uses surname)
        pattern = re.sub(r"\{([a-z_]+)\}", lambda m: pieces.get(m.group(1), m.group(0)), pattern)
    return pattern


def load_chrome(path: Path) -> ChromeLexicon:
    """Read lexicon/chrome.yaml; every rule must compile, name a known kind and say why it is there.

    Parameters
    ----------
    path : Path
        The chrome lexicon, lexicon/chrome.yaml (shapes, vocabularies, rules).

    Returns
    -------
    ChromeLexicon
        The compiled rules, in file order, and the `date` shape.

    Raises
    ------
    InputError
        When the file is not valid YAML, or a rule is incomplete, duplicated, of an unknown kind or scope, or does
        not compile, or the `date` shape is missing.
    """
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(path, f"is not valid YAML ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise InputError(path, "must be a mapping with shapes, vocabularies and a list of rules")
    pieces: dict[str, str] = {}
    for name, entry in (data.get("vocabularies") or {}).items():
        if not isinstance(entry, dict) or not entry.get("why") or not entry.get("words"):
            raise InputError(path, f"vocabulary {name!r}: needs words and why")
        words = sorted({str(w) for w in entry["words"]}, key=lambda w: (-len(w), w))
        pieces[name] = "(?:" + "|".join(re.escape(w) for w in words) + ")"
    for name, shape in (data.get("shapes") or {}).items():
        pieces[name] = "(?:" + str(shape) + ")"
    for name in list(pieces):
        pieces[name] = _fill(pieces[name], pieces)
    rules, names = [], set()
    for number, entry in enumerate(data["rules"], start=1):
        where = f"rule {number}"
        if not isinstance(entry, dict) or not {"name", "cue", "kind", "why"} <= set(entry):
            raise InputError(path, f"{where}: needs name, cue, kind and why")
        where += f" ({entry['name']})"
        if entry["name"] in names:
            raise InputError(path, f"{where}: duplicate name")
        names.add(entry["name"])
        if entry["kind"] not in KINDS:
            raise InputError(path, f"{where}: kind must be one of {', '.join(KINDS)}")
        if entry.get("scope", "line") not in ("line", "span", "run") \
                or entry.get("edge") not in (None, "head", "tail", "either"):
            raise InputError(path, f"{where}: scope must be line, span or run, edge head, tail or either")
        try:
            cue = re.compile(_fill(str(entry["cue"]), pieces))
            anchor = re.compile(_fill(str(entry["anchor"]), pieces)) if entry.get("anchor") else None
            unlisted = re.compile(_fill(str(entry["unlisted"]), pieces)) if entry.get("unlisted") else None
        except re.error as exc:
            raise InputError(path, f"{where}: cue, anchor or unlisted does not compile: {exc}") from None
        rules.append(ChromeRule(entry["name"], cue, entry.get("scope", "line"), entry["kind"],
                                str(entry["why"]).strip(), entry.get("edge"), entry.get("max_chars"),
                                bool(entry.get("sentence", False)), entry.get("rest"), entry.get("min_cover"),
                                int(entry.get("min_matches", 1)), entry.get("within"),
                                int(entry.get("min_lines", 2)), anchor, int(entry.get("recurs", 0)), unlisted))
    if "date" not in pieces:
        raise InputError(path, "needs a `date` shape (with groups y, m, d)")
    return ChromeLexicon(tuple(rules), re.compile(pieces["date"]))


def _chars(text: str) -> int:
    """Non-space characters of a line.

    `str.split()` splits at exactly the characters `str.isspace()` accepts
    (every code point is checked in tests/corpus/test_fast_paths.py), and
    does it in C: counting them one by one in a generator was most of the
    cleaning stage's time on long corpora.
    """
    return len("".join(text.split()))


def line_verdict(line: str, rule: ChromeRule, settings: ChromeParams, at_head: bool,  # noqa: PLR0911 (one return for each condition a rule sets)
                 at_tail: bool, rank: tuple[int, int] = (0, 0), chars: int | None = None) -> str | None:
    """Why `rule` claims this whole line, or None.

    `rank` is the line's place among the article's non-blank lines, counted
    from the head and from the tail (0 = first or last); a rule with `within`
    holds only for lines that near an edge. `chars` is the line's count of
    non-space characters when the caller, asking every rule about one line,
    has counted it once.
    """
    if rule.within is not None:
        at_head, at_tail = at_head and rank[0] < rule.within, at_tail and rank[1] < rule.within
    if chars is None:
        chars = _chars(line)
    limit = rule.max_chars if rule.max_chars is not None else settings.max_chars
    if chars == 0 or chars > limit:
        return None
    ends_sentence = bool(SENTENCE_END.search(line))
    if ends_sentence and not rule.sentence:
        return None
    if rule.edge == "head" and not at_head or rule.edge == "tail" and not at_tail \
            or rule.edge == "either" and not (at_head or at_tail):
        return None
    matches = [m for m in rule.cue.finditer(line) if m.end() > m.start()] or \
        [m for m in [rule.cue.search(line)] if m is not None]
    if len(matches) < max(rule.min_matches, 1):
        return None
    rest = SEPARATORS.sub("", rule.cue.sub(" ", line))
    if rule.rest is not None and len(rest) > rule.rest:
        return None
    if rule.min_cover is not None:
        content = len(SEPARATORS.sub("", line))
        covered = content - len(rest)
        if content == 0 or covered / content < rule.min_cover:
            return None
    where = "head" if at_head else "tail" if at_tail else "middle"
    return f"{rule.kind}; {chars} chars, {where}, {'sentence end' if ends_sentence else 'no sentence end'}, {len(rest)} left"


def run_claims(lines: list[str], rule: ChromeRule, settings: ChromeParams, head: int) -> dict[int, str]:
    """Positions (in `lines`, the article's non-blank lines) that a run rule claims, with why.

    A run is a maximal stretch of consecutive lines that each carry the cue,
    fit `max_chars` and (unless `sentence`) do not end like a sentence. It is
    claimed when it has `min_lines` lines, starts within the first `head`
    lines if the rule has `edge: head`, and has a line carrying the `anchor`.
    With `recurs`, the claim is the stretch from the first line that occurs
    again later up to that later copy (where the listed sections begin), and
    needs `recurs` distinct lines of the stretch to occur again from there on
    (lines matching `unlisted`, such as page widgets repeated at the foot,
    do not count); a title above a table of contents, and the sections after
    it, stay.
    """
    limit = rule.max_chars if rule.max_chars is not None else settings.max_chars
    fits = [bool(rule.cue.search(x)) and _chars(x) <= limit and (rule.sentence or not SENTENCE_END.search(x))
            for x in lines]
    stripped = [x.strip() for x in lines]
    claims: dict[int, str] = {}
    start = 0
    while start < len(lines):
        if not fits[start]:
            start += 1
            continue
        end = start
        while end < len(lines) and fits[end]:
            end += 1
        first, stop, note = start, end, ""
        ok = end - start >= rule.min_lines and (rule.edge != "head" or start < head) \
            and (rule.anchor is None or any(rule.anchor.search(lines[i]) for i in range(start, end)))
        if ok and rule.recurs:
            copies = [(i, stripped.index(stripped[i], i + 1)) for i in range(start, end) if stripped[i] in stripped[i + 1:]]
            if copies:
                first, stop = copies[0]
                stop = min(stop, end)
                later = set(stripped[stop:])
                listed = {stripped[i] for i in range(first, stop) if stripped[i] in later
                          and not (rule.unlisted and rule.unlisted.search(stripped[i]))}
                ok = len(listed) >= rule.recurs and stop - first >= rule.min_lines
                note = f", {len(listed)} come back later"
            else:
                ok = False
        if ok:
            why = f"{rule.kind}; run of {stop - first} short lines{note}" + (", anchored" if rule.anchor else "")
            claims.update({i: why for i in range(first, stop)})
        start = end
    return claims


def _entity_text(match: str) -> str:
    text = match if match.startswith("&") else "&" + match
    out = html.unescape(text)
    return "" if out == text else out.replace("\u00a0", " ")


def chrome_edits(text: str, lexicon: ChromeLexicon, settings: ChromeParams,  # noqa: C901 (the order of the claims, runs, repeats, lines, spans, is the rule)
                 repeated: frozenset[str] = frozenset()) -> list[Edit]:
    """Edits that remove the chrome lines and spans of one article.

    `repeated` holds lines (stripped) that recur in other articles of the same
    source; short ones are removed as the source's own furniture.
    """
    spans, position = [], 0
    for raw_line in text.splitlines(keepends=True):
        body = raw_line.rstrip("\r\n")
        spans.append((position, position + len(body), position + len(raw_line)))
        position += len(raw_line)
    nonblank = [i for i, (s, e, _) in enumerate(spans) if text[s:e].strip()]
    head = set(nonblank[:settings.head_lines])
    tail = set(nonblank[-settings.tail_lines:]) if settings.tail_lines else set()
    lines = [text[spans[i][0]:spans[i][1]] for i in nonblank]
    by_run: dict[int, tuple[str, str]] = {}
    for rule in lexicon.rules:
        if rule.scope == "run":
            for position, why in run_claims(lines, rule, settings, settings.head_lines).items():
                by_run.setdefault(nonblank[position], (rule.name, why))
    edits: list[Edit] = []
    for rank, index in enumerate(nonblank):
        start, body_end, end = spans[index]
        line = text[start:body_end]
        chars = _chars(line)  # once per line, not once per rule
        if index in by_run:
            edits.append(Edit(start, end, "", *by_run[index]))
            continue
        # A short line at the head or tail that recurs in another article of
        # the same source is the source's furniture (a column name, a
        # sign-off); a recurring section heading inside the body is kept.
        if line.strip() in repeated and (index in head or index in tail) and not SENTENCE_END.search(line) \
                and chars <= settings.max_chars:
            edits.append(Edit(start, end, "", "chrome_repeated_line", "other; repeats in other articles of this source"))
            continue
        claimed = False
        for rule in lexicon.rules:
            if rule.scope == "line":
                why = line_verdict(line, rule, settings, index in head, index in tail,
                                   (rank, len(nonblank) - 1 - rank), chars)
                if why:
                    edits.append(Edit(start, end, "", rule.name, why))
                    claimed = True
                    break
        if claimed:
            continue
        taken: list[tuple[int, int]] = []
        for rule in lexicon.rules:
            if rule.scope != "span" or chars > (rule.max_chars or settings.max_chars):
                continue
            for m in rule.cue.finditer(line):
                s, e = start + m.start(), start + m.end()
                if e > s and all(e <= a or s >= b for a, b in taken):
                    after = _entity_text(m.group(0)) if rule.name == "chrome_html_entity" else ""
                    edits.append(Edit(s, e, after, rule.name, rule.kind))
                    taken.append((s, e))
    return edits


def chrome_rule(lexicon: ChromeLexicon, settings: ChromeParams, repeated: frozenset[str] = frozenset()):
    """The chrome classifier as a cleaning rule (text -> edits).

    Parameters
    ----------
    lexicon : ChromeLexicon
        The chrome rules of lexicon/chrome.yaml.
    settings : ChromeParams
        The chrome settings of params.yaml (head and tail lines, lengths).
    repeated : frozenset[str]
        The article's lines that recur in other articles of its source (`repeated_lines`).

    Returns
    -------
    Callable[[str], list[Edit]]
        The rule: a text to the edits that remove its chrome.
    """
    return lambda text: chrome_edits(text, lexicon, settings, repeated)


def repeated_lines(texts: list[str], sources: list[str], min_articles: int = 2) -> list[frozenset[str]]:
    """Per article, the stripped lines that also occur in another article of the same (non-empty) source.

    Parameters
    ----------
    texts : list[str]
        The raw texts of the articles, in corpus order.
    sources : list[str]
        Each article's source (the manifest's `source`); a blank one shares lines with no article.
    min_articles : int
        In how many articles of the source a line must occur.

    Returns
    -------
    list[frozenset[str]]
        For each article, in corpus order, its repeated lines.
    """
    seen: dict[tuple[str, str], set[int]] = {}
    for index, (text, source) in enumerate(zip(texts, sources)):
        if not source.strip():
            continue
        for line in {ln.strip() for ln in text.splitlines() if ln.strip()}:
            seen.setdefault((source, line), set()).add(index)
    # Each repeated line handed to the articles it occurs in: one pass over the
    # lines, where asking every line about every article grew with their product.
    result: list[set[str]] = [set() for _ in texts]
    for (_source, line), docs in seen.items():
        if len(docs) >= min_articles:
            for index in docs:
                result[index].add(line)
    return [frozenset(lines) for lines in result]


def metadata(audit: list[dict], lexicon: ChromeLexicon) -> dict[str, str]:
    """Author(s) and the first full date named by the chrome lines an article lost.

    Parameters
    ----------
    audit : list[dict]
        The article's cleaning audit rows (rule, before, ...), in the order of the edits.
    lexicon : ChromeLexicon
        The chrome rules that made them, with the `date` shape.

    Returns
    -------
    dict[str, str]
        `author` (the names found, joined by 、, each once) and `date` (YYYY-MM-DD), each "" when none is found.
    """
    authors: list[str] = []
    date = ""
    by_name = {r.name: r for r in lexicon.rules}
    for row in audit:
        rule = by_name.get(row["rule"])
        # Boilerplate rules (lexicon/boilerplate.yaml) name their kind in their name.
        kind = rule.kind if rule is not None else next(
            (k for k in ("byline", "date") if row["rule"].startswith(k) or row["rule"].startswith(f"chrome_{k}")), None)
        if kind is None:
            continue
        before = row["before"]
        if kind in ("byline", "author_name", "date"):
            for m in (rule.cue.finditer(before) if rule is not None else ()):
                found = m.groupdict().get("author")
                if found:
                    authors += [a for a in re.split(r"[\s,，、;；]{1,}", _join_spaced(found)) if a]
            credit = re.sub(r"(?<=[\u4e00-\u9fff])[ \u3000\u00a0](?=[\u4e00-\u9fff])", "", before)
            for m in re.finditer(r"(?:作者|記者|记者|通讯员|通訊員|[■□])\s*[:：]?\s*([\u4e00-\u9fff]{2,4})(?![\u4e00-\u9fff])",
                                 credit):
                authors.append(m.group(1))
        if not date and kind in ("byline", "date"):
            m = lexicon.date.search(before)
            if m and 1 <= int(m.group("m")) <= 12 and 1 <= int(m.group("d")) <= 31:
                date = f"{m.group('y')}-{int(m.group('m')):02d}-{int(m.group('d')):02d}"
    unique = list(dict.fromkeys(authors))
    return {"author": "、".join(unique), "date": date}


def _join_spaced(names: str) -> str:
    """陳 曦 -> 陳曦: a space inside a two- or three-character name is typesetting."""
    return re.sub(r"(?<=[\u4e00-\u9fff])[ \u3000\u00a0](?=[\u4e00-\u9fff](?:$|[\s,，、;；]))", "", names.strip())
