"""Benchmark YeoJohnsonTransformer against sklearn's PowerTransformer(method="yeo-johnson").

Run from the repository root::

    .venv/bin/python benchmarks/bench_power.py [--repeat R]

Prints, from one run on the same lognormal matrices (250 x 215, as in the age/gender
grid, and 2000 x 300): the median fit time of each, their ratio, and the largest
lambda and output differences between the two.
"""

import argparse
import time

import numpy as np
from sklearn.preprocessing import PowerTransformer

from sklaudio.tabular import YeoJohnsonTransformer


def median_fit_time(make, X, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        est = make().fit(X)
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), est


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"{'shape':>12} {'sklearn s':>10} {'ours s':>9} {'ratio':>7} "
          f"{'max |dlambda|':>14} {'max |dout|':>11}")
    for shape in [(250, 215), (2000, 300)]:
        X = rng.lognormal(sigma=rng.uniform(0.3, 2.0, size=shape[1]), size=shape)
        t_ref, ref = median_fit_time(PowerTransformer, X, args.repeat)
        t_ours, ours = median_fit_time(YeoJohnsonTransformer, X, args.repeat)
        d_lam = np.max(np.abs(ours.lambdas_ - ref.lambdas_))
        d_out = np.max(np.abs(ours.transform(X) - ref.transform(X)))
        print(f"{str(shape):>12} {t_ref:10.3f} {t_ours:9.4f} {t_ref / t_ours:6.1f}x "
              f"{d_lam:14.2e} {d_out:11.2e}")


if __name__ == "__main__":
    main()
