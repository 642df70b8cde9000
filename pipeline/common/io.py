"""Writing results so that the same inputs give the same bytes, and a failed
run leaves the previous results in place."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import json
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pandas as pd

__all__ = ["FLOAT_FORMAT", "read_jsonl", "sha256_file", "sha256_text", "staged_directory", "swap_in", "write_csv",
           "write_json", "write_jsonl", "write_text"]

# Floats in tables are rounded so that the last bits of BLAS arithmetic, which
# can differ between machines, never reach the committed bytes.
FLOAT_FORMAT = "%.6g"


def sha256_file(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks of 1 MiB.

    Parameters
    ----------
    path : Path
        The file (an article, an input of the study, an output).

    Returns
    -------
    str
        The hexadecimal digest.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_text(text: str) -> str:
    """SHA-256 of a text's UTF-8 bytes.

    Parameters
    ----------
    text : str
        The text (an article's body, a parameters' dump).

    Returns
    -------
    str
        The hexadecimal digest.
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_csv(frame: pd.DataFrame, path: Path, float_format: str = FLOAT_FORMAT) -> Path:
    """Write a table as UTF-8 CSV with LF line ends, without the index, creating its folder.

    Parameters
    ----------
    frame : pd.DataFrame
        The table.
    path : Path
        Where the table goes.
    float_format : str
        printf format of the floats (`FLOAT_FORMAT`: 6 significant digits, so that BLAS noise never reaches the bytes).

    Returns
    -------
    Path
        `path`.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n", float_format=float_format)
    return path


def write_json(obj: Any, path: Path) -> Path:
    """Write an object as UTF-8 JSON (keys sorted, indented by 2, non-ASCII kept), creating its folder.

    Parameters
    ----------
    obj : Any
        The JSON-serialisable object (a summary, a record of the run).
    path : Path
        Where the file goes.

    Returns
    -------
    Path
        `path`.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def write_text(text: str, path: Path) -> Path:
    """Write a text as UTF-8 with LF line ends, creating its folder.

    Parameters
    ----------
    text : str
        The text, written as it is.
    path : Path
        Where the file goes.

    Returns
    -------
    Path
        `path`.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    return path


def write_jsonl(rows: list[dict[str, Any]], path: Path) -> Path:
    """Write rows as JSON Lines (one object a line, keys sorted, non-ASCII kept), creating its folder.

    Parameters
    ----------
    rows : list[dict[str, Any]]
        The records, one a line, in this order.
    path : Path
        Where the file goes.

    Returns
    -------
    Path
        `path`.
    """
    lines = [json.dumps(row, ensure_ascii=False, sort_keys=True) for row in rows]
    return write_text("\n".join(lines) + "\n", path)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Read a JSON Lines file, skipping blank lines.

    Parameters
    ----------
    path : Path
        The UTF-8 file, one JSON object a line.

    Returns
    -------
    list[dict[str, Any]]
        The records, in file order.
    """
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def swap_in(staging: Path, target: Path) -> None:
    """Put `staging` at `target`; `target` is never missing or half-replaced, even with other runs swapping.

    On Linux the two folders are exchanged atomically and the old one (now at
    the staging path) deleted; elsewhere the old folder is renamed aside,
    the new one renamed in, and the old one put back if that fails.
    """
    for _ in range(5):  # another process may create or swap the target in between
        try:
            if target.exists():
                if not _exchange(staging, target):
                    break  # no atomic exchange here: rename aside below
                shutil.rmtree(staging, ignore_errors=True)
                return
            os.rename(staging, target)
            return
        except OSError as exc:
            if exc.errno not in (errno.ENOENT, errno.EEXIST, errno.ENOTEMPTY):
                raise
    previous = Path(tempfile.mkdtemp(prefix=f"{target.name}.previous-", dir=target.parent))
    os.rename(target, previous)  # onto an empty folder: allowed, and atomic
    try:
        os.rename(staging, target)
    except BaseException:
        os.rename(previous, target)
        raise
    shutil.rmtree(previous, ignore_errors=True)


def _default_mode() -> int:
    """Permissions of a new folder under the process's umask (read without changing it, where possible)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            umask = next(int(line.split()[1], 8) for line in status if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError):
        umask = os.umask(0)
        os.umask(umask)
    return 0o777 & ~umask


@contextlib.contextmanager
def staged_directory(target: Path, keep: tuple[str, ...] = ()) -> Iterator[Path]:
    """Yield an empty folder beside `target`; on success it replaces `target`.

    Entries of the old `target` named in `keep` (e.g. benchmark output that a
    study run does not produce) are carried over, and the new folder gets the
    old one's permissions (a new folder those of the umask). If the body
    raises, the staging folder is deleted and `target` is left exactly as it was.

    Parameters
    ----------
    target : Path
        The results folder the staged one replaces.
    keep : tuple[str, ...]
        Names of entries of the old `target` to carry over when the new folder lacks them.

    Yields
    ------
    Path
        The empty staging folder, beside `target`, to write the results into.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{target.name}.staging-", dir=target.parent))
    try:
        yield staging
        for name in keep:
            old = target / name
            if old.exists() and not (staging / name).exists():
                shutil.copytree(old, staging / name, symlinks=True) if old.is_dir() else shutil.copy2(old, staging / name)
        os.chmod(staging, stat.S_IMODE(target.stat().st_mode) if target.exists() else _default_mode())
        swap_in(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
