"""Prior-guided sampling (in the manner of piBO / PriorBand): the folklore recipes as a prior.

Early in a study the sampler has no evidence, and a trial drawn near a textbook recipe is a
better bet than a uniform one; as trials finish, the model (TPE) earns the trials. Each trial is
either a *prior draw* (a recipe, its base LR jittered around a centre) or an ordinary trial of
the base sampler, with a prior share that decays with the number of finished trials.

The recipes are folklore about a schedule's *shape*; their LR is a guess about the task's
*scale* (the range test's suggestion, or the optimizer's usual LR) that the study's own trials
soon know better. So, as PriorBand samples around the incumbent as well as from the prior, once
``MIN_EVIDENCE`` trials have finished a prior draw is centred on the best complete trial's base
LR with the probability that the incumbent's LR is better explained by a density around itself
than by the prior: 1/2 where the two agree, 0.88 where they are a decade apart. Where the range
test misjudges the scale (heavy label noise: bench/RESULTS.md), later prior draws follow the
evidence instead of spending a third of the study a decade away from it; where it is right, the
two centres are close and little changes (tests/search/test_prior.py measures both).

The prior is an Optuna sampler wrapping the base one, so it composes with the rest: enqueued
trials, pruners, constant-liar TPE (which learns from prior trials like any other).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState

from schedsearch.core.domains import Float
from schedsearch.core.folklore import PRACTICE, RECIPES, USUAL_LR
from schedsearch.core.schedules import ScheduleBase
from schedsearch.core.space import SampledSchedule, SearchSpace, as_params, param_name


class Draw(Protocol):
    """A prior draw: trial params from ``rng``, near the ``incumbent``'s params if given."""

    def __call__(
        self, rng: np.random.RandomState, incumbent: Mapping[str, Any] | None = None
    ) -> dict[str, Any]: ...

    def follow(self, incumbent: Mapping[str, Any]) -> float:
        """The probability that a draw should centre on ``incumbent`` rather than the prior."""
        ...

    def may_repeat(self, params: Mapping[str, Any]) -> bool:
        """Whether this draw can equal an earlier one (none of its values is continuous)."""
        ...


PRIOR_ATTR = "prior"  # the system attribute holding a prior trial's drawn params
# Draws kept for trials still being sampled. A trial's draw is used between its ask and its
# suggests, and dropped when it is told; a process that only asks (api.asks) never sees the
# tell, so the oldest go past this many.
KEEP_DRAWN = 256

# tau = 10: TPE needs ~10 finished trials before it beats random, so the prior keeps at least
# half the trials until then (share 0.5 at 10 finished), a third at 20, a fifth at 40 and a
# seventh at 60: in a typical 20-60 trial study about a third of the trials are prior draws,
# most of them early, where they replace TPE's random start-up trials at no cost.
# floor = 0.05: the prior never vanishes (a model misled by noise still gets a recipe now and
# then), but a long study spends no more than 1 trial in 20 on it (reached after 190 trials).
TAU = 10.0
FLOOR = 0.05

# sigma = half a decade (ln 10 / 2 ~ 1.15 in natural log): the usual LR is right to within a
# factor of ~3 for most nets and batch sizes, so 68% of draws land within x/3.2 of the centre and
# 95% within a decade, which is the span in which these recipes win; the space's range clips
# the tails.
SIGMA = 0.5 * math.log(10.0)

# A draw that repeats a trial's params is drawn again (from the trial's next streams) up to this
# many times, then the trial goes to the base sampler. The prior clips the LR into the range,
# so its draws pile up on the range's ends: around an incumbent at an end, half of them are that
# very LR, and with seven recipes a T2 study drew the same config twice, twice (19 trials; the
# same config trains with the study seed to the same result). Clipping itself stays: where the
# optimum lies at or past an end, draws at the end are what find it.
REDRAWS = 3

# Finished trials before the best one's LR is trusted over the prior's centre: one is no
# comparison, and by three the prior's first draws have spread over about a decade.
MIN_EVIDENCE = 3


def prior_share(finished: int, tau: float = TAU, floor: float = FLOOR) -> float:
    """The probability that the next trial is a prior draw, given ``finished`` trials of
    evidence: 1 at the start, ``tau / (tau + finished)`` (piBO's decay), never below ``floor``."""
    return max(floor, tau / (tau + max(0, finished)))


def _rng(seed: int, number: int, stream: int = 0) -> np.random.RandomState:
    """One trial's stream: fixed by the study seed and the trial number alone, so the same trial
    makes the same choice on whichever worker runs it."""
    return np.random.RandomState([seed, number, stream])


def best_trial(study: Study) -> FrozenTrial | None:
    """The whole study's best complete trial, or None before there is one: Optuna's own
    lookup, which on a database sorts the complete trials on every call (the product passes
    ``store.peers.best`` instead)."""
    try:
        return study._storage.get_best_trial(study._study_id)
    except (ValueError, RuntimeError):  # nothing complete yet; several objectives
        return None


class PriorSampler(optuna.samplers.BaseSampler):
    """``base`` (TPE), except that some trials, ever fewer, are draws from ``draw``.

    ``seed`` should be the *study* seed (not a per-worker one): prior decisions and draws are
    keyed by trial number, which is unique across workers, so workers never repeat a draw.
    """

    def __init__(
        self,
        base: optuna.samplers.BaseSampler,
        draw: Draw,
        seed: int | None = None,
        tau: float = TAU,
        floor: float = FLOOR,
        finished: Callable[[Study], int] | None = None,
        incumbent: Callable[[Study], FrozenTrial | None] | None = best_trial,
    ) -> None:
        """``incumbent``: how to find the best trial so far; None keeps every draw at the
        prior's own centre (the prior without evidence, for comparisons)."""
        self.base = base
        self.finished = finished or finished_trials
        self.incumbent = incumbent
        self.draw = draw
        self.seed = int(np.random.randint(2**31)) if seed is None else seed
        self.tau = tau
        self.floor = floor
        # trial id -> (the prior's params, a uniform sampler for what the prior leaves open)
        self._drawn: dict[int, tuple[dict[str, Any], optuna.samplers.RandomSampler]] = {}

    def __str__(self) -> str:
        return f"PriorSampler({self.base})"

    def prior_draw(self, study: Study, trial: FrozenTrial) -> dict[str, Any] | None:
        """This trial's prior draw, or None when the base sampler proposes it (always for an
        enqueued trial: what the user queued is what runs)."""
        if "fixed_params" in trial.system_attrs:
            return None
        rng = _rng(self.seed, trial.number)
        finished = self.finished(study)
        if rng.uniform() >= prior_share(finished, self.tau, self.floor):
            return None
        best = self.incumbent(study) if self.incumbent and finished >= MIN_EVIDENCE else None
        if best is not None:  # its own stream: the prior draw below stays what it was
            coin = _rng(self.seed, trial.number, 2).uniform()
            best = best if coin < self.draw.follow(best.params) else None
        around = None if best is None else best.params
        redraws = (_rng(self.seed, trial.number, 3 + i) for i in range(REDRAWS))
        for stream in (rng, *redraws):
            params = self.draw(stream, around)
            if not params:
                return None  # a draw with nothing in it leaves the trial to the base
            if not (self.draw.may_repeat(params) and _repeats(study, params)):
                return params
        return None  # the prior has nothing new to say here: the base sampler's turn

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        self.base.before_trial(study, trial)
        params = self.prior_draw(study, trial)
        if params is None:
            return
        rest_seed = int(_rng(self.seed, trial.number, 1).randint(2**31))
        rest = optuna.samplers.RandomSampler(seed=rest_seed)
        self._drawn[trial._trial_id] = (params, rest)
        while len(self._drawn) > KEEP_DRAWN:  # told elsewhere (an ask's sampling process):
            del self._drawn[next(iter(self._drawn))]  # the oldest were sampled long ago
        # A system attribute, not a user one: user attributes are ``TrialRecord``'s typed
        # namespace; this is sampler bookkeeping, kept where Optuna's samplers keep theirs
        # (``fixed_params``, TPE's relative params), and readable as ``trial.system_attrs``.
        study._storage.set_trial_system_attr(trial._trial_id, PRIOR_ATTR, params)

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        if trial._trial_id in self._drawn:
            return {}
        return self.base.infer_relative_search_space(study, trial)

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        if trial._trial_id in self._drawn:
            return {}
        return self.base.sample_relative(study, trial, search_space)

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        drawn = self._drawn.get(trial._trial_id)
        if drawn is None:
            return self.base.sample_independent(study, trial, param_name, param_distribution)
        params, rest = drawn
        if param_name in params and _contains(param_distribution, params[param_name]):
            return params[param_name]
        # What the prior leaves open (a choice the space does not offer, a parameter it does
        # not know) it is indifferent to: uniform. Not the base sampler, since multivariate TPE
        # would warn about sampling independently, and its draw would depend on the worker.
        return rest.sample_independent(study, trial, param_name, param_distribution)

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        self._drawn.pop(trial._trial_id, None)
        self.base.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        # Only the base: the prior's streams are keyed by trial number, so copies of this
        # sampler (``n_jobs > 1``) already draw differently, and stay reproducible.
        self.base.reseed_rng()


def _repeats(study: Study, params: Mapping[str, Any]) -> bool:
    """Whether a trial of the study already has, or is about to take, exactly these params:
    the same config, which trains with the same study seed to the same result. Its params, or
    (asked but not yet sampled, by another worker) its prior draw or queued params. Param
    equality, not config equality: two warm-ups below 1% that both train as none are missed.

    A list of the study's trials through Optuna's cache, which re-reads the running ones in
    full: what a TPE trial reads, and more than a prior draw otherwise needs (``store.peers``),
    so it is read only for draws that can repeat (``Draw.may_repeat``): on the default space,
    those whose LR the prior clipped onto an end of the range."""
    trials = study._get_trials(deepcopy=False, use_cache=True)
    return any(
        params in (t.params, t.system_attrs.get(PRIOR_ATTR), t.system_attrs.get("fixed_params"))
        for t in trials
    )


def finished_trials(study: Study) -> int:
    """The evidence: the whole study's finished trials (under Hyperband ``study`` shows one
    bracket's trials only). The product counts them with ``store.peers`` instead of a list."""
    states = (TrialState.COMPLETE, TrialState.PRUNED)
    return len(study._storage.get_all_trials(study._study_id, deepcopy=False, states=states))


def _contains(distribution: BaseDistribution, value: Any) -> bool:
    try:
        return bool(distribution._contains(distribution.to_internal_repr(value)))
    except (ValueError, TypeError):  # e.g. a choice the distribution does not have
        return False


def folklore_prior(
    space: SearchSpace,
    lr_centre: float | None = None,
    optimizer: str = "sgd",
    sigma: float = SIGMA,
) -> FolklorePrior:
    """A prior over ``space``: a folklore recipe or current practice (schedule-free), uniformly
    among those the space searches, at a centre x exp(N(0, sigma)), clipped into the space. The
    centre is the incumbent's base LR when the sampler passes one, else ``lr_centre`` (default:
    the optimizer's usual LR).

    Raises ``ValueError`` when no recipe's family is searched: the caller should then use the
    base sampler alone rather than a prior that can say nothing.
    """
    centre = USUAL_LR[optimizer] if lr_centre is None else lr_centre
    if not centre > 0:
        raise ValueError(f"lr_centre must be positive, got {centre!r}")
    recipes = [r for r in (*RECIPES.values(), *PRACTICE.values()) if r.family in space.families]
    if not recipes:
        raise ValueError(
            f"no folklore recipe is in the space (families {', '.join(space.families)})"
        )
    return FolklorePrior(space, tuple(recipes), centre, sigma)


@dataclass(frozen=True)
class FolklorePrior:
    """``folklore_prior``'s draw (a ``Draw``)."""

    space: SearchSpace
    recipes: tuple[ScheduleBase, ...]
    centre: float
    sigma: float

    def __call__(
        self, rng: np.random.RandomState, incumbent: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        recipe = self.recipes[rng.randint(len(self.recipes))]
        around = base_lr_of(self.space, incumbent) if incumbent else None
        lr = float((around or self.centre) * math.exp(rng.normal(0.0, self.sigma)))
        params = as_params(self.space, SampledSchedule(recipe, lr))
        assert params is not None  # its family is searched
        return params

    def may_repeat(self, params: Mapping[str, Any]) -> bool:
        """A recipe's values are fixed and only its LR is drawn, from a continuous density: a
        draw can repeat only where the LR is not in it (fixed by the space) or was clipped
        onto an end of its range."""
        lr = base_lr_of(self.space, params)  # None: not in the draw, or no family searched
        if lr is None:
            return True
        domain = self.space.domains(params.get("family", self.space.families[0]))["base_lr"]
        if not isinstance(domain, Float) or not domain.low < domain.high:
            return True
        return lr in (domain.low, domain.high)

    def follow(self, incumbent: Mapping[str, Any]) -> float:
        """L(incumbent) / (L(incumbent) + L(prior)): the incumbent's LR under a log-normal
        around itself against under the prior's (same sigma); 1/2 at the prior's centre."""
        lr = base_lr_of(self.space, incumbent)
        if lr is None:
            return 0.0
        z = math.log(lr / self.centre) / self.sigma
        return 1.0 / (1.0 + math.exp(-0.5 * z * z))


def base_lr_of(space: SearchSpace, params: Mapping[str, Any]) -> float | None:
    """The base LR in a trial's params (its name depends on the family), or None."""
    family = params.get("family", space.families[0])
    value = params.get(param_name(space, family, "base_lr")) if family in space.families else None
    return float(value) if isinstance(value, int | float) and value > 0 else None
