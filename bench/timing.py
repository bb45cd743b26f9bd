"""Measuring: median wall and CPU time of repeated runs, tracemalloc peak of one extra run, process maxrss."""

import resource
import statistics
import time
import tracemalloc
from collections.abc import Callable


def maxrss_mb() -> float:
    """The process's peak resident memory so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run; CPU is this process only (SQLite's work, not PostgreSQL's)."""
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - start, time.process_time() - cpu


def traced_peak_mb(fn: Callable[[], object]) -> float:
    """Peak Python allocation of one run, measured apart from the timed runs (tracing is slow)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def measure(make_run: Callable[[int], Callable[[], object]], repeats: int, warmup: int = 1) -> dict:
    """Median seconds over `repeats` runs, plus the traced peak of one more run.

    make_run(i) returns the i-th run (so each run may take fresh input); runs
    0..warmup-1 warm caches and are not counted, the last run is the traced one.
    """
    for i in range(warmup):
        make_run(i)()
    runs = [timed(make_run(warmup + i)) for i in range(repeats)]
    peak = traced_peak_mb(make_run(warmup + repeats))
    walls = [wall for wall, _cpu in runs]
    return {
        "median": statistics.median(walls),
        "min": min(walls),
        "runs": len(runs),
        "cpu_median": statistics.median(cpu for _wall, cpu in runs),
        "peak_mb": peak,
    }
