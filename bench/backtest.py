"""Wall time of ``python manage.py backtest`` on the detection benchmark's generated stream.

The stream (60 days over Spring Festival, injected events) comes from ``bench.generator`` and is
cached as CSV under data/bench/. The 10× stream has ten times the products and the volume.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bench.databases import CACHE_DIR
from bench.figures import Figure
from bench.proc import timed_child
from config.settings import PROJECT_ROOT

BASE_PER_DAY = 622.0  # gives about 35,000 complaints over 60 days with the generator's defaults
BASE_PRODUCTS = 240


def stream_csv(scale: int) -> Path:
    """The cached CSV of the ``scale``× stream, generated on first use."""
    from bench.generator import generate

    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path = CACHE_DIR / f"backtest_stream_x{scale}_v1.csv"
    if not path.exists():
        stream = generate(
            seed=11, days=60, n_products=BASE_PRODUCTS * scale, per_day=BASE_PER_DAY * scale
        )
        partial = path.with_suffix(".partial")
        stream.complaints.to_csv(partial, index=False)
        partial.rename(path)
    return path


def measure(scale: int, target: float) -> Figure:
    from alerts.backtest.replay import default_jobs

    source = stream_csv(scale)
    rows = sum(1 for _ in source.open(encoding="utf-8")) - 1
    out = CACHE_DIR / f"backtest_alerts_x{scale}.jsonl"
    command = [
        sys.executable, str(PROJECT_ROOT / "manage.py"), "backtest",
        "--complaints", str(source), "--out", str(out),
    ]  # fmt: skip
    run = timed_child(command, PROJECT_ROOT)
    if run.returncode != 0:
        raise RuntimeError(f"backtest exited {run.returncode}: {run.output[-500:]}")
    alerts = sum(1 for _ in out.open(encoding="utf-8"))
    out.unlink()
    return Figure(
        name=f"backtest-x{scale}",
        label=f"Backtest, 60 days, {rows:,} complaints (manage.py backtest, wall time)",
        value=run.seconds,
        unit="s",
        target=target,
        higher_is_better=False,
        peak_mb=run.peak_mb,
        details={
            "complaints": rows,
            "alerts_fired": alerts,
            "cpu_seconds": round(run.cpu_seconds, 1),  # both processes of a split replay
            "processes": default_jobs(),
        },
    )
