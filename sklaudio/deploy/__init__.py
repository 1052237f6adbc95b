"""Deploy trained models: bundles that load safely anywhere, batch prediction, a service.

- :func:`save_model` / :func:`load_model`: a fitted estimator in a file that records
  what a deployment needs (versions, sample rate, classes, features, training data,
  drift reference) and loads without running code from the file (skops);
- :func:`predict_files` / :func:`predict_clips`: one row per clip with the prediction,
  class probabilities and the clip's quality flag (behind ``sklaudio predict``);
- :func:`make_app`: the HTTP prediction service behind ``sklaudio serve`` (needs
  ``pip install 'sklaudio[serve]'``; imported only when used).
"""

from sklaudio.deploy._bundle import (
    BundleError,
    BundleVersionWarning,
    UntrustedTypesError,
    load_bundle,
    load_model,
    read_metadata,
    save_model,
)
from sklaudio.deploy._predict import ModelRunner, predict_clips, predict_files
from sklaudio.deploy._serve import ServiceLimits, make_app

__all__ = [
    "BundleError",
    "BundleVersionWarning",
    "ModelRunner",
    "ServiceLimits",
    "UntrustedTypesError",
    "load_bundle",
    "load_model",
    "make_app",
    "predict_clips",
    "predict_files",
    "read_metadata",
    "save_model",
]
