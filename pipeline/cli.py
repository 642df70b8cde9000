"""Command line: `python -m pipeline run | check | <stage> ...`."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from pipeline.common.config import Paths
from pipeline.common.errors import InputError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__)
    parser.add_argument("--params", type=Path, default=None, help="parameters file (default: params.yaml at the project root)")
    parser.add_argument("--root", type=Path, default=None, help="project root (default: the checkout this package lives in)")
    parser.add_argument("--quiet", action="store_true", help="only warnings and errors")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run every stage and replace results/ atomically")
    run.add_argument("--results", type=Path, default=None, help="write here instead of results/")
    run.add_argument("--force", action="store_true", help="run even when results/ is up to date")
    run.add_argument("--no-cache", action="store_true", help="recompute every stage instead of reusing build/cache/")
    check = commands.add_parser("check", help="regenerate into a temporary folder and compare with results/")
    check.add_argument("--keep", action="store_true", help="keep the temporary folder for inspection")
    bench = commands.add_parser("bench", help="time every stage on 10x, 100x and 1000x corpora")
    bench.add_argument("--quick", action="store_true", help="the real and 10x corpora only, with a small topic sweep")
    from pipeline.emphases.kwic import add_parser as add_kwic_parser
    add_kwic_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s", datefmt="%H:%M:%S")
    # jieba sets its own logger to DEBUG when imported and logs every
    # dictionary load; import it here, at the edge, and keep only its warnings.
    import jieba

    jieba.setLogLevel(logging.WARNING)
    logging.getLogger("gensim").setLevel(logging.WARNING)
    paths = Paths.at(args.root) if args.root else Paths.at()
    params_file = (args.params or paths.params).resolve()
    try:
        from pipeline.run.params import load_params
        params = load_params(params_file)
        if args.command == "run":
            from pipeline.run.runner import run_study
            run_study(paths, params, params_file, args.results, use_cache=not args.no_cache, force=args.force)
        elif args.command == "check":
            from pipeline.run.check import check_results
            return check_results(paths, params, params_file, keep=args.keep)
        elif args.command == "kwic":
            from pipeline.emphases.kwic import run_kwic
            run_kwic(paths.units_jsonl, args.term, args.place, args.window)
        elif args.command == "bench":
            from pipeline.bench.bench import run_bench
            run_bench(paths, params, quick=args.quick)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print("The previous results were left as they were.", file=sys.stderr)
        return 2
    return 0
