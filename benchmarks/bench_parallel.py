"""Parallel speed-up of each feature extractor and of the age/gender feature union.

For each extractor (MelFeatures, F0Stats, TemporalFeatures, FormantFeatures,
SpeakerEmbedding, AudioQuality) and for the "features" step of
``sklaudio.experiment.make_age_gender_pipeline`` (their FeatureUnion), on clips already
loaded in memory: the median wall time of ``transform`` over ``--repeat`` runs with
``n_jobs=1`` and with ``n_jobs=2``, the ratio (target: n_jobs=2 at least 1.8x faster),
and whether the two outputs are identical bit for bit.

Workers are started once per session and reused by every later call (joblib's loky
executor keeps them), which is what a user gets once a session has warmed up. The
calling process works beside its ``n_jobs - 1`` workers and does not wait for a worker
that is still starting (see ``sklaudio.utils._parallel``), so a worker's start-up
(importing sklaudio, then the first use of librosa's feature code and numba's
compiled functions) is spread over the first few parallel calls of a session, each
about as slow as n_jobs=1 at worst. The warm-up calls (at least ``--warm-up``, and
until a worker takes part) are timed apart ("warm-up": their total
wall time / their number) and left out of the medians.

Beside wall time, CPU seconds measured per process give what an idle machine would
show even while other processes share this one: "critical path" is the busiest
process's CPU (the calling process or a worker: they work at the same time); "all
CPU" sums every process, and "bound" = 2 x (n_jobs=1 CPU) / (all CPU) is the
speed-up two perfectly balanced processes would reach (the overhead of going
parallel is what keeps it under 2). Under heavy load the calling process takes the
runs a starved worker does not, so the critical path then overstates the idle time.
With ``--dask``, the union also runs on a dask.distributed ``LocalCluster`` of 2
worker processes (1 thread each) through ``joblib.parallel_config(backend="dask")``.

The workers keep freed memory for their next clips (glibc's ``mallopt``, set by
``map_clips`` in each worker process, never in the calling process: see
``sklaudio.utils._parallel``); the calling process keeps the allocator's defaults, under
which a clip's large temporary arrays are often handed back to the system and faulted
in again. So n_jobs=1 and n_jobs=2 differ by that too: ``--same-allocator`` runs this
process with the workers' settings (through glibc's environment variables), so that
the ratio measures the parallel work alone; without it, it is what a user gets.

Wall-clock ratios need an idle machine: the load average is printed before and after
(on 2 cores, a load above ~0.5 from other processes already costs the parallel run).

Run from the project root::

    .venv/bin/python benchmarks/bench_parallel.py --clips 100
    .venv/bin/python benchmarks/bench_parallel.py --clips 100 --dask
    .venv/bin/python benchmarks/bench_parallel.py --clips 100 --same-allocator
    .venv/bin/python benchmarks/bench_parallel.py --clips 20 --repeat 1 --only MelFeatures
"""

import argparse
import os
import resource
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EXTRACTORS = ["MelFeatures", "F0Stats", "TemporalFeatures", "FormantFeatures",
              "SpeakerEmbedding", "AudioQuality"]
UNION = "union"


def _data_dir(arg):
    if arg:
        return Path(arg)
    return Path(os.environ.get("SKLAUDIO_DATA", ROOT.parent / "shared" / "data"))


def _load(data, n_clips):
    import pandas as pd

    from sklaudio.io import load_audio_batch

    folder = data / "librispeech-251"
    paths = [str(folder / p) for p in pd.read_csv(folder / "manifest.csv")["path"][:n_clips]]
    return load_audio_batch(paths, sr=16000)


def _make(name, n_jobs):
    import sklaudio.features as F
    from sklaudio.experiment import make_age_gender_pipeline

    if name == UNION:
        return make_age_gender_pipeline(n_jobs=n_jobs).named_steps["features"]
    return getattr(F, name)(n_jobs=n_jobs)


def _cpu_by_process():
    """CPU seconds used so far by this process and by each of its child processes."""
    import psutil

    me = psutil.Process()
    out = {"self": time.process_time()}
    for child in me.children(recursive=True):
        try:
            t = child.cpu_times()
            out[child.pid] = t.user + t.system
        except psutil.Error:  # ended meanwhile
            pass
    return out


def _workers():
    """Process ids of the joblib (loky) worker processes."""
    import psutil

    out = set()
    for child in psutil.Process().children(recursive=True):
        try:
            if "LokyProcess" in " ".join(child.cmdline()):
                out.add(child.pid)
        except psutil.Error:
            pass
    return out


def _one_run(est, X):
    """Wall seconds, critical-path CPU, all CPU, output and CPU by worker of one call.

    The calling process works beside its workers (and does the serial parts alone),
    so the critical path is the larger of this process's CPU and the busiest
    worker's: what the run would take on an idle machine with a core per process.
    Other processes on a busy machine stretch the wall time, not these CPU seconds.
    """
    before = _cpu_by_process()
    t = time.perf_counter()
    out = est.transform(X)
    wall = time.perf_counter() - t
    after = _cpu_by_process()
    by_child = {k: v - before.get(k, 0.0) for k, v in after.items() if k != "self"}
    used = [after["self"] - before["self"]] + list(by_child.values())
    return wall, max(used), sum(used), out, by_child


def _warm_up(est, X, warm_up, loky=False):
    """Total wall time and number of the warm-up calls.

    At least ``warm_up`` calls, and with ``loky`` until a worker did a tenth of the
    work or more in the last call (at most 12 calls): a worker's first runs pay its
    first-use costs, once per session. (joblib hands the one task of a call to an idle
    worker; with n_jobs=2 the same one usually takes it, the other stays idle.)
    """
    first, n, helped = 0.0, 0, False
    while n < warm_up or (loky and n < 12 and not helped):
        wall, _, total, _, by_child = _one_run(est, X)
        first, n = first + wall, n + 1
        helped = any(by_child[k] > 0.1 * total for k in _workers() & set(by_child))
    return first, n


def _medians(runs):
    """Medians of wall, critical-path CPU and all CPU; the last output."""
    return [statistics.median(r[k] for r in runs) for k in range(3)], runs[-1][3]


def _compare(one, two, X, repeat, warm_up):
    """Timed calls of ``one`` (n_jobs=1) and ``two`` (n_jobs=2), alternating, so that a
    change in the machine's load weighs on both alike."""
    _warm_up(one, X, 1)
    first = _warm_up(two, X, warm_up, loky=True)
    runs = [(_one_run(one, X), _one_run(two, X)) for _ in range(repeat)]
    return _medians([a for a, _ in runs]), _medians([b for _, b in runs]), first


def _load_avg():
    return "load %.2f %.2f %.2f" % os.getloadavg()


def _row(name, one, two, same, first):
    (w1, c1, _), (w2, c2, a2) = one, two
    print(f"{name:<18}{w1:>8.2f}{w2:>8.2f}{w1 / w2:>7.2f}{c1:>9.2f}{c2:>8.2f}{c1 / c2:>7.2f}"
          f"{a2:>8.2f}{2 * c1 / a2:>7.2f}{'yes' if same else 'NO':>6}"
          f"{f'{first[0]:.1f} s/{first[1]}':>12}", flush=True)


def _dask_union(X, repeat, warm_up, serial, serial_times):
    import distributed
    from joblib import parallel_config

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster), parallel_config(backend="dask"):
            est = _make(UNION, 2).fit(X)
            first = _warm_up(est, X, warm_up)
            times, out = _medians([_one_run(est, X) for _ in range(repeat)])
    _row("union on dask", serial_times, times, np.array_equal(out, serial), first)


# glibc reads these when a process starts: the values map_clips sets in its workers
_ALLOCATOR_ENV = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")


def _restart_with_worker_allocator():
    """Start this script again with the workers' allocator settings in this process too."""
    from sklaudio.utils import _parallel

    env = dict(os.environ, **dict(zip(_ALLOCATOR_ENV, (
        str(_parallel._WORKER_MMAP_THRESHOLD), str(_parallel._WORKER_TRIM_THRESHOLD)))))
    os.execve(sys.executable, [sys.executable, *sys.argv], env)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=100, help="LibriSpeech clips (default 100)")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per setting (default 5)")
    ap.add_argument("--warm-up", type=int, default=3,
                    help="calls before the timed ones, timed apart (default 3)")
    ap.add_argument("--data", default=None, help="data folder (default ../shared/data)")
    ap.add_argument("--only", nargs="*", default=None, choices=EXTRACTORS + [UNION],
                    help="a subset of the extractors and 'union'")
    ap.add_argument("--dask", action="store_true",
                    help="also time the union on a dask LocalCluster (2 worker processes)")
    ap.add_argument("--same-allocator", action="store_true",
                    help="run this process (so n_jobs=1) with the allocator settings the "
                         "workers use, so the ratio measures the parallel work alone")
    args = ap.parse_args()
    if args.same_allocator and _ALLOCATOR_ENV[0] not in os.environ:
        _restart_with_worker_allocator()
    warnings.simplefilter("ignore")  # the quality warning about silent clips: not timed here

    X = _load(_data_dir(args.data), args.clips)
    seconds = sum(len(c) for c in X) / 16000
    print(f"{len(X)} LibriSpeech clips, {seconds / 60:.1f} min of audio at 16 kHz; "
          f"median of {args.repeat} runs, n_jobs=1 and 2 alternating, after warm-up calls; "
          f"{os.cpu_count()} CPUs")
    allocator = ("the workers' (--same-allocator)" if _ALLOCATOR_ENV[0] in os.environ
                 else "glibc's defaults (workers: see sklaudio.utils._parallel)")
    print(f"allocator settings of this process: {allocator}")
    print(f"before: {_load_avg()}")
    print(f"{'':<18}{'wall s (median)':^23}{'CPU s (critical path)':^24}{'all CPU':^15}")
    print(f"{'':<18}{'n_jobs=1':>8}{'2':>8}{'ratio':>7}{'n_jobs=1':>9}{'2':>8}{'ratio':>7}"
          f"{'2':>8}{'bound':>7}{'same':>6}{'warm-up':>12}")
    union_serial = union_times = None
    for name in args.only or EXTRACTORS + [UNION]:
        (one, out1), (two, out2), first = _compare(
            _make(name, 1).fit(X), _make(name, 2).fit(X), X, args.repeat, args.warm_up)
        _row(name, one, two, np.array_equal(out1, out2), first)
        if name == UNION:
            union_serial, union_times = out1, one
    if args.dask:
        if union_serial is None:
            sys.exit("--dask needs the union in the run (leave out --only, or add 'union')")
        _dask_union(X, args.repeat, args.warm_up, union_serial, union_times)
    print(f"after: {_load_avg()}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS: this process {peak:.0f} MB, largest finished worker {children:.0f} MB "
          "(running workers are not counted)")


if __name__ == "__main__":
    main()
