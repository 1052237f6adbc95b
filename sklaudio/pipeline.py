"""imbalanced-learn's Pipeline, re-exported: samplers (augmentation) run only while fitting.

scikit-learn's own ``Pipeline`` rejects samplers. imbalanced-learn's calls
``fit_resample`` on them during ``fit`` and skips them in ``predict``, ``transform``
and ``score``, so augmented copies exist only on the training folds of a
cross-validation.

Examples
--------
>>> from sklaudio.pipeline import Pipeline, make_pipeline
>>> Pipeline.__module__
'imblearn.pipeline'
"""

from imblearn.pipeline import Pipeline, make_pipeline

__all__ = ["Pipeline", "make_pipeline"]
