"""What the experiment reports: scores, the run's record, printed lines, files, figures."""

import json
import platform
from datetime import datetime, timezone

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    mean_absolute_error,
)

from sklaudio.datasets import mean_absolute_bucket_error
from sklaudio.model_selection import permutation_test

__all__ = ["plot_confusion_matrix"]

#: a score beats chance when its permutation p-value is below this
ALPHA = 0.05
#: shufflings of the permutation test: p-values down to 1 / 1001
N_PERMUTATIONS = 1000

# score in the report -> metric of the permutation test
_TESTED = {"balanced_accuracy": "balanced_accuracy",
           "mean_absolute_bucket_error": "mean_absolute_bucket_error",
           "mae_years": "mean_absolute_error"}


def score(task, y, pred, cats):
    """Held-out scores of one set of predictions (a dict, ready for JSON)."""
    if task == "regression":
        return {"mae_years": float(mean_absolute_error(y, pred.astype(float)))}
    labels = cats if cats is not None else sorted(set(y))
    labels = [c for c in labels if c in set(y) | set(pred)]
    res = {
        "balanced_accuracy": float(balanced_accuracy_score(y, pred)),
        "accuracy": float(accuracy_score(y, pred)),
        "labels": [str(c) for c in labels],
        "confusion_matrix": confusion_matrix(y, pred, labels=labels).tolist(),
    }
    if cats is not None:
        res["mean_absolute_bucket_error"] = mean_absolute_bucket_error(y, pred, categories=cats)
    return res


def against_chance(res, y, pred, groups, cats, random_state):
    """Add to ``res`` each score's chance level and permutation p-value (``"chance"``).

    The labels are shuffled between whole speakers when ``groups`` is given and each
    speaker has one label; else between clips (the report says which).
    """
    out = {}
    for key, metric in _TESTED.items():
        if key not in res:
            continue
        kwargs = dict(metric=metric, categories=cats, n_permutations=N_PERMUTATIONS,
                      random_state=random_state)
        shuffled = "between speakers" if groups is not None else "between clips"
        try:
            test = permutation_test(y, pred, groups=groups, **kwargs)
        except ValueError:  # a speaker's clips carry different labels
            test = permutation_test(y, pred, groups=None, **kwargs)
            shuffled = "between clips (some speakers' clips carry different labels)"
        # a small p-value says only that the answers are tied to the labels: beating
        # chance also needs a score on the right side of the chance level
        better = (test.score > test.chance_level if test.greater_is_better
                  else test.score < test.chance_level)
        out[key] = {"chance_level": float(test.chance_level), "p_value": float(test.p_value),
                    "beats_chance": bool(test.p_value < ALPHA and better), "alpha": ALPHA,
                    "n_permutations": N_PERMUTATIONS, "labels_shuffled": shuffled}
    res["chance"] = out
    return res


def chance_text(res, key="balanced_accuracy"):
    """``chance 0.500, p = 0.001: better than chance`` for one score of ``res``.

    Better than chance means a permutation p-value below ``alpha`` and a score on the
    right side of the chance level.
    """
    c = res.get("chance", {}).get(key)
    if c is None:
        return ""
    verdict = ("better than chance" if c["beats_chance"]
               else "NOT better than chance")
    return (f"chance {c['chance_level']:.3f}, permutation p = {c['p_value']:.3f}: "
            f"{verdict}")


def jsonable(v):
    """A grid value as JSON: numbers and strings as they are, estimators by their repr."""
    if isinstance(v, (np.floating, float)):
        return float(v)
    if isinstance(v, (np.integer, int, str)) or v is None:
        return v
    return " ".join(repr(v).split())  # one line, also for a Pipeline's repr


def top_grid_points(cv_results, k):
    order = np.argsort(cv_results["rank_test_score"], kind="stable")[:k]
    return [
        {"params": {p: jsonable(v) for p, v in cv_results["params"][i].items()},
         "mean_score": float(cv_results["mean_test_score"][i]),
         "std_score": float(cv_results["std_test_score"][i])}
        for i in order
    ]


def versions():
    """Versions of the libraries whose behaviour the figures depend on."""
    import librosa
    import scipy
    import sklearn

    import sklaudio

    return {"sklaudio": sklaudio.__version__, "scikit-learn": sklearn.__version__,
            "numpy": np.__version__, "scipy": scipy.__version__,
            "pandas": pd.__version__, "librosa": librosa.__version__,
            "python": platform.python_version()}


def run_record(*, source, n_clips, groups, targets, age_scheme, n_splits, grid_sizes, sr,
               denoise, embedding, regressor, random_state, n_jobs):
    """Everything needed to repeat the run: data, choices, grid, versions, date."""
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "data": source,
        "n_clips": int(n_clips),
        "n_speakers": None if groups is None else int(len(pd.unique(groups))),
        "targets": list(targets),
        "age_scheme": jsonable(age_scheme) if not isinstance(age_scheme, dict)
        else {k: [jsonable(v) for v in vals] for k, vals in age_scheme.items()},
        "protocol": (f"nested {n_splits}-fold cross-validation, outer and inner "
                     f"{'grouped by speaker' if groups is not None else 'ungrouped'}"),
        "n_splits": int(n_splits),
        "grid": grid_sizes,
        "random_state": random_state,
        "sr": int(sr),
        "denoise": bool(denoise),
        "embedding": bool(embedding),
        "regressor": regressor,
        "n_jobs": n_jobs,
        "versions": versions(),
    }


def grid_record(grid):
    """The grid as JSON: each parameter with its values (a list of grids: one each)."""
    if isinstance(grid, (list, tuple)):
        return [grid_record(g) for g in grid]
    return {key: [jsonable(v) for v in values] for key, values in grid.items()}


def log_result(target, res, log):
    """Print one target's results: top grid points, held-out scores, confusion matrix."""
    log(f"\n== {target} ({res['protocol']}, {res['n_clips']} clips, trained on "
        f"{res.get('trained_on', 'clips')}) ==")
    log("top grid points (inner CV on all the data):")
    for row in res["top_grid_points"]:
        params = ", ".join(f"{k}={v}" for k, v in row["params"].items())
        log(f"  {row['mean_score']:.3f} ± {row['std_score']:.3f}  {params}")
    if res["task"] == "regression":
        _log_regression(target, res, log)
        return
    log(f"held-out balanced accuracy: {res['balanced_accuracy']:.3f} "
        f"(accuracy {res['accuracy']:.3f}; {chance_text(res)})")
    spk = res.get("per_speaker")
    if spk is not None:
        log(f"per speaker ({spk['n_speakers']} speakers, each answered from "
            f"{spk.get('answered_from', 'its held-out clips')}): "
            f"balanced accuracy {spk['balanced_accuracy']:.3f} ({chance_text(spk)})"
            + (f", mean absolute bucket error {spk['mean_absolute_bucket_error']:.3f}"
               if "mean_absolute_bucket_error" in spk else ""))
    if "mean_absolute_bucket_error" in res:
        log(f"mean absolute bucket error: {res['mean_absolute_bucket_error']:.3f} "
            f"({chance_text(res, 'mean_absolute_bucket_error')})")
    _log_verdict(target, res, "balanced_accuracy", log)
    width = max(len(c) for c in res["labels"]) + 2
    log("confusion matrix (rows true, columns predicted):")
    log(" " * width + "".join(f"{c:>{width}}" for c in res["labels"]))
    for c, row in zip(res["labels"], res["confusion_matrix"]):
        log(f"{c:>{width}}" + "".join(f"{v:>{width}}" for v in row))


def _log_verdict(target, res, key, log):
    c = res.get("chance", {}).get(key)
    if c is not None and not c["beats_chance"]:
        log(f"!! {target}: the model did NOT beat chance (p = {c['p_value']:.3f}, not below "
            f"{c['alpha']}): its scores, grid points and confusion matrix mean nothing.")


def _log_regression(target, res, log):
    c = res.get("chance", {}).get("mae_years")
    log(f"held-out MAE: {res['mae_years']:.2f} years"
        + ("" if c is None else
           f" (chance {c['chance_level']:.2f} years, permutation p = {c['p_value']:.3f})"))
    spk = res.get("per_speaker")
    if spk is not None:
        log(f"per speaker (mean over each speaker's held-out clips): MAE "
            f"{spk['mae_years']:.2f} years")
    _log_verdict(target, res, "mae_years", log)
    groups = res.get("as_age_groups")
    if groups is not None:
        log(f"as age groups (held-out years rounded and bucketed, "
            f"{' / '.join(groups['labels'])}): balanced accuracy "
            f"{groups['balanced_accuracy']:.3f}"
            + (f", per speaker {groups['per_speaker']['balanced_accuracy']:.3f}"
               if "per_speaker" in groups else ""))


def write_report(out, report, clips, models, log):
    """Write report.json, clips.csv, the model bundles and the confusion matrices."""
    from sklaudio.deploy import save_model

    for target, model in models.items():
        # a bundle (skops, no code run at load) that sklaudio predict / serve read, with
        # the training data's summary: the clips this target used and their labels
        used = clips[f"{target}_true"].notna().to_numpy()
        save_model(model, out / f"model_{target}.sklaudio", overwrite=True,
                   X=clips.loc[used, "path"].tolist(),
                   y=clips.loc[used, f"{target}_true"].rename(target),
                   metadata={"best_params": report["targets"][target]["best_params"]})
    for target, res in report["targets"].items():
        if res["task"] == "classification":
            plot_confusion_matrix(np.array(res["confusion_matrix"]), res["labels"],
                                  title=figure_title(target, res),
                                  path=out / f"confusion_{target}.png")
    clips.to_csv(out / "clips.csv", index=False)
    (out / "report.json").write_text(json.dumps(report, indent=2))
    log(f"wrote report.json, clips.csv, models and figures to {out}")


def figure_title(target, res):
    """Title of a target's confusion matrix: its score against chance, in words."""
    title = f"{target}: held-out predictions, balanced accuracy {res['balanced_accuracy']:.3f}"
    text = chance_text(res)
    return title + (f"\n{text}" if text else "")


def plot_confusion_matrix(cm, labels, *, title=None, path=None, ax=None):
    """Draw a confusion matrix with scikit-learn's ConfusionMatrixDisplay.

    Parameters
    ----------
    cm : array-like of shape (n_classes, n_classes)
        Counts, rows true, columns predicted.
    labels : sequence of str
        Class names in the order of ``cm``.
    title : str, default=None
        Title of the axes.
    path : str or Path, default=None
        Save the figure there (PNG by extension).
    ax : matplotlib Axes, default=None
        Draw into it; a new figure otherwise.

    Returns
    -------
    ax : matplotlib Axes
        The axes the matrix is drawn on (scikit-learn's ConfusionMatrixDisplay).

    See Also
    --------
    sklearn.metrics.ConfusionMatrixDisplay : What draws it.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklaudio.experiment import plot_confusion_matrix
    >>> ax = plot_confusion_matrix([[5, 1], [0, 6]], ["female", "male"])
    >>> [t.get_text() for t in ax.texts]
    ['5', '1', '0', '6']
    """
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    cm = np.asarray(cm)
    if ax is None:
        size = 1.2 + 0.6 * len(labels)
        _, ax = plt.subplots(figsize=(size + 1.5, size))
    disp = ConfusionMatrixDisplay(cm, display_labels=list(labels))
    disp.plot(ax=ax, cmap="Blues", values_format="d", xticks_rotation=45, colorbar=True)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title, fontsize=10)
    ax.figure.tight_layout()
    if path is not None:
        ax.figure.savefig(path, dpi=120)
        plt.close(ax.figure)
    return ax
