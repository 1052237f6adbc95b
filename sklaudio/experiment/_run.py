"""The age/gender experiment end to end: data -> nested, speaker-grouped CV -> report.

A thin application over the library: the targets and age scheme are checked by
:func:`check_experiment` before any audio is read, features come from the pipeline's
stateless steps once, the grid search is
:func:`~sklaudio.model_selection.search_with_cached_features`, and what is printed and
written lives in ``_report.py``.
"""

import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import get_scorer
from sklearn.model_selection import (
    GroupKFold,
    KFold,
    ParameterGrid,
    StratifiedGroupKFold,
    StratifiedKFold,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import QuantileTransformer

from sklaudio.datasets import bucket_ages
from sklaudio.experiment._pipeline import (
    FEATURE_STEPS,
    age_gender_param_grid,
    make_age_gender_pipeline,
)
from sklaudio.experiment._report import (
    against_chance,
    grid_record,
    log_result,
    run_record,
    score,
    top_grid_points,
    write_report,
)
from sklaudio.experiment._targets import check_experiment, make_target
from sklaudio.model_selection import search_with_cached_features, speaker_mean

__all__ = ["run_experiment"]


def run_experiment(paths, labels, *, groups=None, targets=("gender", "age"),
                   age_scheme="common_voice", sr=16000, denoise=True, embedding="auto",
                   pool_speakers="auto", n_splits=5, n_C=10, regressor="svr", features=None,
                   out_dir=None, n_jobs=None, verbose=0, random_state=0, log=print,
                   source=None):
    """Run the age/gender experiment: features once, nested speaker-grouped CV, report.

    For each target, the outer loop (``n_splits`` folds, stratified and grouped by
    speaker when ``groups`` is given) holds out speakers; on the other speakers an
    inner :func:`~sklaudio.model_selection.search_with_cached_features` tunes the
    grid; the held-out predictions of all folds give the scores and the confusion
    matrix, each clip predicted by a model that never saw its speaker. A final search
    on all clips gives the model that is saved. When speakers have several clips, the
    report also scores per-speaker answers (``"per_speaker"``): the mean held-out
    class probabilities (or years) over each speaker's clips. Rows a target cannot use
    (no label; for gender, values other than female and male) are left out of that
    target, and the report says how many.

    With the speaker encoder's columns (``embedding``), the inner search also chooses
    among models on the embedding alone (see :func:`age_gender_param_grid`). A class
    with too few speakers for every inner fold to hold one is merged with its
    neighbour (ordered age groups: "fifties-sixties") or left out (other targets),
    and the report says so.

    Parameters
    ----------
    paths : sequence of str
        Audio files (or loaded clips).
    labels : DataFrame
        Columns ``gender`` and ``age`` (years or Common Voice buckets) and/or
        ``age_group``, one row per clip.
    groups : array-like of shape (n_clips,), default=None
        Speaker of each clip.
    targets : sequence of {"gender", "age", "age_years"} or None, default=("gender", "age")
        What to predict. ``"age"`` is classification of age groups (``age_scheme``),
        ``"age_years"`` regression of years (mean absolute error). None chooses
        every one the labels allow.
    age_scheme : str or dict, default="common_voice"
        How years become groups (see :func:`~sklaudio.datasets.bucket_ages`), or
        ``"auto"`` (see :func:`choose_age_scheme`).
    sr : int, default=16000
        Rate the clips are loaded at.
    denoise : bool, default=True
        Keep the pipeline's Denoiser step.
    embedding : bool or "auto", default="auto"
        Add the pretrained speaker encoder's columns
        (:class:`~sklaudio.features.SpeakerEmbedding`, whose weights come from
        ``pip install --no-deps resemblyzer``) to the features, and the models on
        them to the grid. "auto" does so when the weights are installed and
        ``sr=16000`` (the encoder's rate), and says once why not otherwise; with
        ``features`` given, when they hold ``embedding__`` columns.
    pool_speakers : bool or "auto", default="auto"
        For gender and age groups, when speakers have several clips: True trains on one
        row per speaker (the mean of its clips' features, labelled with its most
        frequent label) and answers each held-out speaker from the mean of its clips'
        features, so a speaker with many clips weighs as much as one with a single
        clip, but the models see far fewer rows; False trains on clips. "auto" lets
        the inner cross-validation choose in each outer fold (and for the saved model):
        each way's best grid point is trained on the same inner folds of speakers and
        scored on their held-out clips; the report's ``"training_compared"`` holds
        those scores. Each clip is also answered alone, for the per-clip scores. Age in
        years is always trained on clips.
    n_splits : int, default=5
        Outer and inner folds.
    n_C : int, default=10
        Values of C (or alpha) in the grid.
    regressor : {"svr", "ridge"}, default="svr"
        Model for ``"age_years"`` (see :func:`age_gender_param_grid`).
    features : DataFrame of shape (n_clips, n_features), default=None
        The feature union's output for ``paths``, if already computed; extracted here
        when None (and then each clip's audio quality is assessed too).
    out_dir : str or Path, default=None
        Where to write ``report.json``, ``clips.csv``, ``model_<target>.sklaudio`` and
        ``confusion_<target>.png`` (files of those names are replaced).
    n_jobs : int, default=None
        Parallel clips in the audio steps, and parallel grid points.
    verbose : int, default=0
        Progress bars of the audio steps.
    random_state : int, default=0
        Fixes the folds, so that a run can be repeated.
    log : callable, default=print
        Receives the printed lines.
    source : str, default=None
        Where the data came from, for the report.

    Returns
    -------
    report : dict
        ``"run"`` (data, choices, grid, versions, date), ``"quality"`` (per-clip
        flags) and per target: scores, confusion matrix, top grid points, timings,
        the rows left out and, with repeated speakers, ``"per_speaker"`` scores.

    See Also
    --------
    check_experiment : The checks run first.
    make_age_gender_pipeline, age_gender_param_grid : The pipeline and its grid.

    Examples
    --------
    On clips whose features were computed beforehand (a table whose first column
    tells the genders apart), with a small grid:

    >>> import numpy as np
    >>> import pandas as pd
    >>> from sklaudio.experiment import run_experiment
    >>> from sklaudio.utils import ClipArray
    >>> rng = np.random.default_rng(0)
    >>> gender = np.repeat(["female", "male"] * 10, 2)
    >>> t = np.arange(4000) / 16000
    >>> clips = ClipArray([0.3 * np.sin(2 * np.pi * (220 if g == "female" else 120) * t)
    ...                    for g in gender], sr=16000)
    >>> X = pd.DataFrame({"f0__mean": (gender == "male") + rng.normal(0, 0.3, 40),
    ...                   "f0__std": rng.normal(size=40)})
    >>> report = run_experiment(clips,
    ...                         pd.DataFrame({"gender": gender}), targets=["gender"],
    ...                         groups=np.repeat(np.arange(20), 2), features=X, n_C=2,
    ...                         n_splits=2, log=lambda *a: None)
    >>> res = report["targets"]["gender"]
    >>> res["balanced_accuracy"] > 0.9, res["chance"]["balanced_accuracy"]["beats_chance"]
    (True, True)
    """
    paths = list(paths)
    labels = labels.reset_index(drop=True)
    groups = None if groups is None else np.asarray(groups)
    targets, age_scheme = check_experiment(labels, targets=targets, age_scheme=age_scheme,
                                           groups=groups, n_splits=n_splits, n_C=n_C,
                                           regressor=regressor)
    _pool_options(pool_speakers, "classification", None)  # a wrong value fails first
    if features is not None and len(features) != len(paths):
        raise ValueError(f"features has {len(features)} rows for {len(paths)} clips; pass "
                         "the feature union's output for exactly these clips, in order.")
    out = None if out_dir is None else Path(out_dir)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    embedding = _use_embedding(embedding, features, sr, log)
    settings = dict(sr=sr, denoise=denoise, embedding=embedding, regressor=regressor,
                    n_jobs=n_jobs, verbose=verbose)
    front = make_age_gender_pipeline(**settings)[: len(FEATURE_STEPS)]
    features, quality, seconds = _extract(front, paths, features, log)
    report = {"run": run_record(source=source, n_clips=len(paths), groups=groups,
                                targets=targets, age_scheme=age_scheme, n_splits=n_splits,
                                grid_sizes={}, sr=sr, denoise=denoise, embedding=embedding,
                                regressor=regressor, random_state=random_state,
                                n_jobs=n_jobs),
              "feature_seconds": round(seconds, 2), "n_features": int(features.shape[1]),
              "quality": _quality_record(paths, quality), "targets": {}}
    clips = _clips_table(paths, labels, groups, quality)
    models = {}
    for target in targets:
        res, heldout, model = _run_target(target, labels, groups, features, front,
                                          age_scheme, n_splits, n_C, random_state, settings,
                                          pool_speakers, log)
        report["run"]["grid"][target] = res.pop("grid")
        report["targets"][target] = res
        clips = clips.join(heldout)
        models[target] = model
        log_result(target, res, log)
    if out is not None:
        write_report(out, report, clips, models, log)
    return report


def _use_embedding(embedding, features, sr, log):
    """Whether the features hold the speaker encoder's columns (and the grid its models)."""
    if embedding not in (True, False, "auto"):
        raise ValueError(f"embedding={embedding!r}; expected True, False or 'auto'.")
    if features is not None:
        has = any(str(c).startswith("embedding__") for c in getattr(features, "columns", []))
        if embedding is True and not has:
            raise ValueError("embedding=True but features has no 'embedding__' columns; pass "
                             "the output of make_age_gender_pipeline(embedding=True)'s "
                             "feature steps, or embedding='auto'.")
        return has and embedding is not False
    if embedding != "auto":
        return embedding
    if sr != 16000:
        log(f"speaker embedding not used: the encoder reads 16000 Hz clips and sr={sr}; "
            "gender and age use the other features only")
        return False
    try:
        from sklaudio.features._embedding import _weights_path

        _weights_path()
    except ImportError as exc:
        log(f"speaker embedding not used ({exc}); gender and age use the other features "
            "only")
        return False
    return True


def _extract(front, paths, features, log):
    """The features of every clip, and each clip's audio quality (None if not assessed)."""
    start = time.perf_counter()
    quality = None
    if features is None:
        clips = front[:1].fit_transform(paths)  # loaded once for quality and features
        quality = _assess(clips)
        features = front[1:].fit_transform(clips)
    else:
        front.fit(paths[:1])  # the saved models start with these steps, fitted
    seconds = time.perf_counter() - start
    log(f"features: {features.shape[1]} per clip for {len(paths)} clips in {seconds:.1f} s")
    if quality is not None:
        bad = quality["quality"] != "ok"
        counts = quality["quality"][bad].value_counts().to_dict()
        log(f"audio quality: {int(bad.sum())} of {len(quality)} clips not ok"
            + (f" ({', '.join(f'{n} {k}' for k, n in counts.items())}); see clips.csv"
               if counts else ""))
    return features, quality, seconds


def _assess(clips):
    try:
        from sklaudio.features import assess_quality
    except ImportError:  # pragma: no cover - before the quality measures existed
        return None
    return assess_quality(clips, sr=clips.sr).reset_index(drop=True)


def _quality_record(paths, quality):
    if quality is None:
        return {"assessed": False}
    flags = quality["quality"].astype(str)
    bad = np.flatnonzero((flags != "ok").to_numpy())
    return {"assessed": True, "counts": flags.value_counts().to_dict(),
            "not_ok": [{"path": str(paths[i]), "quality": flags[i]} for i in bad]}


def _clips_table(paths, labels, groups, quality):
    """One row per clip, in the input order: path, speaker, labels, quality flag."""
    table = pd.DataFrame({"path": [p if isinstance(p, str) else f"clip {i}"
                                   for i, p in enumerate(paths)]})
    table["speaker"] = None if groups is None else groups
    for col in ("gender", "age", "age_group"):
        if col in labels:
            table[col] = labels[col].astype(object).to_numpy()
    table["quality"] = None if quality is None else quality["quality"].astype(str).to_numpy()
    return table


def _run_target(target, labels, groups, features, front, age_scheme, n_splits, n_C,
                random_state, settings, pool_speakers, log):
    """Nested CV, per-speaker answers and the final model of one target."""
    y_all, task, cats, left_out = make_target(labels, target, age_scheme)
    y_all, cats, merged, rare = _rare_classes(target, y_all, groups, cats, n_splits, log)
    if rare:
        left_out[f"class with fewer than {_min_units(n_splits)} "
                 f"{'speakers' if groups is not None else 'clips'}"] = rare
    keep = y_all.notna().to_numpy()
    if left_out:
        why = ", ".join(f"{n} {reason}" for reason, n in left_out.items())
        log(f"{target}: {int((~keep).sum())} of {len(keep)} clips left out ({why}); "
            f"{int(keep.sum())} used")
    y = y_all[keep].to_numpy()
    F = _rows(features, np.flatnonzero(keep))
    g = None if groups is None else groups[keep]
    model_steps = make_age_gender_pipeline(task=task, **settings)[len(FEATURE_STEPS):]
    grid = age_gender_param_grid(task=task, n_C=n_C, regressor=settings["regressor"],
                                 embedding=settings["embedding"], categories=cats)
    scoring = "balanced_accuracy" if task == "classification" else "neg_mean_absolute_error"
    pools = _pool_options(pool_speakers, task, g)
    search = dict(grid=_few_quantiles(grid, len(y), n_splits), scoring=scoring,
                  n_splits=n_splits, random_state=random_state, n_jobs=settings["n_jobs"])
    if True in pools:  # the speaker means' grid: fewer rows, so fewer quantiles
        search["grid_pooled"] = _few_quantiles(grid, len(pd.unique(g)), n_splits)
    pred, pred_spk, fold_pools, cv_time = _nested_cv(target, model_steps, F, y, g, task,
                                                     search, pools, log)
    final, pool, compared = _choose(model_steps, F, y, g, task, search, pools, refit=True)
    res = against_chance(score(task, y, pred, cats), y, pred, g, cats, random_state)
    grouped = "grouped by speaker" if g is not None else "ungrouped"
    res.update(task=task, n_clips=int(len(y)), left_out=left_out,
               protocol=f"nested {n_splits}-fold CV, outer and inner {grouped}",
               trained_on=_TRAINED_ON[pool],
               trained_on_per_outer_fold=[_TRAINED_ON[p] for p in fold_pools],
               nested_cv_seconds=round(cv_time, 2), grid=grid_record(search["grid"]),
               top_grid_points=top_grid_points(final.cv_results_, 5),
               best_params={k: v for k, v in top_grid_points(final.cv_results_, 1)[0]
                            ["params"].items()})
    if compared is not None:
        res["training_compared"] = {_TRAINED_ON[p]: round(v, 4) for p, v in compared.items()}
    if merged:
        res["classes_merged"] = merged
    if pred_spk is not None:
        y_s, p_s, g_s = _one_row_per_speaker(task, y, pred_spk, g)
        res["per_speaker"] = against_chance(score(task, y_s, p_s, cats), y_s, p_s, g_s,
                                            cats, random_state)
        res["per_speaker"]["n_speakers"] = int(len(g_s))
        res["per_speaker"]["answered_from"] = " / ".join(dict.fromkeys(
            _ANSWERED_FROM[p] + (" (class probabilities)" if task == "classification"
                                 and not p else "") for p in fold_pools))
    if task == "regression" and not (isinstance(age_scheme, str)
                                     and age_scheme == "common_voice"):
        res.update(_as_age_groups(y, pred, pred_spk, age_scheme, g, random_state))
    heldout = pd.DataFrame(index=range(len(keep)))
    heldout[f"{target}_true"] = pd.Series(y, index=np.flatnonzero(keep), dtype=object)
    heldout[f"{target}_pred"] = pd.Series(pred, index=np.flatnonzero(keep), dtype=object)
    if pred_spk is not None:
        heldout[f"{target}_pred_per_speaker"] = pd.Series(pred_spk, index=np.flatnonzero(keep),
                                                          dtype=object)
    model = Pipeline(front.steps + final.best_estimator_.steps)
    return res, heldout, model


_TRAINED_ON = {False: "clips", True: "one row per speaker (the mean of its clips' features)"}
_ANSWERED_FROM = {False: "mean of the held-out predictions over the speaker's clips",
                  True: "the model on the mean of the speaker's clips' features"}


def _pool_options(pool_speakers, task, g):
    """The ways of training the inner CV chooses from: on clips (False), on one row
    per speaker (True); pooling needs classes and speakers with several clips."""
    if pool_speakers not in (True, False, "auto"):
        raise ValueError(f"pool_speakers={pool_speakers!r}; expected True, False or 'auto'.")
    if task != "classification" or g is None or len(pd.unique(g)) == len(g):
        return [False]
    return {True: [True], False: [False], "auto": [False, True]}[pool_speakers]


def _few_quantiles(grid, n_rows, k):
    """The grid with QuantileTransformer's quantiles fewer than the rows of the smallest
    inner training set (it would otherwise lower them itself and warn at every fit)."""
    n = max(int(n_rows * ((k - 1) / k) ** 2) - k, 2)
    grids = grid if isinstance(grid, list) else [grid]
    out = []
    for g in grids:
        g = dict(g)
        if "scaler" in g:
            g["scaler"] = [clone(s).set_params(n_quantiles=min(s.n_quantiles, n))
                           if isinstance(s, QuantileTransformer) else s for s in g["scaler"]]
        out.append(g)
    return out if isinstance(grid, list) else out[0]


def _min_units(k):
    """Fewest speakers (or clips) a class needs so that, after a stratified k-fold
    split holds some out, every inner k-fold split still has one in each fold."""
    n = k
    while n - -(-n // k) < k:  # the outer test fold holds at most ceil(n / k)
        n += 1
    return n


def _rare_classes(target, y, groups, cats, n_splits, log):
    """Merge (ordered age groups) or leave out (other classes) the classes with too few
    speakers for the folds: ``(y, categories, {old: merged label}, rows left out)``."""
    known = y.notna().to_numpy()
    if not known.any() or pd.api.types.is_float_dtype(y):  # regression: no classes
        return y, cats, {}, 0
    units = pd.Series(np.arange(len(y)) if groups is None else np.asarray(groups, dtype=object))
    counts = units[known].groupby(y[known].to_numpy()).nunique()
    need = _min_units(n_splits)
    what = "speakers" if groups is not None else "clips"
    if (counts >= need).all():
        return y, cats, {}, 0
    if cats is None:  # no order: a rare class cannot join a neighbour
        rare = sorted(counts.index[counts < need])
        if len(counts) - len(rare) < 2:
            raise ValueError(
                f"target {target!r}: the classes {rare} have fewer than {need} {what} each, "
                f"too few for {n_splits}-fold cross-validation, and fewer than 2 classes "
                "would be left; lower n_splits or add data")
        drop = y.isin(rare).to_numpy()
        log(f"{target}: classes {rare} left out: fewer than {need} {what} each "
            f"({', '.join(f'{c} {counts[c]}' for c in rare)}), too few for "
            f"{n_splits}-fold cross-validation within {n_splits}-fold cross-validation")
        return y.where(~drop, np.nan), cats, {}, int(drop.sum())
    # ordered buckets: join the rarest with its smaller neighbour until each has enough
    spans = [[c] for c in cats if c in counts.index]
    size = {c: set(units[known][(y[known] == c).to_numpy()]) for c in counts.index}
    while len(spans) > 1:
        n_of = [len(set().union(*(size[c] for c in sp))) for sp in spans]
        i = int(np.argmin(n_of))
        if n_of[i] >= need:
            break
        neighbours = [j for j in (i - 1, i + 1) if 0 <= j < len(spans)]
        j = min(neighbours, key=lambda j: (n_of[j], j))
        lo, hi = sorted((i, j))
        spans[lo:hi + 1] = [spans[lo] + spans[hi]]
    if len(spans) < 2:
        raise ValueError(f"target {target!r}: merging age groups with fewer than {need} {what} "
                         "left a single group; lower n_splits or add data")
    label = {c: (sp[0] if len(sp) == 1 else f"{sp[0]}-{sp[-1]}") for sp in spans for c in sp}
    merged = {c: lab for c, lab in label.items() if lab != c}
    span_of = {c: sp for sp in spans for c in sp}
    inside = {c for sp in spans for c in cats[cats.index(sp[0]):cats.index(sp[-1]) + 1]}
    new_cats = list(dict.fromkeys(label.get(c, c) for c in cats if c in span_of
                                  or c not in inside))
    for lab in sorted(set(merged.values())):
        parts = [c for c, m in merged.items() if m == lab]
        n = len(set().union(*(size[c] for c in parts)))
        log(f"{target}: {', '.join(f'{c} ({len(size[c])} {what})' for c in parts)} merged "
            f"into '{lab}' ({n} {what}): each class needs at least {need} {what} for "
            f"{n_splits}-fold cross-validation within {n_splits}-fold cross-validation")
    y = y.map(lambda v: label.get(v, v) if isinstance(v, str) else v)
    return y, new_cats, merged, 0


def _speaker_rows(F, y, g):
    """One row per speaker: the mean of its clips' features, its most frequent label,
    and each clip's row number in that table (speakers in order of first clip)."""
    codes, speakers = pd.factorize(pd.Series(np.asarray(g, dtype=object)))
    frame = pd.DataFrame({"code": codes, "y": y})
    y_s = frame.groupby("code", sort=True)["y"].agg(lambda v: v.value_counts().index[0])
    table = F if hasattr(F, "groupby") else pd.DataFrame(np.asarray(F))
    means = table.reset_index(drop=True).groupby(codes, sort=True).mean()
    if not hasattr(F, "iloc"):
        means = means.to_numpy()
    return means, y_s.to_numpy(), np.asarray(speakers, dtype=object), codes


def _cv(task, n_splits, groups, random_state):
    if task == "regression":
        if groups is None:
            return KFold(n_splits, shuffle=True, random_state=random_state)
        # shuffled (scikit-learn >= 1.6) so that random_state moves the folds here too
        return GroupKFold(n_splits, shuffle=True, random_state=random_state)
    if groups is None:
        return StratifiedKFold(n_splits, shuffle=True, random_state=random_state)
    return StratifiedGroupKFold(n_splits, shuffle=True, random_state=random_state)


def _search(model_steps, F, y, g, task, search, *, refit):
    """The inner grid search over the model steps, on a feature table."""
    inner = _cv(task, search["n_splits"], g, search["random_state"])
    return search_with_cached_features(
        model_steps, search["grid"], F, y, groups=g, cv=inner, scoring=search["scoring"],
        refit=refit, n_jobs=search["n_jobs"])


def _choose(model_steps, F, y, g, task, search, pools, *, refit):
    """The inner search of each way of training (``pools``: on clips and/or on speaker
    means) on these rows: ``(search, pooled?, scores compared or None)``.

    With both, each one's best grid point is trained again on the same inner folds of
    speakers and scored on their held-out clips, each clip answered alone (the search's
    metric): the better one is kept, clips on a tie.
    """
    searches = {}
    for pool in pools:
        if pool:
            searches[pool] = _search(model_steps, *_speaker_rows(F, y, g)[:3], task,
                                     {**search, "grid": search["grid_pooled"]}, refit=refit)
        else:
            searches[pool] = _search(model_steps, F, y, g, task, search, refit=refit)
    if len(pools) == 1:
        return searches[pools[0]], pools[0], None
    Fs, y_s, g_s, codes = _speaker_rows(F, y, g)
    held = {pool: np.empty(len(y), dtype=object) for pool in pools}
    for train, test in _cv(task, search["n_splits"], g_s, search["random_state"]).split(
            Fs, y_s, g_s):
        clips_train = np.flatnonzero(np.isin(codes, train))
        clips_test = np.flatnonzero(np.isin(codes, test))
        for pool in pools:
            model = clone(model_steps).set_params(**clone(searches[pool].best_params_,
                                                          safe=False))
            if pool:
                model.fit(_rows(Fs, train), y_s[train])
            else:
                model.fit(_rows(F, clips_train), y[clips_train])
            held[pool][clips_test] = model.predict(_rows(F, clips_test))
    scorer = get_scorer(search["scoring"])._score_func
    scores = {pool: float(scorer(y, held[pool])) for pool in pools}
    pool = scores[True] > scores[False]
    return searches[pool], pool, scores


def _nested_cv(target, model_steps, F, y, g, task, search, pools, log):
    """Held-out answers of every clip alone and of its speaker, and the way of training
    chosen in each outer fold (``pools``, see :func:`_choose`), with progress."""
    outer = _cv(task, search["n_splits"], g, search["random_state"])
    dtype = object if task == "classification" else float
    pred = np.empty(len(y), dtype=dtype)
    repeated = g is not None and len(pd.unique(g)) < len(g)
    pred_spk = np.empty(len(y), dtype=dtype) if repeated else None
    n_points = len(ParameterGrid(search["grid"]))
    k = search["n_splits"]
    chosen = []
    start = time.perf_counter()
    for i, (train, test) in enumerate(outer.split(F, y, g), start=1):
        log(f"{target}: outer fold {i}/{k}: {n_points} grid points x {k} inner folds "
            f"on {len(train)} clips" + (", each trained on clips and on speaker means"
                                        if len(pools) > 1 else ""))
        F_train, y_train = _rows(F, train), y[train]
        g_train = None if g is None else g[train]
        found, pool, compared = _choose(model_steps, F_train, y_train, g_train, task, search,
                                        pools, refit=False)
        chosen.append(pool)
        # the grid's own estimators stay untouched (set_params would change them)
        model = clone(model_steps).set_params(**clone(found.best_params_, safe=False))
        if pool:
            model.fit(*_speaker_rows(F_train, y_train, g_train)[:2])
        else:
            model.fit(F_train, y_train)
        pred[test] = model.predict(_rows(F, test))
        if pred_spk is not None:
            pred_spk[test] = _speaker_answers(task, model, _rows(F, test), g[test], pool)
        elapsed = time.perf_counter() - start
        # the final search on all clips costs about one more fold
        left = elapsed / i * (k - i + 1)
        log(f"{target}: outer fold {i}/{k} done"
            + (f", trained on {'speaker means' if pool else 'clips'} (inner scores: "
               f"clips {compared[False]:.3f}, speaker means {compared[True]:.3f})"
               if compared else "")
            + f", {elapsed:.0f} s elapsed, about {left:.0f} s left")
    return pred, pred_spk, chosen, time.perf_counter() - start


def _speaker_answers(task, model, F, g, pooled=False):
    """Each clip's speaker's answer from held-out clips: the mean predicted years, the
    class of highest mean probability, or (a model trained on speaker means, or one
    without probabilities) the answer for the mean of the speaker's features. The folds
    are grouped, so no model ever saw the speaker it averages."""
    if task == "regression":
        return speaker_mean(model.predict(F), g)
    if hasattr(model, "predict_proba") and not pooled:
        classes = np.asarray(model.classes_, dtype=object)
        return classes[speaker_mean(model.predict_proba(F), g).argmax(axis=1)]
    means, _, _, codes = _speaker_rows(F, np.zeros(len(g)), g)
    return np.asarray(model.predict(means), dtype=object)[codes]


def _one_row_per_speaker(task, y, pred_spk, g):
    """One (label, answer, speaker) row per speaker, so that a speaker with many clips
    counts once. A speaker's label is its clips' most frequent label (mean years)."""
    frame = pd.DataFrame({"g": g, "y": y, "p": pred_spk})
    if task == "classification":
        y_s = frame.groupby("g", sort=True)["y"].agg(lambda v: v.value_counts().index[0])
    else:
        y_s = frame.groupby("g", sort=True)["y"].mean()
    p_s = frame.groupby("g", sort=True)["p"].first()  # one answer per speaker already
    return y_s.to_numpy(), p_s.to_numpy(), y_s.index.to_numpy()


def _as_age_groups(y, pred, pred_spk, age_scheme, g=None, random_state=0):
    """The held-out years, rounded to whole years and bucketed like the age target.

    The regression sees the order of the ages, which the classifier of age groups
    does not; scoring its years as groups shows what that order is worth.
    """
    def groups(years):
        return bucket_ages(np.clip(np.round(years), 0, None), scheme=age_scheme)

    true = np.asarray(groups(y), dtype=object)
    cats = list(groups(y).categories)

    def scored(years):
        pred_groups = np.asarray(groups(years), dtype=object)
        return against_chance(score("classification", true, pred_groups, cats), true,
                              pred_groups, g, cats, random_state)

    out = {"as_age_groups": scored(pred)}
    if pred_spk is not None:
        y_s, p_s, g_s = _one_row_per_speaker(
            "regression", y, pred_spk, np.arange(len(y)) if g is None else g)
        pred_groups = np.asarray(groups(p_s), dtype=object)
        true_s = np.asarray(groups(y_s), dtype=object)
        out["as_age_groups"]["per_speaker"] = against_chance(
            score("classification", true_s, pred_groups, cats), true_s, pred_groups, g_s,
            cats, random_state)
    return out


def _rows(F, idx):
    # the feature union outputs a DataFrame (column names for SelectFeatures)
    return F.iloc[idx] if hasattr(F, "iloc") else F[idx]
