"""A run killed at any moment leaves the previous output exactly as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qualiscore import synth

ROOT = Path(__file__).resolve().parents[1]
SCHEME = ROOT / "rules" / "qa-form" / "2026Q2.yaml"
SLOW = bool(os.environ.get("QUALISCORE_SLOW"))


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def evaluate(data: Path, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "qualiscore", "evaluate", str(SCHEME), str(data), "-o", str(out), "-q"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


@pytest.mark.slow
def test_sigkill_part_way_leaves_previous_output_intact(tmp_path: Path) -> None:
    small, large = tmp_path / "small.csv", tmp_path / "large.csv"
    synth.write_qa_csv(small, 50, seed=1)
    synth.write_qa_csv(large, 100_000 if SLOW else 4_000, seed=2)
    out = tmp_path / "out"
    assert evaluate(small, out).wait() == 0
    before = snapshot(out)

    # Time a full run, then kill runs at points spread over it: reading, scoring, writing.
    start = time.monotonic()
    assert evaluate(large, tmp_path / "timing").wait() == 0
    duration = time.monotonic() - start
    for fraction in (0.3, 0.7, 0.9, 0.97):
        proc = evaluate(large, out)
        time.sleep(duration * fraction)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        after = snapshot(out)
        if after != before:  # the run finished before the kill: a complete new output, never a mix
            assert after == snapshot(tmp_path / "timing")
            before = after
        leftovers = [p.name for p in out.iterdir() if p.name not in before]
        assert leftovers == []

    # The next run clears what killed runs left beside the output.
    assert evaluate(small, out).wait() == 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    verify = subprocess.run([sys.executable, "-m", "qualiscore", "verify", str(out)], capture_output=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr
