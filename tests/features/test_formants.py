import numpy as np
import pandas as pd
import pytest
from scipy.linalg import solve_toeplitz
from scipy.signal import lfilter

from sklaudio.exceptions import ParameterError
from sklaudio.features import FormantFeatures, lpc_formants
from sklaudio.features._formants import _autocorr, _levinson
from tests.conftest import harmonic, require_data

SR = 16000


def vowel(f0, formants, bandwidths=(80, 90, 120), sr=SR, duration=1.0):
    """Glottal pulse train through a cascade of two-pole resonators (Klatt style)."""
    pulses = np.zeros(int(sr * duration))
    pulses[:: int(round(sr / f0))] = 1.0
    y = pulses
    for f, b in zip(formants, bandwidths):
        r = np.exp(-np.pi * b / sr)
        y = lfilter([1.0], [1.0, -2 * r * np.cos(2 * np.pi * f / sr), r * r], y)
    return y / np.abs(y).max() * 0.5


def row(est, y):
    return pd.Series(est.transform([y])[0], index=est.get_feature_names_out())


def test_levinson_solves_the_normal_equations():
    rng = np.random.RandomState(0)
    frames = lfilter([1.0], [1.0, -1.3, 0.8], rng.randn(5, 400), axis=1) * np.hamming(400)
    r = _autocorr(frames, 11)
    np.testing.assert_allclose(r[:, 3], np.sum(frames[:, :-3] * frames[:, 3:], axis=1))
    a = _levinson(r, 10)
    for i in range(5):
        ref = solve_toeplitz(r[i, :10], -r[i, 1:11])
        np.testing.assert_allclose(a[i, 1:], ref, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("f0, formants", [
    (110, (700, 1200, 2600)),    # /a/-like, male pitch
    (220, (500, 1800, 2800)),    # /e/-like, female pitch
    (300, (850, 1600, 3300)),    # child-like
])
def test_formants_of_synthetic_vowels(f0, formants):
    freqs, bws = lpc_formants(vowel(f0, formants), sr=SR, n_formants=3)
    med = np.nanmedian(freqs, axis=0)
    np.testing.assert_allclose(med, formants, rtol=0.06)
    assert np.all(np.nanmedian(bws, axis=0) < 700)
    est = FormantFeatures(sr=SR).fit([np.zeros(10)])
    r = row(est, vowel(f0, formants))
    np.testing.assert_allclose(r[["f1_median", "f2_median", "f3_median"]], formants, rtol=0.06)
    assert r["periodic_fraction"] > 0.9


def test_longer_vocal_tract_lowers_every_formant_by_its_ratio():
    est = FormantFeatures(sr=SR).fit([np.zeros(10)])
    base = np.array([600.0, 1300.0, 2500.0])
    a = row(est, vowel(120, base))
    b = row(est, vowel(120, base * 1.2))
    ratio = b[["f1_median", "f2_median", "f3_median"]].to_numpy() / a[
        ["f1_median", "f2_median", "f3_median"]].to_numpy()
    np.testing.assert_allclose(ratio, 1.2, rtol=0.04)


def test_h1h2_of_two_harmonics_is_their_level_difference():
    # 250 Hz and 500 Hz fall on FFT bins exactly (1024-point FFT at 16 kHz)
    t = np.arange(SR) / SR
    for a2, expected in [(0.5, 20 * np.log10(2)), (0.25, 20 * np.log10(4)),
                         (2.0, -20 * np.log10(2))]:
        y = 0.4 * np.sin(2 * np.pi * 250 * t) + 0.4 * a2 * np.sin(2 * np.pi * 500 * t)
        r = row(FormantFeatures(sr=SR).fit([y]), y)
        assert r["h1h2_median"] == pytest.approx(expected, abs=0.2)


def test_noise_lowers_hnr_and_cpp():
    rng = np.random.RandomState(0)
    clean = harmonic(150.0, sr=SR, duration=1.0)
    est = FormantFeatures(sr=SR).fit([clean])
    rows = []
    for snr_db in (None, 20, 10):
        y = clean.copy()
        if snr_db is not None:
            noise = rng.randn(len(y))
            y = y + noise * np.sqrt(np.mean(clean**2) / np.mean(noise**2) / 10 ** (snr_db / 10))
        rows.append(row(est, y))
    hnr = [r["hnr_median"] for r in rows]
    cpp = [r["cpp_median"] for r in rows]
    assert hnr[0] > 20 and hnr[0] > hnr[1] > hnr[2]
    assert hnr[2] == pytest.approx(10, abs=3)  # Boersma's HNR tracks the SNR
    assert cpp[0] > cpp[1] > cpp[2]


def test_silence_and_noise_give_zeros_not_nan():
    est = FormantFeatures(sr=SR).fit([np.zeros(100)])
    rng = np.random.RandomState(1)
    out = est.transform([np.zeros(SR // 2), rng.randn(SR // 2) * 0.1, np.zeros(10)])
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out[0], 0.0)
    np.testing.assert_array_equal(out[2], 0.0)
    names = list(est.get_feature_names_out())
    assert out[1, names.index("periodic_fraction")] < 0.1


def test_feature_names_and_pandas_output():
    est = FormantFeatures(sr=SR, n_formants=2, stats=("mean",), percentiles=(50,))
    est.set_output(transform="pandas")
    df = est.fit_transform([vowel(120, (700, 1200, 2600)), vowel(200, (400, 2000, 2800))])
    assert list(df.columns) == [
        "f1_mean", "f1_p50", "f2_mean", "f2_p50", "f1_bw_median", "f2_bw_median",
        "h1h2_mean", "h1h2_p50", "hnr_mean", "hnr_p50", "cpp_mean", "cpp_p50",
        "periodic_fraction",
    ]
    assert df.shape == (2, 13)
    assert df.loc[1, "f2_mean"] > df.loc[0, "f2_mean"]


@pytest.mark.parametrize("params, match", [
    (dict(fmin=300.0, fmax=200.0), "fmin=300.0 must be below fmax"),
    (dict(frame_length=100), "cannot hold a period of fmin"),
    (dict(fmax=5000.0), "no second harmonic"),
    (dict(order=500, frame_length=400), "order=500"),
])
def test_bad_parameters_name_themselves(params, match):
    with pytest.raises(ParameterError, match=match):
        FormantFeatures(sr=SR, **params).fit([np.zeros(1000)])


def test_children_have_higher_formants_than_men():
    root = require_data("speechocean762")
    from sklaudio.io import load_audio

    m = pd.read_csv(root / "manifest.csv")
    groups = {
        "kids": m[m.age <= 8].head(10),
        "women": m[(m.age >= 20) & (m.gender == "female")].head(10),
        "men": m[(m.age >= 20) & (m.gender == "male")].head(10),
    }
    est = FormantFeatures(sr=SR).fit([np.zeros(10)])

    def medians(rows):
        clips = [load_audio(root / p, sr=SR)[0] for p in rows.path]
        df = pd.DataFrame(est.transform(clips), columns=est.get_feature_names_out())
        return df.median()

    k, w, a = (medians(g) for g in groups.values())
    # shorter vocal tracts resonate higher: children > women > men
    assert k["f3_median"] > w["f3_median"] > a["f3_median"]
    assert k["f3_median"] > 1.1 * a["f3_median"]
    assert k["f1_median"] > 1.1 * a["f1_median"]


def test_deprecated_f0_min_f0_max_warn_and_act_as_fmin_fmax():
    """Check f0_min / f0_max still set the pitch range, with a FutureWarning naming fmin/fmax."""
    X = [vowel(120, (700, 1200, 2600)), vowel(220, (400, 2000, 2800))]
    new = FormantFeatures(sr=SR, fmin=100.0, fmax=300.0).fit(X).transform(X)
    with pytest.warns(FutureWarning, match=r"f0_min=\.\.\.\) is deprecated.*fmin=100\.0"):
        old = FormantFeatures(sr=SR, f0_min=100.0, fmax=300.0).fit(X).transform(X)
    np.testing.assert_array_equal(old, new)
    with pytest.warns(FutureWarning, match="use fmax=300.0"):
        old = FormantFeatures(sr=SR, fmin=100.0, f0_max=300.0).fit(X).transform(X)
    np.testing.assert_array_equal(old, new)
    # a narrower range than the voices' pitch finds fewer periodic frames: fmin acts
    other = FormantFeatures(sr=SR, fmin=250.0, fmax=300.0).fit(X).transform(X)
    assert not np.array_equal(other, new)
    with pytest.raises(ParameterError, match="fmin=300.0 must be below fmax=200.0"):
        with pytest.warns(FutureWarning):
            FormantFeatures(sr=SR, f0_min=300.0, f0_max=200.0).fit(X)


def test_lpc_formants_default_hop_is_formant_features_hop():
    """Check lpc_formants' default frames are FormantFeatures': 25 ms every 20 ms."""
    y = vowel(120, (700, 1200, 2600))
    freqs, _ = lpc_formants(y, sr=SR)
    assert len(freqs) == 1 + len(y) // round(0.020 * SR)
    same, _ = lpc_formants(y, sr=SR, frame_length=round(0.025 * SR),
                           hop_length=round(0.020 * SR))
    np.testing.assert_array_equal(freqs, same)


def test_formant_features_are_cacheable():
    """Check FormantFeatures declares itself a cacheable step and is deterministic."""
    assert FormantFeatures._sklaudio_cacheable is True
    X = [vowel(120, (700, 1200, 2600))]
    a = FormantFeatures(sr=SR).fit(X).transform(X)
    np.testing.assert_array_equal(a, FormantFeatures(sr=SR).fit(X).transform(X))


class _CountedSource:
    """A clip's samples in blocks, counting how many times the clip is read."""

    def __init__(self, y):
        self.y, self.reads = y, 0

    def __call__(self, block_size):
        self.reads += 1
        for a in range(0, len(self.y), block_size):
            yield self.y[a : a + block_size]


@pytest.mark.parametrize(
    "params, reads",
    [
        (dict(), 3),  # more periodic frames than max_frames: a read to fetch the chosen
        (dict(max_frames=1000), 2),  # all of them: formants on the way
        (dict(max_frames=None, stats=("mean", "std", "min"), percentiles=()), 2),
    ],
)
def test_streamed_clip_gives_the_whole_clip_row(params, reads, monkeypatch):
    """Check a streamed clip (pieces of 37 frames, so loud, periodic and chosen frames
    fall in many pieces) gives the whole clip's row, reading the clip at most 3 times."""
    from sklaudio.features import _formants
    from sklaudio.utils._stream import StreamedClip

    monkeypatch.setattr(_formants, "_STREAM_FRAMES", 37)
    gap = np.zeros(SR // 3)
    y = np.concatenate([vowel(110, (700, 1200, 2600), duration=2.5), gap,
                        0.05 * vowel(220, (400, 2000, 2900), duration=1.5), gap,
                        0.01 * np.random.default_rng(0).standard_normal(SR)])
    est = FormantFeatures(sr=SR, **params).fit([y])
    whole = est.transform([y])[0]
    source = _CountedSource(y)
    clip = StreamedClip(source, sr=SR, n_samples=len(y), dtype=y.dtype)
    np.testing.assert_allclose(est.transform([clip])[0], whole, rtol=1e-9, atol=1e-9)
    source.reads = 0  # the quality check reads it too: count the extractor's reads
    est._extract_stream(clip)
    assert source.reads == reads
    assert 0.3 < whole[-1] < 1  # periodic fraction: some loud frames are noise
