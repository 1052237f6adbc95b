"""DriftMonitor on real speech: false alarms without drift, detection of five real shifts,
and its KS p-values and time next to alibi-detect's KSDrift.

Run from the repository root::

    .venv/bin/python benchmarks/bench_drift.py [--trials 200] [--alibi-python PATH]

Reads ``librispeech-251`` and ``speechocean762`` from $SKLAUDIO_DATA, else
``../shared/data`` beside the repo. Features are extracted ONCE and cached outside the
repository (``$TMPDIR/sklaudio_drift_cache/features.pkl``; delete it to re-extract):
sklaudio.features.assess_quality (duration, levels, clipping, SNR estimate, voiced
fraction, the quality flag) and MelFeatures(kind="mfcc", n_mfcc=13: means and standard
deviations of 13 MFCCs and their first and second deltas): 85 columns. Clips are
loaded at 16 kHz. Extraction took 455 s on the busy 2-core machine.

Versions of every librispeech-251 clip (one utterance per speaker, so any split is
speaker-disjoint): original; pink noise at 10 dB SNR (sklaudio.augment.add_noise);
telephone channel (resampled to 8 kHz, 4th-order Butterworth band-pass 300-3400 Hz,
back to 16 kHz as a loader would); gain -20 dB. speechocean762: original.

Trials (each a fresh random draw):

- no drift: librispeech-251 split at random into two speaker-disjoint halves (125 /
  126); the monitor is fitted on one half and tested on 100 clips drawn from the other.
  Drawn without replacement (a batch of distinct clips, as production gives); the
  false-alarm rate with replacement is printed too: duplicated clips make a batch
  less variable than the test assumes, so that rate is not the test's level.
- noise / telephone / gain: the same split, the 100 clips drawn from the other half's
  shifted versions;
- corpus: fitted on a librispeech-251 half, tested on 100 speechocean762 clips;
- children: fitted on speechocean762's adults (18 and over, 126 clips), tested on 100
  of its children's clips (under 16, 116 clips).

Detectors: per-feature KS / chi-square with Bonferroni (the default), the same with
Benjamini-Hochberg, and the domain classifier (standardised logistic regression,
5-fold out-of-fold probabilities, Mann-Whitney test of AUC = 0.5), each at alpha=0.05.
Printed: the rate of batches flagged, which column ranks first how often, and which
audio health column (assess_quality's, named ``quality__*``) ranks first among them.

Results of 2026-12-06 (200 batches each, the machine loaded by other jobs)::

    scenario                     KS+Bonferroni  KS+BH  classifier
    no drift                          0.05      0.055     0.05
    no drift (with replacement)       0.36      0.38      0.51
    noise / telephone / gain          1.00      1.00      1.00
    corpus / children                 1.00      1.00      1.00

First drifted audio-health column: snr_db for the noise (100 %), peak_dbfs / rms_dbfs
for the gain (71 / 29 %), duration_s for the corpus (100 %); first column overall for
the children: mfcc_06_mean (100 %). alibi-detect's p-values equal ours after float32
rounding (max difference 2.8e-8); time x1.1-1.7 of alibi's on 125 x 84 tables.

Reference: alibi-detect's KSDrift (feature-wise ks_2samp, method "asymp", p-values
kept as float32) installed in a separate environment (it pins numpy 1.26 and pulls
transformers, opencv and scikit-image, so it is not a dependency of the project): its
p-values are compared with DriftMonitor(ks_method="asymp") on the same tables, and
its predict time with DriftMonitor.test (which also computes PSI and Wasserstein).
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from sklaudio.exceptions import AudioWarning
from sklaudio.monitor import DriftMonitor

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("SKLAUDIO_DATA", ROOT.parent / "shared" / "data"))
CACHE = Path(tempfile.gettempdir()) / "sklaudio_drift_cache"
SR = 16000
BATCH = 100
SHIFTS = ("noise", "telephone", "gain")
QUALITY_COLUMNS = ("duration_s", "rms_dbfs", "peak_dbfs", "clipping_rate", "snr_db",
                   "voiced_fraction", "quality")


# ----------------------------------------------------------------------- features
def _telephone(y):
    import librosa
    from scipy.signal import butter, sosfiltfilt

    y8 = librosa.resample(y, orig_sr=SR, target_sr=8000, res_type="soxr_hq")
    sos = butter(4, [300, 3400], btype="bandpass", fs=8000, output="sos")
    return librosa.resample(sosfiltfilt(sos, y8), orig_sr=8000, target_sr=SR,
                            res_type="soxr_hq").astype(np.float32)


def _features(clips):
    from sklaudio.features import MelFeatures, assess_quality

    q = assess_quality(clips, SR)
    mel = MelFeatures(kind="mfcc", sr=SR, n_mfcc=13, n_fft=512, hop_length=256, n_mels=40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AudioWarning)
        m = mel.fit(clips).set_output(transform="pandas").transform(clips)
    return pd.concat([q.reset_index(drop=True), m.reset_index(drop=True)], axis=1)


def extract():
    """The cached feature table (extracted on first use)."""
    path = CACHE / "features.pkl"
    if path.exists():
        return pd.read_pickle(path)
    from sklaudio.augment import add_noise
    from sklaudio.io import load_audio_batch

    CACHE.mkdir(exist_ok=True)
    t0 = time.perf_counter()
    lib = pd.read_csv(DATA / "librispeech-251" / "manifest.csv")
    so = pd.read_csv(DATA / "speechocean762" / "manifest.csv", dtype={"speaker": str})
    lib_clips = list(load_audio_batch([str(DATA / "librispeech-251" / p) for p in lib["path"]],
                                      sr=SR))
    so_clips = list(load_audio_batch([str(DATA / "speechocean762" / p) for p in so["path"]],
                                     sr=SR))
    versions = {
        "original": lib_clips,
        "noise": [add_noise(y, sr=SR, snr_db=10.0, noise="pink", random_state=i)
                  for i, y in enumerate(lib_clips)],
        "telephone": [_telephone(y) for y in lib_clips],
        "gain": [(y * 10 ** (-20 / 20)).astype(np.float32) for y in lib_clips],
    }
    frames = []
    for name, clips in versions.items():
        f = _features(clips)
        f.insert(0, "set", "librispeech-251")
        f.insert(1, "version", name)
        f.insert(2, "speaker", lib["speaker"].astype(str).to_numpy())
        f.insert(3, "age", np.nan)
        frames.append(f)
        print(f"  {name}: {len(f)} clips ({time.perf_counter() - t0:.0f} s)", flush=True)
    f = _features(so_clips)
    f.insert(0, "set", "speechocean762")
    f.insert(1, "version", "original")
    f.insert(2, "speaker", so["speaker"].to_numpy())
    f.insert(3, "age", so["age"].to_numpy(dtype=float))
    frames.append(f)
    table = pd.concat(frames, ignore_index=True)
    table.to_pickle(path)
    print(f"features extracted in {time.perf_counter() - t0:.0f} s, cached in {path}")
    return table


# ------------------------------------------------------------------------- trials
def run_trials(table, trials, rng, monitors):
    meta = ["set", "version", "speaker", "age"]
    cols = [c for c in table.columns if c not in meta]
    lib = {v: table[(table["set"] == "librispeech-251") & (table["version"] == v)][cols]
           .reset_index(drop=True) for v in ("original",) + SHIFTS}
    so = table[table["set"] == "speechocean762"].reset_index(drop=True)
    so_feat = so[cols]
    adults = so_feat[so["age"] >= 18]
    children = so_feat[so["age"] < 16]
    n_lib = len(lib["original"])
    scenarios = ["no drift", "no drift (with replacement)", *SHIFTS, "corpus", "children"]
    flagged = {(s, m): 0 for s in scenarios for m in monitors}
    tops = {(s, m): {} for s in scenarios for m in monitors}
    health = {s: {} for s in scenarios}
    for _ in range(trials):
        perm = rng.permutation(n_lib)
        ref_i, cur_i = perm[: n_lib // 2], perm[n_lib // 2:]
        batch_i = rng.choice(cur_i, BATCH, replace=False)
        batches = {
            "no drift": (lib["original"].iloc[ref_i], lib["original"].iloc[batch_i]),
            "no drift (with replacement)": (lib["original"].iloc[ref_i], lib["original"].iloc[
                rng.choice(cur_i, BATCH, replace=True)]),
            **{s: (lib["original"].iloc[ref_i], lib[s].iloc[batch_i]) for s in SHIFTS},
            "corpus": (lib["original"].iloc[ref_i],
                       so_feat.iloc[rng.choice(len(so_feat), BATCH, replace=False)]),
            "children": (adults, children.iloc[rng.choice(len(children), BATCH,
                                                          replace=False)]),
        }
        for s, (ref, cur) in batches.items():
            for m, mon in monitors.items():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", AudioWarning)  # constant columns
                    rep = mon.fit(ref).test(cur)
                flagged[(s, m)] += rep.drift
                if rep.drift and rep.drifted_features:
                    top = rep.drifted_features[0]
                    tops[(s, m)][top] = tops[(s, m)].get(top, 0) + 1
                if m == "KS+Bonferroni" and rep.drifted_health:
                    top = rep.drifted_health[0]
                    health[s][top] = health[s].get(top, 0) + 1
    return scenarios, flagged, tops, health


# ------------------------------------------------------------------------- alibi
ALIBI_SCRIPT = r"""
import sys, time, json, numpy as np
from alibi_detect.cd import KSDrift
d = np.load(sys.argv[1])
out = {}
for key in ("real", "large"):
    ref, cur = d[key + "_ref"], d[key + "_cur"]
    det = KSDrift(ref, p_val=0.05)
    times = []
    for _ in range(5):
        t = time.perf_counter(); r = det.predict(cur, drift_type="feature", return_p_val=True)
        times.append(time.perf_counter() - t)
    out[key] = {"p": r["data"]["p_val"].astype(float).tolist(), "time": float(np.median(times))}
json.dump(out, open(sys.argv[2], "w"))
"""


def compare_alibi(table, alibi_python, rng):
    meta = ["set", "version", "speaker", "age", "quality__quality"]
    num = table[(table["set"] == "librispeech-251") & (table["version"] == "original")]
    num = num[[c for c in table.columns if c not in meta]].to_numpy(float)
    noisy = table[(table["set"] == "librispeech-251") & (table["version"] == "noise")]
    noisy = noisy[[c for c in table.columns if c not in meta]].to_numpy(float)
    perm = rng.permutation(len(num))
    data = {"real_ref": num[perm[:125]], "real_cur": noisy[perm[125:225]],
            "large_ref": rng.normal(size=(20000, 50)),
            "large_cur": rng.normal(0.02, 1.0, size=(2000, 50))}
    npz = CACHE / "alibi_in.npz"
    np.savez(npz, **data)
    ours = {}
    for key in ("real", "large"):
        mon = DriftMonitor(ks_method="asymp", rule="p_value").fit(data[key + "_ref"])
        times = []
        for _ in range(5):
            t = time.perf_counter()
            rep = mon.test(data[key + "_cur"])
            times.append(time.perf_counter() - t)
        p = rep.table.set_index("feature").loc[[f"x{j}" for j in range(data[key + "_ref"]
                                                                        .shape[1])], "p_value"]
        ours[key] = {"p": p.to_numpy(), "time": float(np.median(times))}
    if alibi_python is None or not Path(alibi_python).exists():
        print("alibi-detect: not available (pass --alibi-python); our times:",
              {k: f"{v['time'] * 1e3:.1f} ms" for k, v in ours.items()})
        return
    script = CACHE / "alibi_run.py"
    script.write_text(ALIBI_SCRIPT)
    res_path = CACHE / "alibi_out.json"
    subprocess.run([alibi_python, str(script), str(npz), str(res_path)], check=True,
                   stderr=subprocess.DEVNULL)
    theirs = json.loads(res_path.read_text())
    n_real = data["real_ref"].shape[1]
    for key, label in (("real", f"librispeech-251 125 vs 100 noisy, {n_real} columns"),
                       ("large", "Gaussian 20000 vs 2000, 50 columns")):
        a = np.asarray(theirs[key]["p"])
        o = ours[key]["p"]
        same32 = np.array_equal(o.astype(np.float32), a.astype(np.float32))
        print(f"alibi KSDrift vs DriftMonitor(ks_method='asymp'), {label}: max |dp| = "
              f"{np.max(np.abs(o - a)):.2e} (alibi keeps float32; equal after float32 "
              f"rounding: {same32}); time alibi {theirs[key]['time'] * 1e3:.1f} ms, ours "
              f"{ours[key]['time'] * 1e3:.1f} ms (x{ours[key]['time'] / theirs[key]['time']:.2f},"
              " ours adds PSI and Wasserstein)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--alibi-python", default="/tmp/alibi_venv/bin/python")
    ap.add_argument("--random-state", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.random_state)
    # the health columns as an audio monitor names them (kind "quality" in its reports)
    table = extract().rename(columns={c: "quality__" + c for c in QUALITY_COLUMNS})
    monitors = {
        "KS+Bonferroni": DriftMonitor(),
        "KS+BH": DriftMonitor(correction="fdr_bh"),
        "classifier": DriftMonitor(detector="classifier", random_state=0),
    }
    t0 = time.perf_counter()
    scenarios, flagged, tops, health = run_trials(table, args.trials, rng, monitors)
    print(f"\n{args.trials} batches of {BATCH} clips per scenario, alpha=0.05 "
          f"({time.perf_counter() - t0:.0f} s)")
    rows = []
    for s in scenarios:
        row = {"scenario": s}
        for m in monitors:
            row[m] = flagged[(s, m)] / args.trials
        top = sorted(tops[(s, "KS+Bonferroni")].items(), key=lambda kv: -kv[1])[:3]
        row["first drifted column (KS+Bonferroni)"] = ", ".join(
            f"{k} {v / max(1, flagged[(s, 'KS+Bonferroni')]):.0%}" for k, v in top)
        top = sorted(health[s].items(), key=lambda kv: -kv[1])[:2]
        row["first drifted health column"] = ", ".join(
            f"{k.removeprefix('quality__')} {v / max(1, flagged[(s, 'KS+Bonferroni')]):.0%}"
            for k, v in top)
        rows.append(row)
    with pd.option_context("display.width", 200, "display.max_colwidth", 80):
        print(pd.DataFrame(rows).to_string(index=False))
    compare_alibi(table, args.alibi_python, rng)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    sys.exit(main())
