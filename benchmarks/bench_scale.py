"""Time and peak memory of the age/gender pipeline on long recordings and many files.

For each duration (default 1 min, 10 min, 1 h and 10 h of speech) two inputs are made
from LibriSpeech (``librispeech-251``, its 251 utterances concatenated, in a fixed
order, repeated as often as needed) in a temporary folder:

- one file of that duration (16 kHz FLAC), predicted with
  ``make_age_gender_pipeline()`` fitted on LibriSpeech gender (its ``AudioLoader``
  streams files over 120 s: the default, nothing set by hand);
- the same audio cut into 5 s files, predicted with ``sklaudio.deploy.predict_files``
  (batches of 32 files).

Every case runs in a fresh process, which reports its wall time, CPU time, realtime
factor (seconds of audio per wall second, and per CPU second) and peak resident
memory (``ru_maxrss``). For the single file, a second process times each step on
its own: the file read through (decoding), the Denoiser, the Trimmer, and each
extractor of the feature union, with the peak memory of each step (the kernel's
high-water mark is reset between steps through ``/proc/self/clear_refs``).

Targets (issue 17): 10 h in one file with peak RSS < 1 GB, and time linear in the
duration (10 h <= 11 x 1 h). The ratio line compares each duration's time per hour
of audio with the shortest duration's. CPU time is the figure to quote on a shared
machine; the load average is printed before and after.

``--parallel`` also runs ``benchmarks/bench_parallel.py`` (n_jobs=1 vs 2 on 100
LibriSpeech clips, and a dask LocalCluster) with ``--dask``.

Run from the project root::

    nice -n 10 .venv/bin/python benchmarks/bench_scale.py --durations 60,600,3600
    .venv/bin/python benchmarks/bench_scale.py --durations 36000 --no-files
    .venv/bin/python benchmarks/bench_scale.py --durations 60 --parallel
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SR = 16000


def _data_dir(arg):
    if arg:
        return Path(arg)
    return Path(os.environ.get("SKLAUDIO_DATA", ROOT.parent / "shared" / "data"))


def _manifest(data):
    import pandas as pd

    folder = data / "librispeech-251"
    frame = pd.read_csv(folder / "manifest.csv").sort_values("path").reset_index(drop=True)
    frame["path"] = [str(folder / p) for p in frame["path"]]
    return frame


def _speech(manifest):
    """LibriSpeech's utterances one after the other, forever (16 kHz int16 arrays)."""
    import soundfile as sf

    while True:
        for path in manifest["path"]:
            y, sr = sf.read(path, dtype="int16")
            assert sr == SR, path
            yield y


def _make_inputs(manifest, seconds, folder, files):
    """One FLAC file of ``seconds`` and (``files``) the same audio in 5 s WAV files."""
    import soundfile as sf

    long_path = folder / f"speech_{seconds}s.flac"
    short_dir = folder / f"speech_{seconds}s_5s"
    n_total = int(seconds * SR)
    if long_path.exists() and (not files or short_dir.exists()):
        return str(long_path), sorted(str(p) for p in short_dir.glob("*.wav")) if files else []
    if files:
        short_dir.mkdir(exist_ok=True)
    shorts, pending, done = [], np.zeros(0, np.int16), 0
    with sf.SoundFile(str(long_path), "w", SR, 1, format="FLAC", subtype="PCM_16") as f:
        for y in _speech(manifest):
            y = y[: n_total - done]
            f.write(y)
            done += len(y)
            if files:
                pending = np.concatenate([pending, y])
                while len(pending) >= 5 * SR or (done == n_total and len(pending)):
                    piece, pending = pending[: 5 * SR], pending[5 * SR :]
                    shorts.append(str(short_dir / f"{len(shorts):06d}.wav"))
                    sf.write(shorts[-1], piece, SR, subtype="PCM_16")
            if done >= n_total:
                break
    return str(long_path), shorts


def _fit_model(manifest, path):
    """make_age_gender_pipeline() fitted on gender of 40 LibriSpeech utterances."""
    import joblib

    from sklaudio.experiment import make_age_gender_pipeline

    train = manifest.groupby("gender").head(20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = make_age_gender_pipeline().fit(list(train["path"]), train["gender"])
    joblib.dump(model, path)


_PREDICT = textwrap.dedent("""
    import json, resource, sys, time, warnings
    import joblib
    warnings.simplefilter("ignore")
    model = joblib.load(sys.argv[1])
    paths = json.loads(open(sys.argv[2]).read())
    wall, cpu = time.perf_counter(), time.process_time()
    if len(paths) == 1:
        out = [str(p) for p in model.predict(paths)]
    else:
        from sklaudio.deploy import predict_files
        out = [r["prediction"] for r in predict_files(model, paths, batch_size=32)]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"wall": wall, "cpu": cpu, "peak_mb": peak, "n": len(out),
                      "first": out[0]}))
""")

_STEPS = textwrap.dedent("""
    import json, sys, time, warnings
    import joblib
    warnings.simplefilter("ignore")

    def high_water():
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM"):
                return int(line.split()[1]) / 1024

    def reset():
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")

    model = joblib.load(sys.argv[1])
    rows = []

    def step(name, func, *args):
        reset()
        wall, cpu = time.perf_counter(), time.process_time()
        out = func(*args)
        rows.append({"step": name, "wall": time.perf_counter() - wall,
                     "cpu": time.process_time() - cpu, "peak_mb": high_water()})
        return out

    X = step("load (stream set up)", model["load"].transform, [sys.argv[2]])
    step("read through", lambda X: sum(len(b) for b in X[0].blocks()) if hasattr(X[0], "blocks")
         else len(X[0]), X)
    X = step("denoise", model["denoise"].transform, X)
    X = step("trim", model["trim"].transform, X)
    for name, extractor in model["features"].transformer_list:
        step(name, extractor.transform, X)
    print(json.dumps(rows))
""")


def _child(code, *args):
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True,
                         text=True, env=env, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def _label(seconds):
    return f"{seconds / 3600:g} h" if seconds >= 3600 else f"{seconds / 60:g} min"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--durations", default="60,600,3600,36000",
                    help="seconds of speech, comma separated (default 60,600,3600,36000)")
    ap.add_argument("--no-files", action="store_true", help="skip the many 5 s files case")
    ap.add_argument("--no-steps", action="store_true", help="skip the per-step timings")
    ap.add_argument("--parallel", action="store_true",
                    help="also run bench_parallel.py --dask (n_jobs=1/2 and dask)")
    ap.add_argument("--tmp", default=None, help="folder for the generated audio (default: "
                    "a new temporary folder; 10 h take 0.7 GB of FLAC and 1.2 GB of WAV)")
    ap.add_argument("--data", default=None, help="data folder (default ../shared/data)")
    args = ap.parse_args(argv)
    durations = [int(float(d)) for d in args.durations.split(",")]
    data = _data_dir(args.data)
    manifest = _manifest(data)
    folder = Path(args.tmp or tempfile.mkdtemp(prefix="bench_scale_"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"load average before: {os.getloadavg()}; audio in {folder}")
    model_path = folder / "age_gender_gender.joblib"
    if not model_path.exists():
        t = time.perf_counter()
        _fit_model(manifest, model_path)
        print("fitted make_age_gender_pipeline() on 40 utterances in "
              f"{time.perf_counter() - t:.0f} s")

    results = {}
    for seconds in durations:
        long_path, shorts = _make_inputs(manifest, seconds, folder, not args.no_files)
        cases = [("one file", [long_path])] + ([("5 s files", shorts)] if shorts else [])
        for case, paths in cases:
            list_path = folder / "paths.json"
            list_path.write_text(json.dumps(paths))
            r = _child(_PREDICT, model_path, list_path)
            results[(seconds, case)] = r
            print(f"{_label(seconds):>7} {case:<9} predict: wall {r['wall']:8.1f} s, "
                  f"cpu {r['cpu']:8.1f} s, realtime x{seconds / r['wall']:6.1f} (wall) "
                  f"x{seconds / r['cpu']:6.1f} (cpu), peak RSS {r['peak_mb']:6.0f} MB "
                  f"[{r['n']} predictions]", flush=True)
        if not args.no_steps:
            for row in _child(_STEPS, model_path, long_path):
                print(f"{'':>7} step {row['step']:<22} wall {row['wall']:8.1f} s, "
                      f"cpu {row['cpu']:8.1f} s, realtime x{seconds / max(row['cpu'], 1e-9):7.1f}"
                      f" (cpu), peak RSS {row['peak_mb']:6.0f} MB", flush=True)
    for case in ("one file", "5 s files"):
        done = sorted(s for s, c in results if c == case)
        if len(done) > 1:
            base = done[0]
            per_h = {s: results[(s, case)]["cpu"] / s * 3600 for s in done}
            line = ", ".join(f"{_label(s)} {per_h[s]:.0f} s ({per_h[s] / per_h[base]:.2f}x)"
                             for s in done)
            print(f"{case}: CPU seconds per hour of audio: {line}")
    if 3600 in {s for s, _ in results} and 36000 in {s for s, _ in results}:
        one, ten = results[(3600, "one file")], results[(36000, "one file")]
        print(f"10 h / 1 h (one file): cpu x{ten['cpu'] / one['cpu']:.2f}, wall "
              f"x{ten['wall'] / one['wall']:.2f} (target <= 11); 10 h peak RSS "
              f"{ten['peak_mb']:.0f} MB (target < 1024)")
    print(f"load average after: {os.getloadavg()}")
    if args.parallel:
        bench = ROOT / "benchmarks" / "bench_parallel.py"
        if bench.exists():
            subprocess.run([sys.executable, str(bench), "--clips", "100", "--dask"]
                           + (["--data", args.data] if args.data else []), check=False)
        else:
            print("benchmarks/bench_parallel.py is not there: no n_jobs figures")


if __name__ == "__main__":
    main()
