"""DriftMonitor on a few real recordings: the audio health columns explain the shift."""

import warnings

import numpy as np
import pandas as pd
import pytest

from sklaudio.exceptions import AudioWarning
from sklaudio.monitor import DriftMonitor
from tests.conftest import require_data


@pytest.fixture(scope="module")
def librispeech_clips():
    from sklaudio.io import load_audio_batch

    root = require_data("librispeech-251")
    # the 40 shortest clips; reference and batch alternate, so their lengths match
    man = pd.read_csv(root / "manifest.csv").nsmallest(40, "duration_s")
    return load_audio_batch([str(root / p) for p in man["path"]], sr=16000)


@pytest.fixture(scope="module")
def monitor(librispeech_clips):
    from sklearn.pipeline import make_pipeline

    from sklaudio.features import MelFeatures
    from sklaudio.io import AudioLoader

    feats = make_pipeline(AudioLoader(sr=16000),
                          MelFeatures(kind="mfcc", sr=16000, n_mfcc=6, n_fft=512,
                                      hop_length=256, n_mels=32))
    feats.fit(librispeech_clips[0::2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AudioWarning)  # constant clipping rate of 0
        return DriftMonitor(features=feats).fit(librispeech_clips[0::2])


def _batch(clips, func):
    from sklaudio.utils import ClipArray

    return ClipArray([func(i, y) for i, y in enumerate(clips)], 16000)


def test_noise_shift_is_explained_by_snr(monitor, librispeech_clips):
    """Check that pink noise at 10 dB SNR drifts the batch and snr_db leads the health."""
    from sklaudio.augment import add_noise

    noisy = _batch(librispeech_clips[1::2], lambda i, y: add_noise(
        y, sr=16000, snr_db=10.0, noise="pink", random_state=i))
    rep = monitor.test(noisy)
    assert rep.drift
    assert rep.drifted_health[0] == "quality__snr_db"


def test_gain_shift_is_explained_by_level(monitor, librispeech_clips):
    """Check that -20 dB of gain drifts the batch with the two level columns leading."""
    quiet = _batch(librispeech_clips[1::2], lambda i, y: y * np.float32(0.1))
    rep = monitor.test(quiet)
    assert rep.drift
    assert set(rep.drifted_health[:2]) == {"quality__rms_dbfs", "quality__peak_dbfs"}
    row = rep.table.set_index("feature").loc["quality__rms_dbfs"]
    assert row["statistic"] == 1.0  # every quiet clip is below every reference clip
