"""scikit-learn's (and imbalanced-learn's, for samplers) common checks on every public estimator.

Estimators are discovered from the ``__all__`` of each subpackage, so a new public
estimator is checked without being listed here. Cheap settings for the checks' tiny
inputs go in CHECK_PARAMS; the one table of expected failures, each with a reason, is
EXPECTED_FAILED_CHECKS.
"""

import importlib
import inspect
import warnings

from sklearn.base import BaseEstimator
from sklearn.utils.estimator_checks import parametrize_with_checks

import sklaudio

# Cheap settings: the checks feed ~20 clips of a few samples each.
CHECK_PARAMS = {
    "MelFeatures": dict(kind=("stats", "mfcc", "image"), n_fft=4, hop_length=2, n_mels=2,
                        n_mfcc=2, delta_width=3, duration=0.0005),
    "TemporalFeatures": dict(sr=100, n_fft=4, hop_length=2, n_mels=2, percentiles=(50,)),
    "MelCodebook": dict(n_codewords=2, patch_frames=1, n_fft=4, hop_length=2, n_mels=2,
                        random_state=0),
    "F0Stats": dict(sr=8000, fmin=200.0, fmax=1000.0, frame_length=128),
    "FormantFeatures": dict(sr=1000, fmin=100.0, fmax=200.0, frame_length=16,
                            hop_length=8, order=4),
    # default operations (noise, shift, gain); balancing on, which imblearn's checks expect
    "AudioAugmenter": dict(random_state=0, sampling_strategy="auto"),
    "Denoiser": dict(sr=1000, n_fft=16, time_constant_s=0.05),
    "Trimmer": dict(sr=1000, frame_length=4, hop_length=2, duration=0.01),
    "SpeakerEmbedding": dict(sr=16000),  # the encoder's rate; tiny clips are zero-padded
    "DriftMonitor": dict(random_state=0),
    "IVectorExtractor": dict(n_components=2, n_ivector=2, n_iter=2, n_mfcc=2, n_fft=4,
                             hop_length=2, n_mels=2, fmin=0.0, random_state=0),
}

# {class name: {check name: reason}}: at most two per estimator.
EXPECTED_FAILED_CHECKS = {
    "Denoiser": {
        "check_n_features_in_after_fitting": "clip length may differ between fit and transform",
        "check_transformer_data_not_an_array": "a list of clips is form (b): it comes back as "
        "an object ClipArray of clips (audio contract), which assert_allclose cannot compare",
    },
    "Trimmer": {
        "check_n_features_in_after_fitting": "clip length may differ between fit and transform",
    },
    "MelFeatures": {
        "check_n_features_in_after_fitting": "clip length may differ between fit and transform",
        "check_transformer_general": "clip length may differ between fit and transform",
    },
    "MelCodebook": {
        "check_n_features_in_after_fitting": "clip length may differ between fit and transform",
        "check_transformer_general": "clip length may differ between fit and transform",
    },
    "AudioQuality": {
        "check_n_features_in_after_fitting": "clip length may differ between fit and transform",
        "check_transformer_general": "clip length may differ between fit and transform",
    },
    "TemporalFeatures": {
        "check_n_features_in_after_fitting": "clip length may differ between fit and transform",
        "check_transformer_general": "clip length may differ between fit and transform",
    },
    "F0Stats": {
        "check_n_features_in_after_fitting": "clip length may differ between fit and transform",
        "check_transformer_general": "clip length may differ between fit and transform",
    },
    "FormantFeatures": {
        "check_n_features_in_after_fitting": "clip length may differ between fit and transform",
        "check_transformer_general": "clip length may differ between fit and transform",
    },
    "SpeakerEmbedding": {
        "check_n_features_in_after_fitting": "clip length may differ between fit and transform",
        "check_transformer_general": "clip length may differ between fit and transform",
    },
    "IVectorExtractor": {
        "check_n_features_in_after_fitting": "clip length may differ between fit and transform",
        "check_transformer_general": "clip length may differ between fit and transform",
    },
    "OrdinalBucketRegressor": {
        "check_classifiers_train": "an ordinal model regresses class positions: the check's "
        "classes are blobs in no order along any direction of the features",
    },
    "AudioAugmenter": {
        "check_samplers_sampling_strategy_fit_resample": (
            "n_copies=1 adds a copy of every clip, so classes left out of a dict strategy "
            "grow too; with n_copies=0 they stay unchanged (tests/augment checks it)"
        ),
    },
}

# Estimators whose input is not a matrix (paths, segment tables): the common checks
# cannot feed them, so they have hand-written API tests in their own test module.
NOT_MATRIX_INPUT = {
    "AudioLoader": "input is a list of file paths, not a matrix; API tests in "
    "tests/io/test_load.py",
    # segments: X is a segment table (sorted, non-overlapping [start, end, label] rows); the
    # checks' random float matrices are unsorted/overlapping and have no labels
    "GMMSegmentSmoother": "input is a segment table (list of dicts / DataFrame start,end,label); "
    "API tests in tests/segments/test_gmm.py",
    "MinDurationSmoother": "input is a segment table, not a matrix; "
    "tests/segments/test_baselines_metrics.py",
    "MedianFilterSmoother": "input is a segment table, not a matrix; "
    "tests/segments/test_baselines_metrics.py",
    "ViterbiSmoother": "input is a segment table, not a matrix; "
    "tests/segments/test_baselines_metrics.py",
    "SegmentDetector": "wraps a fitted clip classifier and predicts a segment DataFrame per long "
    "recording; tests/segments/test_tools.py",
    "SpeakerVerifier": "fit takes a table of clips, but predict/decision_function take pairs "
    "(A, B) or (n_pairs, 2, n_features); tests/speakers/test_verifier.py runs every common "
    "check and allows only the failures that feed a matrix to the pair methods",
}


# Parameter objects without fit (as scikit-learn's Gaussian-process kernels): they
# inherit BaseEstimator for get_params/set_params/clone and parameter validation only.
PARAMETER_OBJECTS = {
    name: "an augmentation operation: parameters only, applied by AudioAugmenter; "
    "tests/augment/test_augmenter.py"
    for name in ("AddNoise", "BaseOperation", "Gain", "PitchShift", "TimeShift",
                 "TimeStretch", "TrimSilence")
}


def all_estimators():
    """Every public estimator class of sklaudio's subpackages, sorted by name."""
    found = {}
    for sub in sklaudio._SUBPACKAGES:
        mod = importlib.import_module(f"sklaudio.{sub}")
        for name in getattr(mod, "__all__", []):
            # a moved name (served with a FutureWarning) must not be in any __all__
            with warnings.catch_warnings():
                warnings.simplefilter("error", FutureWarning)
                obj = getattr(mod, name)
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseEstimator)
                and not inspect.isabstract(obj)
                and obj.__module__.startswith("sklaudio")
            ):
                found[obj.__name__] = obj
    return [found[k] for k in sorted(found)]


def _is_sampler(cls):
    return hasattr(cls, "fit_resample")


def _instances(samplers):
    out = []
    for cls in all_estimators():
        if (cls.__name__ in NOT_MATRIX_INPUT or cls.__name__ in PARAMETER_OBJECTS
                or _is_sampler(cls) != samplers):
            continue
        out.append(cls(**CHECK_PARAMS.get(cls.__name__, {})))
    return out


def _expected(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


def test_expected_failure_table_is_small_and_explained():
    """Check that each estimator has at most two expected failures, each with a reason."""
    names = {cls.__name__ for cls in all_estimators()}
    for name, table in EXPECTED_FAILED_CHECKS.items():
        assert name in names, f"{name} is in the table but not a public estimator"
        assert len(table) <= 2, f"{name} has {len(table)} expected failures"
        assert all(isinstance(r, str) and len(r) > 10 for r in table.values())


def test_non_matrix_estimators_are_explained():
    """Check that every estimator left out of the common checks says why and exists."""
    names = {cls.__name__ for cls in all_estimators()}
    for name, reason in {**NOT_MATRIX_INPUT, **PARAMETER_OBJECTS}.items():
        assert name in names and len(reason) > 10


@parametrize_with_checks(
    _instances(samplers=False), expected_failed_checks=_expected, xfail_strict=True
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


_SAMPLERS = _instances(samplers=True)
if _SAMPLERS:
    from imblearn.utils.estimator_checks import (
        parametrize_with_checks as imblearn_parametrize_with_checks,
    )

    @parametrize_with_checks(_SAMPLERS, expected_failed_checks=_expected, xfail_strict=True)
    def test_sampler_sklearn_compatible(estimator, check):
        check(estimator)

    @imblearn_parametrize_with_checks(_SAMPLERS, expected_failed_checks=_expected)
    def test_sampler_imblearn_compatible(estimator, check):
        check(estimator)
