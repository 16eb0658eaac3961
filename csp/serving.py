"""Starting the app in a subprocess and waiting for it: shared by run_demo and the benchmark commands."""

import http.client
import subprocess
import time


def wait_until_healthy(port: int, process: subprocess.Popen, timeout: float = 30) -> bool:
    """Poll ``/healthz`` on 127.0.0.1:port until it answers 200, the process exits, or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return True
        except OSError:
            time.sleep(0.2)
    return False
