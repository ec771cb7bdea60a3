"""How trials are proposed and judged, and how a study lives: samplers and pruners (Optuna
objects rebuilt from the spec), warm start, the re-run phase, and the lifecycle that owns every
status transition. Built on ``core`` and ``store``; knows nothing of torch."""
