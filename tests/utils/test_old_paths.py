"""Every public name of the layout before the redesign (issue 11) still imports from
its old path: as before, or with a FutureWarning naming its new home."""

import importlib
import warnings

import pytest

import sklaudio

# the packages' __all__ at 0c55789, the last commit before the redesign
OLD_PUBLIC = {
    "sklaudio": [
        "AudioAugmenter", "AudioLoader", "ClipArray", "Denoiser", "F0Stats",
        "GMMSegmentSmoother", "LogFeatures", "MelFeatures", "SegmentDetector",
        "SpeakerEmbedding", "TemporalFeatures", "Trimmer", "YeoJohnsonTransformer",
        "age_gender_param_grid", "augment", "datasets", "experiment", "features", "io",
        "load_audio", "make_age_gender_pipeline", "make_voices", "pipeline",
        "preprocessing", "read_dataset", "segments", "utils"],
    "sklaudio.augment": [
        "AddNoise", "AudioAugmenter", "BaseOperation", "Gain", "PitchShift", "TimeShift",
        "TimeStretch", "TrimSilence", "add_noise", "apply_gain", "colored_noise",
        "pitch_shift", "time_shift", "time_stretch", "trim_silence"],
    "sklaudio.datasets": ["COMMON_VOICE_AGES", "age_to_bucket", "make_voices",
                          "synthesize_voice"],
    "sklaudio.experiment": [
        "AGE_SCHEMES", "FEATURE_STEPS", "VOICE_FEATURES", "age_gender_param_grid",
        "bucket_ages", "make_age_gender_pipeline", "mean_absolute_bucket_error",
        "plot_confusion_matrix", "predict_per_speaker", "run_experiment",
        "search_with_cached_features", "speaker_mean"],
    "sklaudio.features": [
        "F0Stats", "FormantFeatures", "LogFeatures", "MelCodebook", "MelFeatures",
        "SelectFeatures", "SpeakerEmbedding", "TemporalFeatures", "estimate_f0",
        "lpc_formants"],
    "sklaudio.io": [
        "AGE_BUCKETS", "AudioLoader", "Manifest", "SUPPORTED_EXTENSIONS", "load_audio",
        "load_audio_batch", "read_common_voice", "read_common_voice_csv", "read_dataset",
        "read_folder", "read_librispeech", "read_manifest"],
    "sklaudio.preprocessing": ["Denoiser", "Trimmer", "YeoJohnsonTransformer", "frame_db",
                               "plot_before_after"],
    "sklaudio.segments": [
        "GMMSegmentSmoother", "MedianFilterSmoother", "MinDurationSmoother",
        "SegmentDetector", "ViterbiSmoother", "event_f1", "frame_error_rate",
        "plot_segments", "read_rttm", "read_segments", "segment_f1", "write_segments"],
    "sklaudio.utils": [
        "AudioTransformerMixin", "ClipArray", "DEFAULT_SR", "carried_sr", "check_clips",
        "map_clips", "resolve_sr", "to_float", "validate_clips", "wrap_clips"],
}
OLD = [(module, name) for module, names in OLD_PUBLIC.items() for name in names]


def _moved_maps():
    """(old module, name, new module) for every name a package serves from elsewhere."""
    found = []
    for sub in sklaudio._SUBPACKAGES:
        module = importlib.import_module(f"sklaudio.{sub}")
        moved = getattr(getattr(module, "__getattr__", None), "moved", {})
        found += [(module.__name__, name, new) for name, new in moved.items()]
    return found


MOVED = _moved_maps()


@pytest.mark.parametrize("module, name", OLD, ids=[f"{m}.{n}" for m, n in OLD])
def test_old_public_name_still_imports(module, name):
    """Check the old path gives the object, silently or with a FutureWarning that
    names the new path, which gives the same object."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        obj = getattr(importlib.import_module(module), name)
    moved = [w for w in caught if issubclass(w.category, FutureWarning)]
    if moved:
        new = str(moved[0].message).split(" has moved to ")[1].split(";")[0]
        assert new.endswith(f".{name}") and new != f"{module}.{name}"
        assert getattr(importlib.import_module(new.rsplit(".", 1)[0]), name) is obj


def test_every_moved_name_is_served_and_tested():
    """Check the packages' moved-name maps are found, and each moved public name of the
    old layout is among them (so the test below covers it)."""
    served = {(m, n) for m, n, _ in MOVED}
    assert len(served) >= 18
    old_moved = {(m, n) for m, n in OLD if m != "sklaudio"
                 and n not in getattr(importlib.import_module(m), "__all__")}
    assert old_moved <= served


@pytest.mark.parametrize("old, name, new", MOVED, ids=[f"{o}.{n}" for o, n, _ in MOVED])
def test_moved_name_warns_and_gives_the_new_object(old, name, new):
    """Check each moved name: a FutureWarning naming the new path, the same object, and
    ``from old import name`` warns too."""
    with pytest.warns(FutureWarning, match=rf"{old}\.{name} has moved to {new}\.{name}"):
        obj = getattr(importlib.import_module(old), name)
    assert obj is getattr(importlib.import_module(new), name)
    assert name not in importlib.import_module(old).__all__
    with pytest.warns(FutureWarning, match=rf"{new}\.{name}"):
        exec(f"from {old} import {name}", {})
