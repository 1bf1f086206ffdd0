"""
Tune INRR's weight on nested parameters
=======================================

Regularizers are scikit-learn estimators holding hyperparameters, so their parameters
are reachable as ``reg__<name>`` (and ``reg__first__<name>`` inside a sum). This example
sets them by hand on a held-out split of the observed pixels; a full ``GridSearchCV``
recipe comes with the model-selection helpers.
"""

import numpy as np

from inrr_sklearn import INRR, TV, INRImputer
from inrr_sklearn.demo import load_image
from inrr_sklearn.masks import random_mask

truth = load_image("camera", size=40)
observed = random_mask(truth.shape, missing_rate=0.5, random_state=0)
# Hide a further 10 % of the observed pixels to score each setting on.
rng = np.random.default_rng(1)
held_out = observed & (rng.random(truth.shape) < 0.1)
X_train = np.where(observed & ~held_out, truth, np.nan)

imputer = INRImputer(
    reg=INRR(rank=16) + TV(),
    hidden_layer_sizes=(32,) * 3,
    max_iter=200,
    early_stopping=False,
    random_state=0,
)
print(sorted(k for k in imputer.get_params() if k.startswith("reg__first__alpha")))
for alpha in (1e-3, 1e-2, 1e-1):
    imputer.set_params(reg__first__alpha_row=alpha, reg__first__alpha_col=alpha)
    completed = imputer.fit_transform(X_train)
    rmse = np.sqrt(np.mean((completed[held_out] - truth[held_out]) ** 2))
    print(f"alpha={alpha:g}: held-out RMSE {rmse:.4f}")
