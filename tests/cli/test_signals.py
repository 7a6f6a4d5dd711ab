"""SIGTERM and Ctrl-C to `python -m experiments.correlated` while its pool trains: one stderr
line, exit 143 / 130, and no process of the run (pool workers, multiprocessing's resource
tracker) left alive shortly after the parent exits.

Every process of a run carries a unique environment variable, so the test finds them all by
scanning /proc/*/environ, whoever their parent is by then (init adopts orphans)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")

MARKER = "TMS_TEST_RUN"
# Two jobs (the figure's models and their controls) that train far longer than the test runs.
LONG_RUN = ["figures=[correlated_pairs]", "n_instances=256", "train.steps=200000", "runner.workers=2"]


def run_processes(marker: str) -> dict:
    """{pid: command line} of every live process whose environment holds MARKER=marker."""
    needle = f"{MARKER}={marker}".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if state != "Z":  # a zombie has exited; its parent just has not reaped it yet
            found[int(entry.name)] = cmdline
    return found


def workers(marker: str) -> dict:
    return {pid: cmd for pid, cmd in run_processes(marker).items() if "spawn_main" in cmd}


def ignores_sigint(pid: int) -> bool:
    """Whether the process ignores SIGINT: a pool worker does from its initializer on, just
    before it takes its first job."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    mask = next(line.split()[1] for line in status.splitlines() if line.startswith("SigIgn:"))
    return bool(int(mask, 16) & (1 << (signal.SIGINT - 1)))


def poll(condition, timeout: float, every: float = 0.1):
    """condition()'s first truthy value within ``timeout`` seconds, else its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


@pytest.fixture
def long_run(tmp_path):
    """Start the long figures run in its own session; yields (process, marker, out_dir) once
    both pool workers exist. Kills whatever of the run is left at the end, pass or fail."""
    marker = uuid.uuid4().hex
    out = tmp_path / "figures"
    env = {
        **os.environ,
        "CI": "true",
        "HYDRA_FULL_ERROR": "",
        "PYTHONPATH": str(ROOT),
        "MPLBACKEND": "Agg",
        MARKER: marker,
    }
    args = [f"out_dir={out}", f"cache_dir={tmp_path / 'cache'}", *LONG_RUN]
    # Output into files, not pipes: a survivor holding a pipe open would hide the parent's exit.
    with open(tmp_path / "stdout", "w") as stdout, open(tmp_path / "stderr", "w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "experiments.correlated", *args],
            cwd=tmp_path,
            env=env,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,  # its own process group: killpg reaches the run and nothing else
        )
    proc.output = lambda: ((tmp_path / "stdout").read_text(), (tmp_path / "stderr").read_text())
    try:
        started = poll(lambda: len(workers(marker)) >= 2 or proc.poll() is not None, timeout=60)
        if proc.poll() is not None or not started:
            pytest.fail(f"the run never started its 2 pool workers (exit {proc.poll()}):\n{proc.output()[1][-3000:]}")
        yield proc, marker, out
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in run_processes(marker):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        proc.wait()


def stop_and_check(proc, marker: str, out: Path, send, code: int, name: str) -> None:
    send()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the parent did not exit within 30 s of {name}")
    gone = poll(lambda: not run_processes(marker), timeout=10)
    assert gone, f"alive 10 s after the parent exited: {run_processes(marker)}"
    stdout, stderr = proc.output()
    lines = stderr.strip().splitlines()
    assert proc.returncode == code, (proc.returncode, stderr[-3000:])
    assert len(lines) == 1 and lines[0].startswith("error: interrupted"), stderr[-3000:]
    assert name in lines[0]
    assert "Traceback" not in stdout + stderr
    assert not (out / "summary.json").exists()  # the run did not finish


def test_sigterm_to_the_parent_ends_every_process_of_the_run(long_run):
    proc, marker, out = long_run
    # Mid-training: once both workers have run their initializer (bounded, so that a pool whose
    # workers never ignore SIGINT still gets its SIGTERM). The Ctrl-C test signals them as they start.
    poll(lambda: all(ignores_sigint(pid) for pid in workers(marker)), timeout=30)
    time.sleep(1)
    stop_and_check(proc, marker, out, lambda: proc.send_signal(signal.SIGTERM), 143, "SIGTERM")


def test_ctrl_c_to_the_process_group_ends_every_process_of_the_run(long_run):
    proc, marker, out = long_run
    # At once, as the workers start: a Ctrl-C reaches every process of the terminal's
    # foreground group, the workers too, even before they are ready to ignore it.
    stop_and_check(proc, marker, out, lambda: os.killpg(proc.pid, signal.SIGINT), 130, "SIGINT")
