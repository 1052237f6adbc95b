"""Tabular transformers: rows of features in, rows out.

:class:`LogFeatures` (log of skewed non-negative columns), :class:`YeoJohnsonTransformer`
(scikit-learn's Yeo-Johnson power transform with all lambdas fitted at once) and
:class:`SelectFeatures` (keep the columns whose names match a pattern). They work on
any feature table; in sklaudio they follow the feature extractors of
:mod:`sklaudio.features`.
"""

from sklaudio.tabular._log import LogFeatures
from sklaudio.tabular._power import YeoJohnsonTransformer
from sklaudio.tabular._select import SelectFeatures

__all__ = ["LogFeatures", "SelectFeatures", "YeoJohnsonTransformer"]
