"""Place names and bracket notation: what the vocabularies must not count as policy words.

Two pieces of versioned data, applied during segmentation so that every later
stage (emphases, themes, profile) sees the same tokens:

* **Notation** (`lexicon/notation.csv`). Administrative texts write pairs of
  levels with brackets: 村(社区), 村(居)民, 乡镇(街道), 县(市、区). Cut as
  words, each gives two or three tokens (村, 社区, 居, 街道) and inflates
  them. Each notation is found like a lexicon term (kept whole, longest match
  wins) and becomes one token that names the pair (村社区, 村居民, 乡镇街道).
  Brackets are matched after width folding, so （ and ( are the same.

* **Place names.** jieba tags most place names (ns), but not all: 大通区 is
  tagged n, 毛集实验区 is cut 毛|集|实验区. Two rules catch what the tags miss:
  a gazetteer of China's county-level and higher divisions
  (`lexicon/gazetteer/divisions.csv`, derived from the cpca package; city and
  province names also in their short form, 合肥 for 合肥市), and a suffix rule
  (`lexicon/place_suffixes.txt`): a suffix word such as 区, 镇, 街道 or 实验区
  ends a name when the words just before it are name fragments (words tagged
  as names, or at least two single non-stopword Hanzi in a row). Such a name,
  suffix included, is counted in the place's total but kept out of the
  vocabularies. Lexicon terms are never treated as names (街道 in 洞山街道 stays
  a token: the lexicon owns it, though it still ends the name 洞山), and words under [keep] in
  `lexicon/vocab_exclusions.txt` are not names (城区 is a division name in the
  gazetteer and an ordinary word in policy texts).
"""

from __future__ import annotations

import csv
import functools
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from pipeline.common.errors import InputError
from pipeline.text.lexicon import fold_width, load_wordlist, read_utf8

__all__ = ["GAZETTEER_COLUMNS", "NAME_FRAGMENT_TAGS", "NOTATION_COLUMNS", "NameRules", "load_gazetteer",
           "load_name_rules", "load_notation", "place_name_positions"]

NOTATION_COLUMNS = ("notation", "token", "gloss", "note")


GAZETTEER_COLUMNS = ("adcode", "name")


# jieba tags of words that can be fragments of a name before a suffix: place
# and person names and other proper nouns (nz: 大通, 义安).
NAME_FRAGMENT_TAGS = frozenset({"ns", "nr", "nrt", "nrfg", "nz"})


# A character that width folding changes, or whitespace (which stripping may remove).
_FOLDED_OR_STRIPPED = re.compile(r"[\s\uff01-\uff5e]")


_HANZI = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]$")


# Short forms are made only for these endings, and only when two or more
# characters remain (合肥市 -> 合肥; 赵县 keeps no short form).
_SHORT_FORM_ENDINGS = ("省", "市")


def load_notation(path: Path) -> dict[str, str]:
    """Notation string (width-folded) -> the one token it becomes; InputError naming the line on a defect.

    Parameters
    ----------
    path : Path
        The notation file, lexicon/notation.csv (notation, token).

    Returns
    -------
    dict[str, str]
        Each notation string, in file order, and its token.
    """
    path = Path(path)
    reader = csv.reader(io.StringIO(read_utf8(path, "notation file"), newline=""))
    header = [h.strip() for h in next(reader, [])]
    if tuple(header) != NOTATION_COLUMNS:
        raise InputError(path, f"line 1: the header must be {','.join(NOTATION_COLUMNS)}, not {','.join(header)}")
    mapping: dict[str, str] = {}
    for fields in reader:
        line = reader.line_num
        if not fields or all(not f.strip() for f in fields):
            continue
        if len(fields) != len(NOTATION_COLUMNS):
            raise InputError(path, f"line {line}: {len(fields)} fields where the header has {len(NOTATION_COLUMNS)}")
        notation, token = fold_width(fields[0].strip()), fields[1].strip()
        if not notation or not token:
            raise InputError(path, f"line {line}: notation and token must both be given")
        if re.search(r"\s", notation + token) or re.search(r"[()（）]", token):
            raise InputError(path, f"line {line}: token {token!r} must be one word without brackets or spaces")
        if notation in mapping:
            raise InputError(path, f"line {line}: notation {notation!r} is listed twice")
        mapping[notation] = token
    if not mapping:
        raise InputError(path, "has a header but no notation")
    return mapping


def load_gazetteer(path: Path) -> frozenset[str]:
    """Division names and the short forms of city and province names."""
    path = Path(path)
    reader = csv.reader(io.StringIO(read_utf8(path, "gazetteer"), newline=""))
    header = [h.strip() for h in next(reader, [])]
    if tuple(header) != GAZETTEER_COLUMNS:
        raise InputError(path, f"line 1: the header must be {','.join(GAZETTEER_COLUMNS)}")
    names: set[str] = set()
    for fields in reader:
        if not fields:
            continue
        if len(fields) != 2 or not fields[1].strip() or not fields[0].strip().isdigit():
            raise InputError(path, f"line {reader.line_num}: expected an adcode and a name, got {fields!r}")
        name = fold_width(fields[1].strip())
        if len(name) < 2:
            continue  # a placeholder row (重庆市's 县), not a name
        names.add(name)
        if name.endswith(_SHORT_FORM_ENDINGS) and len(name) >= 3:
            names.add(name[:-1])
    return frozenset(names)


@dataclass(frozen=True)
class NameRules:
    """What `place_name_positions` needs: gazetteer, suffixes and the words that are never names."""

    gazetteer: frozenset[str]
    suffixes: frozenset[str]
    stopwords: frozenset[str]
    never_names: frozenset[str]  # lexicon strings and [keep] words
    fragment_tags: frozenset[str] = NAME_FRAGMENT_TAGS

    @functools.cached_property
    def triggers(self) -> frozenset[str]:
        """Words that can end or be a name: gazetteer names and suffixes."""
        return self.gazetteer | self.suffixes


def load_name_rules(lexicon_dir: Path, stopwords: Iterable[str], never_names: Iterable[str]) -> NameRules:
    """What `place_name_positions` needs, read from the lexicon folder.

    Parameters
    ----------
    lexicon_dir : Path
        The lexicon folder: its gazetteer/divisions.csv and place_suffixes.txt are read.
    stopwords : Iterable[str]
        The study's stopwords (general and domain).
    never_names : Iterable[str]
        Words never taken for names: the lexicon strings, the notation and the [keep] words.

    Returns
    -------
    NameRules
        The gazetteer, suffixes, stopwords and never-names.
    """
    lexicon_dir = Path(lexicon_dir)
    return NameRules(gazetteer=load_gazetteer(lexicon_dir / "gazetteer" / "divisions.csv"),
                     suffixes=frozenset(load_wordlist(lexicon_dir / "place_suffixes.txt")),
                     stopwords=frozenset(stopwords), never_names=frozenset(never_names))


def _is_fragment(word: str, tag: str, rules: NameRules) -> tuple[bool, bool]:
    """(fragment?, tagged as a name?) for a word before a suffix."""
    if word in rules.never_names:
        return False, False
    if tag in rules.fragment_tags:
        return True, True
    if _HANZI.match(word) and word not in rules.stopwords:
        return True, False
    return False, False


def place_name_positions(pairs: Sequence[tuple[str, str]], rules: NameRules, protected_tag: str) -> set[int]:
    """Indices of the (word, tag) pairs that belong to a place name (see the module docstring).

    Words tagged `protected_tag` (lexicon terms and notation) are never names.

    Parameters
    ----------
    pairs : Sequence[tuple[str, str]]
        The (word, POS tag) pairs of one unit's segmentation.
    rules : NameRules
        The gazetteer, suffixes and words that are never names (`load_name_rules`).
    protected_tag : str
        The tag of lexicon terms and notation (`segment.LEXICON_TAG`).

    Returns
    -------
    set[int]
        The indices, into `pairs`, of the words of place names.
    """
    words = [w for w, _ in pairs]
    # Words are compared width-folded and stripped; most texts have nothing to
    # fold or strip, and are spared doing it word by word.
    if _FOLDED_OR_STRIPPED.search("".join(words)):
        words = [fold_width(w.strip()) for w in words]
    flagged: set[int] = set()
    # Only a gazetteer name or a suffix can start a name; other words are
    # looked at only as fragments before a suffix.
    for i in [i for i, word in enumerate(words) if word in rules.triggers]:
        word, tag = words[i], pairs[i][1]
        # A lexicon term that is also a suffix (街道) still ends a name: its
        # fragments (大通 in 大通街道) are flagged, the term itself never is.
        protected = tag == protected_tag or word in rules.never_names
        if not protected and word in rules.gazetteer:
            flagged.add(i)
        if word not in rules.suffixes:
            continue
        run, tagged, singles = [], 0, 0
        j = i - 1
        while j >= 0 and pairs[j][1] != protected_tag:
            fragment, is_tagged = _is_fragment(words[j], pairs[j][1], rules)
            if not fragment:
                break
            run.append(j)
            tagged += is_tagged
            singles += not is_tagged
            j -= 1
        if tagged >= 1 or singles >= 2:
            flagged.update(run)
            if not protected:
                flagged.add(i)
    return flagged
