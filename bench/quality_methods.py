"""The search-quality benchmark's methods, one job each (run in spawned processes): the
product's default study, the folklore grid's runs, plain Optuna as the issue pins it,
schedule-free around the range test, and the retrain that scores a pick on test."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from schedsearch.core.folklore import RECIPES, USUAL_LR, folklore
from schedsearch.core.records import TrialRecord
from schedsearch.core.schedule_free import optimizer_lr
from schedsearch.core.schedules import FAMILIES, parse_schedule
from schedsearch.core.space import DEFAULTS
from schedsearch.engine.train import evaluate, train

from quality_tasks import (
    FREE,
    GRIDS,
    LR_SCALE,
    RECOMMENDED,
    SF_FACTORS,
    Config,
    Outcome,
    Step,
    Task,
    outcome,
    quiet,
    retrain_seeds,
    salted,
)


def study_changes(task: Task, method: str) -> dict[str, Any]:
    """What differs from the product defaults: random search has none of its calibration,
    prior or re-runs; the default searches get a budget (half of it, for default-half)."""
    if method == "random":
        off = {"lr_range_test": False, "prior": False, "rerun_top_k": 0}
        return {"sampler": "random", "pruner": "none", "n_trials": task.runs, **off}
    share = 1 if method == "default" else 2
    return {"budget_epochs": task.budget // share}


def study_job(task: Task, seed: int, method: str, folder: str) -> Outcome:
    """A real study, as a user submits it; its own compute count where it reports one."""
    quiet()
    from schedsearch.reports.results import best_config, study_status
    from schedsearch.store import Store
    from schedsearch.worker.runner import run_study

    spec = task.spec(seed, f"{task.name}-{method}-{seed}", **study_changes(task, method))
    url = f"sqlite:///{folder}/{spec.name}.db"
    study = run_study(spec, url, device="cpu", progress=False)  # where the other methods train
    store = Store(url)
    steps = []
    for phase in (study, *store.studies.children(study.id)):  # the re-runs: compute only
        for t in sorted(store.trials.all(phase), key=lambda t: t.number):  # one worker
            record = TrialRecord.of(t.user_attrs)
            config = Config.of(record.schedule, record.base_lr or 0.0) if record.schedule else None
            value = t.value if phase is study and t.state.name == "COMPLETE" else None
            steps.append(Step(len(t.intermediate_values), value, config))
    status = study_status(store, study.id)
    tested = status.get("range_test") or {}
    range_epochs = float(tested.get("epochs") or 0.0)
    spent = (status.get("budget") or status.get("compute") or {}).get("spent_epochs")
    if spent is not None:  # the product's own count wins; what it adds to ours is up front
        range_epochs = max(range_epochs, spent - sum(s.epochs for s in steps))
    if range_epochs:
        steps.insert(0, Step(range_epochs))
    choice = best_config(store, study)
    assert choice is not None, f"{spec.name}: no trial completed"
    pick = Config.of({"family": choice["schedule"]["family"], **choice["schedule"]["params"]}, 0)
    return outcome(steps, task.budget, replace(pick, base_lr=float(choice["base_lr"])))


def runs_job(task: Task, seed: int, group: str) -> dict[tuple[str, float, int], Step]:
    """Folklore runs, keyed (recipe, LR, training seed). ``grid``: every recipe at every LR of
    the placements and the usual LR, study seed; ``folklore``: the usual LR, 3 salted seeds."""
    quiet()
    usual = USUAL_LR[task.optimizer]
    if group == "grid":
        lrs, seeds = sorted({usual, *(lr for g in GRIDS for lr in task.lrs(g))}), [seed]
    else:
        lrs, seeds = [usual], salted("bench-folklore", seed, 3)
    data, out = task.data(seed), {}
    for train_seed in seeds:
        config = replace(task.config(seed), seed=train_seed)
        for name, sampled in folklore(task.optimizer, lrs):
            result = train(data, config, sampled.schedule, sampled.base_lr)
            value = 0.0 if result.diverged else result.final_accuracy
            key = (name, sampled.base_lr, train_seed)
            out[key] = Step(len(result.train_loss), value, Config.of(sampled.schedule, key[1]))
    return out


def folklore_outcomes(
    task: Task, seed: int, runs: dict[tuple[str, float, int], Step]
) -> dict[str, Outcome]:
    """The grid placements, folklore-usual and recommended, from the shared runs."""
    out, usual = {}, USUAL_LR[task.optimizer]
    for grid in GRIDS:
        order = [(name, s.base_lr, seed) for name, s in folklore(task.optimizer, task.lrs(grid))]
        if all(key in runs for key in order):
            out[grid] = outcome([runs[key] for key in order], task.budget)
    seeds = [seed, *salted("bench-folklore", seed, 3)]
    order = [(name, usual, s) for s in seeds for name in RECIPES]  # all recipes, seed by seed
    if all(key in runs for key in order):
        out["folklore-usual"] = outcome([runs[key] for key in order], task.budget)
    run = runs.get(("warmup_cosine", usual, seed))
    if run is not None:
        out["recommended"] = outcome(
            [replace(run, config=Config.of(RECOMMENDED, usual))], task.budget
        )
    return out


def optuna_job(task: Task, seed: int) -> Outcome:
    """Plain Optuna, as pinned in the issue; trials run while a whole one fits in B."""
    quiet()
    import optuna

    scale = LR_SCALE[task.optimizer]
    data, config = task.data(seed), task.config(seed)
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(),
    )
    steps: list[Step] = []

    def objective(trial: optuna.Trial) -> float:
        lr = trial.suggest_float("lr", 1e-4 * scale, 1.0 * scale, log=True)
        family = trial.suggest_categorical("family", list(DEFAULTS))
        values = {p: d.suggest(trial, f"{family}.{p}") for p, d in DEFAULTS[family].items()}
        if family == "multistep":  # evenly spaced milestones from start to the end
            start, count = values.pop("start"), values.pop("count")
            values["milestones"] = tuple(start + i * (1 - start) / count for i in range(count))
        schedule = FAMILIES[family](**values)
        trained = 0

        def report(epoch: int, val_acc: float) -> None:
            nonlocal trained
            trained = epoch + 1
            trial.report(val_acc, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()

        try:
            result = train(data, config, schedule, lr, report)
            trained = len(result.train_loss)
            return 0.0 if result.diverged else result.final_accuracy
        finally:
            steps.append(Step(trained, None, Config.of(schedule, lr)))

    while sum(s.epochs for s in steps) + task.epochs <= task.budget:
        study.optimize(objective, n_trials=1)
        last = study.trials[-1]
        if last.state == optuna.trial.TrialState.COMPLETE:
            steps[-1] = replace(steps[-1], value=last.value)
    return outcome(steps, task.budget)


def schedulefree_job(task: Task, seed: int) -> Outcome:
    """The range test's suggestion, then 4 schedule-free runs around it; pick = best val."""
    quiet()
    from schedsearch.engine.range_test import lr_range_test

    data, config = task.data(seed), task.config(seed)
    tested = lr_range_test(data, config)
    steps = [Step(tested.epochs)]
    gain = optimizer_lr(1.0, task.optimizer)  # the family's optimizer LR per base LR
    for factor in SF_FACTORS:
        lr = tested.suggestion * factor / gain  # the optimizer's LR: suggestion x factor
        result = train(data, config, FREE, lr)
        value = 0.0 if result.diverged else result.final_accuracy
        steps.append(Step(len(result.train_loss), value, Config.of(FREE, lr)))
    return outcome(steps, task.budget)


def retrain_job(task: Task, seed: int, config: Config) -> list[float]:
    """Test accuracy of a config with the 3 salted retrain seeds, on the seed's split; a run
    that diverges scores 0."""
    quiet()
    data, scores = task.data(seed), []
    for fresh in retrain_seeds(seed):
        setup = replace(task.config(seed), seed=fresh)
        result = train(data, setup, parse_schedule(config.schedule), config.base_lr)
        model, diverged = result.model, result.diverged is not None
        scores.append(
            0.0 if diverged or model is None else evaluate(model, data.test_x, data.test_y)
        )
    return scores
