"""Command line of the study: `python -m pipeline run | check | bench | kwic`."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import traceback
from pathlib import Path

from pipeline.common.config import Paths
from pipeline.common.errors import InputError
from pipeline.common.params import StudyParams

__all__ = ["EXIT_CODES", "Terminated", "build_parser", "main", "with_scheduler"]

EXIT_CODES = """exit codes:
  0    done (or results already up to date)
  1    `check` found differences, or the run failed on something other than its input
       (one line; --debug shows the traceback)
  2    bad input, parameters or command line, or another run is going: one line per
       problem, naming the file; nothing under results/ was changed
  130  interrupted (Ctrl-C); 143: terminated (SIGTERM). results/ was left as it was"""


def _global_options(parser: argparse.ArgumentParser, top: bool) -> None:
    # Accepted before and after the subcommand; after it they only override
    # what was given before (argparse.SUPPRESS keeps the earlier value).
    default = (lambda value: value) if top else (lambda value: argparse.SUPPRESS)
    parser.add_argument("--params", type=Path, default=default(None),
                        help="parameters file (default: params.yaml at the project root)")
    parser.add_argument("--root", type=Path, default=default(None),
                        help="project root (default: the checkout this package lives in)")
    parser.add_argument("--quiet", action="store_true", default=default(False),
                        help="only warnings and errors, no progress bars")
    parser.add_argument("--debug", action="store_true", default=default(False),
                        help="show the full traceback of an error")


def build_parser() -> argparse.ArgumentParser:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__, epilog=EXIT_CODES,
                                     formatter_class=formatter)
    _global_options(parser, top=True)
    commands = parser.add_subparsers(dest="command", required=True, metavar="{run,check,bench,kwic,validate}")

    def command(name: str, text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=text, description=text, epilog=EXIT_CODES, formatter_class=formatter)
        _global_options(sub, top=False)
        return sub

    run = command("run", "run every stage and replace results/ in one step when all succeed")
    run.add_argument("--results", type=Path, default=None, help="write here instead of results/")
    run.add_argument("--force", action="store_true", help="run even when results/ is up to date")
    run.add_argument("--no-cache", action="store_true", help="recompute every stage instead of reusing build/cache/")
    run.add_argument("--wait", action="store_true", help="if another run is going in this project, wait for it")
    check = command("check", "regenerate into a temporary folder and compare with results/")
    check.add_argument("--keep", action="store_true", help="keep the temporary folder for inspection")
    check.add_argument("--wait", action="store_true", help="if another run is going in this project, wait for it")
    for sub in (run, check):
        sub.add_argument("--scheduler", metavar="ADDRESS", default=None,
                         help="run the parallel work on this dask cluster (e.g. tcp://host:8786) instead of "
                              "starting one on this machine; overrides dask.scheduler in the parameters")
    bench = command("bench", "time every stage on 10x, 100x and 1000x corpora")
    bench.add_argument("--quick", action="store_true", help="the real and 10x corpora only, with a small topic sweep")
    # Each command's modules load pandas, jieba and more (seconds): they are imported when needed, not with the CLI.
    from pipeline.emphases.kwic import add_parser as add_kwic_parser
    add_kwic_parser(commands)
    validate = command("validate", "the validation kit: draw a coding sheet, or score the coders' sheets")
    validate.add_argument("action", choices=("sheet", "score"), help="sheet: draw a sample and write the coders' "
                          "files; score: agreement and the dictionary's scores from the coders' sheets")
    validate.add_argument("--dir", type=Path, default=Path("data/validation/round2"),
                          help="the sheet's folder (default: data/validation/round2)")
    validate.add_argument("--heldout", type=Path, action="append", default=[],
                          help="a folder of held-out pages (sources.csv, labels/); repeat for several")
    validate.add_argument("--study", type=int, default=160, help="sentences from the study's articles")
    validate.add_argument("--heldout-sentences", type=int, default=170, help="sentences from held-out pages")
    validate.add_argument("--random-share", type=float, default=0.3, help="share drawn uniformly at random")
    validate.add_argument("--seed", type=int, default=20261207, help="seed of the draw")
    validate.add_argument("--only", action="append", default=[], metavar="DIMENSION",
                          help="stratify by this dimension only (repeat); to top up dimensions coded too rarely")
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C."""


def _on_sigterm(signum, frame):  # noqa: ARG001
    raise Terminated()


def _setup_logging(quiet: bool) -> None:
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s", datefmt="%H:%M:%S")
    # jieba sets its own logger to DEBUG when imported and logs every
    # dictionary load; import it here, at the edge, and keep only its warnings.
    import jieba

    jieba.setLogLevel(logging.WARNING)
    for noisy in ("gensim", "numexpr", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # tqdm (through pipeline.common.parallel) is loaded only when a command runs, not with the CLI
    from pipeline.common.parallel import set_progress

    set_progress(not quiet)


def with_scheduler(params: StudyParams, address: str | None) -> StudyParams:
    """The parameters with `--scheduler ADDRESS`, when given, in place of dask.scheduler."""
    return params.updated({"dask": {"scheduler": address}}) if address else params


def _dispatch(args: argparse.Namespace) -> int:
    # The commands' modules are imported once the command is known, not with the CLI (they load pandas).
    from pipeline.run import guard
    from pipeline.common.params import load_params

    paths = Paths.at(args.root) if args.root else Paths.at()
    if not paths.root.is_dir():
        raise InputError(paths.root, "project root not found; pass --root with the project folder")
    params_file = (args.params or paths.params).resolve()
    if args.command == "kwic":  # reads the results only: no parameters, no lock
        # only the command that runs is imported
        from pipeline.emphases.kwic import run_kwic

        terms = None
        if args.concept:
            # only the command that runs is imported
            from pipeline.emphases.kwic import concept_terms

            terms = concept_terms(paths.lexicon, args.term)
        run_kwic(paths.units_jsonl, args.term, args.place, args.window, terms=terms)
        return 0
    if args.command == "validate":  # reads the results, the lexicon and the frame's name; writes only its own folder
        return _validate(paths.root, args, load_params(params_file).themes.seeded.frame_category)
    params = load_params(params_file)  # every parameter checked before anything else
    params = with_scheduler(params, getattr(args, "scheduler", None))
    results = args.results.resolve() if getattr(args, "results", None) else paths.results
    with guard.project_lock(paths.build, wait=getattr(args, "wait", False)):
        guard.clear_leftovers([paths.results, results], guard.scratch_root(paths.build))
        if args.command == "bench":
            # only the command that runs is imported
            from pipeline.bench.bench import run_bench

            run_bench(paths, params, quick=args.quick)
            return 0
        if args.command == "check":
            # only the command that runs is imported
            from pipeline.run.check import check_results

            return check_results(paths, params, params_file, keep=args.keep)
        # only the command that runs is imported
        from pipeline.run.runner import run_study

        run_study(paths, params, params_file, results, use_cache=not args.no_cache, force=args.force)
    return 0


def _validate(root: Path, args: argparse.Namespace, frame: str) -> int:
    # only the command that runs is imported
    from pipeline.common import io
    from pipeline.text.lexicon import load_lexicon
    from pipeline.validate.kit import score_sheets, write_sheet

    folder = args.dir if args.dir.is_absolute() else root / args.dir
    if args.action == "sheet":
        if (folder / "sheet.csv").exists():
            raise InputError(folder / "sheet.csv", "a sheet is already drawn here; coders may have started on it. "
                                                   "Choose another --dir for a new sheet")
        sample = write_sheet(root, folder, args.heldout, {"study": args.study, "heldout": args.heldout_sentences},
                             args.random_share, args.seed, frame, args.only)
        print(f"{len(sample)} sentences drawn into {folder / 'sheet.csv'}; give coders sheet.csv, INSTRUCTIONS.md "
              "and codebook_for_coders.md only")
        return 0
    paths = Paths.at(root)
    tables = score_sheets([folder], load_lexicon(paths.lexicon / "governance_terms.csv"), paths.tables,
                          io.read_jsonl(paths.units_jsonl) if paths.units_jsonl.exists() else None)
    # Into the sheet's folder: results/ is written by runs only (every run scores the sheets under
    # data/validation/ into results/tables/validation_*.csv).
    for name, table in tables.items():
        io.write_csv(table, folder / "scores" / f"{name}.csv")
    agreement = tables["validation_agreement"]
    overall = agreement[agreement["subset"] == "all"]
    print(f"wrote {', '.join(tables)} to {folder / 'scores'}; Krippendorff's alpha by dimension (all sentences):")
    print(overall[["dimension", "coders", "sentences", "any_coder_positive", "alpha", "reliable"]].to_string(index=False))
    return 0


def main(argv: list[str] | None = None) -> int:
    """The command line: parse `argv`, run the command, and turn every failure into one line and an exit code.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after the program's name; the process's own when None.

    Returns
    -------
    int
        The exit code: 0 done, 1 a failure or a `check` that found differences, 2 a bad input (one line
        naming the file and the problem), 130 an interrupt and 143 a termination.
    """
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        _setup_logging(args.quiet)
        return _dispatch(args)
    except InputError as exc:
        if args.debug:
            traceback.print_exc()
        for line in str(exc).splitlines():
            print(f"error: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        if args.debug:
            traceback.print_exc()
        kept = getattr(exc, "kept", None) or "results/ was left as it was"
        # Kernel clients torn down mid-start complain at exit; after an interrupt that is noise.
        logging.getLogger("traitlets").setLevel(logging.CRITICAL)
        print(f"{'terminated' if isinstance(exc, Terminated) else 'interrupted'}: {kept}", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130
    except Exception as exc:  # anything else: one line, the traceback only when asked
        if args.debug:
            traceback.print_exc()
        where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        at = f" (in {Path(where.filename).name}:{where.lineno})" if where else ""
        first = (str(exc).strip().splitlines() or [""])[0]
        print(f"error: {type(exc).__name__}: {first}{at}; rerun with --debug for the traceback", file=sys.stderr)
        return 1
