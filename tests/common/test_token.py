"""Recipe tokens: the same recipe gets the same token in any process, a changed one another.

The recipes are the study's own: the cleaner's (paths and parameters), the
segmenter's (with the lexicon as a pandas DataFrame) and a state of numpy
arrays, each tokenized here and in two fresh interpreters.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np

from pipeline.common.config import PROJECT_ROOT, Paths
from pipeline.common.engine import content_token, same
from pipeline.corpus.stage import build_cleaner
from pipeline.common.params import load_params
from pipeline.text.lexicon import load_lexicon
from pipeline.text.stage import build_segmenter

TOKENS = textwrap.dedent("""
    import json
    import numpy as np
    from pipeline.common.config import Paths
    from pipeline.common.engine import content_token, same
    from pipeline.corpus.stage import build_cleaner
    from pipeline.common.params import load_params
    from pipeline.text.lexicon import load_lexicon
    from pipeline.text.stage import build_segmenter

    paths = Paths.at()
    params = load_params(paths.root / "params.yaml")
    lexicon = load_lexicon(paths.lexicon / "governance_terms.csv")
    arrays = {"counts": np.arange(12, dtype=np.int64).reshape(3, 4), "shares": np.linspace(0, 1, 7)}
    print(json.dumps([content_token(build_cleaner, (paths, params.clean)),
                      content_token(build_segmenter, (paths, params, lexicon)),
                      content_token(same, (arrays,))]))
""")


def recipes() -> tuple[Paths, dict, object, dict]:
    paths = Paths.at()
    params = load_params(paths.root / "params.yaml")
    lexicon = load_lexicon(paths.lexicon / "governance_terms.csv")
    arrays = {"counts": np.arange(12, dtype=np.int64).reshape(3, 4), "shares": np.linspace(0, 1, 7)}
    return paths, params, lexicon, arrays


def tokens_in_a_fresh_process(hash_seed: str) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "PYTHONHASHSEED": hash_seed}
    done = subprocess.run([sys.executable, "-c", TOKENS], capture_output=True, text=True, env=env, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_tokens_are_the_same_in_other_processes():
    paths, params, lexicon, arrays = recipes()
    here = [content_token(build_cleaner, (paths, params.clean)), content_token(build_segmenter, (paths, params, lexicon)),
            content_token(same, (arrays,))]
    assert tokens_in_a_fresh_process("1") == here
    assert tokens_in_a_fresh_process("2") == here


def test_a_changed_recipe_gets_another_token():
    paths, params, lexicon, arrays = recipes()
    base = content_token(build_segmenter, (paths, params, lexicon))
    changed = params.updated({"units": {"max_chars": params.units.max_chars + 1}})
    assert content_token(build_segmenter, (paths, changed, lexicon)) != base
    edited = lexicon.copy()
    edited.iloc[0, 0] = edited.iloc[0, 0] + "x"
    assert content_token(build_segmenter, (paths, params, edited)) != base
    assert content_token(build_cleaner, (paths, params, lexicon)) != base  # another build
    moved = {**arrays, "shares": arrays["shares"].copy()}
    moved["shares"][3] += 1e-12
    assert content_token(same, (moved,)) != content_token(same, (arrays,))
    # A recipe plain pickle cannot take (a lambda) still gets a stable token.
    def local(x):
        return x

    assert content_token(local, (1,)) == content_token(local, (1,)) != content_token(local, (2,))
