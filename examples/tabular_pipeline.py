"""
Impute a table inside a Pipeline and search the imputer with row-wise CV
=========================================================================

``DMFImputer`` completes held-out rows by folding them in against its learned column
factors, so it can sit in front of a downstream model under ordinary row-wise
cross-validation. Columns on very different scales are standardised from their
observed entries (``scaling="standard"``) and mapped back on output.
"""

import warnings

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from inrr_sklearn import INRR, DMFImputer

warnings.simplefilter("ignore", ConvergenceWarning)  # short budget on purpose

X, y = load_diabetes(return_X_y=True)
rng = np.random.default_rng(0)
X_nan = np.where(rng.random(X.shape) < 0.3, np.nan, X)  # 30 % missing at random

pipe = make_pipeline(
    DMFImputer(reg=INRR(), rank=10, max_iter=100, random_state=0), Ridge()
)
search = GridSearchCV(pipe, {"dmfimputer__reg__alpha_row": [1e-3, 1e-2, 1e-1]}, cv=3)
search.fit(X_nan, y)
for params, score in zip(
    search.cv_results_["params"], search.cv_results_["mean_test_score"], strict=True
):
    print(f"{params}: R^2 {score:.3f}")
