"""
Tune INRR's weight with GridSearchCV on held-out pixels
=======================================================

One image is one matrix: the honest way to tune a regularizer is to hide some observed
pixels, fit on the rest, and score the completion on what was hidden.
``hide_observed`` does the hiding (seeded), ``neg_heldout_rmse`` is the scorer, and a
single "split" that uses every row for both fitting and scoring makes stock
``GridSearchCV`` run the search. Regularizers are estimators, so their parameters are
searchable as ``reg__<name>`` (``reg__inrr__<name>`` inside a sum such as ``INRR() + TV()``).
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from inrr_sklearn import INRR, INRImputer
from inrr_sklearn.image import load_image
from inrr_sklearn.masks import random_mask
from inrr_sklearn.model_selection import hide_observed, neg_heldout_rmse

warnings.simplefilter("ignore", ConvergenceWarning)  # short budget on purpose

truth = load_image("camera", size=40)
X_nan = np.where(random_mask(truth.shape, 0.5, random_state=0), truth, np.nan)
X_hidden = hide_observed(X_nan, fraction=0.1, random_state=0)

whole = np.arange(X_nan.shape[0])
search = GridSearchCV(
    INRImputer(
        reg=INRR(rank=16),
        hidden_layer_sizes=(32,) * 3,
        max_iter=150,
        early_stopping=False,
        random_state=0,
    ),
    {"reg__alpha_row": [1e-3, 1e-2, 1e-1], "reg__alpha_col": [1e-2]},
    cv=[(whole, whole)],
    scoring=neg_heldout_rmse,
)
search.fit(X_hidden, X_nan)  # y = the reference holding the hidden values
for params, score in zip(
    search.cv_results_["params"], search.cv_results_["mean_test_score"], strict=True
):
    print(f"{params}: held-out RMSE {-score:.4f}")
print("best:", search.best_params_)

# Refit the best setting on every observed pixel.
best = search.best_estimator_.set_params(max_iter=150).fit(X_nan)
print("completed, NaN left:", int(np.isnan(best.transform(X_nan)).sum()))
