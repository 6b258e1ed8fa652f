"""Periodic tasks while the portal serves: `coe-portal run` repeats each installed feature's scheduled jobs.

Why here and not cron: the portal's own self-service promises (a tier-1 use case moves to pilot once its criteria
are met) must hold on a fresh machine with nothing else configured. Every job is idempotent and guarded by
conditional updates, so several replicas may run the same job at the same time without harm; a production set-up
that prefers one runner sets the job's interval to 0 on all replicas but one, or runs the matching CLI command.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from portal.core.db import session_scope
from portal.core.features import ScheduledJob
from portal.core.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class _Due:
    job: ScheduledJob
    interval_s: float
    at: float  # monotonic time of the next run


class Scheduler:
    """Runs each job whose interval (from the settings) is above 0, every interval, in one daemon thread."""

    def __init__(self, jobs: Sequence[ScheduledJob], *, settings: Settings, engine: Engine,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._settings, self._engine, self._clock = settings, engine, clock
        now = clock()
        # The first run waits one interval: start-up already has its own work (migrations, the catalog sync).
        self._due = [_Due(job, interval, now + interval) for job in jobs
                     if (interval := job.interval_s(settings)) > 0]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def jobs(self) -> list[str]:
        """The names of the jobs that will run (an interval of 0 leaves a job out)."""
        return [due.job.name for due in self._due]

    def start(self) -> None:
        if self._due and self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="portal-scheduler", daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Ask the loop to end and wait for a job that is running to finish (up to `timeout_s`)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def run_due(self) -> list[str]:
        """Run every job that is due now, then book its next run; returns what each run reported."""
        reports = []
        for due in self._due:
            if due.at <= self._clock():
                reports.append(self._run(due.job))
                due.at = self._clock() + due.interval_s
        return reports

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_due()
            wait_s = min(due.at for due in self._due) - self._clock()
            self._stop.wait(max(wait_s, 0.0))

    def _run(self, job: ScheduledJob) -> str:
        # One job's failure (a database restart, a bug) is logged and retried at its next interval; the others
        # and the portal go on.
        try:
            with session_scope(self._engine) as session:
                report = job.run(session=session, settings=self._settings)
        except Exception:
            log.exception("scheduled job %s failed; it runs again in %s s", job.name, job.interval_s(self._settings))
            return f"{job.name}: failed (see the log)"
        log.info("scheduled job %s: %s", job.name, report)
        return f"{job.name}: {report}"
