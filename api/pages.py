"""The HTML status pages: plain server-rendered HTML, no JavaScript, refreshing while a study
runs. Plots are inline PNGs, so the page needs one authorised request, not five."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from html import escape
from typing import Any

from schedsearch.core.formatting import format_params
from schedsearch.core.states import StudyStatus

STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222}
h1{margin-bottom:.2rem} .muted{color:#666} table{border-collapse:collapse;width:100%}
td,th{padding:.35rem .6rem;border-bottom:1px solid #ddd;text-align:left}
.bar{background:#eee;border-radius:4px;height:14px;width:220px;display:inline-block}
.bar>span{background:#2a7ae2;border-radius:4px;height:14px;display:block}
.status{padding:.1rem .5rem;border-radius:4px;background:#eef;font-size:.9rem}
pre{background:#f6f8fa;padding:1rem;overflow-x:auto;font-size:.85rem}
.plots{display:grid;grid-template-columns:1fr 1fr;gap:1rem} .plots img{width:100%}
"""


def _page(title: str, body: str, refresh: bool) -> str:
    meta = '<meta http-equiv="refresh" content="5">' if refresh else ""
    return (
        f"<!doctype html><html><head><meta charset='utf-8'>{meta}"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )


def _bar(fraction: float) -> str:
    return f'<span class="bar"><span style="width:{100 * fraction:.1f}%"></span></span>'


def _study_row(s: dict[str, Any]) -> str:
    link = f"/ui/studies/{s['id']}"
    best = "-"
    if s["best_value"] is not None:  # studies differ in metric: name it
        best = f"{s['best_value']:.4f} <span class='muted'>{escape(s['metric'])}</span>"
    progress = f"{_bar(s['progress']['fraction'])} {s['progress']['finished']}/{s['n_trials']}"
    return (
        f"<tr><td><a href='{link}'>{escape(s['name'])}</a></td>"
        f"<td><span class='status'>{s['status']}</span></td><td>{progress}</td>"
        f"<td>{best}</td><td class='muted'>{s['created_at']:%Y-%m-%d %H:%M}</td></tr>"
    )


def study_list(studies: list[dict[str, Any]]) -> str:
    rows = "".join(_study_row(s) for s in studies)
    body = (
        "<h1>schedsearch</h1><p class='muted'>studies, newest first</p><table><tr>"
        "<th>study</th><th>status</th><th>progress</th><th>best</th><th>created</th></tr>"
        f"{rows or '<tr><td colspan=5>no study yet</td></tr>'}</table>"
    )
    active = any(StudyStatus(s["status"]).active for s in studies)
    return _page("schedsearch studies", body, refresh=active)


def study_page(
    status: dict[str, Any],
    best: dict[str, Any] | None,
    plots: Mapping[str, bytes],
) -> str:
    progress = status["progress"]
    counts = ", ".join(f"{n} {state}" for state, n in status["trials"].items() if n)
    eta = "-" if status["eta_seconds"] is None else f"{status['eta_seconds']:.0f} s"
    if best is None:
        best_html = "<p class='muted'>no completed trial yet</p>"
    else:
        params = format_params(best["schedule"]["params"])
        best_html = (
            f"<p><b>{escape(best['schedule']['family'])}</b> ({escape(params)}), base LR "
            f"{best['base_lr']:.4g} with {escape(best['optimizer']['name'])}: "
            f"{escape(best['metric'])} <b>{best['value']:.4f}</b> (trial {best['trial_number']}, "
            f"{best['epochs']} epochs)</p>{_evidence(best)}<pre>{escape(best['code'])}</pre>"
        )
    images = "".join(
        f'<img alt="{kind}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'
        for kind, png in plots.items()
    )
    error = f"<p><b>error:</b> {escape(status['error'])}</p>" if status["error"] else ""
    body = (
        "<p><a href='/ui'>all studies</a></p>"
        f"<h1>{escape(status['name'])}</h1>"
        f"<p><span class='status'>{status['status']}</span> {_bar(progress['fraction'])} "
        f"<b>{progress['finished']}/{progress['n_trials']}</b> trials finished "
        f"({100 * progress['fraction']:.0f}%)</p>"
        f"<p class='muted'>{counts or 'no trial yet'}; elapsed {status['elapsed_seconds']:.0f} s;"
        f" ETA {eta}; {status['live_workers']} live worker(s), {status['lost_workers']} lost; "
        "dataset "
        f"{escape(status['spec'].dataset)}, model {escape(status['spec'].model)}, "
        f"{escape(status['spec'].metric)} ({status['spec'].direction})</p>"
        f"{_compute(status)}{error}"
        f"<h2>Best schedule</h2>{best_html}<h2>Plots</h2><div class='plots'>{images}</div>"
    )
    return _page(
        f"{status['name']} - schedsearch", body, refresh=StudyStatus(status["status"]).active
    )


def _compute(status: dict[str, Any]) -> str:
    """Compute spent and left, and what the range test found."""
    compute = status["compute"]
    spent = f"{compute['spent_epochs']:.1f} epochs spent"
    if compute["budget_epochs"] is not None:
        spent += f" of {compute['budget_epochs']} ({compute['left_epochs']:.1f} left)"
    test = status["range_test"]
    if test is None:
        found = ""
    elif test["status"] == "running":
        found = "; LR range test running"
    else:
        rng = test["base_lr_range"]
        found = (
            f"; LR range test: steepest descent at {test['suggestion']:.3g}, base LR searched "
            f"in [{rng['low']:.3g}, {rng['high']:.3g}] ({test['epochs']:.2f} epochs)"
        )
    return f"<p class='muted'>{spent}{found}</p>"


def _evidence(best: dict[str, Any]) -> str:
    """How many runs stand behind the pick, and its lift over the folklore."""
    runs = best["runs"]
    spread = "" if runs["std"] is None else f" +- {runs['std']:.4f}"
    text = f"mean {runs['mean']:.4f}{spread} over {runs['n']} run(s)"
    lift = best["lift"]
    if lift is not None:
        text += (
            f"; {lift['value']:+.4f} over the best folklore recipe seen "
            f"({escape(lift['recipe'])}, mean {lift['recipe_mean']:.4f}, same {lift['runs']} seeds)"
        )
    return f"<p class='muted'>{text}</p>"


def login_page(error: str | None = None) -> str:
    """A form that posts the token once; the pages then use the cookie it gets back."""
    problem = f"<p><b>{escape(error)}</b></p>" if error else ""
    body = (
        "<h1>schedsearch</h1><p class='muted'>the API token (any scope) opens the status pages"
        f"</p>{problem}<form method='post' action='/login'><input type='password' name='token' "
        "autocomplete='current-password' size='40' autofocus> <button>open</button></form>"
    )
    return _page("schedsearch login", body, refresh=False)
