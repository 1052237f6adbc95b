"""The prediction service (``sklaudio serve``) against in-process ``predict`` on 5 s speech.

Run from the project root (needs ``pip install -e '.[serve]'`` and httpx)::

    .venv/bin/python benchmarks/bench_serve.py                 # 16 train, 24 test clips
    .venv/bin/python benchmarks/bench_serve.py --n-test 48 --requests 96

The age/gender pipeline (``make_age_gender_pipeline()``, gender) is fitted on the first
``--n-train`` LibriSpeech utterances of at least 5 s, cut to 5 s, and saved as a bundle.
The next ``--n-test`` utterances, cut to 5 s, are the requests. In-process: the same
clips predicted by the loaded bundle in one ``predict_proba`` call (clips per second,
median of ``--repeat`` runs), and by :func:`sklaudio.deploy.predict_clips` (the rows the
service answers, with the quality flag). Service: the real server in a subprocess on a free
localhost port, one clip per ``POST /predict``, from 1, 4 and 16 client threads at once:
throughput (requests per second), p50 and p99 latency, and the server's peak resident
memory (VmHWM). Printed ratios: service throughput over in-process throughput (target
>= 0.8 at concurrency 4), p99 / p50 at each concurrency (target < 3), and the largest
difference between the service's and the in-process probabilities.
"""

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = Path(os.environ.get("SKLAUDIO_DATA", ROOT.parent / "shared" / "data"))
SR = 16000
CLIP_S = 5.0


def _clips(n_train, n_test):
    import pandas as pd

    from sklaudio.io import load_audio

    root = DATA / "librispeech-251"
    m = pd.read_csv(root / "manifest.csv")
    m = m[m["duration_s"] >= CLIP_S].reset_index(drop=True)
    if len(m) < n_train + n_test:
        sys.exit(f"only {len(m)} utterances of >= {CLIP_S} s in {root}")
    clips = [load_audio(root / p, sr=SR, duration=CLIP_S)[0] for p in m["path"][:n_train + n_test]]
    return clips[:n_train], list(m["gender"][:n_train]), clips[n_train:]


def _wav(y):
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, y, SR, format="WAV", subtype="FLOAT")  # exact samples
    return buf.getvalue()


def _peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main():
    # long on purpose: the argument list and the three measurements (in-process, service
    # at each concurrency, memory) read top to bottom as the printed table does
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-train", type=int, default=16)
    ap.add_argument("--n-test", type=int, default=24)
    ap.add_argument("--requests", type=int, default=48, help="requests per concurrency level")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--workers", type=int, default=1,
                    help="the server's --max-concurrency (its default: 1)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    import httpx

    from sklaudio.deploy import load_model, save_model
    from sklaudio.deploy._serve import _serve_in_subprocess
    from sklaudio.experiment import make_age_gender_pipeline

    train, y, test = _clips(args.n_train, args.n_test)
    tmp = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    bundle = tmp / "gender.sklaudio"
    t0 = time.perf_counter()
    model = make_age_gender_pipeline().fit(train, y)
    save_model(model, bundle, X=train, y=y)
    print(f"fitted on {len(train)} clips of {CLIP_S:g} s in {time.perf_counter() - t0:.1f} s; "
          f"{len(test)} test clips; {os.cpu_count()} cores")

    model = load_model(bundle)
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        local = model.predict_proba(test)
        times.append(time.perf_counter() - t0)
    inproc = len(test) / statistics.median(times)
    print(f"in-process predict_proba: {inproc:.2f} clips/s (median of {args.repeat}, "
          f"{statistics.median(times):.2f} s for {len(test)} clips)")
    from sklaudio.deploy import predict_clips

    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        predict_clips(model, test)
        times.append(time.perf_counter() - t0)
    inproc_rows = len(test) / statistics.median(times)
    print(f"in-process predict_clips (what the service answers: + quality flag): "
          f"{inproc_rows:.2f} clips/s")

    bodies = [_wav(c) for c in test]
    # the server's own process, on a free port; the error says why it did not start
    with _serve_in_subprocess(bundle, "--max-concurrency", args.workers,
                              "--max-queue", 64) as (url, proc):
        with httpx.Client(base_url=url, timeout=600,
                          limits=httpx.Limits(max_connections=64)) as client:
            # warm up: the first request compiles numba kernels in the server
            client.post("/predict", content=bodies[0], headers={"Content-Type": "audio/wav"})

            def send(i):
                t = time.perf_counter()
                r = client.post("/predict", content=bodies[i % len(bodies)],
                                headers={"Content-Type": "audio/wav"})
                r.raise_for_status()
                proba = r.json()["predictions"][0]["proba"]
                return time.perf_counter() - t, i % len(bodies), proba

            rows = []
            for c in args.concurrency:
                t0 = time.perf_counter()
                with ThreadPoolExecutor(c) as pool:
                    res = list(pool.map(send, range(args.requests)))
                wall = time.perf_counter() - t0
                lat = np.array([r[0] for r in res])
                worst = max(abs(r[2][str(model.classes_[0])] - local[r[1], 0]) for r in res)
                p50, p99 = np.percentile(lat, 50), np.percentile(lat, 99)
                rows.append((c, args.requests / wall, p50, p99, worst))
        rss = _peak_rss_mb(proc.pid)

    print(f"\nservice ({args.workers} worker threads), one 5 s clip per request:")
    print(f"{'concurrency':>11} {'req/s':>7} {'x proba':>8} {'x rows':>7} {'p50 s':>7} "
          f"{'p99 s':>7} {'p99/p50':>7} {'max |dP|':>9}")
    for c, thr, p50, p99, worst in rows:
        print(f"{c:>11} {thr:>7.2f} {thr / inproc:>8.2f} {thr / inproc_rows:>7.2f} "
              f"{p50:>7.2f} {p99:>7.2f} {p99 / p50:>7.2f} {worst:>9.1e}")
    print(f"server peak RSS: {rss:.0f} MB")
    at4 = [r for r in rows if r[0] == 4]
    if at4:
        print(f"throughput at concurrency 4 / in-process predict_proba: "
              f"{at4[0][1] / inproc:.2f} (target >= 0.80); / in-process predict_clips: "
              f"{at4[0][1] / inproc_rows:.2f}")


if __name__ == "__main__":
    main()
