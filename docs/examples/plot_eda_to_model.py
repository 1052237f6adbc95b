"""
From listening to a model: exploring speech and predicting gender
=================================================================

A walk through what a data scientist does with a new folder of recordings: look at a
clip (waveform, spectrum, spectrograms, pitch), clean it (denoise, trim), turn every
clip into one row of features, look at those features (skew, per-class differences,
correlations), and tune a scikit-learn model on them with speaker-grouped
cross-validation. Every figure comes from :mod:`sklaudio.display`.

The recordings are LibriSpeech read speech, one utterance from each of 40 speakers
(20 female, 20 male), from ``../shared/data/librispeech-251`` next to the repository
(or the folder ``$SKLAUDIO_DATA`` names).
"""

# %%
# Read the corpus
# ---------------
# :func:`~sklaudio.datasets.read_dataset` turns a corpus folder into paths, labels
# and speaker groups; here the first 20 speakers of each gender.
import os
from pathlib import Path

import numpy as np

from sklaudio import display
from sklaudio.datasets import read_dataset
from sklaudio.io import load_audio_batch

# $SKLAUDIO_DATA, else the shared/data folder beside the repository (searched upwards,
# since the documentation build runs this script from docs/examples)
data = Path(os.environ.get("SKLAUDIO_DATA") or next(
    (p / "shared" / "data" for p in Path.cwd().resolve().parents
     if (p / "shared" / "data" / "librispeech-251").is_dir()), "shared/data"))
corpus = read_dataset(data / "librispeech-251")
labels = corpus.labels
pick = np.concatenate([np.flatnonzero(labels["gender"].to_numpy() == g)[:20]
                       for g in ("female", "male")])
paths = [corpus.paths[i] for i in pick]
gender = labels["gender"].to_numpy()[pick]
speakers = np.asarray(corpus.groups)[pick]
print(f"{len(paths)} clips, {len(set(speakers))} speakers")

# %%
# Look at one clip
# ----------------
# The waveform, then a zoom of half a millisecond: the individual samples.
clips = load_audio_batch(paths, sr=16000)
y, sr = clips[0], clips.sr
display.plot_waveform(y, sr=sr, title=f"{Path(paths[0]).name} ({gender[0]})")
display.plot_waveform(y, sr=sr, start=1.0, duration=0.0005, title="0.5 ms: single samples")

# %%
# The spectrum of the whole clip on a log frequency axis, and how it changes over
# time: the STFT in dB with the pitch (f0) track drawn over it, the mel spectrogram,
# and the MFCCs that summarise it.
from sklaudio.features import estimate_f0  # noqa: E402

display.plot_spectrum(y, sr=sr, title="spectrum")
f0, voiced, _ = estimate_f0(y, sr=sr, hop_length=512)
display.plot_spectrogram(y, sr=sr, kind="stft", f0=f0, title="STFT and f0")
display.plot_spectrogram(y, sr=sr, kind="mel", title="mel spectrogram")
display.plot_spectrogram(y, sr=sr, kind="mfcc", title="MFCC")

# %%
# Clean it
# --------
# :class:`~sklaudio.preprocessing.Denoiser` removes the steady noise floor and
# :class:`~sklaudio.preprocessing.Trimmer` the silence at both ends; the two
# spectrograms share one colour scale.
from sklaudio.preprocessing import Denoiser, Trimmer  # noqa: E402

clean = Trimmer(top_db=40).fit_transform(Denoiser().fit_transform(clips[:1]))
display.plot_before_after(y, clean[0], sr=sr, titles=("as recorded", "denoised and trimmed"))

# %%
# One row per clip
# ----------------
# The feature extractors turn each clip into one row: mel and MFCC statistics, pitch
# statistics, rhythm and energy. With ``set_output(transform="pandas")`` the columns
# keep their names.
from sklearn.pipeline import make_union  # noqa: E402

from sklaudio.features import F0Stats, MelFeatures, TemporalFeatures  # noqa: E402

short = Trimmer(duration=3.0).fit_transform(clips)  # 3 s per clip keeps this example quick
union = make_union(MelFeatures(), F0Stats(), TemporalFeatures(),
                   verbose_feature_names_out=False).set_output(transform="pandas")
X = union.fit_transform(short)
print(X.shape)

# %%
# Skewed columns look more like a bell after a log transform.
cols = ["rms_mean", "rms_std", "f0_std", "zcr_mean"]
display.plot_feature_histograms(X[cols], np.log1p(X[cols]), columns=cols)

# %%
# Pitch tells the genders apart; the mean mel spectrum of each gender, and their
# difference, show where else they differ.
display.plot_feature_by_class(X, gender, "f0_mean", title="mean pitch (Hz) by gender")
display.plot_class_mean_mel(short, gender, sr=sr)

# %%
# Many columns move together.
display.plot_correlation(X.iloc[:, :24], title="correlations of the first 24 columns")

# %%
# A model, tuned the scikit-learn way
# -----------------------------------
# Scaler, optional PCA and a logistic regression, tuned by a grid search whose folds
# keep each speaker on one side. The grid's scores against ``C``, per scaler, show
# what the search chose from.
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import ConfusionMatrixDisplay  # noqa: E402
from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import RobustScaler, StandardScaler  # noqa: E402

model = Pipeline([("scaler", StandardScaler()), ("pca", "passthrough"),
                  ("clf", LogisticRegression(max_iter=2000))])
grid = {"scaler": [StandardScaler(), RobustScaler()], "pca": ["passthrough", PCA(0.95)],
        "clf__C": np.logspace(-3, 2, 6)}
search = GridSearchCV(model, grid, cv=StratifiedGroupKFold(4), scoring="balanced_accuracy")
search.fit(X, gender, groups=speakers)
print(f"best cross-validated balanced accuracy {search.best_score_:.3f}")
display.plot_grid_scores(search, "clf__C", by=["scaler", "pca"])

# %%
# Held-out predictions of the best setting, as a confusion matrix.
from sklearn.model_selection import cross_val_predict  # noqa: E402

pred = cross_val_predict(search.best_estimator_, X, gender, groups=speakers,
                         cv=StratifiedGroupKFold(4))
ConfusionMatrixDisplay.from_predictions(gender, pred, normalize="true")
