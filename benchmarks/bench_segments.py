"""Segment smoothing benchmark: quality on simulated and real streams, speed and memory.

Run from the project root:

    .venv/bin/python benchmarks/bench_segments.py            # everything (about 30 min)
    .venv/bin/python benchmarks/bench_segments.py --quick    # small sizes, a few minutes
    .venv/bin/python benchmarks/bench_segments.py sim --held-out  # Weibull, lnmix, asym, exp
    .venv/bin/python benchmarks/bench_segments.py sim --dist gamma  # one family
    .venv/bin/python benchmarks/bench_segments.py sim --no-tune  # defaults only

1. Simulated binary streams (background/foreground turns, one hour each) from four
   turn-length distributions: uniform 25-40 s, log-normal (median 8 s), gamma (shape 3,
   mean 12 s) and a two-population mixture (3 s and 20 s turns). The detector copies
   the truth but, in each 3-8 s stretch, with probability ``flip rate`` flips the label
   for 0.1-1.5 s. Flip rates 0, 0.02, 0.05, 0.1, 0.2, 0.3; three independent sets of
   three streams per rate and distribution (seeds 10000-10002; seeds 0-2 served
   development). ``--held-out`` runs three more families instead: Weibull turns (shape
   1.5, scale 15 s, at least 2 s; held out until the hsmm evidence was first written,
   then used to make it stricter), ``lnmix`` (35 % log-normal turns of median 3 s, 65 %
   of median 14 s, at least 1.5 s; held out until the min_gap rule, then with Weibull
   used to develop the limit on what is relabelled) and ``asym`` (each class its own
   turns: gamma of mean 6 s, at least 1.2 s, against log-normal of median 20 s, at
   least 2 s; never run before that limit was fixed; its first run showed that the
   limit alone, with a stream test of 0 instead of 10, broke clean streams: the test
   and the all-or-nothing gap rule came back, the limit stays on top) and ``exp``
   (exponential turns of mean 12 s, at least 1.5 s; never run before that).
   Every smoother runs at its defaults and tuned by GridSearchCV (GroupKFold over
   streams, scored by -frame error) on a separate annotated set of four half-hour
   streams drawn the same way (2 folds); scored on frame
   error (10 ms), segment F1 (1 s blocks) and event F1 (0.2 s collar) of the foreground class.
   Targets: (a) the default never raises frame error by more than 1 % relative at any
   rate; (b) at each rate 0.02-0.3 the default's frame error is at most the best baseline
   default's; (c) tuned, at most the best tuned baseline's.
2. Real streams: ami-segments (speech = union of RTTM turns; a window classifier
   trained on the train files, scored on development + test), speech-silence (count*,
   leave-one-file-out) and musanmix (the ami classifier's output against
   inaSpeechSegmenter's speech regions).
3. Time and peak memory of each smoother on 10^6 segments (fit + transform, from a
   DataFrame and from a list of dicts), each in a fresh subprocess (peak RSS of the
   process, and its growth during the call). Targets: <= 2 s and <= 1 GB for every
   smoother from a DataFrame; GMM <= 4 s from a list of dicts.
"""

import json
import os
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.model_selection import GridSearchCV, GroupKFold  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sklaudio.segments import (  # noqa: E402
    GMMSegmentSmoother,
    MedianFilterSmoother,
    MinDurationSmoother,
    SegmentDetector,
    ViterbiSmoother,
    event_f1,
    frame_error_rate,
    make_segment_scorer,
    read_rttm,
    read_segments,
    segment_f1,
)

DATA = ROOT.parent / "shared" / "data"
QUICK = "--quick" in sys.argv
HELD_OUT = "--held-out" in sys.argv
# defaults only, no GridSearchCV (target (c) is then not checked)
NO_TUNE = "--no-tune" in sys.argv
RATES = [0.0, 0.02, 0.05, 0.1, 0.2, 0.3]
LABELS = np.array(["background", "foreground"])


# --------------------------------------------------------------------------- generator

def _turns(dist, rng, n):
    if dist == "uniform":
        return rng.uniform(25, 40, n)
    if dist == "lognormal":
        return np.maximum(rng.lognormal(np.log(8), 0.5, n), 2.0)
    if dist == "gamma":
        return np.maximum(rng.gamma(3.0, 4.0, n), 2.0)
    if dist == "bimodal":
        short = rng.random(n) < 0.4
        return np.where(short, rng.uniform(2.5, 4, n), rng.uniform(15, 25, n))
    if dist == "weibull":  # held out at first, then a development family (issue 16)
        return np.maximum(15.0 * rng.weibull(1.5, n), 2.0)
    if dist == "lnmix":  # held out: never run while the stricter evidence was developed
        short = rng.random(n) < 0.35
        return np.maximum(np.where(short, rng.lognormal(np.log(3), 0.35, n),
                                   rng.lognormal(np.log(14), 0.5, n)), 1.5)
    if dist == "exp":  # held out until min_stream_gain went back to 10 (issue 16)
        # memoryless turns: exponential, mean 12 s, at least 1.5 s
        return np.maximum(rng.exponential(12.0, n), 1.5)
    if dist == "asym":  # held out until the min_gap safeguard was fixed (issue 16)
        # each class its own turns: even turns gamma (shape 2, mean 6 s, at least 1.2 s),
        # odd turns log-normal (median 20 s, at least 2 s); the class of the even turns
        # is drawn per stream
        even = np.arange(n) % 2 == 0
        return np.where(even, np.maximum(rng.gamma(2.0, 3.0, n), 1.2),
                        np.maximum(rng.lognormal(np.log(20), 0.4, n), 2.0))
    raise ValueError(dist)


def make_streams(dist, flip_rate, n_streams, duration, rng):
    """Truth and detector output, each a list of DataFrames (start, end, label)."""
    truths, raws = [], []
    for _ in range(n_streams):
        d = _turns(dist, rng, int(duration / 2) + 10)
        edges = np.r_[0.0, np.cumsum(d)]
        m = int(np.searchsorted(edges, duration))
        t_edges = np.r_[edges[:m], duration]
        t_code = (np.arange(m) + rng.integers(2)) % 2
        # one chance of a flip per 3-8 s stretch, at a uniform place inside it
        stretch = np.cumsum(rng.uniform(3, 8, int(duration / 3) + 2))
        stretch = stretch[stretch < duration]
        lo = np.r_[0.0, stretch[:-1]]
        hit = rng.random(len(stretch)) < flip_rate
        on = rng.uniform(lo[hit], stretch[hit])
        off = np.minimum(on + rng.uniform(0.1, 1.5, hit.sum()), duration)
        cuts = np.unique(np.r_[t_edges, on, off])
        mid = (cuts[:-1] + cuts[1:]) / 2
        base = t_code[np.searchsorted(t_edges, mid, side="right") - 1]
        inside = (np.searchsorted(on, mid) - np.searchsorted(np.sort(off), mid)) > 0
        r_code = np.where(inside, 1 - base, base)
        keep = np.r_[True, r_code[1:] != r_code[:-1]]
        r_start = cuts[:-1][keep]
        r_end = np.r_[r_start[1:], duration]
        truths.append(pd.DataFrame({"start": t_edges[:-1], "end": t_edges[1:],
                                    "label": LABELS[t_code]}))
        raws.append(pd.DataFrame({"start": r_start, "end": r_end, "label": LABELS[r_code[keep]]}))
    return truths, raws


# --------------------------------------------------------------------------- smoothers

def defaults(positive):
    return {
        "GMM default (hsmm)": GMMSegmentSmoother(),
        "GMM threshold": GMMSegmentSmoother(strategy="threshold"),
        "GMM original": GMMSegmentSmoother(strategy="original"),
        "MinDuration": MinDurationSmoother(positive=positive),
        "Median": MedianFilterSmoother(),
        "Viterbi": ViterbiSmoother(),
    }


def grids():
    """Each grid starts with the defaults: GridSearchCV breaks ties by the first point."""
    steps = [0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0]
    return {
        # min_stream_gain=-1000 accepts a spurious population whatever the stream test
        # says; min_gap=0 lifts the limit on what the decoder relabels, max_spurious
        # sets one in seconds
        "GMM default (hsmm)": {"bias": [0.0, -3.0, 2.0], "min_stream_gain": [10.0, -1000.0],
                               "min_gap": [1.75, 0.0], "max_spurious": [None, 1.0]},
        "GMM threshold": {"max_short_ratio": [0.2, 0.1, 0.3, 0.5]},
        "MinDuration": [{"min_duration_on": [v], "min_duration_off": [v]} for v in steps],
        "Median": {"kernel_size": [11, 3, 5, 21, 31]},
        "Viterbi": {"switch_penalty": [0.5, 0.25, 0.75, 1.0, 1.5, 2.0]},
    }


BASELINES = ("MinDuration", "Median", "Viterbi")


def scores(truth, pred, positive):
    return (frame_error_rate(truth, pred, resolution=0.01),
            segment_f1(truth, pred, labels=[positive]),
            event_f1(truth, pred, labels=[positive]))


def tune(name, est, X, y):
    """Best parameters by GridSearchCV over streams (GroupKFold)."""
    search = GridSearchCV(est, grids()[name], scoring=make_segment_scorer(resolution=0.05),
                          cv=GroupKFold(2), error_score="raise")
    search.fit(X, y, groups=np.arange(len(X)))
    return search.best_params_


# --------------------------------------------------------------------------- 1. simulated

def simulated():
    print("=" * 100)
    print("1. Simulated streams (frame error, 10 ms; mean over sets; change vs the raw detector)")
    dists = ["uniform", "lognormal"] if QUICK else ["uniform", "lognormal", "gamma", "bimodal"]
    if HELD_OUT:
        dists = ["weibull", "lnmix", "asym", "exp"]
    if "--dist" in sys.argv:  # one family per process, to run them side by side
        dists = [sys.argv[sys.argv.index("--dist") + 1]]
    n_sets, n_streams, dur = (2, 2, 1800.0) if QUICK else (3, 3, 3600.0)
    rows = []
    for dist in dists:
        for rate in RATES:
            rng = np.random.default_rng(1000 + int(rate * 1000) + 7 * len(dist))
            tX_truth, tX_raw = make_streams(dist, rate, 4, dur / 2, rng)
            tuned = {}
            for name in [] if NO_TUNE else grids():
                base = defaults("foreground")[name]
                params = tune(name, base, tX_raw, tX_truth)
                tuned[name + " tuned"] = base.set_params(**params)
            for s in range(n_sets):
                # seeds 0-2 were used while developing the smoother; these sets are new
                truth, raw = make_streams(dist, rate, n_streams, dur,
                                          np.random.default_rng(10_000 + s))
                raw_sc = scores(truth, raw, "foreground")
                rows.append({"dist": dist, "rate": rate, "set": s, "method": "raw",
                             "fer": raw_sc[0], "seg_f1": raw_sc[1], "evt_f1": raw_sc[2]})
                for name, sm in {**defaults("foreground"), **tuned}.items():
                    out = sm.fit_transform(raw)
                    sc = scores(truth, out, "foreground")
                    rows.append({"dist": dist, "rate": rate, "set": s, "method": name,
                                 "fer": sc[0], "seg_f1": sc[1], "evt_f1": sc[2],
                                 "params": _short_params(sm, name)})
            print(f"  done {dist} rate {rate} ({time.strftime('%H:%M:%S')})", flush=True)
    df = pd.DataFrame(rows)
    report_simulated(df)
    return df


def _short_params(sm, name):
    if not name.endswith("tuned"):
        return ""
    keys = grids()[name[:-6]]
    keys = keys[0] if isinstance(keys, list) else keys
    return ",".join(f"{k}={sm.get_params()[k]}" for k in keys)


def report_simulated(df):
    mean = df.groupby(["dist", "rate", "method"])[["fer", "seg_f1", "evt_f1"]].mean()
    methods = [m for m in df.method.unique() if m != "raw"]
    for dist in df.dist.unique():
        print(f"\n  turns: {dist}")
        head = "  " + f"{'rate':>5s} {'raw FER':>8s} " + " ".join(f"{m[:14]:>14s}" for m in methods)
        print(head)
        for rate in RATES:
            raw = mean.loc[(dist, rate, "raw"), "fer"]
            cells = []
            for m in methods:
                f = mean.loc[(dist, rate, m), "fer"]
                cells.append(f"{f:.4f}({_rel(f, raw)})")
            print(f"  {rate:5.2f} {raw:8.4f} " + " ".join(f"{c:>14s}" for c in cells))
        print("  segment F1 / event F1 (foreground), rate 0.1:")
        for m in ["raw"] + methods:
            r = mean.loc[(dist, 0.1, m)]
            print(f"    {m:26s} {r.seg_f1:.3f} / {r.evt_f1:.3f}")
    # targets over all distributions
    print("\n  Targets (mean frame error over sets, per distribution and rate):")
    ok_a = ok_b = ok_c = True
    for (dist, rate), g in mean.groupby(level=[0, 1]):
        g = g.droplevel([0, 1])["fer"]
        raw = g["raw"]
        d = g["GMM default (hsmm)"]
        a = d <= raw * 1.01 + 1e-12
        ok_a &= a
        line = f"    {dist:9s} {rate:4.2f}: (a) {'ok' if a else 'FAIL'} {_rel(d, raw)}"
        if rate > 0:
            best_def = min(g[b] for b in BASELINES)
            best_tuned = np.nan if NO_TUNE else min(g[b + " tuned"] for b in BASELINES)
            tuned_d = np.nan if NO_TUNE else g["GMM default (hsmm) tuned"]
            b_ok = d <= best_def + 1e-12
            c_ok = NO_TUNE or tuned_d <= best_tuned + 1e-12
            ok_b &= b_ok
            ok_c &= c_ok
            line += (f"; (b) {'ok' if b_ok else 'FAIL'} {d:.5f} vs {best_def:.5f}"
                     f"; (c) {'ok' if c_ok else 'FAIL'} "
                     f"{tuned_d:.5f} vs {best_tuned:.5f}")
        print(line)
    print(f"  (a) never worse than raw by > 1 %: {'MET' if ok_a else 'NOT MET'}")
    print(f"  (b) <= best baseline at defaults, rates 0.02-0.3: {'MET' if ok_b else 'NOT MET'}")
    verdict_c = "not checked (--no-tune)" if NO_TUNE else ("MET" if ok_c else "NOT MET")
    print(f"  (c) tuned <= best tuned baseline, rates 0.02-0.3: {verdict_c}")


def _rel(f, raw):
    if raw == 0:
        return "=" if f == 0 else "+err"
    return f"{(f - raw) / raw:+.0%}"


# --------------------------------------------------------------------------- 2. real

def features(X):
    """Per-window log RMS, zero-crossing rate, spectral centroid and flatness."""
    X = np.asarray(X, dtype=float)
    rms = np.log(np.sqrt(np.mean(X**2, axis=1)) + 1e-6)
    zcr = np.mean(np.abs(np.diff(np.signbit(X), axis=1)), axis=1)
    S = np.abs(np.fft.rfft(X * np.hanning(X.shape[1]), axis=1)) + 1e-10
    f = np.arange(S.shape[1]) / S.shape[1]
    centroid = (S * f).sum(1) / S.sum(1)
    flat = np.exp(np.mean(np.log(S), 1)) / np.mean(S, 1)
    return np.c_[rms, zcr, centroid, flat]


def window_set(y, sr, segs, window, hop):
    n_win, n_hop = int(window * sr), int(hop * sr)
    n = max(1, (len(y) - n_win) // n_hop + 1)
    X = np.stack([y[i * n_hop: i * n_hop + n_win] for i in range(n)])
    centre = (np.arange(n) * n_hop + n_win / 2) / sr
    st = segs.start.to_numpy()
    lab = segs.label.to_numpy()[np.clip(np.searchsorted(st, centre, side="right") - 1, 0, None)]
    return X, lab


def make_detector():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    return make_pipeline(FunctionTransformer(features), StandardScaler(),
                         LogisticRegression(max_iter=1000, class_weight="balanced"))


def real_table(title, ref, raw, positive, fit_on=None, tune_on=None):
    """Defaults and (when ``tune_on`` = (X, y) is given) tuned smoothers on real streams."""
    print(f"\n{title}")
    print(f"  {'method':28s} {'FER':>7s} {'vs raw':>7s} {'segF1':>6s} {'evtF1':>6s}")
    base = scores(ref, raw, positive)
    print(f"  {'raw detector':28s} {base[0]:7.4f} {'':>7s} {base[1]:6.3f} {base[2]:6.3f}")
    ests = dict(defaults(positive))
    if tune_on is not None:
        for name in grids():
            est = defaults(positive)[name]
            ests[name + " tuned"] = est.set_params(**tune(name, est, *tune_on))
    for name, sm in ests.items():
        out = sm.fit(fit_on).transform(raw) if fit_on is not None and "GMM" in name \
            else sm.fit_transform(raw)
        r = scores(ref, out, positive)
        print(f"  {name:28s} {r[0]:7.4f} {_rel(r[0], base[0]):>7s} {r[1]:6.3f} {r[2]:6.3f}")


def _ascii(name):
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()


def ami():
    import soundfile as sf

    root = DATA / "ami-segments"
    if not root.exists():
        print("\n2a. ami-segments: not found, skipped")
        return None
    truth = pd.concat([read_rttm(root / f"debug.{s}.rttm", uem=root / f"debug.{s}.uem")
                       for s in ("train", "development", "test")], ignore_index=True)
    wavs = {}
    for p in sorted(root.glob("*.wav")):
        info = sf.info(str(p))
        if info.frames == 0 or info.duration < 1.0:
            continue  # the empty file
        # trñ00.wav is listed as trñ00 but its RTTM lines say trn00: match on the ASCII form
        wavs[_ascii(p.stem)] = p
    split = {s: [_ascii(u) for u in (root / f"debug.{s}.lst").read_text().split()]
             for s in ("train", "development", "test")}
    window, hop = 0.5, 0.25
    audio = {u: sf.read(str(wavs[u]), dtype="float32") for u in sum(split.values(), [])}
    Xs, ys = zip(*[window_set(*audio[u], truth[truth.stream == u], window, hop)
                   for u in split["train"]])
    sr = audio[split["train"][0]][1]
    clf = make_detector().fit(np.concatenate(Xs), np.concatenate(ys))
    det = SegmentDetector(clf, window=window, hop=hop, sr=sr).fit()

    def streams(uris):
        raw = det.predict([audio[u][0] for u in uris])
        raw = [g.drop(columns="stream").reset_index(drop=True) for _, g in raw.groupby("stream")]
        ref = [truth[truth.stream == u].drop(columns="stream").reset_index(drop=True)
               for u in uris]
        return raw, ref

    tr_raw, tr_ref = streams(split["train"])
    te_raw, te_ref = streams(split["development"] + split["test"])
    real_table(f"2a. ami-segments: window classifier and tuning on {len(tr_raw)} train files; "
               f"scored on {len(te_raw)} dev/test files (30 s each)",
               te_ref, te_raw, "speech", fit_on=tr_raw, tune_on=(tr_raw, tr_ref))
    return det


def speech_silence():
    import soundfile as sf

    root = DATA / "speech-silence"
    if not root.exists():
        print("\n2b. speech-silence: not found, skipped")
        return
    files = ["count", "count2"]
    audio = {f: sf.read(str(root / f"{f}.wav"), dtype="float32") for f in files}
    segs = {f: read_segments(root / f"{f}.segments") for f in files}
    window, hop = 0.1, 0.05
    refs, raws = [], []
    for test in files:
        train = [f for f in files if f != test]
        Xs, ys = zip(*[window_set(audio[f][0], audio[f][1], segs[f], window, hop) for f in train])
        y0 = audio[test][0]
        y0 = y0 if y0.ndim == 1 else y0.mean(axis=1)
        clf = make_detector().fit(np.concatenate(Xs), np.concatenate(ys))
        raw = SegmentDetector(clf, window=window, hop=hop, sr=audio[test][1]).fit().predict(y0)
        ref = segs[test]
        end = ref.end.iloc[-1]  # the reference may end before the audio
        raw = (raw[raw.start < end].drop(columns="stream")
               .assign(end=lambda d: d.end.clip(upper=end)))
        raws.append(raw.reset_index(drop=True))
        refs.append(ref)
    real_table("2b. speech-silence: count / count2, leave-one-file-out (turns of 0.2-0.4 s; "
               "defaults only: two files are too few to tune on)", refs, raws, "speech")


def musanmix(det):
    import soundfile as sf

    root = DATA / "musanmix"
    if det is None or not (root / "inaspeechsegmenter-output.csv").exists():
        print("\n2c. musanmix: not found (or no ami classifier), skipped")
        return
    ina = pd.read_csv(root / "inaspeechsegmenter-output.csv", sep="\t")
    ref = pd.DataFrame({"start": ina.start, "end": ina.stop,
                        "label": np.where(ina.labels.isin(["male", "female"]), "speech",
                                          "non-speech")})
    y, sr = sf.read(str(root / "musanmix.wav"), dtype="float32")
    raw = det.predict(y).drop(columns="stream")
    end = float(ref.end.iloc[-1])
    raw = raw[raw.start < end].assign(end=lambda d: d.end.clip(upper=end)).reset_index(drop=True)
    real_table("2c. musanmix: the ami window classifier against inaSpeechSegmenter's speech "
               "regions (a peer's output, not ground truth)", ref, raw, "speech")


# --------------------------------------------------------------------------- 3. speed

_CHILD = r"""
import json, resource, sys, time, numpy as np, pandas as pd
from sklaudio.segments import (GMMSegmentSmoother, MedianFilterSmoother, MinDurationSmoother,
                               ViterbiSmoother)
name, n, form = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rng = np.random.default_rng(0)
# alternating turns (median 4.5 s); a fifth of them cut by a 0.05-0.5 s blip of the other
# class, so the smoother finds spurious segments and runs its whole fit
m = int(n / 1.4) + 1
turn = rng.lognormal(1.5, 0.6, m)
cut = rng.random(m) < 0.2
a = turn * rng.uniform(0.2, 0.8, m)
blip = np.minimum(rng.uniform(0.05, 0.5, m), 0.5 * (turn - a))
pieces = np.where(cut[:, None], np.c_[a, blip, turn - a - blip], np.c_[turn, 0 * turn, 0 * turn])
turn_code = (np.arange(m) % 2)[:, None]
codes = np.where(np.arange(3) == 1, 1 - turn_code, turn_code)
keep = pieces > 0
d, code = pieces[keep][:n], codes[keep][:n]
t = np.r_[0, np.cumsum(d)]
lab = np.where(code == 1, "foreground", "background")
X = pd.DataFrame({"start": t[:-1], "end": t[1:], "label": lab})
if form == "dicts":
    X = X.to_dict(orient="records")
make = {"GMM": GMMSegmentSmoother,
        "GMM threshold": lambda: GMMSegmentSmoother(strategy="threshold"),
        "GMM original": lambda: GMMSegmentSmoother(strategy="original"),
        "MinDuration": lambda: MinDurationSmoother(min_duration_on=0.6, min_duration_off=0.6),
        "Median": MedianFilterSmoother, "Viterbi": ViterbiSmoother}[name]
small = X[:1000] if form == "dicts" else X.iloc[:1000]
make().fit_transform(small)  # compiled kernels loaded before timing
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0, c0 = time.perf_counter(), time.process_time()
out = make().fit_transform(X)
dt, dc = time.perf_counter() - t0, time.process_time() - c0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"time": dt, "cpu": dc, "peak_mb": peak / 1024,
                  "growth_mb": (peak - before) / 1024, "n_out": len(out)}))
"""


def speed():
    print("=" * 100)
    n = 10**5 if QUICK else 10**6
    print(f"3. fit + transform of {n} segments (one stream), fresh subprocess each, median of 3; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (wall time "
          "inflates with load; CPU time is the process's own)")
    print(f"  {'smoother':14s} {'form':10s} {'wall':>7s} {'CPU':>7s} {'peak RSS':>9s} "
          f"{'growth':>8s}")
    for name in ["GMM", "GMM threshold", "GMM original", "MinDuration", "Median", "Viterbi"]:
        for form in (["frame", "dicts"] if name == "GMM" else ["frame"]):
            runs = []
            for _ in range(1 if QUICK else 3):
                res = subprocess.run([sys.executable, "-c", _CHILD, name, str(n), form],
                                     capture_output=True, text=True, cwd=ROOT,
                                     env={**os.environ, "OMP_NUM_THREADS": "1"})
                if res.returncode:
                    print(res.stderr[-2000:])
                    break
                runs.append(json.loads(res.stdout.strip().splitlines()[-1]))
            if not runs:
                continue
            tm = float(np.median([r["time"] for r in runs]))
            cpu = float(np.median([r["cpu"] for r in runs]))
            pk = max(r["peak_mb"] for r in runs)
            gr = max(r["growth_mb"] for r in runs)
            print(f"  {name:14s} {form:10s} {tm:6.2f}s {cpu:6.2f}s {pk:7.0f}MB {gr:6.0f}MB",
                  flush=True)
    print("  targets: each <= 2 s and <= 1 GB from a DataFrame; GMM <= 4 s from a list of dicts")


if __name__ == "__main__":
    t0 = time.time()
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if "--dist" in sys.argv:
        args.remove(sys.argv[sys.argv.index("--dist") + 1])
    which = args or ["sim", "real", "speed"]
    if "speed" in which:
        speed()
    if "real" in which:
        print("=" * 100)
        det = ami()
        speech_silence()
        musanmix(det)
    if "sim" in which:
        simulated()
    print(f"\ntotal {time.time() - t0:.0f} s")
