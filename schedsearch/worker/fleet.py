"""All the devices of a machine: one worker process per GPU, K per GPU if asked.

Small CNNs leave most of a GPU idle, so ``--per-device K`` runs K trials side by side on one
device. Each process is a whole worker (its own store connections, dataset copy and sampler
seed); the parent only starts them, forwards SIGTERM/SIGINT, and waits.
"""

from __future__ import annotations

import multiprocessing
import signal
from dataclasses import replace
from types import FrameType
from typing import Any

import torch

from schedsearch.store import Store
from schedsearch.worker.logs import configure_logging
from schedsearch.worker.loop import Worker, WorkerOptions


def visible_devices(spec: str) -> list[str]:
    """``all``: every visible GPU (or the CPU where there is none); else a comma list."""
    if spec == "all":
        count = torch.cuda.device_count()
        return [f"cuda:{i}" for i in range(count)] if count else ["cpu"]
    devices = [d.strip() for d in spec.split(",") if d.strip()]
    if not devices:
        raise ValueError("--devices: name at least one device (or 'all')")
    for device in devices:
        if device != "cpu" and not device.startswith("cuda"):
            raise ValueError(f"--devices: {device!r} is not cpu, cuda or cuda:N")
        if device.startswith("cuda"):
            index = int(device.partition(":")[2] or 0)
            if index >= torch.cuda.device_count():
                raise ValueError(
                    f"--devices: {device} is not visible here ({torch.cuda.device_count()} GPU(s))"
                )
    return devices


def serve(url: str, store_options: dict[str, Any], options: WorkerOptions) -> int:
    """One worker process (a multiprocessing target): serve until stopped or out of work."""
    configure_logging(as_json=options.log_json)
    return Worker(Store(url, **store_options), options).run()


def _options_for(options: WorkerOptions, device: str, index: int) -> WorkerOptions:
    """Each process on its device, with its own sampler seed (equal seeds propose equal
    trials); a fixed base seed stays reproducible as base + index."""
    seed = None if options.seed_index is None else options.seed_index + index
    return replace(options, device=device, seed_index=seed)


def run_fleet(
    url: str,
    store_options: dict[str, Any],
    options: WorkerOptions,
    devices: list[str],
    per_device: int = 1,
) -> list[int]:
    """Start ``per_device`` workers on each device, wait for all; returns their exit codes."""
    context = multiprocessing.get_context("spawn")
    slots = [(d, k) for d in devices for k in range(per_device)]
    processes = [
        context.Process(
            target=serve,
            args=(url, store_options, _options_for(options, d, i)),
            name=f"worker-{d}-{k}",
        )
        for i, (d, k) in enumerate(slots)
    ]
    for process in processes:
        process.start()

    def forward(signum: int, frame: FrameType | None) -> None:
        for process in processes:
            if process.is_alive() and process.pid is not None:
                process.terminate()  # SIGTERM: each worker fails and re-queues its trial

    previous = {s: signal.signal(s, forward) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        for process in processes:
            process.join()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return [process.exitcode or 0 for process in processes]
