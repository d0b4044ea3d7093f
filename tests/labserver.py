"""Start ``course.py lab`` on 127.0.0.1 and wait until it answers: shared by the quick-start and browser tests.
Also where the browser test finds Chromium (``conftest`` asks too, to know whether the browser test will run)."""
import shutil
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager

import pytest


def chromium():
    """The path of Debian's Chromium, or None when it is not installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_server(url, proc, log, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"JupyterLab exited with code {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/api/status", timeout=2):
                return
        except OSError:
            time.sleep(0.25)
    pytest.fail(f"JupyterLab did not answer within {timeout} s:\n{log.read_text()[-3000:]}")


@contextmanager
def running_lab(python, root, env, log, timeout=600, args=()):
    """Run ``python course.py lab *args`` in ``root`` (no browser, no token, a free port); yield its base URL.

    ``timeout`` covers a first run, which sets up the environment before JupyterLab starts. The server is
    stopped on exit; its output is in ``log``.
    """
    port = free_port()
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [str(python), "course.py", "lab", *args, "--no-browser", "--ServerApp.ip=127.0.0.1",
             f"--ServerApp.port={port}", "--ServerApp.port_retries=0", "--IdentityProvider.token=",
             "--ServerApp.password=", "--LabApp.expose_app_in_browser=True"],
            cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_server(url, proc, log, timeout)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
