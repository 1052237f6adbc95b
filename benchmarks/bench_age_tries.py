"""Every model tried for Common Voice age groups, each chosen by an inner CV, with its
outer score per seed; and a learning curve (score against number of training speakers).

Run from the project root after ``benchmarks/bench_age.py --extract-only`` has cached
the features::

    .venv/bin/python benchmarks/bench_age_tries.py                  # the table, 3 seeds
    .venv/bin/python benchmarks/bench_age_tries.py --only --curve   # learning curve only

Data: commonvoice-en's labelled clips, 99 speakers; "sixties" (3 speakers) merged with
"fifties", as ``run_experiment`` does, so 5 ordered buckets. Protocol: the outer split
is a stratified 5-fold split of the *speakers* (each speaker's clips stay together);
inside, a stratified 5-fold split of the training speakers chooses each model's
settings on balanced accuracy. Unless a row says "clips", models train on one row per
speaker (the mean of its clips' features; the embedding brought back to unit length),
so each speaker counts once. Scores: ``speaker`` = one answer per held-out speaker
(the model on the mean of its clips), ``clip`` = each held-out clip answered alone.
BA = balanced accuracy, MABE = mean absolute bucket error (buckets apart); p = the
largest over the seeds of a 1000-shuffle permutation test of the per-speaker BA.
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import LogisticRegression, Ridge, RidgeClassifier
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier, NearestCentroid
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import Normalizer, RobustScaler, StandardScaler
from sklearn.svm import SVC

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

CATS = ["teens", "twenties", "thirties", "forties", "fifties-sixties"]
C_GRID = list(np.logspace(-3, 1, 5))


# ---------------------------------------------------------------------------------
# ordinal models
# ---------------------------------------------------------------------------------

class RidgeCuts(ClassifierMixin, BaseEstimator):
    """Ridge on bucket positions 0..K-1 (rows weighted so each bucket weighs alike);
    cut points between buckets chosen on out-of-fold values of the training rows to
    maximise balanced accuracy (``cuts="tuned"``) or halfway (``"mid"``)."""

    def __init__(self, alpha=1.0, cuts="tuned"):
        self.alpha = alpha
        self.cuts = cuts

    def _ridge(self, X, pos):
        w = len(pos) / (len(self.classes_) * np.bincount(pos)[pos])
        return Ridge(alpha=self.alpha).fit(X, pos, sample_weight=w)

    def fit(self, X, y):
        y = np.asarray(y)
        self.classes_ = np.array([c for c in CATS if c in set(y)], dtype=object)
        pos = np.array([list(self.classes_).index(v) for v in y])
        self.ridge_ = self._ridge(X, pos)
        k = len(self.classes_)
        self.cuts_ = np.arange(k - 1) + 0.5
        if self.cuts == "tuned":
            oof = np.empty(len(y))
            for tr, te in StratifiedKFold(4, shuffle=True, random_state=0).split(X, pos):
                oof[te] = self._ridge(X[tr], pos[tr]).predict(X[te])
            self.cuts_ = _best_cuts(oof, pos, k, self.cuts_)
        return self

    def predict(self, X):
        return self.classes_[np.searchsorted(self.cuts_, self.ridge_.predict(X))]


def _best_cuts(values, pos, k, cuts):
    """Coordinate ascent on increasing cut points, balanced accuracy of ``values``."""
    cand = np.sort(values)
    cand = (cand[1:] + cand[:-1]) / 2
    best = balanced_accuracy_score(pos, np.searchsorted(cuts, values))
    for _ in range(3):
        for j in range(k - 1):
            lo = cuts[j - 1] if j else -np.inf
            hi = cuts[j + 1] if j < k - 2 else np.inf
            for c in cand[(cand > lo) & (cand < hi)]:
                trial = cuts.copy()
                trial[j] = c
                s = balanced_accuracy_score(pos, np.searchsorted(trial, values))
                if s > best + 1e-12:
                    best, cuts = s, trial
    return cuts


class CumulativeLogit(ClassifierMixin, BaseEstimator):
    """Proportional-odds (cumulative logit) model with an L2 penalty ``1 / (2C) |w|^2``,
    rows weighted so that each bucket weighs alike: P(y <= k) = sigmoid(t_k - w.x)."""

    def __init__(self, C=1.0):
        self.C = C

    def fit(self, X, y):
        y = np.asarray(y)
        self.classes_ = np.array([c for c in CATS if c in set(y)], dtype=object)
        pos = np.array([list(self.classes_).index(v) for v in y])
        k, d = len(self.classes_), X.shape[1]
        sw = len(pos) / (k * np.bincount(pos)[pos])

        def f(params):
            w, t0, inc = params[:d], params[d], params[d + 1:]
            t = np.r_[-np.inf, t0 + np.r_[0, np.cumsum(np.exp(inc))], np.inf]
            eta = X @ w
            a, b = t[pos + 1] - eta, t[pos] - eta
            sa, sb = expit(a), expit(b)
            p = np.clip(sa - sb, 1e-12, None)
            da, db = sa * (1 - sa), sb * (1 - sb)  # sigma' (0 at +-inf)
            loss = -(sw * np.log(p)).sum() + (w @ w) / (2 * self.C)
            g_eta = sw * (da - db) / p  # d(-log p)/d eta
            grad_w = X.T @ g_eta + w / self.C
            # d(-log p)/d t_j for the finite thresholds j = 0..k-2
            g_t = np.zeros(k - 1)
            np.add.at(g_t, pos[pos < k - 1], -(sw * da / p)[pos < k - 1])
            np.add.at(g_t, pos[pos > 0] - 1, (sw * db / p)[pos > 0])
            # t_j = t0 + sum_{i<j} exp(inc_i)
            g_t0 = g_t.sum()
            g_inc = np.array([g_t[i + 1:].sum() * np.exp(inc[i]) for i in range(k - 2)])
            return loss, np.r_[grad_w, g_t0, g_inc]

        x0 = np.r_[np.zeros(d), -(k - 2) / 2, np.zeros(k - 2)]
        res = minimize(f, x0, jac=True, method="L-BFGS-B", options={"maxiter": 500})
        self.coef_ = res.x[:d]
        self.thresholds_ = res.x[d] + np.r_[0, np.cumsum(np.exp(res.x[d + 1:]))]
        return self

    def predict_proba(self, X):
        eta = X @ self.coef_
        cdf = expit(self.thresholds_[None, :] - eta[:, None])
        cdf = np.c_[np.zeros(len(eta)), cdf, np.ones(len(eta))]
        return np.diff(cdf, axis=1)

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


# ---------------------------------------------------------------------------------
# tries: (name, columns, preprocessing, model, grid)
# ---------------------------------------------------------------------------------

def unit_std():
    return make_pipeline(Normalizer(), StandardScaler())


def tries():
    bal = dict(class_weight="balanced")
    lda = LinearDiscriminantAnalysis(solver="lsqr", priors=np.full(5, 0.2))
    out = [
        ("logistic", "emb", unit_std(), LogisticRegression(max_iter=5000, **bal),
         {"C": C_GRID}),
        ("LDA, shrinkage grid", "emb", Normalizer(), lda,
         {"shrinkage": [0.1, 0.3, 0.5, 0.7, 0.9]}),
        ("LDA, Ledoit-Wolf shrinkage", "emb", Normalizer(),
         clone(lda).set_params(shrinkage="auto"), {}),
        ("ridge classifier", "emb", unit_std(), RidgeClassifier(**bal),
         {"alpha": list(np.logspace(0, 4, 5))}),
        ("ordinal: ridge, halfway cuts", "emb", unit_std(), RidgeCuts(cuts="mid"),
         {"alpha": list(np.logspace(0, 4, 5))}),
        ("ordinal: ridge, cuts tuned for BA", "emb", unit_std(), RidgeCuts(),
         {"alpha": list(np.logspace(0, 4, 5))}),
        ("ordinal: cumulative logit", "emb", unit_std(), CumulativeLogit(),
         {"C": C_GRID}),
        ("nearest class mean (cosine)", "emb", Normalizer(), NearestCentroid(),
         {"shrink_threshold": [None, 0.2, 0.5, 1.0]}),
        ("kNN cosine", "emb", Normalizer(),
         KNeighborsClassifier(metric="cosine", weights="distance"),
         {"n_neighbors": [1, 3, 5, 9, 15]}),
        ("linear SVM", "emb", unit_std(), SVC(kernel="linear", **bal),
         {"C": list(np.logspace(-4, 0, 5))}),
        ("RBF SVM", "emb", unit_std(), SVC(kernel="rbf", **bal),
         {"C": list(np.logspace(-1, 2, 4)), "gamma": ["scale", 1e-3]}),
        # the inner CV chooses among the model families above (never the outer scores)
        ("inner-CV choice: logistic / LDA / ordinal ridge / cumulative logit / nearest "
         "mean", "emb", unit_std(), LogisticRegression(max_iter=5000, **bal),
         [{"model": [LogisticRegression(max_iter=5000, **bal)], "model__C": C_GRID},
          {"prep": [Normalizer()], "model": [clone(lda).set_params(shrinkage="auto")]},
          {"model": [RidgeCuts(cuts="mid")], "model__alpha": list(np.logspace(0, 4, 5))},
          {"model": [CumulativeLogit()], "model__C": list(np.logspace(-3, -1, 3))},
          {"prep": [Normalizer()], "model": [NearestCentroid()],
           "model__shrink_threshold": [None, 0.2, 0.5, 1.0]}]),
        ("logistic", "emb+voice", None, LogisticRegression(max_iter=5000, **bal),
         {"C": C_GRID}),
        ("LDA, shrinkage grid", "emb+voice", None, lda,
         {"shrinkage": [0.1, 0.3, 0.5, 0.7, 0.9]}),
        ("ordinal: ridge, cuts tuned for BA", "emb+voice", None, RidgeCuts(),
         {"alpha": list(np.logspace(0, 4, 5))}),
        ("logistic", "voice", None, LogisticRegression(max_iter=5000, **bal),
         {"C": C_GRID}),
        ("logistic", "features", None, LogisticRegression(max_iter=5000, **bal),
         {"C": C_GRID}),
    ]
    return out


# ---------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------

def load(cache):
    from bench_age import load_set

    _, labels, groups = load_set("commonvoice-en")
    F = pd.read_pickle(Path(cache) / "commonvoice-en.pkl")
    y = labels["age"].astype(str).replace({"fifties": "fifties-sixties",
                                           "sixties": "fifties-sixties"}).to_numpy()
    emb = [c for c in F.columns if c.startswith("embedding__")]
    voice = [c for c in F.columns if c.startswith(("f0__", "formants__"))]
    rest = [c for c in F.columns if c not in emb]
    codes, speakers = pd.factorize(pd.Series(groups))
    return dict(F=F, y=y, codes=codes, n_spk=len(speakers), emb=emb, voice=voice, rest=rest,
                gender=labels["gender"].astype(str).to_numpy())


def matrix(D, which, rows, pooled):
    """Clip or speaker-mean rows of a column set (speaker means when ``pooled``;
    ``rows`` are clip indices, or speaker codes when pooled)."""
    F, codes = D["F"], D["codes"]
    if pooled:
        F = F.groupby(codes, sort=True).mean()
    cols = {"emb": D["emb"], "emb+voice": D["emb"] + D["voice"], "voice": D["voice"],
            "features": D["rest"]}[which]
    X = F[cols].to_numpy()[rows]
    if which == "voice" or which == "features":
        return X
    if which == "emb+voice":  # unit-length embedding; voice columns left to the scaler
        e = X[:, : len(D["emb"])]
        return np.c_[e / np.linalg.norm(e, axis=1, keepdims=True), X[:, len(D["emb"]):]]
    return X


def prep_for(which, prep):
    if prep is not None:
        return clone(prep)
    from sklearn.compose import ColumnTransformer

    from sklaudio.tabular import LogFeatures

    if which == "emb+voice":
        return ColumnTransformer([("e", StandardScaler(), slice(0, 256)),
                                  ("v", make_pipeline(RobustScaler(), StandardScaler()),
                                   slice(256, None))])
    return make_pipeline(LogFeatures(columns="auto"), RobustScaler(), StandardScaler())


# ---------------------------------------------------------------------------------
# protocol
# ---------------------------------------------------------------------------------

def speaker_labels(D):
    return pd.Series(D["y"]).groupby(D["codes"]).agg(lambda v: v.value_counts().index[0]
                                                     ).to_numpy()


def run_try(D, which, prep, model, grid, seed, on="speakers", fraction=1.0):
    """Outer 5-fold over speakers; per-speaker and per-clip held-out answers."""
    y_s = speaker_labels(D)
    X_s = matrix(D, which, np.arange(D["n_spk"]), pooled=True)
    X_c = matrix(D, which, np.arange(len(D["y"])), pooled=False)
    pred_s = np.empty(len(y_s), dtype=object)
    pred_c = np.empty(len(D["y"]), dtype=object)
    pipe = Pipeline([("prep", prep_for(which, prep)), ("model", clone(model))])
    name = "model"
    if isinstance(grid, dict):
        grid = {f"{name}__{k}": v for k, v in grid.items()}
    rng = np.random.default_rng(seed)
    outer = StratifiedKFold(5, shuffle=True, random_state=seed)
    for train, test in outer.split(X_s, y_s):
        if fraction < 1:  # learning curve: a stratified share of the training speakers
            keep = [rng.choice(idx, max(2, int(round(fraction * len(idx)))), replace=False)
                    for c in np.unique(y_s[train]) for idx in [train[y_s[train] == c]]]
            train = np.sort(np.concatenate(keep))
        inner = StratifiedKFold(5 if fraction >= 0.5 else 2, shuffle=True, random_state=seed)
        if on == "speakers":
            search = GridSearchCV(pipe, grid, cv=inner, scoring="balanced_accuracy")
            search.fit(X_s[train], y_s[train]) if grid else None
            best = search.best_estimator_ if grid else clone(pipe).fit(X_s[train], y_s[train])
        else:  # clips, each speaker's clips weighing 1 in all, folds of speakers
            clip_idx = np.flatnonzero(np.isin(D["codes"], train))
            cc = D["codes"][clip_idx]
            folds = [(np.flatnonzero(np.isin(cc, train[a])), np.flatnonzero(np.isin(cc, train[b])))
                     for a, b in inner.split(train, y_s[train])]
            w = 1.0 / np.bincount(cc)[cc]
            yc = D["y"][clip_idx]
            cw = pd.Series(w).groupby(yc).transform("sum").to_numpy()
            search = GridSearchCV(pipe, grid, cv=folds, scoring="balanced_accuracy")
            search.fit(X_c[clip_idx], yc, **{f"{name}__sample_weight": w / cw})
            best = search.best_estimator_
        if hasattr(best, "predict_proba") and on == "clips":
            proba = best.predict_proba(X_c[np.isin(D["codes"], test)])
            cc = D["codes"][np.isin(D["codes"], test)]
            mean = pd.DataFrame(proba).groupby(cc).mean()
            pred_s[mean.index.to_numpy()] = best.classes_[mean.to_numpy().argmax(axis=1)]
        else:
            pred_s[test] = best.predict(X_s[test])
        mask = np.isin(D["codes"], test)
        pred_c[mask] = best.predict(X_c[mask])
    return y_s, pred_s, pred_c


def scores(D, y_s, pred_s, pred_c, seed):
    from sklaudio.datasets import mean_absolute_bucket_error as mabe
    from sklaudio.model_selection import permutation_test

    return dict(
        ba_s=balanced_accuracy_score(y_s, pred_s),
        mabe_s=mabe(y_s, pred_s, categories=CATS),
        ba_c=balanced_accuracy_score(D["y"], pred_c),
        mabe_c=mabe(D["y"], pred_c, categories=CATS),
        p_s=permutation_test(y_s, pred_s, n_permutations=1000, random_state=seed).p_value)


def fmt(vals):
    return f"{np.mean(vals):.3f} ({' / '.join(f'{v:.3f}' for v in vals)})"


def main(argv=None):
    warnings.filterwarnings("ignore")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", default="/tmp/sklaudio_bench_age")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--only", nargs="*", help="indices of the tries to run (none: --only "
                    "alone, e.g. with --curve)")
    ap.add_argument("--clips", action="store_true", help="also the clip-trained logistic")
    ap.add_argument("--curve", action="store_true", help="learning curve of --curve-try")
    ap.add_argument("--curve-try", type=int, default=2)
    ap.add_argument("--curve-seeds", type=int, default=10)
    args = ap.parse_args(argv)
    from sklaudio.model_selection import chance_level

    D = load(args.cache)
    y_s = speaker_labels(D)
    print("speakers per bucket:", dict(pd.Series(y_s).value_counts()[CATS]))
    print(f"chance: per speaker BA {chance_level(y_s):.3f}, MABE "
          f"{chance_level(y_s, 'mean_absolute_bucket_error', categories=CATS):.3f}; per clip "
          f"BA {chance_level(D['y']):.3f}, MABE "
          f"{chance_level(D['y'], 'mean_absolute_bucket_error', categories=CATS):.3f}")
    print("| # | model | columns | trained on | BA per speaker (seeds) | MABE per speaker | "
          "BA per clip | MABE per clip | p | CPU s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    T = tries()
    rows = [(i, *t, "speakers") for i, t in enumerate(T)]
    if args.clips:
        rows.append((len(T), "logistic", "emb", unit_std(),
                     LogisticRegression(max_iter=3000, class_weight="balanced"),
                     {"C": C_GRID}, "clips"))
    for i, name, which, prep, model, grid, on in rows:
        if args.only is not None and str(i) not in args.only:
            continue
        start = time.process_time()
        res = [scores(D, *run_try(D, which, prep, model, grid, s, on=on), s)
               for s in args.seeds]
        r = {k: [x[k] for x in res] for k in res[0]}
        print(f"| {i} | {name} | {which} | {on} | {fmt(r['ba_s'])} | {fmt(r['mabe_s'])} | "
              f"{fmt(r['ba_c'])} | {fmt(r['mabe_c'])} | {max(r['p_s']):.3f} | "
              f"{time.process_time() - start:.0f} |", flush=True)
    if args.curve:
        name, which, prep, model, grid = T[args.curve_try]
        print(f"\nlearning curve: {name} on {which}, per-speaker BA over "
              f"{args.curve_seeds} seeds (mean +- sd); training speakers per outer fold")
        for frac in (0.25, 0.5, 0.75, 1.0):
            vals = []
            for s in range(args.curve_seeds):
                y_s2, p_s, _ = run_try(D, which, prep, model, grid, 100 + s, fraction=frac)
                vals.append(balanced_accuracy_score(y_s2, p_s))
            print(f"  {frac:.2f} of ~{int(0.8 * D['n_spk'])} speakers: "
                  f"{np.mean(vals):.3f} +- {np.std(vals):.3f}", flush=True)


if __name__ == "__main__":
    main()
