"""Progress bars for long work (the engine of parallel work is pipeline.common.engine)."""

from __future__ import annotations

from tqdm import tqdm

__all__ = ["progress", "set_progress"]

_PROGRESS = {"enabled": True}


def set_progress(enabled: bool) -> None:
    """Progress bars on (the default: shown on a terminal only) or off (--quiet).

    Parameters
    ----------
    enabled : bool
        False for --quiet: no progress bars anywhere in the run.
    """
    _PROGRESS["enabled"] = enabled


def progress(items=None, description: str = "", total: int | None = None, unit: str = "doc"):
    """A progress bar with an ETA on an interactive terminal; nothing in logs, CI or under --quiet.

    Parameters
    ----------
    items : iterable or None
        The items to iterate over with the bar; None for a bar updated by hand.
    description : str
        Label of the work on the bar.
    total : int or None
        Number of items expected, when `items` has no length or is None.
    unit : str
        What one item is ("doc", "task").

    Returns
    -------
    tqdm
        The bar, iterable over `items`; disabled off a terminal and under --quiet.
    """
    return tqdm(items, desc=description, total=total, unit=unit, leave=False, dynamic_ncols=True,
                mininterval=0.5, disable=None if _PROGRESS["enabled"] else True)
