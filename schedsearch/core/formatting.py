"""Results as a person reads them on a terminal (CLI) or a page: plain text from plain JSON."""

from __future__ import annotations

from typing import Any


def format_params(params: dict[str, Any]) -> str:
    """``name=value`` pairs with floats (and lists of them) at four significant digits."""

    def short(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.4g}"
        if isinstance(value, list | tuple):
            return "[" + ", ".join(short(v) for v in value) + "]"
        return str(value)

    return ", ".join(f"{name}={short(value)}" for name, value in params.items())


def format_best(best: dict[str, Any]) -> str:
    """The best config as a person reads it on a terminal."""
    return (
        f"best: trial {best['trial_number']}, {best.get('metric', 'val_accuracy')} "
        f"{best['value']:.4f}"
        f"{_rerun_line(best.get('rerun'))}\n"
        f"schedule: {best['schedule']['family']} ({format_params(best['schedule']['params'])})\n"
        f"base LR {best['base_lr']:.4g} with {best['optimizer']['name']}, found at "
        f"{best['epochs']} epochs{_lift_line(best.get('lift'))}\n\n{best['code']}"
    )


def _lift_line(lift: dict[str, Any] | None) -> str:
    """The margin over the best folklore recipe the study ran, on the same fresh seeds."""
    if lift is None:
        return ""
    return (
        f"\nlift over the best folklore recipe seen ({lift['recipe']} at LR "
        f"{lift['recipe_base_lr']:.3g}): {lift['value']:+.4f} over {lift['runs']} paired seeds"
    )


def _rerun_line(rerun: dict[str, Any] | None) -> str:
    """`` (mean of 3 fresh seeds, +- 0.0042; search value 0.9861)``, once re-run."""
    top = rerun["candidates"][0] if rerun and rerun["candidates"] else None
    if top is None or top["mean"] is None:
        return ""
    spread = "" if top["std"] is None else f", +- {top['std']:.4f}"
    return (
        f" (mean of {len(top['values'])} fresh seeds{spread}; "
        f"search value {top['search_value']:.4f})"
    )


def format_status(info: dict[str, Any]) -> str:
    """A study's status answer in one line (two with an error)."""
    counts = ", ".join(f"{k} {v}" for k, v in info["trials"].items() if v)
    best = "-" if info["best_value"] is None else f"{info['best_value']:.4f}"
    eta = "-" if info["eta_seconds"] is None else f"{info['eta_seconds']:.0f} s"
    return (
        f"study {info['id']} ({info['name']}): {info['status']}, "
        f"{info['progress']['finished']}/{info['n_trials']} finished ({counts or 'none yet'}), "
        f"best {best}, elapsed {info['elapsed_seconds']:.0f} s, ETA {eta}, "
        f"{info['live_workers']} live worker(s), {info.get('lost_workers', 0)} lost"
        + (f"\nerror: {info['error']}" if info["error"] else "")
    )
