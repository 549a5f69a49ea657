"""Child process entry: ``python -m bench NAME [--quick]`` prints one JSON line of figures."""

from __future__ import annotations

import argparse
import resource
import sys

from bench.figures import dump
from bench.suite import BENCHMARKS, Options, Skipped

RESULT_MARKER = "BENCH-RESULT "
SKIP_MARKER = "BENCH-SKIPPED "


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("name", choices=sorted(BENCHMARKS))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    try:
        figures = BENCHMARKS[args.name](Options(quick=args.quick))
    except Skipped as exc:
        print(f"{SKIP_MARKER}{exc}", flush=True)
        return 0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for figure in figures:
        figure.peak_mb = figure.peak_mb or peak_mb
    print(f"{RESULT_MARKER}{dump(figures)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
