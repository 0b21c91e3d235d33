"""The sidecar's own stdout and stderr (console.py): what it says survives an engine's redirections."""

import subprocess
import sys
import unittest

# What Genesis does while it imports and starts, for the whole process: `sys.stdout` swapped for a
# buffer, descriptor 2 pointed at /dev/null. The sidecar's lines must still come out.
SCRIPT = """
import contextlib, io, os, sys
from telekit_sim import console
console.claim()
buffer = io.StringIO()
with contextlib.redirect_stdout(buffer):
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved = os.dup(2)
    os.dup2(devnull, 2)
    print("listening unix:/x", file=console.out(), flush=True)
    print("info the log line", file=console.err(), flush=True)
    print("swallowed by the engine's buffer", flush=True)
    os.dup2(saved, 2)
assert "swallowed" in buffer.getvalue()
"""


class ConsoleTest(unittest.TestCase):
    def test_lines_survive_the_engines_redirections(self) -> None:
        done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=True)
        self.assertEqual(done.stdout, "listening unix:/x\n")
        self.assertEqual(done.stderr, "info the log line\n")

    def test_unclaimed_it_writes_to_the_sys_streams(self) -> None:
        script = "from telekit_sim import console; print('hi', file=console.out()); print('ho', file=console.err())"
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
        self.assertEqual((done.stdout, done.stderr), ("hi\n", "ho\n"))
