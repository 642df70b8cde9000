"""The LDAvis page: a deterministic layout and an offline HTML page of the final model."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from pipeline.common.numeric import round_sig
from pipeline.themes.params import round_frame
from pipeline.themes.sweep import single_thread_blas

__all__ = ["LDAVIS_DIV_ID", "LdavisInputs", "deterministic_pcoa", "ldavis_prepare", "ldavis_html",
           "script_json"]

LDAVIS_DIV_ID = "ldavis-themes"
# Characters of JSON text that HTML reads inside <script> (or old JavaScript reads as line ends); JSON's \u
# escape keeps each the same character. Outside strings JSON has none of them, so the escape is only ever
# inside a string.
_SCRIPT_UNSAFE = {ord(c): f"\\u{ord(c):04x}" for c in "<>&\u2028\u2029"}


@dataclass(frozen=True)
class LdavisInputs:
    """What pyLDAvis needs of a fitted model: topics x terms and units x topics weights (topics in the
    tables' order), the units' token counts, the vocabulary, the terms' corpus counts, and the number of
    terms the page lists per topic."""

    topic_term_dists: np.ndarray
    doc_topic_dists: np.ndarray
    doc_lengths: np.ndarray
    vocab: Sequence[str]
    term_frequency: np.ndarray
    terms: int = 30


def _jensen_shannon(p: np.ndarray, q: np.ndarray) -> float:
    # scipy is loaded only when the LDAvis page is made
    from scipy.stats import entropy

    m = 0.5 * (p + q)
    return float(0.5 * (entropy(p, m) + entropy(q, m)))


def deterministic_pcoa(topic_term_dists: np.ndarray) -> np.ndarray:
    """Principal coordinates of the topics' Jensen-Shannon distances, with fixed signs.

    pyLDAvis's own PCoA takes eigenvectors from `numpy.linalg.eig`, whose signs
    (and order among equal eigenvalues) are arbitrary, so the map could mirror
    between machines. Here the symmetric solver is used and each axis is
    oriented so that its largest-magnitude coordinate is positive.
    """
    # scipy is loaded only when the LDAvis page is made
    from scipy.spatial.distance import pdist, squareform

    dists = squareform(pdist(np.asarray(topic_term_dists, dtype=np.float64), metric=_jensen_shannon))
    n = dists.shape[0]
    h = np.eye(n) - np.ones((n, n)) / n
    b = -h @ (dists**2) @ h / 2
    vals, vecs = np.linalg.eigh((b + b.T) / 2)
    ix = np.argsort(-vals, kind="stable")[:2]
    vals, vecs = np.clip(vals[ix], 0, None), vecs[:, ix]
    for j in range(vecs.shape[1]):
        if vecs[np.argmax(np.abs(vecs[:, j])), j] < 0:
            vecs[:, j] = -vecs[:, j]
    coords = vecs * np.sqrt(vals)
    if coords.shape[1] < 2:
        coords = np.hstack([coords, np.zeros((n, 2 - coords.shape[1]))])
    return round_sig(coords)


def ldavis_prepare(inputs: LdavisInputs, terms: int | None = None):
    """pyLDAvis data for the final model, topics kept in this module's order (1-based).

    `sort_topics=False` keeps topic n of the page equal to topic n of
    topics.csv (the topics are already numbered by decreasing prevalence,
    which is also pyLDAvis's own order); the map uses `deterministic_pcoa`,
    and the floats are rounded like the tables'.
    """
    # pyLDAvis (~2 s) is loaded only when the LDAvis page is made
    import pyLDAvis

    with single_thread_blas():
        prepared = pyLDAvis.prepare(
            topic_term_dists=inputs.topic_term_dists,
            doc_topic_dists=inputs.doc_topic_dists,
            doc_lengths=inputs.doc_lengths,
            vocab=inputs.vocab,
            term_frequency=inputs.term_frequency,
            R=terms or inputs.terms,
            mds=deterministic_pcoa,
            sort_topics=False,
            n_jobs=1,
            start_index=1,
        )
    return prepared._replace(
        topic_coordinates=round_frame(prepared.topic_coordinates),
        topic_info=round_frame(prepared.topic_info),
        token_table=round_frame(prepared.token_table),
    )


def _ldavis_asset(name: str) -> str:
    # pyLDAvis (~2 s) is loaded only when the LDAvis page is made
    import pyLDAvis

    return (Path(pyLDAvis.__file__).parent / "js" / name).read_text(encoding="utf-8")


def script_json(text: str) -> str:
    """JSON text safe inside an HTML `<script>` element, and the same JSON value.

    A term is article text: `</script>` or `<!--` in it would end or derail the script block, and
    `json.dumps` leaves `<`, `>` and `&` as they are. Escaped as `\\u003c` and the like they are still the
    same characters to `JSON.parse` and to JavaScript; U+2028 and U+2029 are line ends to older JavaScript.

    Parameters
    ----------
    text : str
        JSON text, as `json.dumps` writes it.

    Returns
    -------
    str
        The JSON text with `<`, `>`, `&`, U+2028 and U+2029 written as `\\u` escapes.
    """
    return text.translate(_SCRIPT_UNSAFE)


def ldavis_html(inputs: LdavisInputs, title: str | None = None, note: str | None = None, terms: int | None = None) -> str:
    """A self-contained LDAvis page: d3, LDAvis and its stylesheet inlined from
    the pyLDAvis package (no network at view time), and a fixed element id so
    the same model gives the same bytes.

    Parameters
    ----------
    inputs : LdavisInputs
        What pyLDAvis needs of the fitted model.
    title : str or None, optional
        The page's title (default: the topics of the articles at the model's K).
    note : str or None, optional
        The line under the title (default: how the topics are numbered and where their labels are).
    terms : int or None, optional
        How many terms the page lists per topic (default: `inputs.terms`).

    Returns
    -------
    str
        The HTML page.
    """
    # pyLDAvis (~2 s) is loaded only when the LDAvis page is made
    from pyLDAvis.urls import CSS_VERSION, JS_VERSION
    from pyLDAvis.utils import NumPyEncoder

    k = len(inputs.topic_term_dists)
    title = title or f"Topics of the community-governance articles (LDA, K={k})"
    note = note or (
        f"Topics are numbered 1 to {k} as in results/tables/topics.csv, in decreasing order of their share "
        "of all modelled tokens; labels are in topics.csv and topic_roles.csv."
    )
    prepared = ldavis_prepare(inputs, terms)
    data = json.dumps(prepared.to_dict(), cls=NumPyEncoder, ensure_ascii=False, sort_keys=True)

    def script(text: str) -> str:
        # "</" would end the inline script early if the library held it.
        return text.replace("</", "<\\/")

    return (
        "<!DOCTYPE html>\n<html lang=\"zh\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{html.escape(title)}</title>\n"
        f"<style>\n{_ldavis_asset(f'ldavis.v{CSS_VERSION}.css')}\n</style>\n"
        "</head>\n<body>\n"
        f"<h1 style=\"font-family:sans-serif;font-size:1.2em\">{html.escape(title)}</h1>\n"
        f"<p style=\"font-family:sans-serif;max-width:60em\">{html.escape(note)}</p>\n"
        f"<div id=\"{LDAVIS_DIV_ID}\" style=\"background-color:white;\"></div>\n"
        f"<script>\n{script(_ldavis_asset('d3.v5.min.js'))}\n</script>\n"
        f"<script>\n{script(_ldavis_asset(f'ldavis.v{JS_VERSION}.js'))}\n</script>\n"
        f"<script>\nnew LDAvis(\"#{LDAVIS_DIV_ID}\", {script_json(data)});\n</script>\n"
        "</body>\n</html>\n"
    )
