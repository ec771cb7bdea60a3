"""What the layers buy: the CLI's HTTP commands and the API server without the engine.

Against a live ``schedsearch serve`` on a SQLite file holding one finished study, times
``schedsearch status NAME``, ``best NAME`` and ``submit FILE`` (median of N real processes each)
and divides each by the median of ``python -c "import torch"`` measured in the same run: the
goal is at most 0.35x. Then the server's resident memory after one request to every JSON route
(goal: at most 150 MB), and whether the server process holds torch.

    .venv/bin/python bench/light_paths.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import httpx

from common import EXE, header, median_seconds, ratio, rss_mb, serving

GOAL_RATIO = 0.35
GOAL_RSS_MB = 150.0
SPEC = {"epochs": 1, "n_trials": 1, "families": ["cosine"], "pruner": "none"}


def json_routes(name: str) -> list[tuple[str, str, dict[str, object] | None]]:
    """One request to every JSON route (plots and pages are PNG/HTML, loaded on demand)."""
    return [
        ("GET", "/healthz", None),
        ("GET", "/studies", None),
        ("GET", f"/studies/{name}", None),
        ("GET", f"/studies/{name}/best", None),
        ("GET", f"/studies/{name}/trials", None),
        ("GET", "/schedules", None),
        ("POST", "/schedules/preview", {"schedule": {"family": "cosine"}, "total_steps": 100}),
        ("GET", "/metrics", None),
        ("POST", "/studies", {"name": "extra", **SPEC}),
        ("POST", "/studies/extra/cancel", None),
        ("DELETE", "/studies/extra", None),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    header("light paths: CLI HTTP commands and the API server, against import torch")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        spec_file = Path(tmp) / "spec.json"
        spec_file.write_text(json.dumps({"name": "light", **SPEC}))
        env = {"SCHEDSEARCH_DATA_DIR": str(Path(tmp) / "data")}
        with serving(url, env) as (port, server):
            api = f"http://127.0.0.1:{port}"
            cli_env = {**env, "SCHEDSEARCH_API_URL": api}
            median_seconds([EXE, "submit", str(spec_file)], 1, cli_env)
            median_seconds([EXE, "worker", "--database-url", url, "--study", "light"], 1, env)
            torch = median_seconds([sys.executable, "-c", "import torch"], args.repeats)
            print(f"\nimport torch: {torch:.3f} s (median of {args.repeats})")
            print(f"{'command':<28} {'median s':>9} {'/ torch':>8}  goal <= {GOAL_RATIO}x")
            worst = 0.0
            submits = iter(range(10**6))
            for label, command in (
                ("schedsearch status light", [EXE, "status", "light"]),
                ("schedsearch best light", [EXE, "best", "light"]),
                ("schedsearch submit FILE", None),
            ):
                if command is None:  # each submit needs a name of its own
                    files = []
                    for _ in range(args.repeats):
                        path = Path(tmp) / f"spec-{next(submits)}.json"
                        path.write_text(json.dumps({"name": path.stem, **SPEC}))
                        files.append(path)
                    seconds = sorted(
                        median_seconds([EXE, "submit", str(f)], 1, cli_env) for f in files
                    )[len(files) // 2]
                else:
                    seconds = median_seconds(command, args.repeats, cli_env)
                worst = max(worst, seconds / torch)
                print(f"{label:<28} {seconds:>9.3f} {ratio(seconds, torch):>8}")
            with httpx.Client(base_url=api, timeout=30) as client:
                for method, path, body in json_routes("light"):
                    response = client.request(method, path, json=body)
                    assert response.status_code < 400, (path, response.status_code)
            rss = rss_mb(server.pid)
            holds_torch = "torch" in Path(f"/proc/{server.pid}/maps").read_text()
    print(f"\nAPI server resident memory after every JSON route: {rss:.0f} MB")
    print(f"API server has torch mapped: {holds_torch}")
    print(
        f"\ngoal CLI <= {GOAL_RATIO}x torch: {'met' if worst <= GOAL_RATIO else 'missed'} "
        f"(worst {worst:.2f}x)"
    )
    print(f"goal API RSS <= {GOAL_RSS_MB:.0f} MB: {'met' if rss <= GOAL_RSS_MB else 'missed'}")


if __name__ == "__main__":
    main()
