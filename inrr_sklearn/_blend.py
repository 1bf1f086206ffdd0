"""``BlendImputer``: several imputers blended with weights learned on held-out entries.

The recommended imputer for tables. ``fit`` hides seeded disjoint fractions of the
observed entries in turn, fits every candidate imputer on what is left, and learns
convex weights (non-negative, summing to one) that minimise the error on all the
hidden entries together, in column-standard-deviation units (a super learner: stacking
on held-out entries). The candidates with a weight of at least ``_MIN_WEIGHT`` are then
refitted on all observed entries, and the completion is the weighted sum of theirs.
``cv_results_`` records each candidate's held-out error and weight, as scikit-learn's
``*CV`` estimators do. ``max_entries`` leaves candidates out of inputs above a size;
a single candidate left by it is fitted once, with nothing held out.
"""

import copy
import warnings
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from scipy.optimize import nnls
from sklearn.base import clone
from sklearn.ensemble import ExtraTreesRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer
from sklearn.utils import check_random_state

from inrr_sklearn._base import _BaseImputer, document_contract
from inrr_sklearn._dmf import DMFImputer
from inrr_sklearn._scaling import Scaling, fit_scaling
from inrr_sklearn._softimpute import SoftImputer
from inrr_sklearn._utils import (
    N_JOBS_CONSTRAINT,
    Interval,
    StrOptions,
    _BaseComposition,
)
from inrr_sklearn.model_selection import split_observed

# Weights below this are dropped (and their imputers not refitted).
_MIN_WEIGHT = 1e-3


# Size limits of the default candidates (their cost on 2 cores, measured with
# benchmarks/bench_tabular.py --speed-only and benchmarks/study_wide_tables.py):
# KNNImputer compares every pair of rows, so it joins while rows² x columns stays
# under _KNN_WORK (0.56 s a fit at 1,797 x 64); IterativeImputer fits a regression
# per column and round, so it joins while columns stay under _ITERATIVE_COLUMNS, and
# above _ITERATIVE_ALL_COLUMNS regresses each column on _ITERATIVE_NEIGHBOURS others
# (its n_nearest_features) instead of all: on all, each stored BayesianRidge keeps a
# columns² covariance (2.7 GB a fit at 60 x 300); the forest (15 trees per
# column and round, each grown on at most _FOREST_ROWS rows) while columns² x rows
# grown on stays under _FOREST_WORK; DMF gets _DMF_STEP_WORK / entries steps, between
# 300 and 3000 (a step costs about 12 ns an entry on large tables).
# IterativeImputer gets _ITERATIVE_ROUND_WORK / entries rounds, between 5 and 20: on the
# benchmark's tables 10 rounds scored as 20 (RMSE ratio 0.996 unordered, 1.004
# time-ordered), but a round costs about 4 s at 50,000 x 40, where 5 rounds scored
# as 20 (0.1725, 3 seeds), and on 30,000 x 30 nonlinear tables better (0.1497 against
# 0.1555; benchmarks/study_iterative_rounds.py, docs/iterative_rounds.md).
_KNN_WORK = 3e8
_ITERATIVE_COLUMNS = 500
_ITERATIVE_ALL_COLUMNS = 64
_ITERATIVE_NEIGHBOURS = 30
_FOREST_ROWS = 1000
_FOREST_WORK = 1.5e6
_DMF_STEP_WORK = 3e7
_DMF_STEPS = (300, 3000)
_ITERATIVE_ROUND_WORK = 4e6
_ITERATIVE_ROUNDS = (5, 20)
# n_splits="auto": as many sets as give _ENOUGH_HELDOUT held-out entries together, at
# most _AUTO_SPLITS (each set costs a fit of every candidate) and as many as leave an
# entry to fit. On the 132 cells of benchmarks/bench_tabular.py, 3 sets instead of up
# to 10 (small tables) or 5 took 0.40 of the fits' time at the median, with a
# geometric-mean RMSE 0.03 % lower (benchmarks/study_blend_speed.py).
_ENOUGH_HELDOUT = 2000
_AUTO_SPLITS = 3
# holdout_fraction="auto": 10 % of the observed entries, at most _MAX_HELDOUT a set;
# refit="auto" skips the refit when the held-out sets hold under _NO_REFIT_SHARE of
# them (the held-out fits then saw nearly every entry). Hiding 10 % of a large table
# judges the candidates on a table with 10 % more missing than the real one, which
# favours those that degrade least: on three 50,000 x 40 tables (30 % MCAR, rank 5
# plus noise) the former blend weighed DMF and SoftImpute at 0.2-0.3 each and scored
# 0.1744 in 74 s, against IterativeImputer's 0.1725 in 37 s; with these rules 0.1727
# in 48 s (DMF and SoftImpute at 0.02-0.08), and with 5 IterativeImputer rounds in
# 15 s. On 30,000 x 30 nonlinear tables (a set of 3.2 %, so refitted) 0.1331 in 14 s
# against 0.1338 in 20 s and IterativeImputer's 0.1501 in 12 s
# (benchmarks/study_blend_large.py, docs/blend_large.md).
_MAX_HELDOUT = 20_000
_NO_REFIT_SHARE = 0.02


def default_candidates(random_state=None, shape=(0, 0)):
    """The candidates of ``BlendImputer(estimators=None)``: (name, imputer) pairs.

    Deep matrix factorisation (:class:`DMFImputer`), the nuclear-norm completion
    :class:`SoftImputer`, and scikit-learn imputers whose errors differ from those:
    ``IterativeImputer`` (a linear regression of each column on the others),
    ``KNNImputer`` (local averages) and a MissForest-like ``IterativeImputer`` with
    extra trees (it made the blend win 46 instead of 31 of the 72 cells of
    ``benchmarks/bench_tabular.py``). KNN joins while rows² x columns is at most
    3e8 (about 3,900 rows of 20 columns or 2,200 of 64; a fit took 0.56 s at
    1,797 x 64 and 2.2 s at 5,000 x 20, and its cost grows with the square of the
    rows). The
    ``IterativeImputer`` joins up to 500 columns, and above 64 regresses each
    column on 30 others (``n_nearest_features``): on every other column its
    memory grows with the cube of the columns (a fit held 2.7 GB at 60 x 300,
    and the blend ran out of memory), while on 30 the blend kept its error on
    hidden entries (within 0.002 in column-std units at 100 and 120 columns) in
    55 % of the time; at 60 x 1,000 it would add 100 s for 2 % less error,
    within the spread of the seeds (``docs/wide_tables.md``). The forest grows
    each tree on at most 1,000 rows (drawn with replacement on larger tables:
    0.375 against 0.371 held-out RMSE on a 5,000 x 20 nonlinear table, in a third
    of the time) and joins while columns² x those rows is at most 1.5e6 (up to 38
    columns); DMF gets 3e7 / entries steps, between 300 and 3000, and the
    ``IterativeImputer`` 4e6 / entries rounds, between 5 and 20 (20 up to 200,000
    entries, 5 from 800,000), so that a large table costs seconds, not minutes.

    Their budgets are the blend's, chosen on those 72 cells from cached fold fits
    (1 CPU thread, with the former held-out sets: up to 10): the forest has 15
    trees and 3 rounds, DMF a learning rate of 3e-3 and a patience of 100 steps.
    Against 30 trees, 5 rounds and DMF's own defaults the blend still wins 50 of 72
    cells (largest loss +25.1 % instead of +26.6 %) in 42 % of the time (7.7 s a cell
    on average instead of 18.5 s).

    DMF with INRR (``DMFImputer(reg=INRR(alpha_row=0.1, alpha_col=0.1))``) is not a
    default: on the benchmark's 72 cells the blend won as often without it (50 with
    ten-fold weights either way) at half the time (its tiny row network costs a
    forward pass per row and step); pass it in ``estimators`` to include it.
    """
    n_rows, n_cols = shape
    n_entries = n_rows * n_cols
    subsample = {}
    if n_rows > _FOREST_ROWS:
        subsample = {"bootstrap": True, "max_samples": _FOREST_ROWS}
    dmf_steps = int(np.clip(_DMF_STEP_WORK / max(n_entries, 1), *_DMF_STEPS))
    rounds = int(np.clip(_ITERATIVE_ROUND_WORK / max(n_entries, 1), *_ITERATIVE_ROUNDS))
    candidates = [
        (
            "dmf",
            DMFImputer(
                learning_rate_init=3e-3,
                n_iter_no_change=100,
                max_iter=dmf_steps,
                random_state=random_state,
            ),
        ),
        ("softimpute", SoftImputer(keep_empty_features=True)),
        (
            "iterative",
            IterativeImputer(
                max_iter=rounds,
                n_nearest_features=(
                    _ITERATIVE_NEIGHBOURS if n_cols > _ITERATIVE_ALL_COLUMNS else None
                ),
                random_state=random_state,
                keep_empty_features=True,
            ),
        ),
        ("knn", KNNImputer(keep_empty_features=True)),
        (
            "forest",
            IterativeImputer(
                estimator=ExtraTreesRegressor(
                    n_estimators=15,
                    min_samples_leaf=2,
                    random_state=random_state,
                    **subsample,
                ),
                max_iter=3,
                random_state=random_state,
                keep_empty_features=True,
            ),
        ),
    ]
    too_large = {
        "knn": n_rows**2 * n_cols > _KNN_WORK,
        "iterative": n_cols > _ITERATIVE_COLUMNS,
        "forest": n_cols**2 * min(n_rows, _FOREST_ROWS) > _FOREST_WORK,
    }
    return [(name, est) for name, est in candidates if not too_large.get(name)]


def _fit_complete(name, estimator, X):
    """Clone and fit one candidate on X (its own writable copy); return both.

    The candidates' convergence and mean-fallback warnings are not shown: inside a
    blend the held-out error judges every candidate (and runs in worker processes
    too, where the caller's warning filters do not reach).
    """
    estimator = clone(estimator)
    completion = _quiet_fit_transform(estimator, X)
    _check_candidate_shape(name, completion, X)
    return estimator, completion


def _quiet_fit_transform(estimator, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", message=r".*\(mean_fallback_\)")
        return np.asarray(estimator.fit_transform(X.copy()), dtype=np.float64)


def _refit_complete(name, fitted, estimator, X):
    """Continue a held-out fit on all of X for its ``refit_max_iter`` steps when the
    candidate can (``warm_start`` and ``refit_max_iter``); else refit it from scratch.
    """
    params = estimator.get_params(deep=False)
    if not {"warm_start", "refit_max_iter", "max_iter"} <= params.keys():
        return _fit_complete(name, estimator, X)
    refitted = copy.deepcopy(fitted)
    refitted.set_params(warm_start=True, max_iter=params["refit_max_iter"])
    completion = _quiet_fit_transform(refitted, X)
    # The stored estimator keeps the candidate's own settings for later fits.
    refitted.set_params(warm_start=params["warm_start"], max_iter=params["max_iter"])
    _check_candidate_shape(name, completion, X)
    return refitted, completion


def _check_candidate_shape(name, completion, X):
    if completion.shape != X.shape:
        raise ValueError(
            f"candidate {name!r} returned shape {completion.shape} for a table of "
            f"shape {X.shape}: a candidate must complete every column in place "
            "(keep_empty_features=True, add_indicator=False)."
        )


@document_contract
class BlendImputer(_BaseImputer, _BaseComposition):
    """Blend imputers with convex weights learned on held-out observed entries.

    Parameters
    ----------
    estimators : list of (str, imputer) or None, default=None
        The candidates; each must complete NaN entries through ``fit_transform`` and
        ``transform`` and keep the number of columns. ``None`` uses
        :func:`default_candidates`: DMF, SoftImpute, ``IterativeImputer``,
        ``KNNImputer`` and a forest ``IterativeImputer``. Their parameters are
        searchable as ``<name>__<param>`` (e.g. ``dmf__rank``, or
        ``dmf_inrr__reg__alpha_row`` for a candidate named ``"dmf_inrr"``), as in
        ``VotingRegressor``.
    holdout_fraction : float or "auto", default="auto"
        Fraction of the observed entries hidden to learn the weights. On a table too
        small to hide any, the candidates get equal weights. ``"auto"``: 0.1, but
        at most 20,000 entries a set (tables of more than 200,000 observed
        entries): each set leaves the candidates a table with that much more
        missing than the real one, which favours the candidates that degrade
        least, so a large table is judged on a thin set (see ``refit``).
    n_splits : int or "auto", default="auto"
        Number of disjoint held-out sets (each ``holdout_fraction`` of the observed
        entries); every candidate is fitted once per set and the weights are learned
        on all held-out entries together (steadier weights, ``n_splits`` fits).
        ``"auto"``: as many as hold 2,000 entries together, at most 3 (and as many
        as leave an entry to fit). Chosen on the 132 cells of
        ``benchmarks/bench_tabular.py`` (``benchmarks/study_blend_speed.py``, from
        the same fits): against up to 10 sets on tables of at most 2,500 entries
        and 5 on larger ones (the former rule), 3 sets took 0.40 of the time at the
        median, beat every peer in 95 cells instead of 91, with a geometric-mean
        RMSE 0.03 % lower (per cell 0.84x to 1.14x; the largest loss against the
        best peer +36.9 % instead of +25.9 %, linnerud's 20 x 3 table; measured
        with the candidates on standardised columns, ``standardize``). The
        former rule had been chosen with the candidates of that time, on the 72
        unordered cells alone (46 cells with 3 sets, 50 with it); with today's
        cheaper candidates 3 sets won 56 of those 72 (52 since the columns are
        standardised for the candidates, ``standardize``).
    holdout : {"matched", "random", "mask"}, default="matched"
        Shape of the held-out sets. ``"matched"``: drawn to look like the missing
        entries, more where a column misses more, and leaning to the values a
        low-rank model predicts for the missing ones (see
        :func:`~inrr_sklearn.model_selection.split_observed`). When values go
        missing because they are high, entries drawn uniformly reward the
        imputers that shrink toward the observed mean (on El Niño's table,
        SoftImpute: held-out RMSE 0.61, weight 0.43, but 1.01 on the missing
        entries, where IterativeImputer's regression reached 0.78); matched entries
        moved the weight to the regression (blend 0.909 -> 0.813). Over the 72
        cells of ``benchmarks/bench_tabular.py`` both won 50 (with the former
        held-out sets, up to 10); the worst row mean was +4.9 % behind the best peer
        with it, +5.6 % without. ``"random"``: entries drawn uniformly.
        ``"mask"``: whole connected pieces of the missing pattern shifted by a
        random offset (the observed entries under a shifted copy of the holes,
        taken piece by piece until ``holdout_fraction`` is reached), so that the
        weights are learned on holes shaped like the real ones (text, scribbles,
        patches on images).
    average_fits : list of str or None, default=None
        Candidates whose completion of the fitted matrix is the average of their
        refit and their held-out fits (with ``refit`` on): a free ensemble that
        reduces the variance of stochastic models (neural fits that vary with their
        data and seed); deterministic methods gain nothing from it. ``transform`` of
        other data uses the refitted estimator alone.
    refit : bool, "warm" or "auto", default="auto"
        Refit the weighted candidates on all observed entries. ``"auto"``: refit
        unless the held-out sets hold under 2 % of the observed entries (tables of
        more than a million with ``holdout_fraction="auto"``), whose held-out fits
        then saw nearly every entry and are kept as they are (50,000 x 40: 48 s
        instead of 74 s with 20 IterativeImputer rounds, ``docs/blend_large.md``).
        ``False`` completes the table with the fits of the first held-out set:
        about half the time, at some cost in accuracy when the set is 10 %
        (10,000 x 20 rank-4 table, 30 % missing: 7.4 s instead of 13 s, RMSE
        0.388 instead of 0.368). ``"warm"``: a candidate that can continue a fit
        (``warm_start`` and ``refit_max_iter`` parameters, as :class:`INRImputer`)
        continues its first held-out fit on all observed entries for
        ``refit_max_iter`` steps instead of a fit from scratch; the others are
        refitted. Cheaper, but its completion is close to the held-out fit's, so
        averaging the two (``average_fits``) gains little: on 9 masked 128² images
        (seed 0) ``image_imputer()`` with a warm refit (400 + 100 steps) scored
        0.01 to 0.60 dB (mean 0.29) below its two independent 300-step fits
        averaged, the recipe's choice.
    max_entries : dict of str to int or None, default=None
        Candidates that take part only in inputs of at most this many entries
        (rows x columns, after dropping all-missing columns without
        ``keep_empty_features``); larger inputs leave them out, as the defaults
        leave KNN out of large tables. Left-out candidates are listed in
        ``cv_results_`` with a weight of 0 and no held-out error. When they leave
        a single candidate (not in ``average_fits``) there is nothing to weigh: it
        is fitted once, on all observed entries, with no held-out fits.
        ``image_imputer()`` leaves its INR and plain biharmonic fill out of images
        above 50,000 pixels, where the refined fill alone scored a few hundredths
        of a dB below the three-candidate blend on average, in a thirteenth of its
        time or less.
    standardize : bool, default=True
        The candidates see each column standardised by the mean and standard
        deviation of its observed entries, and their completions are mapped back,
        so that the blend does not depend on the columns' units or offsets. Two
        default candidates would: ``KNNImputer``'s distances are dominated by the
        columns in the largest units, and ``IterativeImputer`` stops when a round
        changes the imputations by less than ``tol`` times the largest absolute
        value, so a column of large values (timestamps, prices in cents) ends it
        after a round or two. The fitted ``estimators_`` then take and return
        standardised values. ``False`` hands the candidates the table as given:
        pass it for an image or any matrix whose columns share one unit
        (:func:`~inrr_sklearn.image_imputer` does), where scaling each column
        apart would put steps between neighbouring columns (on
        ``load_digits``, 8 x 8 images as rows, standardising cost 3 %: 0.616
        against 0.596, ``docs/wide_tables.md``). Measured in
        ``docs/blend_scaling.md``.
    random_state : int, RandomState instance or None, default=None
        Seeds the hold-out draw and the default candidates.
    n_jobs : int or None, default=-1
        Candidate fits run in parallel through joblib, one (held-out set,
        candidate) pair a task. ``-1`` uses every core: on 2 cores 1.35 to 1.45
        times faster than one at a time on tables of 200 and 442 rows x 10 once
        joblib's worker processes run (starting them, each importing torch and
        scikit-learn, cost about 6 s in the first call of a session); inside a
        ``joblib.parallel_backend`` context (Dask, for instance) its workers.
        ``None`` or 1: one fit at a time, in this process.
    {contract parameters}

    Attributes
    ----------
    estimators_ : dict of str to imputer
        The candidates with a weight of at least 0.001, refitted on all observed
        entries (without refit: as fitted without the held-out entries); with
        ``standardize``, on the standardised columns.
    weights_ : dict of str to float
        Their weights (summing to one).
    cv_results_ : dict of str to list
        ``"estimator"`` (names), ``"heldout_rmse"`` (each candidate's RMSE on the
        hidden entries, in column-std units; NaN for a candidate left out by
        ``max_entries``, or when nothing was held out) and ``"weight"``.
    heldout_rmse_ : float
        The blend's RMSE on the hidden entries (column-std units); NaN when nothing
        was held out.
    n_features_in_ : int
        Number of columns seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names seen in ``fit`` (only for inputs with string column names).
    indicator_ : sklearn.impute.MissingIndicator or None
        The fitted indicator (None without ``add_indicator``).

    Notes
    -----
    With :math:`H` the hidden entries, :math:`\\hat X^{(k)}` the completion of
    candidate :math:`k` fitted without them and :math:`\\sigma_j` the standard
    deviation of column :math:`j`'s observed entries, the weights solve

    .. math::
        \\min_{w \\ge 0, \\sum_k w_k = 1} \\sum_{(i,j) \\in H}
            \\Big(\\sum_k w_k \\hat X^{(k)}_{ij} - X_{ij}\\Big)^2 / \\sigma_j^2 .

    The blend is at least as good as the best candidate on the hidden entries, and
    usually better: candidates err in different places. ``transform`` of the fitted
    matrix returns the fitted completion; other rows are completed by each
    candidate's own ``transform`` and blended with the same weights. The candidates
    see NaN where an entry is missing (whatever ``missing_values`` is), each on its
    own copy of the table, with each column standardised (``standardize``) as
    :math:`(X_{ij} - \\mu_j) / \\sigma_j` by its observed entries' mean and
    standard deviation (computed in units of the largest magnitude, so that values
    from 1e-300 to 1e300 neither underflow nor overflow), their completions mapped
    back; a column whose observed entries are all equal is completed with that
    value, and an empty column kept by ``keep_empty_features`` with the
    candidates' fill, 0 for scikit-learn's imputers. Observed entries are returned
    unchanged.

    See Also
    --------
    DMFImputer : The library's factorisation model, a default candidate.
    sklearn.impute.IterativeImputer, sklearn.impute.KNNImputer

    Examples
    --------
    >>> import numpy as np
    >>> from inrr_sklearn import BlendImputer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 3)) @ rng.normal(size=(3, 6))
    >>> X[rng.random(X.shape) < 0.2] = np.nan
    >>> imp = BlendImputer(random_state=0).fit(X)
    >>> bool(np.isnan(imp.transform(X)).any()), sorted(imp.cv_results_)
    (False, ['estimator', 'heldout_rmse', 'weight'])
    """

    _parameter_constraints: dict = {
        **_BaseImputer._parameter_constraints,
        "estimators": [list, None],
        "holdout_fraction": [
            Interval(Real, 0, 1, closed="neither"),
            StrOptions({"auto"}),
        ],
        "n_splits": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "holdout": [StrOptions({"random", "mask", "matched"})],
        "average_fits": [list, None],
        "refit": ["boolean", StrOptions({"warm", "auto"})],
        "max_entries": [dict, None],
        "standardize": ["boolean"],
        "random_state": ["random_state"],
        "n_jobs": N_JOBS_CONSTRAINT,
    }

    def __init__(
        self,
        estimators=None,
        *,
        holdout_fraction="auto",
        n_splits="auto",
        holdout="matched",
        average_fits=None,
        refit="auto",
        max_entries=None,
        standardize=True,
        random_state=None,
        n_jobs=-1,
        missing_values=np.nan,
        add_indicator=False,
        keep_empty_features=False,
    ):
        super().__init__(
            missing_values=missing_values,
            add_indicator=add_indicator,
            keep_empty_features=keep_empty_features,
        )
        self.estimators = estimators
        self.holdout_fraction = holdout_fraction
        self.n_splits = n_splits
        self.holdout = holdout
        self.average_fits = average_fits
        self.refit = refit
        self.max_entries = max_entries
        self.standardize = standardize
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _fit_completion(self, X, observed):
        """Learn the weights on held-out entries, then refit the weighted candidates.

        Without ``keep_empty_features`` the candidates never see the all-missing
        columns (the output drops them): any scikit-learn imputer at its defaults
        can then be a candidate.
        """
        columns = np.ones(X.shape[1], dtype=bool)
        if not self.keep_empty_features:
            columns = observed.any(axis=0)
        self._candidate_columns = columns
        # Standardised in any units (standardize=False: the values as given, exactly);
        # an empty column kept for the candidates stays 0, their fill, in the output.
        self._scaling = fit_scaling(
            X[:, columns],
            observed[:, columns],
            "standard" if self.standardize else "none",
            empty="zero",
        )
        scaled = self._fit_candidates(
            self._to_candidates(X, observed), observed[:, columns]
        )
        return self._from_candidates(scaled, X.shape)

    def _to_candidates(self, X, observed):
        """The table the candidates see: the candidate columns, NaN where missing,
        float64, standardised by the fitted scaling."""
        X_seen = np.where(observed, X, np.nan)[:, self._candidate_columns]
        return self._scaling.to_scaled(X_seen)

    def _from_candidates(self, scaled, shape):
        """A completion of the candidates' table back in the input's units and
        columns (NaN in the columns they did not see)."""
        completion = np.full(shape, np.nan)
        completion[:, self._candidate_columns] = self._scaling.from_scaled(scaled)
        return completion

    def _fit_candidates(self, X, observed):
        """Fit and weigh the candidates on X (NaN = missing, float64, standardised
        when ``standardize``); return the blended completion, in X's units."""
        rng = check_random_state(self.random_state)
        candidates = self.estimators
        if candidates is None:
            candidates = default_candidates(
                rng.randint(np.iinfo(np.int32).max), shape=X.shape
            )
        names = [name for name, _ in candidates]
        if len(set(names)) != len(names):
            raise ValueError(f"estimator names must be unique; got {names}.")
        # The defaults leave some candidates out of large tables: their names are
        # still valid in average_fits and max_entries.
        known = names
        if self.estimators is None:
            known = [name for name, _ in default_candidates()]
        for param in ("average_fits", "max_entries"):
            unknown = sorted(set(getattr(self, param) or ()) - set(known))
            if unknown:
                raise ValueError(
                    f"{param} names {unknown}, which are not candidates {known}."
                )
        within = self._within_size(candidates, X.size)
        names_in = [name for name, _ in within]
        folds = []
        # A single candidate left by max_entries has nothing to be weighed against.
        left_alone = len(within) == 1 < len(candidates)
        if not left_alone or names_in[0] in (self.average_fits or ()):
            folds = self._hide(observed, rng, X)
        candidates = within
        if not folds:  # left alone, or too small to hold anything out
            return self._publish_blend(
                X, candidates, names_in, None, None, None, listed=names, refit=True
            )
        fits = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_complete)(name, est, np.where(hidden, np.nan, X))
            for hidden in folds
            for name, est in candidates
        )
        # Errors in units of each column's std (in any units).
        to_std = fit_scaling(X, observed, "standard").to_scaled
        n = len(candidates)
        X_std = to_std(X)
        truth = np.concatenate([X_std[hidden] for hidden in folds])
        predictions = np.vstack(
            [
                np.column_stack(
                    [to_std(c)[hidden] for _, c in fits[f * n : (f + 1) * n]]
                )
                for f, hidden in enumerate(folds)
            ]
        )
        errors = np.sqrt(np.mean((predictions - truth[:, None]) ** 2, axis=0))
        weights = _convex_least_squares(predictions, truth)
        blend = float(np.sqrt(np.mean((predictions @ weights - truth) ** 2)))
        refit = self.refit
        if refit == "auto":  # held-out fits that saw nearly every entry are kept
            refit = bool(len(truth) >= _NO_REFIT_SHARE * observed.sum())
        return self._publish_blend(
            X, candidates, names_in, weights, errors, blend, fits, listed=names,
            refit=refit,
        )  # fmt: skip

    def _within_size(self, candidates, n_entries):
        """The candidates whose ``max_entries`` admits an input of ``n_entries``."""
        limits = self.max_entries or {}
        for name, limit in limits.items():
            if isinstance(limit, bool) or not isinstance(limit, Real) or not limit > 0:
                raise ValueError(
                    f"max_entries[{name!r}] must be a positive number; got {limit!r}."
                )
        kept = [
            (name, est)
            for name, est in candidates
            if n_entries <= limits.get(name, np.inf)
        ]
        if not kept:
            raise ValueError(
                f"max_entries leaves no candidate for an input of {n_entries} "
                f"entries: {limits}."
            )
        return kept

    def _publish_blend(
        self, X, candidates, names, weights, errors, blend, fits=None, *, listed, refit
    ):
        """Refit the weighted candidates on all observed entries (or take the first
        held-out set's ``fits`` when ``refit`` is False), average the candidates named
        in ``average_fits`` with their held-out fits; set the attributes (listing in
        ``cv_results_`` every candidate of ``listed``, those ``max_entries`` left out
        with weight 0 and no error); return the blended completion."""
        if weights is None:
            weights = np.full(len(names), 1 / len(names))
            errors = np.full(len(names), np.nan)
            blend = np.nan
        keep = [k for k, w in enumerate(weights) if w >= _MIN_WEIGHT]
        kept = weights[keep] / weights[keep].sum()
        if fits is None or refit is True:
            refits = Parallel(n_jobs=self.n_jobs)(
                delayed(_fit_complete)(*candidates[k], X) for k in keep
            )
        elif refit == "warm":  # fits[k] is candidate k's first held-out fit
            refits = Parallel(n_jobs=self.n_jobs)(
                delayed(_refit_complete)(names[k], fits[k][0], candidates[k][1], X)
                for k in keep
            )
        else:
            refits = [fits[k] for k in keep]
        if refit and fits is not None and self.average_fits:
            # fits holds the candidates fold after fold: fits[k::n] are k's fits.
            n = len(names)
            refits = [
                (est, np.mean([c, *(h for _, h in fits[k::n])], axis=0))
                if names[k] in self.average_fits
                else (est, c)
                for k, (est, c) in zip(keep, refits, strict=True)
            ]
        results = {
            name: (float(e), float(w))
            for name, e, w in zip(names, errors, weights, strict=True)
        }
        rows = [results.get(name, (np.nan, 0.0)) for name in listed]
        self.cv_results_ = {
            "estimator": list(listed),
            "heldout_rmse": [error for error, _ in rows],
            "weight": [weight for _, weight in rows],
        }
        self.heldout_rmse_ = blend
        self.estimators_ = {
            names[k]: est for k, (est, _) in zip(keep, refits, strict=True)
        }
        self.weights_ = {names[k]: float(w) for k, w in zip(keep, kept, strict=True)}
        return sum(w * c for w, (_, c) in zip(kept, refits, strict=True))

    def _holdout_fraction(self, n_observed):
        """``holdout_fraction``, with ``"auto"`` resolved for ``n_observed`` entries."""
        if self.holdout_fraction == "auto":
            return min(0.1, _MAX_HELDOUT / max(n_observed, 1))
        return self.holdout_fraction

    def _hide(self, observed, rng, X):
        """The held-out sets: :func:`~inrr_sklearn.model_selection.split_observed`
        with ``n_splits`` resolved (an empty list if none can be hidden)."""
        n_observed = int(observed.sum())
        fraction = self._holdout_fraction(n_observed)
        n_hide = round(fraction * n_observed)
        n_splits = self.n_splits
        if n_splits == "auto":
            n_hide = max(n_hide, 1)
            n_splits = min(
                _AUTO_SPLITS, -(-_ENOUGH_HELDOUT // n_hide), (n_observed - 1) // n_hide
            )
        if n_splits < 1:
            return []
        return split_observed(
            observed,
            fraction,
            n_splits=n_splits,
            holdout=self.holdout,
            X=X,
            random_state=rng,
        )

    def __setstate__(self, state):
        # A pickle from before ``standardize`` gave its candidates the table as given.
        state.setdefault("standardize", False)
        if "_candidate_columns" in state and "_scaling" not in state:
            # ... and kept the (mean, std) of its columns, (0, 1) for the identity.
            mean, std = state.pop("_moments", (0.0, 1.0))
            n_cols = int(state["_candidate_columns"].sum())
            state["_scaling"] = Scaling.from_moments(mean, std, n_cols)
        super().__setstate__(state)

    def get_params(self, deep=True):
        """Parameters, with the candidates' as ``<name>__<param>`` when ``deep``.

        Parameters
        ----------
        deep : bool, default=True
            Include the candidates' parameters.

        Returns
        -------
        params : dict
        """
        if self.estimators is None:
            return super().get_params(deep=False)
        return self._get_params("estimators", deep=deep)

    def set_params(self, **params):
        """Set parameters, the candidates' as ``<name>__<param>``.

        Parameters
        ----------
        **params : dict

        Returns
        -------
        self : object
        """
        self._set_params("estimators", **params)
        return self

    def _complete_new(self, X, observed):
        """Each weighted candidate's ``transform`` of X (NaN = missing), blended."""
        X_seen = self._to_candidates(X, observed)
        scaled = np.zeros(X_seen.shape)
        for name, est in self.estimators_.items():
            part = np.asarray(est.transform(X_seen.copy()), dtype=np.float64)
            _check_candidate_shape(name, part, X_seen)
            scaled += self.weights_[name] * part
        return self._from_candidates(scaled, X.shape)


def _convex_least_squares(P, y, penalty=1e3):
    """``argmin ||P w - y||`` over ``w >= 0``, ``sum(w) = 1`` (NNLS with the sum
    constraint as a heavily weighted extra row)."""
    scale = penalty * max(np.abs(P).max(), 1.0) * np.sqrt(len(y))
    A = np.vstack([P, np.full((1, P.shape[1]), scale)])
    b = np.append(y, scale)
    w, _ = nnls(A, b)
    if not w.sum() > 0:
        w = np.full(P.shape[1], 1 / P.shape[1])
    return w / w.sum()
