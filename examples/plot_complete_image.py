"""
Complete an image with INRImputer and INRR, and look inside the fit
===================================================================

Hide half of the pixels of a small sample image, complete them with and without the
INRR regularizer, and draw the paper's four figures from the recorded history
(``record_every``): the completion grid, PSNR against the step, the convergence
trajectory and INRR's learned row similarity. Runs in seconds on a CPU (a 48 x 48
image, a small network and a short budget; the library defaults are sized for about a
minute at 128 x 128).
"""

import matplotlib.pyplot as plt
import numpy as np

from inrr_sklearn import INRR, INRImputer
from inrr_sklearn.image import image_scores, load_image
from inrr_sklearn.masks import random_mask
from inrr_sklearn.plotting import (
    plot_completion_grid,
    plot_convergence_trajectory,
    plot_psnr_curves,
    plot_similarity,
)

truth = load_image("camera", size=48)
observed = random_mask(truth.shape, missing_rate=0.5, random_state=0)
X = np.where(observed, truth, np.nan)  # NaN marks a missing pixel

fitted, completions = {}, {}
for name, reg in [("INR", None), ("INR+INRR", INRR(rank=16))]:
    imputer = INRImputer(
        reg=reg,
        hidden_layer_sizes=(32,) * 4,
        max_iter=300,
        record_every=10,
        random_state=0,
    )
    completed = imputer.fit_transform(X)
    assert np.array_equal(completed[observed], X[observed])  # observed kept exactly
    scores = image_scores(truth, completed, observed)
    print(
        f"{name:>9}: PSNR {scores['psnr_all']:.2f} dB (all), "
        f"{scores['psnr_missing']:.2f} dB (missing), {imputer.n_iter_} steps"
    )
    fitted[name], completions[name] = imputer, completed

# %%
# Observed pixels, each completion and the truth.
plot_completion_grid(truth, observed, completions)

# %%
# PSNR on the missing and on the observed pixels along the fit.
plot_psnr_curves(fitted, truth, observed)

# %%
# Observed-pixel error against missing-pixel error: the convergence trajectory.
plot_convergence_trajectory(fitted, truth, observed)

# %%
# The row similarity INRR learned, at four recorded steps.
plot_similarity(fitted["INR+INRR"], side="row")
plt.show()
