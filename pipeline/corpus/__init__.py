"""Stages 1-3 of the flow: ingest the raw articles, clean them (chrome, inserted pinyin, garbled spans), convert the script."""
