"""Shared numpydoc fragments, substituted into docstrings (imbalanced-learn's style).

A docstring names a fragment as ``{key}`` on a line of its own, indented like the
entries around it; :class:`Substitution` replaces it. Only the given keys are
replaced, so the braces of option sets (``{"fast", "pyin"}``) need no escaping, and a
key the docstring does not contain is an error (a typo would otherwise go unnoticed).
"""

__all__ = ["AUDIO_STEP_DOCS", "CLIP_FEATURES_DOCS", "DISPLAY_DOCS", "TABULAR_DOCS", "Substitution"]


class Substitution:
    """Decorator replacing ``{key}`` in the decorated object's docstring by fragments.

    Parameters
    ----------
    **fragments : str
        Text for each key. Continuation lines are indented by 4 spaces, as the
        entries of a class docstring's sections.
    """

    def __init__(self, **fragments):
        self.fragments = fragments

    def __call__(self, obj):
        doc = obj.__doc__
        if doc is None:  # python -OO strips docstrings
            return obj
        for key, text in self.fragments.items():
            token = "{" + key + "}"
            if token not in doc:
                raise ValueError(f"{obj.__qualname__}'s docstring has no {token} to substitute.")
            doc = doc.replace(token, text)
        obj.__doc__ = doc
        return obj


def _entry(text, indent=4):
    # fragments are written flush left; entries of a class docstring sit 4 spaces in
    # (a method's 8), their first line placed by the {key} token itself
    return "\n".join((" " * indent + line) if i and line else line
                     for i, line in enumerate(text.strip("\n").split("\n")))


#: Parameters and attributes every clip feature extractor shares.
CLIP_FEATURES_DOCS = {
    "sr": _entry("""
sr : float or None, default=None
    Sampling rate of the clips in Hz. None follows the rate the clips carry
    (:class:`~sklaudio.utils.ClipArray`), else librosa's 22050.
"""),
    "n_jobs": _entry("""
n_jobs : int or None, default=None
    Clips processed in parallel (joblib). None means 1 unless in a
    :func:`joblib.parallel_config` context; -1 means all cores.
"""),
    "verbose": _entry("""
verbose : int, default=0
    When > 0, print a progress line over clips.
"""),
    "sr_": _entry("""
sr_ : int or float
    Sampling rate used, in Hz, resolved in :term:`fit`; ``transform`` refuses clips
    carrying another.
"""),
    "n_features_in_": _entry("""
n_features_in_ : int
    Number of samples per clip seen during :term:`fit`; only when fitted on a
    matrix of equal-length clips.
"""),
    "feature_names_in_": _entry("""
feature_names_in_ : ndarray of shape (`n_features_in_`,)
    Names of the input columns, when fitted on a DataFrame with string columns.
"""),
}

#: Attributes every tabular transformer (rows in, rows out) shares.
TABULAR_DOCS = {
    "n_features_in_": _entry("""
n_features_in_ : int
    Number of columns seen during :term:`fit`.
"""),
    "feature_names_in_": _entry("""
feature_names_in_ : ndarray of shape (`n_features_in_`,)
    Column names seen during :term:`fit`, for a DataFrame with string column
    names only.
"""),
}

#: Parameters the figure functions share (:mod:`sklaudio.display` and the packages'
#: plot modules).
DISPLAY_DOCS = {
    "clip": _entry("""
y : array-like of shape (n_samples,)
    One clip.
"""),
    "sr": _entry("""
sr : int
    Sampling rate in Hz.
"""),
    "features": _entry("""
X : DataFrame or array-like of shape (n_rows, n_columns)
    The features.
"""),
    "ax": _entry("""
ax : matplotlib Axes or None, default=None
    Draw on it; None makes a new figure.
"""),
    "title": _entry("""
title : str or None, default=None
    Axes title.
"""),
    "path": _entry("""
path : str or path-like or None, default=None
    Save the figure there (the format follows the extension).
"""),
}

#: Entries of the ``fit`` method of the audio steps that learn nothing from the clips
#: (:class:`~sklaudio.preprocessing.Denoiser`, :class:`~sklaudio.preprocessing.Trimmer`).
AUDIO_STEP_DOCS = {
    "fit_X_y": _entry("""
X : ndarray of shape (n_clips, n_samples) or sequence of 1-D arrays
    The clips.

y : Ignored
    Not used, present here for API consistency by convention.
""", indent=8),
}
