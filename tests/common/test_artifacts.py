"""Startup artifacts: keyed by their inputs, rebuilt when unreadable, safe to build from two processes at once."""

from __future__ import annotations

import multiprocessing
import pickle

import jieba

from pipeline.common.artifacts import artifact, artifact_key, artifact_path
from pipeline.text.segment import (LEXICON_TAG, build_plain_tokenizer, build_tokenizer, jieba_dictionary,
                                   load_jieba_dictionary)


def test_the_key_changes_with_every_input(tmp_path):
    source = tmp_path / "source.txt"
    source.write_text("一二三", encoding="utf-8")
    base = artifact_key([source], {"a": 1}, ["jieba"])
    assert artifact_key([source], {"a": 1}, ["jieba"]) == base
    assert artifact_key([source], {"a": 2}, ["jieba"]) != base
    assert artifact_key([source], {"a": 1}, ["jieba", "opencc"]) != base
    assert artifact_key([source, source], {"a": 1}, ["jieba"]) != base
    source.write_text("一二四", encoding="utf-8")
    assert artifact_key([source], {"a": 1}, ["jieba"]) != base


def test_an_entry_is_built_once_then_read(tmp_path):
    calls = []
    assert artifact(tmp_path, "thing", "k", lambda: calls.append(1) or {"x": 1}) == {"x": 1}
    assert artifact(tmp_path, "thing", "k", lambda: calls.append(1) or {"x": 2}) == {"x": 1}
    assert calls == [1]
    assert [p.name for p in tmp_path.iterdir()] == [artifact_path(tmp_path, "thing", "k").name]


def test_a_corrupt_entry_is_rebuilt(tmp_path):
    path = artifact_path(tmp_path, "thing", "k")
    for broken in (b"", b"not a pickle", pickle.dumps({"x": 1})[:-3]):
        path.write_bytes(broken)
        assert artifact(tmp_path, "thing", "k", lambda: {"x": 3}) == {"x": 3}
        assert pickle.loads(path.read_bytes()) == {"x": 3}


def _build_slowly(directory, queue):
    value = artifact(directory, "shared", "k", lambda: list(range(200_000)))
    queue.put(value == list(range(200_000)))


def test_a_folder_that_cannot_be_written_costs_a_rebuild_not_the_run(tmp_path, caplog):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    calls = []
    for _ in range(2):
        assert artifact(blocked / "artifacts", "model", "k", lambda: calls.append(1) or {"built": True}) == {"built": True}
    assert len(calls) == 2
    assert "could not be kept" in caplog.text


def test_concurrent_builders_each_get_a_whole_entry(tmp_path):
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_build_slowly, args=(tmp_path, queue)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [queue.get(timeout=5) for _ in workers] == [True] * 4
    assert pickle.loads(artifact_path(tmp_path, "shared", "k").read_bytes()) == list(range(200_000))
    assert [p.name for p in tmp_path.iterdir()] == [artifact_path(tmp_path, "shared", "k").name]  # no temporaries left


def test_tokenizers_from_the_artifact_are_fresh_jieba_tokenizers(tmp_path):
    dictionary = jieba_dictionary(tmp_path / "artifacts")
    fresh = jieba.Tokenizer()
    fresh.tmp_dir, fresh.cache_file = str(tmp_path), "fresh.cache"
    fresh.initialize()
    assert dictionary == load_jieba_dictionary()
    assert (dictionary.freq, dictionary.total) == (fresh.FREQ, fresh.total)
    assert dictionary.tags == jieba.posseg.POSTokenizer(fresh).word_tag_tab
    text = "推进党建引领基层治理，打造15分钟生活圈，社区网格员上门服务居民。"
    for hmm in (False, True):
        plain = build_plain_tokenizer(tmp_path / "jieba", dictionary)
        assert plain.lcut(text, HMM=hmm) == fresh.lcut(text, HMM=hmm)
        assert [(p.word, p.flag) for p in plain.pos.cut(text, HMM=hmm)] == \
            [(p.word, p.flag) for p in jieba.posseg.POSTokenizer(fresh).cut(text, HMM=hmm)]
    study = build_tokenizer(["党建引领", "15分钟生活圈"], tmp_path / "jieba", 2_000_000, dictionary)
    reference = build_tokenizer(["党建引领", "15分钟生活圈"], tmp_path / "jieba", 2_000_000)
    assert (study.FREQ, study.total) == (reference.FREQ, reference.total)
    assert study.pos.lcut(text, HMM=False) == reference.pos.lcut(text, HMM=False)
    # The lexicon's words and tags stay in the study's tokenizer: the shared load and the plain tokenizer keep none.
    assert ("党建引领", LEXICON_TAG) in [(p.word, p.flag) for p in study.pos.cut(text, HMM=False)]
    assert "党建引领" not in dictionary.freq and "党建引领" not in plain.FREQ
    assert "党建引领" not in dictionary.tags and "党建引领" not in plain.pos.word_tag_tab
