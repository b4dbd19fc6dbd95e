"""Streamlit servers on localhost and headless Chromium, for the drill benchmark and the browser tests.

Chromium is Debian's (``/usr/bin/chromium``), never a downloaded one; its flags
keep it off the network, which this machine does not have.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sign_in_path(store, rater_id: int) -> str:
    """A path that signs a browser in as the rater, once: ``/paircal/session?once=`` with a one-time
    token (two minutes) that ``serve.py`` redeems for the session cookie, then redirects to the app."""
    from training import accounts

    return f"/paircal/session?once={accounts.start_sign_in_token(store, rater_id)}"


class Server:
    """``streamlit run SCRIPT`` (default ``serve.py``: the app with its cookie routes and headers)
    on the database ``db``, on a free localhost port; started, stopped
    or killed at will, always on the same port and log.

    ``args`` are more ``streamlit run`` options; ``path`` is the page a browser should open
    (``url + path``); ``launched_at`` is the wall clock just before the last start's ``Popen``.
    """

    def __init__(self, db: str, log: Path, *args: str, script: str = "serve.py", path: str = "/"):
        self.db, self.log_path, self.args, self.script, self.path = db, log, args, script, path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.launched_at = float("nan")

    @property
    def log(self) -> str:
        """Everything the server printed, over all its starts."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self) -> Server:
        """Start the server and return once its health check answers (at most 60 s)."""
        cmd = [sys.executable, "-m", "streamlit", "run", self.script, "--server.port", str(self.port)]
        cmd += ["--server.headless", "true", "--server.address", "127.0.0.1", *self.args]
        env = {**os.environ, "PAIRCAL_DB_URL": self.db}
        with open(self.log_path, "ab") as log:
            self.launched_at = time.time()
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=1)
                return self
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"{self.script} did not start:\n{self.log}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, as in a crash or an out-of-memory kill."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc = None

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
