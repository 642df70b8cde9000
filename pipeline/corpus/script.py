"""Script normalisation: OpenCC traditional → simplified, with the original script recorded."""

from __future__ import annotations

import unicodedata

import opencc

__all__ = ["detect_script", "make_converter", "to_simplified", "traditional_share"]


def make_converter(config: str = "t2s"):
    """A fresh OpenCC converter (the study uses t2s: traditional to simplified).

    Parameters
    ----------
    config : str
        The OpenCC configuration.

    Returns
    -------
    opencc.OpenCC
        The converter.
    """
    return opencc.OpenCC(config)


def _han(text: str) -> list[str]:
    return [c for c in text if unicodedata.name(c, "").startswith("CJK UNIFIED")]


def traditional_share(text: str, converter) -> float:
    """Share of Han characters that t2s changes: ~0 for simplified text, ~0.3+ for traditional."""
    han = "".join(_han(text))
    if not han:
        return 0.0
    converted = converter.convert(han)
    if len(converted) != len(han):  # phrase conversions can change length; compare per character
        converted = "".join(converter.convert(c) for c in han)
    return sum(a != b for a, b in zip(han, converted)) / len(han)


def detect_script(text: str, converter, threshold: float = 0.05) -> str:
    """'traditional' or 'simplified', by how much of the text t2s would change.

    Parameters
    ----------
    text : str
        The cleaned article.
    converter : opencc.OpenCC
        The t2s converter (`make_converter`).
    threshold : float
        Share of Han characters t2s changes from which the text counts as traditional.

    Returns
    -------
    str
        "traditional" or "simplified".
    """
    return "traditional" if traditional_share(text, converter) >= threshold else "simplified"


def to_simplified(text: str, converter) -> str:
    """The text in simplified script, by the converter.

    Parameters
    ----------
    text : str
        The cleaned article (or a name from it).
    converter : opencc.OpenCC
        The t2s converter (`make_converter`).

    Returns
    -------
    str
        The converted text.
    """
    return converter.convert(text)
