"""Linear discriminant analysis that weighs every class alike, whatever its size."""

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.utils.multiclass import check_classification_targets

from sklaudio.experiment._docs import MODEL_DOCS
from sklaudio.utils._compat import (
    Interval,
    StrOptions,
    _fit_context,
    check_is_fitted,
    validate_data,
)
from sklaudio.utils._docstring import Substitution

__all__ = ["BalancedLDA"]


def _delegate(name, summary, returns):
    """A method of :class:`BalancedLDA` answering with its fitted LDA's ``name``."""
    def method(self, X):
        X = self._checked(X)  # first: an unfitted model has no lda_
        return getattr(self.lda_, name)(X)

    returns = returns.replace("\n", "\n" + " " * 8)
    method.__name__, method.__qualname__ = name, f"BalancedLDA.{name}"
    method.__doc__ = f"""{summary}

        Parameters
        ----------
        {MODEL_DOCS["X"]}

        Returns
        -------
        {returns}
        """
    return method


@Substitution(n_features_in_=MODEL_DOCS["n_features_in_"],
              feature_names_in_=MODEL_DOCS["feature_names_in_"])
class BalancedLDA(ClassifierMixin, BaseEstimator):
    """Shrunk linear discriminant analysis with equal class priors.

    scikit-learn's :class:`~sklearn.discriminant_analysis.LinearDiscriminantAnalysis`
    takes the class priors from the class sizes, so a crowded class (speakers in their
    twenties) pulls the answers towards it; its ``priors`` must list one number per
    class before the classes are known. This model gives every class of the training
    labels the same prior, the LDA counterpart of ``class_weight="balanced"``. With few
    rows and many columns (a speaker embedding's 256 numbers for a hundred speakers)
    the shared covariance is shrunk towards a diagonal one.

    Parameters
    ----------
    shrinkage : "auto" or float in [0, 1], default="auto"
        Weight of the diagonal in the shrunk covariance: 0 is the plain covariance,
        1 its diagonal; "auto" chooses it by the Ledoit-Wolf formula.
    solver : {"lsqr", "eigen"}, default="lsqr"
        How the discriminant is solved (both take ``shrinkage``); see
        :class:`~sklearn.discriminant_analysis.LinearDiscriminantAnalysis`.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    lda_ : LinearDiscriminantAnalysis
        The fitted model, with ``priors`` equal to ``1 / n_classes``.
    {n_features_in_}
    {feature_names_in_}

    See Also
    --------
    sklearn.discriminant_analysis.LinearDiscriminantAnalysis : The model it fits.
    sklaudio.experiment.age_gender_param_grid : Offers it on the speaker embedding.

    Examples
    --------
    >>> import numpy as np
    >>> from sklaudio.experiment import BalancedLDA
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(0, 1, (90, 2)), rng.normal(2, 1, (10, 2))]
    >>> y = np.r_[np.zeros(90), np.ones(10)]
    >>> model = BalancedLDA(shrinkage=0.1).fit(X, y)
    >>> model.lda_.priors_.tolist()
    [0.5, 0.5]
    >>> model.predict([[1.2, 1.2]]).tolist()  # halfway, nearer the small class
    [1.0]
    """

    _parameter_constraints: dict = {
        "shrinkage": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="both")],
        "solver": [StrOptions({"lsqr", "eigen"})],
    }

    def __init__(self, *, shrinkage="auto", solver="lsqr"):
        self.shrinkage = shrinkage
        self.solver = solver

    @_fit_context(prefer_skip_nested_validation=True)
    @Substitution(X=MODEL_DOCS["X"])
    def fit(self, X, y):
        """Fit the discriminant with one prior per class, all equal.

        Parameters
        ----------
        {X}
        y : array-like of shape (n_samples,)
            Class of each row.

        Returns
        -------
        self : object
            The fitted model.
        """
        X, y = validate_data(self, X, y, dtype="numeric", y_numeric=False)
        check_classification_targets(y)
        n_classes = len(np.unique(y))
        if n_classes < 2:
            raise ValueError(f"y has {n_classes} class; BalancedLDA needs at least 2 classes.")
        self.lda_ = LinearDiscriminantAnalysis(
            solver=self.solver, shrinkage=self.shrinkage,
            priors=np.full(n_classes, 1.0 / n_classes)).fit(X, y)
        self.classes_ = self.lda_.classes_
        return self

    def _checked(self, X):
        # called before reading self.lda_, so an unfitted model raises NotFittedError
        check_is_fitted(self)
        return validate_data(self, X, dtype="numeric", reset=False)

    # the four answers are the fitted LDA's, after the checks
    decision_function = _delegate(
        "decision_function", "Discriminant score of each class (of the positive class for "
        "two classes).", """scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
    As :meth:`sklearn.discriminant_analysis.LinearDiscriminantAnalysis.decision_function`.""")
    predict_proba = _delegate(
        "predict_proba", "Probability of each class, under equal priors.",
        """proba : ndarray of shape (n_samples, n_classes)
    Columns in the order of ``classes_``.""")
    predict_log_proba = _delegate(
        "predict_log_proba", "Log of :meth:`predict_proba`.",
        """log_proba : ndarray of shape (n_samples, n_classes)
    Columns in the order of ``classes_``.""")
    predict = _delegate("predict", "Class of each row.", """y_pred : ndarray of shape (n_samples,)
    Labels among ``classes_``.""")
