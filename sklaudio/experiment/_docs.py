"""Docstring fragments the experiment's models share (see ``sklaudio.utils._docstring``)."""

from sklaudio.utils._docstring import TABULAR_DOCS, _entry

#: The attributes and the ``X`` of the methods of the classifiers on feature tables
#: (:class:`BalancedLDA`, :class:`OrdinalBucketRegressor`).
MODEL_DOCS = {
    **TABULAR_DOCS,
    "X": _entry("""
X : array-like of shape (n_samples, n_features)
    Features.
""", indent=8),
}
