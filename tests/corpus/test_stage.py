"""The corpus stage over a whole project: an article cleaning cannot settle stops the run, naming its file."""

from __future__ import annotations

from contextlib import nullcontext

import pytest

from pipeline.common.errors import InputError
from pipeline.common.params import load_params
from pipeline.corpus.stage import ingest_and_clean


def test_an_article_garbled_throughout_is_named_instead_of_a_bare_error(project_copy):
    # A page saved twice over in the wrong encodings (GBK bytes read as Latin-1, saved as UTF-8, read as GBK),
    # as one of the news pages of the extraction benchmark was: its garble is found a stretch a pass.
    raw = project_copy.raw / "002_b9b0226557ee4642.txt"
    text = raw.read_text(encoding="utf-8")[:1500]
    garbled = text.encode("gbk", errors="ignore").decode("latin-1").encode("utf-8").decode("gb18030", errors="ignore")
    raw.write_text(garbled, encoding="utf-8")
    params = load_params(project_copy.params)
    params = params.model_copy(update={"clean": params.clean.model_copy(update={"processes": 1})})
    with pytest.raises(InputError, match="did not settle") as info:
        ingest_and_clean(project_copy, params, lambda name: nullcontext())
    assert info.value.path == raw
    assert "garbled throughout" in str(info.value)
