"""A deterministic synthetic voice corpus whose voices depend on gender and age.

The default data of the age/gender experiment must exist on any machine without a
download, so sklaudio ships a source-filter voice synthesiser: a glottal pulse train
(f0 contour with declination and intonation, jitter, shimmer, spectral tilt,
breathiness) through formant resonators whose frequencies follow the speaker's
vocal-tract length, in syllables separated by short pauses, with background noise and
leading/trailing silence. Every step of the pipeline matters on it: denoising (noise),
trimming (silence), pitch (f0 by gender and age), mel features (formants, tilt) and
rhythm (speaking rate).
"""

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.signal import lfilter
from sklearn.utils import Bunch, check_random_state

from sklaudio.datasets._schemes import age_to_bucket
from sklaudio.utils._audio import ClipArray

__all__ = ["make_voices", "synthesize_voice"]

# Adult male vowel formants (Peterson & Barney) for /a/, /i/, /u/, /e/, /o/, in Hz.
_VOWELS = np.array([
    [730, 1090, 2440, 3400],
    [270, 2290, 3010, 3500],
    [300, 870, 2240, 3300],
    [530, 1840, 2480, 3450],
    [570, 840, 2410, 3350],
], dtype=float)


def _voice_params(gender, age, rng):
    """f0, vocal-tract scale and voice quality for a speaker of this gender and age."""
    male = gender == "male"
    # children's voices are alike across genders; male f0 drops through puberty
    if age < 12:
        f0 = 275 - 4.0 * (age - 6)
    elif age < 17:
        frac = (age - 12) / 5
        f0 = (250 - 125 * frac) if male else (245 - 30 * frac)
    else:
        f0 = 118.0 if male else 212.0
    if male and age > 60:
        f0 += 0.6 * (age - 60)  # male f0 rises in old age
    if not male and age > 50:
        f0 -= 0.7 * (age - 50)  # female f0 drops after menopause
    f0 *= np.exp(rng.normal(0, 0.08))
    # formants scale with the inverse of vocal-tract length
    if age < 16:
        child = 1.38 - 0.035 * (age - 6) if age >= 6 else 1.38
        tract = max(child, 1.0 if male else 1.16)
    else:
        tract = 1.0 if male else 1.16
    tract *= np.exp(rng.normal(0, 0.03))
    older = max(0.0, age - 30)
    tract *= 1 - 0.0015 * older  # the vocal tract lengthens a little with age
    return dict(
        f0=f0,
        tract=tract,
        jitter=0.004 + 0.00012 * older + abs(rng.normal(0, 0.001)),
        shimmer=0.03 + 0.0015 * older + abs(rng.normal(0, 0.005)),
        breath=(0.04 if male else 0.08) + 0.0015 * older + abs(rng.normal(0, 0.01)),
        tilt=0.93 + 0.0005 * older + rng.normal(0, 0.01),  # glottal low-pass pole
        rate=(3.2 if age < 13 else 4.6 - 0.02 * older) * np.exp(rng.normal(0, 0.08)),
        intonation=rng.uniform(0.05, 0.15),
        tremor=0.002 + 0.0008 * older,  # 5 Hz f0 tremor grows with age
    )


def _resonator(f, bw, sr):
    r = np.exp(-np.pi * bw / sr)
    theta = 2 * np.pi * f / sr
    # Klatt's resonator: unit gain at 0 Hz, a peak of about f / bw above it
    return [1 - 2 * r * np.cos(theta) + r * r], [1, -2 * r * np.cos(theta), r * r]


def synthesize_voice(*, gender, age, sr=16000, duration=2.5, snr_db=20.0,
                     silence=(0.2, 0.5), random_state=None):
    """Synthesize one utterance of a voice of the given gender and age.

    Parameters
    ----------
    gender : {"female", "male"}
        Speaker gender.
    age : float
        Speaker age in years (>= 3).
    sr : int, default=16000
        Sampling rate in Hz.
    duration : float, default=2.5
        Length of the voiced part in seconds (silence is added around it).
    snr_db : float or None, default=20.0
        Level of background noise relative to the voice; None for no noise.
    silence : tuple of float, default=(0.2, 0.5)
        Range of the leading and trailing silence in seconds, drawn per side.
    random_state : int, RandomState instance or None, default=None
        Seed of the speaker's voice and of this utterance.

    Returns
    -------
    y : ndarray of shape (n_samples,), float32
        The utterance, peak at most 0.9.

    See Also
    --------
    make_voices : A corpus of speakers, several utterances each.

    Examples
    --------
    >>> from sklaudio.datasets import synthesize_voice
    >>> y = synthesize_voice(gender="female", age=30, duration=1.0, random_state=0)
    >>> y.dtype, 1.4 * 16000 <= len(y) <= 2.0 * 16000
    (dtype('float32'), True)
    """
    if gender not in ("female", "male"):
        raise ValueError(f"gender={gender!r}; expected 'female' or 'male'.")
    if not np.isfinite(age) or age < 3:
        raise ValueError(f"age={age!r}; expected a number of years >= 3.")
    rng = check_random_state(random_state)
    p = _voice_params(gender, float(age), rng)
    return _render(p, sr=sr, duration=duration, snr_db=snr_db, silence=silence, rng=rng)


def _render(p, *, sr, duration, snr_db, silence, rng):
    n_voice = int(round(duration * sr))
    # syllables: voiced stretches separated by short pauses, at the speaker's rate
    bounds, t = [], 0.0
    while t < duration:
        syl = rng.uniform(0.6, 1.0) / p["rate"]
        bounds.append((t, min(duration, t + syl)))
        t += syl + rng.uniform(0.03, 0.12) / p["rate"] * 3
    src = np.zeros(n_voice)
    # glottal pulses: period from the f0 contour, perturbed by jitter; amplitude by shimmer
    decl = np.linspace(1.05, 0.92, n_voice)  # declination over the utterance
    phrase = 1 + p["intonation"] * np.sin(
        2 * np.pi * rng.uniform(0.3, 0.8) * np.arange(n_voice) / sr + rng.uniform(0, 6.3)
    )
    tremor = 1 + p["tremor"] * np.sin(2 * np.pi * 5.0 * np.arange(n_voice) / sr)
    f0_track = p["f0"] * decl * phrase * tremor
    pos = 0.0
    while pos < n_voice - 1:
        i = int(pos)
        src[i] = 1 + p["shimmer"] * rng.standard_normal()
        pos += sr / f0_track[i] * (1 + p["jitter"] * rng.standard_normal())
    src = lfilter([1.0], [1.0, -p["tilt"]], src)  # spectral tilt of the glottal flow
    voiced = src[src != 0] if src.any() else src
    breath = rng.standard_normal(n_voice) * p["breath"] * np.std(voiced)
    voice = np.zeros(n_voice)
    for a, b in bounds:
        i0, i1 = int(a * sr), int(b * sr)
        if i1 - i0 < 32:
            continue
        formants = _VOWELS[rng.randint(len(_VOWELS))] * p["tract"]
        chunk = src[i0:i1] + breath[i0:i1]
        for k, f in enumerate(formants):
            if f >= 0.45 * sr:
                continue
            bw = 60 + 0.06 * f + 20 * k
            chunk = lfilter(*_resonator(f, bw, sr), chunk)
        chunk = np.diff(chunk, prepend=chunk[0])  # radiation at the lips: +6 dB/octave
        env = np.sin(np.linspace(0, np.pi, i1 - i0)) ** 0.5  # syllable onset and decay
        voice[i0:i1] = chunk * env * rng.uniform(0.6, 1.0)
    voice /= np.max(np.abs(voice)) + 1e-12
    lead, trail = (int(rng.uniform(*silence) * sr) for _ in range(2))
    y = np.concatenate([np.zeros(lead), voice, np.zeros(trail)])
    if snr_db is not None:
        p_voice = np.mean(voice**2)
        noise = rng.standard_normal(len(y))
        noise = lfilter([1.0], [1.0, -0.7], noise)  # a little pinker than white
        noise *= np.sqrt(p_voice / 10 ** (snr_db / 10) / np.mean(noise**2))
        y = y + noise
    return (0.9 * y / np.max(np.abs(y))).astype(np.float32)


def make_voices(n_speakers=60, *, n_clips_per_speaker=2, sr=16000, duration=(1.5, 3.0),
                age_range=(13, 79), snr_db=(5.0, 30.0), path=None, random_state=0):
    """Make a deterministic corpus of synthetic voices labelled with gender and age.

    Half the speakers are female, half male (the odd one female); ages are uniform
    over ``age_range``. Each speaker keeps one voice (f0, vocal-tract length, voice
    quality, speaking rate) across utterances, so splits must be grouped by speaker.

    Parameters
    ----------
    n_speakers : int, default=60
        Number of speakers.
    n_clips_per_speaker : int, default=2
        Utterances per speaker.
    sr : int, default=16000
        Sampling rate in Hz.
    duration : tuple of float, default=(1.5, 3.0)
        Range of the voiced length of an utterance in seconds.
    age_range : tuple of int, default=(13, 79)
        Youngest and oldest age in years (inclusive).
    snr_db : tuple of float, default=(5.0, 30.0)
        Range of the background noise level per utterance.
    path : str or Path, default=None
        If given, also write each utterance as a 16-bit WAV file there and a
        ``manifest.csv`` (path, speaker, gender, age, age_group, duration_s,
        sample_rate) that :func:`sklaudio.datasets.read_dataset` reads.
    random_state : int, default=0
        Seed; the same seed gives the same corpus, sample for sample.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``clips`` (:class:`~sklaudio.utils.ClipArray` of ragged float32 clips, carrying
        ``sr``), ``frame`` (DataFrame: speaker, gender, age, age_group as ordered
        Common Voice buckets), ``groups`` (speaker ids), ``sr``, and ``paths`` (list of
        WAV paths, or None when ``path`` is None).

    See Also
    --------
    synthesize_voice : One utterance.

    Examples
    --------
    >>> from sklaudio.datasets import make_voices
    >>> data = make_voices(n_speakers=4, duration=(1.0, 1.0), random_state=0)
    >>> len(data.clips), data.clips.sr
    (8, 16000)
    >>> data.frame[["speaker", "gender"]].drop_duplicates().gender.tolist()
    ['female', 'male', 'female', 'male']
    """
    rng = check_random_state(random_state)
    if n_speakers < 1 or n_clips_per_speaker < 1:
        raise ValueError(
            f"n_speakers={n_speakers} and n_clips_per_speaker={n_clips_per_speaker} must be >= 1."
        )
    if age_range[0] > age_range[1] or age_range[0] < 3:
        raise ValueError(f"age_range={age_range!r}: expected (low, high) with 3 <= low <= high.")
    clips, rows = [], []
    for s in range(n_speakers):
        gender = "female" if s % 2 == 0 else "male"
        age = int(rng.randint(age_range[0], age_range[1] + 1))
        voice = _voice_params(gender, float(age), rng)
        for c in range(n_clips_per_speaker):
            dur = rng.uniform(*duration)
            snr = rng.uniform(*snr_db)
            y = _render(voice, sr=sr, duration=dur, snr_db=snr, silence=(0.2, 0.6), rng=rng)
            clips.append(y)
            rows.append(dict(speaker=f"spk{s:03d}", clip=c, gender=gender, age=age,
                             snr_db=round(snr, 2), duration_s=len(y) / sr))
    frame = pd.DataFrame(rows)
    frame["age_group"] = age_to_bucket(frame["age"]) if age_range[0] >= 13 else pd.NA
    paths = None
    if path is not None:
        import soundfile as sf

        root = Path(path)
        root.mkdir(parents=True, exist_ok=True)
        paths = []
        for (i, row), y in zip(frame.iterrows(), clips):
            p = root / f"{row['speaker']}_{row['clip']}.wav"
            sf.write(p, y, sr, subtype="PCM_16")
            paths.append(str(p))
        manifest = frame.assign(path=[Path(p).name for p in paths], sample_rate=sr)
        columns = ["path", "speaker", "gender", "age", "age_group", "duration_s", "sample_rate"]
        manifest[columns].to_csv(root / "manifest.csv", index=False)
    return Bunch(clips=ClipArray(clips, sr), frame=frame, groups=frame["speaker"].to_numpy(),
                 sr=sr, paths=paths)
