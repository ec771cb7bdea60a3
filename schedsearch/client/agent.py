"""``schedsearch agent STUDY -- COMMAND ...``: your training command, once per leased trial.

Each turn asks the service for a lease of STUDY (a study with ``"trainer": "external"``):

- ``wait`` (every remaining trial is out on lease): sleep its ``retry_after``, ask again;
- ``over``: exit 0;
- ``trial``: run COMMAND, its own process group, with the trial in its environment
  (SCHEDSEARCH_TRIAL: the trial and its lease as JSON; SCHEDSEARCH_LEASE: the lease id;
  SCHEDSEARCH_API_URL and SCHEDSEARCH_API_TOKEN: this agent's service), which is what
  ``schedsearch.client.current_trial()`` reads. The agent renews the lease while COMMAND runs;
  when COMMAND exits with the lease still active it fails the trial ("command exited with code
  N without finishing its trial").

Any number of agents, on any number of machines, share a study: the service arbitrates.
SIGTERM/SIGINT: SIGTERM to COMMAND's process group, SIGKILL after ``stop_wait`` seconds, and the
trial is handed back (``released``: queued again, not counted as a failure); exit 0.

A ``kill -9`` runs none of that, so COMMAND is started, on Linux, with ``PR_SET_PDEATHSIG =
SIGKILL`` (``prctl`` in the child between fork and exec): the kernel kills COMMAND when the agent
dies, and no orphan trains on, still reporting, on a lease that will expire and be tried again
elsewhere. Caveats: the death signal follows the *thread* that forked the child, so COMMAND is
always started from the main thread, which lives as long as the agent; and it reaches COMMAND
only, not processes that COMMAND starts (a shell wrapper should ``exec`` its trainer). Elsewhere
(macOS) a killed agent's COMMAND runs on until its lease calls fail.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

from schedsearch.client.http import Client, ClientError
from schedsearch.client.trial import TRANSIENT, Heartbeat, one_line
from schedsearch.core.errors import UserError
from schedsearch.settings import variable

log = logging.getLogger("schedsearch.agent")
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
POLL = 0.1  # seconds between looks at COMMAND and at the stop flag
MAX_BACKOFF = 30.0


@dataclass(frozen=True)
class AgentOptions:
    max_trials: int | None = None  # exit 0 after running this many
    give_up: float | None = None  # seconds to wait for an unreachable service (None: for ever)
    max_failures: int = 3  # consecutive COMMAND failures (exit code not 0) before exiting 1
    stop_wait: float = 5.0  # seconds between SIGTERM and SIGKILL to COMMAND's group


class Agent:
    def __init__(
        self, client: Client, study: str, command: list[str], options: AgentOptions
    ) -> None:
        if not command:
            raise UserError("COMMAND: missing (schedsearch agent STUDY -- COMMAND ...)")
        self.client, self.study, self.command, self.options = client, study, command, options
        self.label = f"{socket.gethostname()}:{os.getpid()}"[:128]
        self.signalled: int | None = None  # set by the signal handler only (a plain flag)

    # -- the loop -------------------------------------------------------------------------

    def run(self) -> int:
        """Serve trials until the study is over, ``max_trials`` ran or a signal; the exit code."""
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            return self._loop()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _loop(self) -> int:
        ran = failures = 0
        waiting = False
        while self.signalled is None:
            if self.options.max_trials is not None and ran >= self.options.max_trials:
                log.info("agent: ran %d trial(s) of %s (--max-trials); exiting", ran, self.study)
                return 0
            answer = self._ask()
            if answer is None:  # stopped while asking
                break
            outcome = answer["outcome"]
            if outcome == "over":
                log.info("agent: study %s is over (%s); exiting", self.study, answer.get("status"))
                return 0
            if outcome == "wait":
                if not waiting:
                    log.info("agent: %s; waiting", answer.get("detail", "no trial free"))
                    waiting = True
                self._sleep(float(answer.get("retry_after", 1.0)))
                continue
            waiting = False
            ran += 1
            code = self._trial(answer)
            if code is None:
                break
            failures = failures + 1 if code else 0
            if failures >= self.options.max_failures:
                log.error(
                    "agent: COMMAND failed %d times in a row (last exit code %d); exiting",
                    failures,
                    code,
                )
                return 1
        log.info("agent: stopped by signal %s after %d trial(s)", self.signalled, ran)
        return 0

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.signalled is None:
            self.signalled = signum

    def _sleep(self, seconds: float) -> bool:
        """Sleep, waking for a signal; whether one came."""
        deadline = time.monotonic() + seconds
        while self.signalled is None and time.monotonic() < deadline:
            time.sleep(min(POLL, max(0.0, deadline - time.monotonic())))
        return self.signalled is not None

    def _patiently(self, call: Callable[[], Any]) -> Any:
        """``call()``, again with backoff (1, 2, 4 ... 30 s) while the service is unreachable,
        for ever or ``give_up`` seconds (then ClientError(0)); None on a signal."""
        since, delay = time.monotonic(), 1.0
        while True:
            try:
                return call()
            except ClientError as exc:
                if exc.status not in TRANSIENT:
                    raise
                waited = time.monotonic() - since
                if self.options.give_up is not None and waited >= self.options.give_up:
                    raise ClientError(0, f"gave up after {waited:.0f} s: {exc}") from None
                log.warning("agent: %s; trying again in %.0f s", exc, delay)
                if self._sleep(delay):
                    return None
                delay = min(2 * delay, MAX_BACKOFF)

    def _ask(self) -> dict[str, Any] | None:
        return self._patiently(lambda: self.client.lease(self.study, self.label))

    # -- one trial ------------------------------------------------------------------------

    def _trial(self, answer: dict[str, Any]) -> int | None:
        """Run COMMAND on one leased trial; its exit code, or None when a signal stopped it."""
        trial, lease = answer["trial"], answer["lease"]
        family = trial.get("schedule", {}).get("family")
        log.info(
            "agent: trial %s of %s (%s, base LR %.3g): %s",
            trial["number"],
            self.study,
            family,
            trial["base_lr"],
            shlex.join(self.command),
        )
        if self.signalled is not None:
            self._end(lease["id"], "released", "agent stopped")
            return None
        try:
            process = subprocess.Popen(
                self.command,
                env=self._environment(trial, lease),
                start_new_session=True,  # its own process group: signals reach all of it
                preexec_fn=die_with(os.getpid()),
            )
        except OSError as exc:
            self._end(lease["id"], "released", f"command could not start: {exc.strerror}")
            raise UserError(f"COMMAND: cannot run {self.command[0]!r}: {exc.strerror}") from None
        beat = Heartbeat(self.client, lease["id"], lease["renew_every"]).start()
        try:
            code = self._wait(process)
        finally:
            beat.stop()
        if code is None:
            self._end(lease["id"], "released", "agent stopped")
            return None
        self._settle(lease["id"], trial["number"], code)
        return code

    def _environment(self, trial: dict[str, Any], lease: dict[str, Any]) -> dict[str, str]:
        """This process's environment (COMMAND's own settings ride along), and the trial. The
        agent passes its environment on; it reads no setting from it (``Settings`` does)."""
        env = {
            **os.environ,
            variable(("trial",)): json.dumps({"trial": trial, "lease": lease}),
            variable(("lease",)): lease["id"],
            variable(("api_url",)): self.client.url,
        }
        env.pop(variable(("api_token",)), None)
        if self.client.token:
            env[variable(("api_token",))] = self.client.token
        return env

    def _wait(self, process: subprocess.Popen[bytes]) -> int | None:
        """COMMAND's exit code; on a signal, stop its process group and answer None."""
        while (code := process.poll()) is None:
            if self.signalled is not None:
                stop_group(process, self.options.stop_wait)
                return None
            time.sleep(POLL)
        return code

    def _settle(self, lease_id: str, number: int, code: int) -> None:
        """After COMMAND exits: fail the trial if it left its lease active."""
        info = self._patiently(lambda: self.client.lease_info(lease_id))
        if info is None:
            return
        if info["state"] == "active":
            reason = f"command exited with code {code} without finishing its trial"
            log.warning("agent: trial %s: %s", number, reason)
            self._end(lease_id, "failed", reason)
            return
        value = f", value {info['value']}" if info.get("value") is not None else ""
        log.info("agent: trial %s %s%s (exit code %d)", number, info["state"], value, code)

    def _end(self, lease_id: str, state: str, reason: str) -> None:
        """Finish a lease this agent holds; a 409 (it ended meanwhile) is no error."""
        try:
            self._patiently(lambda: self.client.finish(lease_id, state, None, one_line(reason)))
        except ClientError as exc:
            if exc.status != 409:
                raise
            log.info("agent: lease %s had ended already (%s)", lease_id, exc)


def stop_group(process: subprocess.Popen[bytes], wait: float) -> None:
    """SIGTERM to the process group that ``process`` leads, SIGKILL to what is left of it after
    ``wait`` seconds (or at once, once the leader is gone: stray members die with it)."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):  # the whole group is gone
            os.killpg(process.pid, signum)
        try:
            process.wait(timeout=wait if signum == signal.SIGTERM else None)
        except subprocess.TimeoutExpired:
            continue


_LIBC: Any = None


def die_with(agent_pid: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` that has the kernel SIGKILL the child when the agent dies (Linux's
    ``prctl(PR_SET_PDEATHSIG)``); None elsewhere. libc is loaded here, before the fork: the
    child must not import or load anything between fork and exec."""
    global _LIBC
    if not sys.platform.startswith("linux"):
        return None
    if _LIBC is None:
        _LIBC = ctypes.CDLL(None, use_errno=True)
    prctl = _LIBC.prctl

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != agent_pid:  # the agent died before prctl: nobody will signal us
            os._exit(1)

    return preexec


def run_agent(
    client: Client, study: str, command: list[str], options: AgentOptions | None = None
) -> int:
    """The ``schedsearch agent`` command: log lines on stderr, the exit code returned."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per heartbeat is noise
    return Agent(client, study, command, options or AgentOptions()).run()
