"""How a trial is trained, in torch: datasets on the device, models, the torch schedulers, the
training loop. Built on ``core`` alone; only workers (and benchmarks) load it."""
