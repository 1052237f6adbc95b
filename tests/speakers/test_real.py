"""Identification of real LibriSpeech speakers, with the back end trained on others
(the embedding case is skipped only when SpeakerEmbedding cannot run here)."""

import warnings

import numpy as np
import pandas as pd
import pytest

from sklaudio.exceptions import AudioWarning
from sklaudio.features import MelFeatures
from sklaudio.speakers import SpeakerVerifier, make_windows
from tests.conftest import require_data


def _embedding():
    from sklaudio.features import SpeakerEmbedding

    try:  # optional: needs its extra; skip only when it cannot run here
        probe = np.random.default_rng(0).normal(size=(1, 16000)).astype(np.float32)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AudioWarning)  # noise carries no voice: known
            SpeakerEmbedding(sr=16000).fit(probe).transform(probe)
    except ImportError as exc:
        pytest.skip(f"SpeakerEmbedding unavailable: {exc}")
    return SpeakerEmbedding()


@pytest.mark.parametrize("front", ["mfcc", "embedding"])
def test_identify_new_librispeech_speakers(front):
    root = require_data("librispeech-251")
    m = pd.read_csv(root / "manifest.csv")
    m = m[m.duration_s > 8].iloc[:10]
    table, W = make_windows([str(root / p) for p in m.path], length=2.0, sr=16000,
                            speakers=m.speaker)
    table = table.groupby("recording", sort=False).head(3)  # 3 windows per speaker
    W, y = W[table.index.to_numpy()], table.speaker.to_numpy()
    order = table.groupby("speaker", sort=False).cumcount().to_numpy()
    fe = (MelFeatures(kind="mfcc", n_mfcc=20, n_fft=512, hop_length=160, n_mels=40)
          if front == "mfcc" else _embedding())
    train = np.isin(y, m.speaker.iloc[:6])
    # 18 training windows: too few to whiten 256 embedding dimensions
    sv = SpeakerVerifier(front_end=fe, backend="cosine", whiten=False, calibration_cv=None)
    sv.fit(W[train], y[train]).forget()
    new = ~train
    sv.enroll(W[new & (order == 0)], y[new & (order == 0)])
    pred = sv.identify(W[new & (order > 0)], open_set=False)
    assert set(sv.speakers_) == set(m.speaker.iloc[6:])
    # 4 speakers (chance 1/4): the windows come from the same utterance as the enrolment
    assert np.mean(pred == y[new & (order > 0)]) >= 7 / 8
