"""A leased trial of an external study: your training loop, the service's search (docs/leases.md).

```python
with Client(url, token).trial("my-study") as t:  # or: with current_trial() as t:
    optimizer = torch.optim.SGD(model.parameters(), lr=t.base_lr, momentum=0.9)
    scheduler = t.scheduler(optimizer, t.epochs * len(loader), len(loader))
    for epoch in range(1, t.epochs + 1):
        ...  # train: scheduler.step() after each optimizer.step()
        t.epoch_end(val_accuracy)  # reduce-on-plateau listens; the other families ignore it
        t.report(epoch, val_accuracy)  # raises TrialPruned when the study's pruner says stop
```

Leaving the block finishes the lease: ``complete`` with the last reported value (or the one given
to ``finish``), ``pruned`` on TrialPruned (swallowed), ``failed`` on any other exception (its
type and message as the reason; re-raised), and ``released`` (handed back, to be tried again) on
KeyboardInterrupt. A daemon thread renews the lease every ``renew_every`` seconds meanwhile.

Light like the rest of the client: torch is imported by ``scheduler()`` only.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
import warnings
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from schedsearch.client.http import Client, ClientError
from schedsearch.settings import Settings, variable

if TYPE_CHECKING:
    from schedsearch.engine.schedulers import LRSchedule

log = logging.getLogger("schedsearch.client")
T = TypeVar("T")
TRANSIENT = frozenset({0, 429, 502, 503, 504})  # unreachable, or a proxy's "not now"
ENDED = frozenset({403, 404, 409})  # the lease is not ours (any more): renewing it is pointless
TRIAL_VARIABLE = variable(("trial",))


class TrialPruned(Exception):
    """The study's pruner stopped the trial (or its value diverged); the ``with`` block
    swallows it. Not Optuna's TrialPruned: the client has no Optuna."""


class StudyOver(Exception):
    """The study hands out no more trials (completed, cancelled or failed)."""

    def __init__(self, study: str | int, status: str, detail: str) -> None:
        super().__init__(detail or f"study {study} is {status}")
        self.study, self.status = study, status


class NoTrial(RuntimeError):
    """``current_trial()`` in a process that no agent started, with no study to lease from."""


def one_line(text: str, limit: int = 500) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def patiently(call: Callable[[], T], tries: int = 4) -> T:
    """``call()``, tried again (1, 2, 4 s apart) while the service is unreachable or busy."""
    for attempt in range(tries):
        try:
            return call()
        except ClientError as exc:
            if exc.status not in TRANSIENT or attempt == tries - 1:
                raise
            log.warning("%s; trying again in %d s", exc, 2**attempt)
            time.sleep(2**attempt)
    raise AssertionError("unreachable")


class Heartbeat:
    """Renews a lease every ``every`` seconds from a daemon thread (with a client of its own),
    until ``stop()``; stops by itself once the service says the lease has ended (``lost``)."""

    def __init__(self, client: Client, lease_id: str, every: float) -> None:
        self.lease_id, self.every = lease_id, max(0.05, float(every))
        self.lost: str | None = None
        self._client = client.copy()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lease-heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def _run(self) -> None:
        delay = self.every
        while not self._stop.wait(delay):
            try:
                self._client.heartbeat(self.lease_id)
                delay = self.every
            except ClientError as exc:
                if exc.status in ENDED:  # finished (by the trial, just now) or expired
                    self.lost = str(exc)
                    log.debug("lease %s: no more heartbeats (%s)", self.lease_id, exc)
                    return
                log.warning("lease %s: heartbeat failed (%s); trying again", self.lease_id, exc)
                delay = min(self.every, 1.0)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self._client.timeout + 1)
        self._client.close()


class LeasedTrial:
    """One trial on lease: its config, and the calls that report and end it."""

    def __init__(self, client: Client, answer: dict[str, Any], heartbeat: bool = True) -> None:
        self.client = client
        self.lease: dict[str, Any] = answer["lease"]
        self.info: dict[str, Any] = answer["trial"]
        self.last_value: float | None = None  # the last value reported
        self.state: str | None = None  # how the lease ended, once it has (through this object)
        self._heartbeat = heartbeat
        self._beat: Heartbeat | None = None
        self._schedule: LRSchedule | None = None

    @classmethod
    def ask(cls, client: Client, study: str | int, agent: str | None = None) -> LeasedTrial:
        """Lease a trial; sleeps the service's ``retry_after`` while every remaining trial is
        out on lease (one log line), StudyOver once there is none to hand out."""
        waiting = False
        while True:
            answer = patiently(lambda: client.lease(study, agent))
            if answer["outcome"] == "trial":
                return cls(client, answer)
            if answer["outcome"] == "over":
                raise StudyOver(study, answer.get("status", ""), answer.get("detail", ""))
            if not waiting:
                log.info("study %s: %s; waiting", study, answer.get("detail", "no trial free"))
                waiting = True
            time.sleep(float(answer.get("retry_after", 1.0)))

    # -- what the trial is ----------------------------------------------------------------

    @property
    def id(self) -> str:
        """The lease's id."""
        return str(self.lease["id"])

    @property
    def number(self) -> int:
        return int(self.info["number"])

    @property
    def study(self) -> str:
        return str(self.info["study"])

    @property
    def epochs(self) -> int:
        return int(self.info["epochs"])

    @property
    def base_lr(self) -> float:
        return float(self.info["base_lr"])

    @property
    def batch_size(self) -> int:
        return int(self.info["batch_size"])

    @property
    def metric(self) -> str:
        return str(self.info.get("metric", "val_accuracy"))

    @property
    def direction(self) -> str:
        return str(self.info.get("direction", "maximize"))

    @property
    def optimizer(self) -> dict[str, Any]:
        return dict(self.info["optimizer"])

    @property
    def code(self) -> str:
        """A PyTorch snippet that builds this trial's scheduler, without schedsearch."""
        return str(self.info.get("code", ""))

    @property
    def config(self) -> dict[str, Any]:
        """The schedule as ``build_scheduler`` takes it: ``{"family": ..., **params}``.
        Reduce-on-plateau watches the study's metric, so it goes the study's direction."""
        schedule = self.info["schedule"]
        config = {"family": schedule["family"], **schedule.get("params", {})}
        if config["family"] == "plateau" and self.direction == "minimize":
            config["mode"] = "min"
        return config

    def to_env(self) -> str:
        """The trial as ``current_trial()`` reads it from SCHEDSEARCH_TRIAL."""
        return json.dumps({"trial": self.info, "lease": self.lease})

    # -- training -------------------------------------------------------------------------

    def scheduler(self, optimizer: Any, total_steps: int, steps_per_epoch: int) -> LRSchedule:
        """This trial's scheduler on ``optimizer`` (created with ``lr=t.base_lr``): the very
        ``LRSchedule`` that the built-in trainer steps (``step()`` after each optimizer step;
        ``t.epoch_end(metric)`` after each validation). Imports torch."""
        from schedsearch.engine.schedulers import build_scheduler

        lr = optimizer.param_groups[0]["lr"]
        if not math.isclose(lr, self.base_lr, rel_tol=1e-6):
            warnings.warn(
                f"the optimizer's LR {lr:g} is not the trial's base_lr {self.base_lr:g}: the "
                "schedule scales from the optimizer's LR, so the search learns the wrong LR",
                stacklevel=2,
            )
        self._schedule = build_scheduler(optimizer, self.config, total_steps, steps_per_epoch)
        return self._schedule

    def epoch_end(self, metric: float) -> None:
        """Feed the epoch's validation metric to the scheduler (reduce-on-plateau steps on it)."""
        if self._schedule is not None:
            self._schedule.epoch_end(metric)

    def report(self, epoch: int, value: float) -> None:
        """Record the metric after ``epoch`` (1 to ``epochs``); TrialPruned when the study's
        pruner stops the trial, or when the value is NaN/inf (the service fails it: diverged)."""
        value = float(value)
        answer = patiently(lambda: self.client.report(self.id, epoch, value))
        if answer.get("state") == "failed":
            self._ended("failed")
            raise TrialPruned(f"trial {self.number}: {value} at epoch {epoch} (diverged)")
        self.last_value = value
        if answer.get("prune"):
            raise TrialPruned(f"trial {self.number} pruned after epoch {epoch}")

    # -- ending ---------------------------------------------------------------------------

    def finish(self, value: float | None = None) -> dict[str, Any]:
        """Complete the trial with its final ``value`` (default: the last one reported)."""
        value = self.last_value if value is None else float(value)
        if value is None:
            raise ValueError("finish: no value given and none reported")
        return self.end("complete", value)

    def end(
        self, state: str, value: float | None = None, reason: str | None = None
    ) -> dict[str, Any]:
        """Finish the lease as ``complete``, ``pruned``, ``failed`` or ``released``."""
        reason = None if reason is None else one_line(reason)
        answer = patiently(lambda: self.client.finish(self.id, state, value, reason))
        self._ended(str(answer.get("state", state)))
        return answer

    def _ended(self, state: str) -> None:
        self.state = state
        if self._beat is not None:
            self._beat.stop()
            self._beat = None

    def __enter__(self) -> LeasedTrial:
        if self._heartbeat and self.state is None and self._beat is None:
            self._beat = Heartbeat(self.client, self.id, self.lease["renew_every"]).start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        unended = None
        try:
            if self.state is not None:
                pass  # finished in the block, or by the service (a diverged report)
            elif exc is None or (isinstance(exc, SystemExit) and exc.code in (0, None)):
                if self.last_value is None:
                    self.end("failed", reason="the trial ended without a value")
                    unended = RuntimeError(
                        f"trial {self.number}: nothing reported; call t.report(epoch, value) "
                        "each epoch or t.finish(value)"
                    )
                else:
                    self.end("complete", self.last_value)
            elif isinstance(exc, TrialPruned):
                self.end("pruned", self.last_value)
            elif isinstance(exc, Exception | SystemExit):
                self.end("failed", reason=f"{type(exc).__name__}: {exc}")
            else:  # KeyboardInterrupt: not the trial's fault
                self.end("released", reason=f"interrupted ({type(exc).__name__})")
        except ClientError as error:
            if exc is None:
                raise
            log.warning("trial %d: could not finish its lease: %s", self.number, error)
        finally:
            if self._beat is not None:
                self._beat.stop()
                self._beat = None
        if unended is not None:
            raise unended
        return isinstance(exc, TrialPruned)


_current: LeasedTrial | None = None


def current_trial(study: str | int | None = None) -> LeasedTrial:
    """The trial that ``schedsearch agent`` handed to this process (SCHEDSEARCH_TRIAL), the
    same object on every call; without one, a fresh lease of ``study`` from the service at
    SCHEDSEARCH_API_URL (``Client().trial(study)``), so a script runs under an agent and alone."""
    global _current
    if _current is not None:
        return _current
    settings = Settings()
    if settings.trial:
        try:
            answer = json.loads(settings.trial)
            shaped = isinstance(answer["lease"]["id"], str) and "number" in answer["trial"]
        except (ValueError, TypeError, KeyError):
            shaped = False
        if not shaped:
            raise NoTrial(f"{TRIAL_VARIABLE}: not a leased trial (JSON with lease and trial)")
        _current = LeasedTrial(Client(settings.api_url, settings.token or ""), answer)
        return _current
    if study is None:
        raise NoTrial(
            f"no trial: {TRIAL_VARIABLE} is unset (run this under `schedsearch agent STUDY -- "
            "COMMAND`) and no study was named"
        )
    return Client().trial(study)
