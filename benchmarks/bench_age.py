"""Age (and gender) models on real recordings, each next to its chance level and a
speaker-grouped permutation test.

Run from the project root (the speaker encoder's weights: ``pip install --no-deps
resemblyzer``)::

    .venv/bin/python benchmarks/bench_age.py                  # both sets, 3 CV seeds
    .venv/bin/python benchmarks/bench_age.py --sets speechocean762 --seeds 0
    .venv/bin/python benchmarks/bench_age.py --kinds experiment --n-C 3   # the experiment

The features are extracted once per set (loader, Denoiser, Trimmer, the default
pipeline's feature union and SpeakerEmbedding, as ``make_age_gender_pipeline(
embedding=True)`` computes them) and cached under ``--cache`` (default
``/tmp/sklaudio_bench_age``); ``--refresh`` recomputes them.

Protocol: nested cross-validation, outer 5 folds grouped by speaker (stratified for
classes), inner 3 grouped folds tuning each model's regularisation on balanced accuracy
(MAE for years). Models are trained on one row per speaker, the mean of their clips'
features (``--pool clips`` trains on clips); every classifier is class-balanced. Column
sets: the default pipeline's 533 ``features``, the 256-number speaker ``embedding``,
``both``. Models: ``logistic`` (LogisticRegression), ``ordinal``
(sklaudio's OrdinalBucketRegressor on a Ridge), ``lda`` (shrunk linear discriminant
analysis, equal priors), ``choice`` (the inner CV picks among the three), ``svr`` for
years; and ``experiment``: ``sklaudio.experiment.run_experiment`` itself on the cached
features (``--n-C`` values of C in its grid; its inner CV chooses among the default
pipeline's grid and the models on the embedding, and merges classes with too few
speakers, which the output says; ``--experiment-pool yes`` trains classes on speaker
means, ``no`` on clips; default ``auto``: its inner CV chooses). Scores: each clip
alone; its speaker's answer (the model applied to the mean of the speaker's clips) per
clip; and one row per speaker. Printed per model: the mean
over the seeds, each seed's value, and the largest p-value over the seeds
(``sklaudio.model_selection.permutation_test``, 1000 shufflings of whole speakers'
labels), under the chance levels (``chance_level``).
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = Path(os.environ.get("SKLAUDIO_DATA", ROOT.parent / "shared" / "data"))


def load_set(name):
    """(paths, labels DataFrame, speaker groups) of one corpus: labelled clips only."""
    if name == "commonvoice-en":
        from sklaudio.datasets import read_common_voice

        m = read_common_voice(DATA / name / "validated.tsv", dropna=["age"])
        labels = m.labels.reset_index(drop=True)
        return list(m.paths), labels, np.asarray(m.groups)
    if name == "speechocean762":
        m = pd.read_csv(DATA / name / "manifest.csv")
        return [str(DATA / name / p) for p in m.path], m, m.speaker.astype(str).to_numpy()
    raise ValueError(f"unknown set {name!r}")


def features(name, paths, cache, refresh=False, n_jobs=1):
    """The feature union's columns (with the speaker embedding) for each clip, cached."""
    path = Path(cache) / f"{name}.pkl"
    if path.exists() and not refresh:
        F = pd.read_pickle(path)
        if len(F) == len(paths):
            return F
    from sklearn.pipeline import Pipeline

    from sklaudio.experiment import make_age_gender_pipeline

    pipe = make_age_gender_pipeline(embedding=True, n_jobs=n_jobs)
    steps = Pipeline(pipe.steps[:4])  # load, denoise, trim, features: nothing learned
    start = time.perf_counter()
    F = steps.fit_transform(paths)
    print(f"{name}: features of {len(paths)} clips in {time.perf_counter() - start:.0f} s")
    F = pd.DataFrame(F).reset_index(drop=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    F.to_pickle(path)
    return F


# ---------------------------------------------------------------------------------
# models
# ---------------------------------------------------------------------------------

C_GRID = np.logspace(-3, 1, 5)
ALPHA_GRID = np.logspace(0, 4, 5)
SHRINK_GRID = [0.1, 0.3, 0.5, 0.7, 0.9]
SVR_C_GRID = np.logspace(-1, 2, 4)


def columns(F, which):
    emb = [c for c in F.columns if c.startswith("embedding__")]
    rest = [c for c in F.columns if not c.startswith("embedding__")]
    return {"features": rest, "embedding": emb, "both": rest + emb}[which]


def preprocess(which, standardise=True):
    """The default pipeline's scaling for its features (log of skewed columns, robust
    scaler); the embedding back to unit length (a mean of unit vectors is shorter),
    then standardised unless the model is LDA (whose shrinkage assumes the raw scale)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import Normalizer, RobustScaler, StandardScaler

    from sklaudio.tabular import LogFeatures

    feats = make_pipeline(LogFeatures(columns="auto"), RobustScaler())
    emb = make_pipeline(Normalizer(), StandardScaler()) if standardise else Normalizer()
    if which == "features":
        return feats
    if which == "embedding":
        return emb
    return ColumnTransformer([
        ("features", feats, lambda df: [c for c in df.columns if not c.startswith("embedding__")]),
        ("embedding", emb, lambda df: [c for c in df.columns if c.startswith("embedding__")]),
    ])


def model(kind, which, categories, n_classes):
    """(pipeline, inner grid) of one model kind; every classifier is class-balanced."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import Pipeline
    from sklearn.svm import SVR

    from sklaudio.experiment._age import OrdinalBucketRegressor

    logistic = LogisticRegression(max_iter=3000)
    ordinal = OrdinalBucketRegressor(regressor=Ridge(), categories=categories)
    lda = LinearDiscriminantAnalysis(solver="lsqr", priors=np.full(n_classes, 1 / n_classes))
    if kind == "logistic":
        return Pipeline([("prep", preprocess(which)), ("clf", logistic)]), {"clf__C": C_GRID}
    if kind == "ordinal":
        return (Pipeline([("prep", preprocess(which)), ("clf", ordinal)]),
                {"clf__regressor__alpha": ALPHA_GRID})
    if kind == "lda":
        return (Pipeline([("prep", preprocess(which, standardise=False)), ("clf", lda)]),
                {"clf__shrinkage": SHRINK_GRID})
    if kind == "choice":  # the inner CV chooses among the three
        return (Pipeline([("prep", preprocess(which)), ("clf", logistic)]),
                [{"clf": [logistic], "clf__C": C_GRID},
                 {"clf": [ordinal], "clf__regressor__alpha": ALPHA_GRID},
                 {"prep": [preprocess(which, standardise=False)], "clf": [lda],
                  "clf__shrinkage": SHRINK_GRID}])
    if kind == "svr":
        return (Pipeline([("prep", preprocess(which)), ("clf", SVR(epsilon=0.5))]),
                {"clf__C": SVR_C_GRID})
    raise ValueError(kind)


def balanced_weights(y):
    """Row weights giving each class the same total (rows are speakers here)."""
    y = pd.Series(np.asarray(y, dtype=object))
    return (len(y) / (y.nunique() * y.map(y.value_counts()))).to_numpy()


def speaker_pool(values, groups):
    """Mean of each speaker's rows, broadcast back to the rows."""
    df = pd.DataFrame(np.asarray(values, dtype=float))
    return df.groupby(np.asarray(groups)).transform("mean").to_numpy().squeeze()


def first_per_speaker(groups):
    return pd.Series(np.asarray(groups)).drop_duplicates().index.to_numpy()


def nested_cv(F, y, groups, kind, which, seed, categories, pool_train):
    """Held-out predictions: of each clip alone, and of its speaker's mean features
    (speaker-grouped outer folds; the grid tuned on speaker-grouped inner folds)."""
    from sklearn.model_selection import GridSearchCV, GroupKFold, StratifiedGroupKFold

    regression = kind == "svr"
    X = F[columns(F, which)].reset_index(drop=True)
    y = np.asarray(y)
    outer = (GroupKFold(5, shuffle=True, random_state=seed) if regression
             else StratifiedGroupKFold(5, shuffle=True, random_state=seed))
    pred = np.empty(len(y), dtype=float if regression else object)
    pred_pooled = pred.copy()
    for train, test in outer.split(X, y, groups):
        Xt, yt, gt = X.iloc[train], y[train], groups[train]
        if pool_train:  # one row per speaker: the mean of their clips
            first = first_per_speaker(gt)
            Xt = pd.DataFrame(speaker_pool(Xt, gt), columns=X.columns).iloc[first]
            yt, gt = yt[first], gt[first]
        pipe, grid = model(kind, which, categories, len(np.unique(yt)))
        inner = (GroupKFold(3, shuffle=True, random_state=seed) if regression
                 else StratifiedGroupKFold(3, shuffle=True, random_state=seed))
        # LDA's priors balance the classes; the others get class-balanced row weights
        # (speakers weigh alike within a class when the rows are speakers)
        fit_params = {}
        if not regression and kind in ("logistic", "ordinal"):
            fit_params["clf__sample_weight"] = balanced_weights(yt)
        if kind == "choice":
            pipe.set_params(clf__class_weight="balanced")
            grid[1]["clf"] = [grid[1]["clf"][0].set_params(class_weight="balanced")]
        search = GridSearchCV(pipe, grid, cv=inner, n_jobs=1,
                              scoring="neg_mean_absolute_error" if regression
                              else "balanced_accuracy")
        search.fit(Xt, yt, groups=gt, **fit_params)
        Xs, gs = X.iloc[test], groups[test]
        pred[test] = search.predict(Xs)
        pred_pooled[test] = search.predict(
            pd.DataFrame(speaker_pool(Xs, gs), columns=X.columns))
    return pred, pred_pooled


SCORINGS = ("clip", "pooled", "speaker")  # clip alone; speaker's answer per clip; per speaker


def scores(y, pred, pred_pooled, groups, metric_names, categories, seed):
    """{metric: {scoring: permutation_test result}}."""
    from sklaudio.model_selection import permutation_test

    first = first_per_speaker(groups)
    y = np.asarray(y)
    out = {}
    for name in metric_names:
        kw = dict(metric=name, categories=categories, n_permutations=1000, random_state=seed)
        out[name] = {
            "clip": permutation_test(y, pred, groups=groups, **kw),
            "pooled": permutation_test(y, pred_pooled, groups=groups, **kw),
            "speaker": permutation_test(y[first], pred_pooled[first], **kw),
        }
    return out


ABBREV = {"balanced_accuracy": "BA", "mean_absolute_bucket_error": "MABE",
          "mean_absolute_error": "MAE", "accuracy": "acc"}


def run_target(F, y, groups, *, kinds, whichs, seeds, categories, metric_names, pool_options,
               title, to_buckets=None):
    from sklaudio.model_selection import chance_level

    print(f"\n== {title}: {len(y)} clips, {len(np.unique(groups))} speakers; columns: "
          "clip = each clip alone, pooled = its speaker's answer (from the mean of the "
          "speaker's features) scored per clip, speaker = one row per speaker")
    first = first_per_speaker(groups)
    names = list(metric_names)
    if to_buckets is not None:
        names += ["balanced_accuracy", "mean_absolute_bucket_error"]
    for name in names:
        yy, cats = (to_buckets(y) if name != "mean_absolute_error" and to_buckets is not None
                    else (y, categories))
        print(f"   chance {ABBREV[name]}: per clip {chance_level(yy, name, categories=cats):.3f}"
              f", per speaker "
              f"{chance_level(np.asarray(yy)[first], name, categories=cats):.3f}")
    for which in whichs:
        for kind in kinds:
            for pool in pool_options:
                start = time.perf_counter()
                per_seed = []
                for seed in seeds:
                    pred, pooled = nested_cv(F, y, groups, kind, which, seed, categories, pool)
                    res = scores(y, pred, pooled, groups, metric_names, categories, seed)
                    if to_buckets is not None:  # years rounded and bucketed
                        yb, cats = to_buckets(y)
                        res.update(scores(yb, to_buckets(pred)[0], to_buckets(pooled)[0],
                                          groups, ["balanced_accuracy",
                                                   "mean_absolute_bucket_error"], cats, seed))
                    per_seed.append(res)
                train = "speaker means" if pool else "clips"
                print(f"  {which} + {kind}, trained on {train} "
                      f"[{time.perf_counter() - start:.0f} s]")
                print_seeds(per_seed)


def experiment_run(F, paths, labels, groups, target, seed, age_scheme, n_C, pool):
    """run_experiment on the cached features: its report and its clips table (each
    clip's label as the experiment used it, its own answer and its speaker's)."""
    import tempfile

    from sklaudio.experiment import run_experiment

    with tempfile.TemporaryDirectory() as out:
        report = run_experiment(paths, labels, groups=groups, targets=[target], features=F,
                                age_scheme=age_scheme, random_state=seed, out_dir=out,
                                n_C=n_C, pool_speakers=pool, log=lambda *a: None)
        clips = pd.read_csv(Path(out) / "clips.csv", dtype={"speaker": str})
    return report["targets"][target], clips


def chosen_model(res):
    """The final model's kind and columns, from the best grid point."""
    p = res["best_params"]
    clf = p.get("clf", "the default model")
    clf = clf.split("(")[0] if isinstance(clf, str) else clf
    folds = res.get("trained_on_per_outer_fold", [])
    means = sum(t.startswith("one row per speaker") for t in folds)
    return (f"{clf} on {p.get('select__pattern') or 'all columns'}, trained on "
            f"{'speaker means' if res['trained_on'].startswith('one row') else 'clips'} "
            f"(speaker means in {means}/{len(folds)} outer folds)")


def run_experiment_target(F, paths, labels, groups, *, target, seeds, age_scheme, title, n_C,
                          pool="auto", original=None, original_categories=None, to_buckets=None):
    """The library's experiment (its grid, inner-CV choice, speaker pooling and class
    merging), scored with the same three scorings as the models above; with
    ``original`` (labels before the experiment merged rare classes), also scored
    against them, a merged answer counting as its first (younger) class."""
    from sklaudio.model_selection import chance_level

    train = {True: "speaker means", False: "clips", "auto": "clips or speaker means, as the "
             "inner CV chooses"}[pool]
    print(f"\n== {title}: sklaudio.experiment.run_experiment (n_C={n_C}; inner CV chooses "
          f"the model; classes trained on {train})", flush=True)
    start = time.perf_counter()
    per_seed, per_seed_orig, chosen = [], [], []
    for seed in seeds:
        res, clips = experiment_run(F, paths, labels, groups, target, seed, age_scheme, n_C,
                                    pool)
        chosen.append(chosen_model(res))
        used = clips[f"{target}_true"].notna().to_numpy()
        y = clips.loc[used, f"{target}_true"].to_numpy()
        g = np.asarray(groups)[used]
        pred = clips.loc[used, f"{target}_pred"].to_numpy()
        pooled = clips.loc[used, f"{target}_pred_per_speaker"].to_numpy()
        if res["task"] == "regression":
            y, pred, pooled = (v.astype(float) for v in (y, pred, pooled))
            r = scores(y, pred, pooled, g, ["mean_absolute_error"], None, seed)
            if to_buckets is not None:
                yb, cats = to_buckets(y)
                r.update(scores(yb, to_buckets(pred)[0], to_buckets(pooled)[0], g,
                                ["balanced_accuracy", "mean_absolute_bucket_error"], cats,
                                seed))
        else:
            cats = res["labels"]
            names = ["balanced_accuracy"] + (["mean_absolute_bucket_error"]
                                             if "mean_absolute_bucket_error" in res else [])
            r = scores(y, pred, pooled, g, names, cats, seed)
            if original is not None and res.get("classes_merged"):
                first = {m: c for c, m in reversed(list(res["classes_merged"].items()))}
                back = np.vectorize(lambda v: first.get(v, v), otypes=[object])
                per_seed_orig.append(scores(np.asarray(original)[used], back(pred),
                                            back(pooled), g, names, original_categories,
                                            seed))
        per_seed.append(r)
    first = first_per_speaker(g)
    for name in per_seed[0]:
        yy, cats = ((to_buckets(y) if name != "mean_absolute_error" and to_buckets else (y, None))
                    if res["task"] == "regression" else (y, res["labels"]))
        print(f"   chance {ABBREV[name]}: per clip {chance_level(yy, name, categories=cats):.3f}"
              f", per speaker "
              f"{chance_level(np.asarray(yy)[first], name, categories=cats):.3f}")
    print(f"  classes: {' / '.join(res['labels']) if 'labels' in res else 'years'}"
          + (f" (merged: {res['classes_merged']})" if res.get("classes_merged") else "")
          + f"; chosen (final model, per seed): {'; '.join(chosen)} "
          f"[{time.perf_counter() - start:.0f} s]")
    print_seeds(per_seed)
    if per_seed_orig:
        n_orig = len(set(np.asarray(original)[used]))
        print(f"  scored on the {n_orig} original classes, a merged answer counting as its "
              f"younger class (chance BA {1 / n_orig:.3f}):")
        print_seeds(per_seed_orig)


def print_seeds(per_seed):
    for name in per_seed[0]:
        parts = []
        for where in SCORINGS:
            vals = [r[name][where].score for r in per_seed]
            ps = [r[name][where].p_value for r in per_seed]
            parts.append(f"{where} {np.mean(vals):.3f} "
                         f"({' / '.join(f'{v:.3f}' for v in vals)}; p<={max(ps):.3f})")
        print(f"    {ABBREV[name]:4s} " + "   ".join(parts), flush=True)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=["commonvoice-en", "speechocean762"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--cache", default="/tmp/sklaudio_bench_age")
    parser.add_argument("--refresh", action="store_true")
    parser.add_argument("--extract-only", action="store_true")
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--kinds", nargs="+",
                        default=["experiment", "logistic", "ordinal", "lda", "choice"],
                        help="'experiment' runs sklaudio's run_experiment on the cached "
                             "features (its grid, inner-CV choice, pooling, class merging); "
                             "the others are this script's single models")
    parser.add_argument("--which", nargs="+", default=["features", "embedding", "both"])
    parser.add_argument("--pool", nargs="+", default=["pooled"],
                        help="train on speaker means ('pooled') and/or on clips ('clips')")
    parser.add_argument("--experiment-pool", choices=["auto", "yes", "no"], default="auto",
                        help="the experiment's pool_speakers: train classes on speaker means "
                             "(yes), on clips (no), or let its inner CV choose (auto, its "
                             "default)")
    parser.add_argument("--n-C", type=int, default=10,
                        help="regularisation values in the experiment's grid (its default: 10)")
    parser.add_argument("--targets", nargs="+", default=["age", "gender", "age_years"])
    parser.add_argument("--fake", action="store_true", help="random features (code check)")
    return parser.parse_args(argv)


def run_commonvoice(name, F, labels, groups, args, common, xp):
    from sklaudio.datasets import COMMON_VOICE_AGES

    own = [k for k in args.kinds if k != "experiment"]
    exp = "experiment" in args.kinds
    if "age" in args.targets:
        y = labels["age"].astype(object).to_numpy()
        if exp:
            run_experiment_target(F, target="age", age_scheme="common_voice",
                                  title=f"{name} age (Common Voice buckets)", original=y,
                                  original_categories=list(COMMON_VOICE_AGES), **xp)
        if own:
            run_target(F, y, groups, kinds=own, categories=list(COMMON_VOICE_AGES),
                       metric_names=["balanced_accuracy", "mean_absolute_bucket_error"],
                       title=f"{name} age (Common Voice buckets)", **common)
    if "gender" in args.targets:
        if exp:
            run_experiment_target(F, target="gender", age_scheme="common_voice",
                                  title=f"{name} gender", **xp)
        keep = labels["gender"].isin(["female", "male"]).to_numpy()
        gender_kinds = [k for k in own if k in ("logistic", "lda")]
        if gender_kinds:
            run_target(F[keep].reset_index(drop=True),
                       labels["gender"].astype(object).to_numpy()[keep], groups[keep],
                       kinds=gender_kinds, categories=None,
                       metric_names=["balanced_accuracy"], title=f"{name} gender", **common)


def run_speechocean(name, F, labels, groups, args, common, xp):
    from sklaudio.datasets import bucket_ages

    own = [k for k in args.kinds if k != "experiment"]
    exp = "experiment" in args.kinds
    scheme = "child-teen-adult"
    cats = ["child", "teen", "adult"]

    def to_buckets(v):
        v = np.clip(np.rint(np.asarray(v, dtype=float)), 0, None)
        return np.asarray(bucket_ages(v, scheme=scheme), dtype=object), cats

    if "gender" in args.targets and exp:
        run_experiment_target(F, target="gender", age_scheme=scheme, title=f"{name} gender",
                              **xp)
    if "age" in args.targets:
        if exp:
            run_experiment_target(F, target="age", age_scheme=scheme,
                                  title=f"{name} age group ({scheme})", **xp)
        if own:
            y = np.asarray(bucket_ages(labels["age"], scheme=scheme), dtype=object)
            run_target(F, y, groups, kinds=own, categories=cats,
                       metric_names=["balanced_accuracy", "mean_absolute_bucket_error"],
                       title=f"{name} age group ({scheme})", **common)
    if "age_years" in args.targets:
        if exp:
            run_experiment_target(F, target="age_years", age_scheme=scheme,
                                  title=f"{name} age in years (then bucketed)",
                                  to_buckets=to_buckets, **xp)
        if "svr" in own or (own and not exp):
            run_target(F, labels["age"].to_numpy(dtype=float), groups, kinds=["svr"],
                       categories=None, metric_names=["mean_absolute_error"],
                       title=f"{name} age in years (then bucketed)", to_buckets=to_buckets,
                       **{**common, "pool_options": [False, True]})


def main(argv=None):
    import warnings

    # the bench's own models keep tiny classes (3 speakers in their sixties), which makes
    # scikit-learn warn at every split; the experiment merges them and says so
    warnings.filterwarnings("ignore", category=UserWarning, module="sklearn")
    args = parse_args(argv)
    common = dict(whichs=args.which, seeds=args.seeds,
                  pool_options=[p == "pooled" for p in args.pool])
    print(f"load average {os.getloadavg()[0]:.1f}; seeds {args.seeds}; p = the largest "
          "p-value over the seeds (1000 speaker-grouped permutations)")
    for name in args.sets:
        paths, labels, groups = load_set(name)
        if args.fake:
            rng = np.random.default_rng(0)
            F = pd.DataFrame(rng.normal(size=(len(paths), 40)),
                             columns=[f"mel__m{i}" for i in range(10)]
                             + [f"f0__f{i}" for i in range(10)]
                             + [f"embedding__embedding_{i:03d}" for i in range(20)])
        else:
            F = features(name, paths, args.cache, args.refresh, args.n_jobs)
        if args.extract_only:
            continue
        xp = dict(paths=paths, labels=labels, groups=groups, seeds=args.seeds, n_C=args.n_C,
                  pool={"auto": "auto", "yes": True, "no": False}[args.experiment_pool])
        run = run_commonvoice if name == "commonvoice-en" else run_speechocean
        run(name, F, labels, groups, args, common, xp)


if __name__ == "__main__":
    main()
