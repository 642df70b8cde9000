"""The pip lock is the single source of versions; the conda file must agree with it."""

from __future__ import annotations

import re
from importlib import metadata

import yaml

from pipeline.common.config import PROJECT_ROOT

LOCK = PROJECT_ROOT / "requirements.lock"


def _lock_pins() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        assert match, f"requirements.lock: {line!r} is not an exact pin (name==version)"
        pins[match.group(1).lower().replace("_", "-")] = match.group(2)
    return pins


def test_environment_yml_installs_from_the_lock_with_the_same_python():
    env = yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text(encoding="utf-8"))
    deps = env["dependencies"]
    assert "python=3.11" in deps
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    assert "-r requirements.lock" in pip_section
    # No second list of versions that could drift from the lock.
    assert not [d for d in pip_section if "==" in d]
    assert not [d for d in deps if isinstance(d, str) and d != "python=3.11" and not d.startswith("pip")]


def test_both_routes_install_with_the_same_pip():
    # The lock needs a pip newer than Python 3.11's own (lxml[html_clean] asked for by two packages).
    env = yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda_pip = [d for d in env["dependencies"] if isinstance(d, str) and d.startswith("pip")]
    make_pip = re.findall(r"pip install [^\n]*\bpip==([0-9.]+)", (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8"))
    assert make_pip, "the Makefile must install a pinned pip before the lock"
    assert conda_pip == [f"pip={make_pip[0]}"], (conda_pip, make_pip)


def test_every_direct_dependency_is_pinned():
    pins = _lock_pins()
    direct = [line.split("#")[0].strip().lower() for line in
              (PROJECT_ROOT / "requirements.in").read_text(encoding="utf-8").splitlines()]
    names = [re.split(r"[<>=!~;\[ ]", line)[0] for line in direct]
    missing = [name for name in names if name and name.replace("_", "-") not in pins]
    assert not missing, f"direct dependencies without a pin in requirements.lock: {missing}"


def test_installed_versions_match_the_lock():
    pins = _lock_pins()
    for name in ("gensim", "jieba", "opencc", "scikit-learn", "pandas", "numpy", "pyldavis", "mplfonts"):
        assert metadata.version(name) == pins[name], name
