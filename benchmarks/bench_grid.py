"""Cost of the whole default grid relative to one feature extraction, serial and parallel.

The audio steps of the age/gender pipeline learn nothing, so
``search_with_cached_features`` extracts features once and tunes the 120-point grid
(3 scalers x PCA on/off x 2 column sets x 10 values of C) with 5-fold speaker-grouped
CV on them. Target (issue 3): full grid <= 1.5x one feature extraction. It then times
the grid alone on the extracted features with ``n_jobs=1`` and ``n_jobs=2`` (issue 12:
parallel must be faster than serial), and for contrast a plain GridSearchCV over the
whole pipeline on a few grid points, extrapolated, since that re-extracts features for
every fold and grid point.

Run: ``.venv/bin/python benchmarks/bench_grid.py [--n-speakers 60] [--data PATH]``
"""

import argparse
import time

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, ParameterGrid, StratifiedGroupKFold


def _median_time(func, repeats):
    """Median wall and CPU seconds of ``func()`` over ``repeats`` runs, and its result.

    CPU time is this process's (its BLAS threads included, worker processes not): on a
    loaded machine it is the figure to compare for serial runs, wall time for parallel.
    """
    walls, cpus = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        out = func()
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return float(np.median(walls)), float(np.median(cpus)), out


def main():
    from sklaudio.experiment import FEATURE_STEPS, age_gender_param_grid, make_age_gender_pipeline
    from sklaudio.model_selection import search_with_cached_features

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-speakers", type=int, default=60)
    ap.add_argument("--data", default=None,
                    help="a corpus folder for read_dataset; default synthetic")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-naive", action="store_true",
                    help="skip timing GridSearchCV over the whole pipeline")
    args = ap.parse_args()

    if args.data is None:
        from sklaudio.datasets import make_voices

        d = make_voices(args.n_speakers, random_state=0)
        X, y, groups = d.clips, d.frame["gender"].to_numpy(), d.groups
        what = f"synthetic voices, {args.n_speakers} speakers"
    else:
        from sklaudio.datasets import read_dataset

        m = read_dataset(args.data)
        keep = m.labels["gender"].isin(["female", "male"]).to_numpy()
        X = [p for p, k in zip(m.paths, keep) if k]
        y, groups = m.labels["gender"].to_numpy()[keep], m.groups[keep]
        what = args.data
    pipe = make_age_gender_pipeline()
    grid = age_gender_param_grid()
    cv = StratifiedGroupKFold(5, shuffle=True, random_state=0)
    n_points = len(ParameterGrid(grid))
    print(f"data: {what}; {len(X)} clips; grid {n_points} points x 5 folds + refit")

    # untimed warm-up on a few clips: imports and compiled kernels are paid once per
    # process, and would otherwise count in the first extraction only
    clone(pipe[: len(FEATURE_STEPS)]).fit_transform(X[:4])
    e, e_cpu, F = _median_time(lambda: pipe[: len(FEATURE_STEPS)].fit_transform(X),
                               args.repeats)
    f, f_cpu, _ = _median_time(lambda: search_with_cached_features(
        pipe, grid, X, y, groups=groups, cv=cv, scoring="balanced_accuracy"), args.repeats)
    print(f"medians over {args.repeats} runs:       wall      CPU")
    print(f"one feature extraction:          {e:7.2f} s {e_cpu:7.2f} s")
    print(f"full grid, extraction included:  {f:7.2f} s {f_cpu:7.2f} s")
    print(f"ratio grid / extraction: wall {f / e:.2f}, CPU {f_cpu / e_cpu:.2f}  (target <= 1.5)")

    wall = {}
    for n_jobs in (1, 2):
        wall[n_jobs], cpu, _ = _median_time(lambda: search_with_cached_features(
            pipe, grid, X, y, groups=groups, cv=cv, scoring="balanced_accuracy",
            features=F, n_jobs=n_jobs), args.repeats)
        print(f"grid on the extracted features, n_jobs={n_jobs}: wall {wall[n_jobs]:7.2f} s"
              + (f", CPU {cpu:7.2f} s" if n_jobs == 1 else " (workers' CPU not counted)"))
    print(f"ratio n_jobs=2 / n_jobs=1 (wall; needs two free cores): {wall[2] / wall[1]:.2f}"
          "  (target < 1)")

    if args.no_naive:
        return
    # the naive way: GridSearchCV over the whole pipeline, on 2 grid points, extrapolated
    small = {"clf__C": [0.1, 1.0]}
    t = time.perf_counter()
    GridSearchCV(pipe, small, cv=cv, scoring="balanced_accuracy").fit(X, y, groups=groups)
    naive = (time.perf_counter() - t) / 2 * n_points
    print(f"naive GridSearchCV over the whole pipeline, extrapolated to {n_points} points: "
          f"{naive:.0f} s ({naive / f:.0f}x slower)")


if __name__ == "__main__":
    main()
