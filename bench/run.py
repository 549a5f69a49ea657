"""``manage.py bench``: run each selected benchmark in its own process and print every figure."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import TextIO

from bench.__main__ import RESULT_MARKER, SKIP_MARKER
from bench.databases import postgres_version
from bench.figures import Figure, console_line, dump, load, markdown_table
from bench.machine import describe, host_speed
from bench.suite import select_benchmarks
from config.settings import PROJECT_ROOT


def run_child(name: str, quick: bool, out: TextIO) -> tuple[list[Figure], str]:
    """Figures of one benchmark, or the reason it was skipped or failed."""
    command = [sys.executable, "-m", "bench", name] + (["--quick"] if quick else [])
    started = time.perf_counter()
    process = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    for line in process.stdout.splitlines():
        if line.startswith(RESULT_MARKER):
            print(f"  {name}: done in {elapsed:.0f} s", file=out, flush=True)
            return load(line[len(RESULT_MARKER) :]), ""
        if line.startswith(SKIP_MARKER):
            return [], f"skipped: {line[len(SKIP_MARKER) :]}"
    tail = (process.stderr or process.stdout).strip().splitlines()[-5:]
    return [], f"failed (exit {process.returncode}): " + " / ".join(tail)


DETECTION = "detection"  # the detection engineer's quality benchmark: prints its own report


def run_detection(quick: bool, out: TextIO) -> str:
    """Detection quality (bench/detection_benchmark.py) in its own process, output passed through."""
    code = f"from bench.detection_benchmark import bench_detection; raise SystemExit(bench_detection(quick={quick}))"
    process = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    print(process.stdout, end="", file=out, flush=True)
    if process.returncode != 0:
        tail = process.stderr.strip().splitlines()[-3:]
        return f"failed (exit {process.returncode}): " + " / ".join(tail)
    return ""


def run(only: str | None, quick: bool, markdown: Path | None, out: TextIO = sys.stdout) -> int:
    """Run, print each figure as it comes, then the Markdown table; 1 if a benchmark failed."""
    wanted = [w.strip() for w in (only or "").split(",") if w.strip()]
    detection = not wanted or DETECTION in wanted
    rest = ",".join(w for w in wanted if w != DETECTION)
    names = select_benchmarks(rest) if rest or not wanted else []
    machine = f"{describe(postgres_version())}; {host_speed()}"
    print(f"Complaint Radar bench{' (quick)' if quick else ''} — {machine}", file=out, flush=True)
    figures: list[Figure] = []
    problems: list[str] = []
    for name in names:
        got, problem = run_child(name, quick, out)
        for figure in got:
            print(console_line(figure), file=out, flush=True)
        if problem:
            print(f"  {name}: {problem}", file=out, flush=True)
            problems.append(f"{name}: {problem}")
        figures.extend(got)
    if detection:
        problem = run_detection(quick, out)
        if problem:
            print(f"  detection: {problem}", file=out, flush=True)
            problems.append(f"detection: {problem}")
    speed_at_end = f"At the end, {host_speed()}."
    print(speed_at_end, file=out, flush=True)
    table = markdown_table(figures)
    if figures:
        print("\n" + table, file=out)
    if markdown is not None:
        notes = "".join(f"\n- {p}" for p in problems)
        markdown.write_text(
            f"Measured {machine}{' (quick)' if quick else ''}. {speed_at_end}\n\n{table}\n{notes}\n",
            encoding="utf-8",
        )
        markdown.with_suffix(".json").write_text(dump(figures), encoding="utf-8")  # details
    return 1 if any("failed" in p for p in problems) else 0
