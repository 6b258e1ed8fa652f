"""The scheduler `coe-portal run` keeps: each job at its interval, a failing job logged and retried, a quick stop."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import text

from portal.core.features import ScheduledJob
from portal.core.scheduler import Scheduler
from portal.core.settings import Settings


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def counting_job(name: str, interval_s: float, runs: list[str]) -> ScheduledJob:
    def run(*, session, settings) -> str:
        runs.append(name)
        return f"run {runs.count(name)}"

    return ScheduledJob(name, run, interval_s=lambda _settings: interval_s)


def test_each_job_runs_once_per_its_interval_and_an_interval_of_0_switches_it_off(engine) -> None:
    runs: list[str] = []
    clock = Clock()
    jobs = [counting_job("often", 10, runs), counting_job("rarely", 60, runs), counting_job("never", 0, runs)]
    scheduler = Scheduler(jobs, settings=Settings(), engine=engine, clock=clock)
    assert scheduler.jobs == ["often", "rarely"]
    assert scheduler.run_due() == []  # the first run waits one interval
    clock.now += 10
    assert scheduler.run_due() == ["often: run 1"]
    clock.now += 50
    assert scheduler.run_due() == ["often: run 2", "rarely: run 1"]
    assert runs == ["often", "often", "rarely"]


def test_a_failing_job_is_rolled_back_logged_and_does_not_stop_the_others(engine, caplog) -> None:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE scheduler_probe (note VARCHAR(20))"))

    def half_done(*, session, settings) -> str:
        session.execute(text("INSERT INTO scheduler_probe VALUES ('half')"))
        raise RuntimeError("the database went away")

    runs: list[str] = []
    clock = Clock()
    jobs = [ScheduledJob("breaks", half_done, interval_s=lambda _settings: 5), counting_job("works", 5, runs)]
    scheduler = Scheduler(jobs, settings=Settings(), engine=engine, clock=clock)
    clock.now += 5
    with caplog.at_level(logging.ERROR, logger="portal.core.scheduler"):
        assert scheduler.run_due() == ["breaks: failed (see the log)", "works: run 1"]
    assert "scheduled job breaks failed" in caplog.text and "RuntimeError: the database went away" in caplog.text
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM scheduler_probe")).scalar_one() == 0
    clock.now += 5
    assert scheduler.run_due() == ["breaks: failed (see the log)", "works: run 2"]  # both tried again


def test_the_thread_repeats_the_jobs_until_stopped(engine) -> None:
    third_run = threading.Event()
    runs: list[int] = []

    def job(*, session, settings) -> str:
        runs.append(1)
        if len(runs) == 3:
            third_run.set()
        return "ok"

    scheduler = Scheduler([ScheduledJob("quick", job, interval_s=lambda _settings: 0.01)], settings=Settings(),
                          engine=engine)
    scheduler.start()
    try:
        assert third_run.wait(timeout=10)
    finally:
        scheduler.stop(timeout_s=5)
    count = len(runs)
    assert not any(thread.name == "portal-scheduler" for thread in threading.enumerate())
    third_run.wait(0.05)
    assert len(runs) == count  # nothing runs after stop


def test_a_scheduler_with_no_job_to_run_starts_no_thread(engine) -> None:
    scheduler = Scheduler([counting_job("off", 0, [])], settings=Settings(), engine=engine)
    scheduler.start()
    assert scheduler.jobs == [] and not any(t.name == "portal-scheduler" for t in threading.enumerate())
    scheduler.stop()


def test_coe_portal_run_schedules_the_installed_features_jobs() -> None:
    from portal.commands import scheduler_for
    from portal.installed import INSTALLED_FEATURES

    assert scheduler_for(INSTALLED_FEATURES, Settings()).jobs == ["portfolio sweep"]
    assert scheduler_for(INSTALLED_FEATURES, Settings(portfolio_sweep_interval_s=0)).jobs == []
