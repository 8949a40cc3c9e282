"""Real servers for tests of a deployment: gunicorn instances and the
shipped nginx site in front of them (tests/portal/test_cluster.py,
test_frontend_cache.py)."""

import http.client
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
from pathlib import Path

from tests.portal.test_deploy_files import DEPLOY, needs, nginx_site_for
from tests.portal.test_worker import ROOT, database_url

#: The public host every request names (the shipped site's server_name).
HOST = "portal.example.org"


def server_env() -> dict[str, str]:
    """The environment of a server process on the test database."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "DATABASE_URL": database_url(),
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Web:
    """One gunicorn instance, as ip-portal-web@<port> runs it."""

    def __init__(self, tmp_path: Path, env: dict[str, str], port: int = 0) -> None:
        self.port = port or free_port()
        self.log_path = tmp_path / f"web-{self.port}.log"
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "portal.wsgi",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--workers",
                    "1",
                    "--timeout",
                    "60",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def ready(self) -> bool:
        try:
            return get(self.port, "/healthz/", tls=False)[0] == 200
        except OSError:
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)


def get(
    port: int, path: str, *, tls: bool, cookie: str = ""
) -> tuple[int, bytes, dict[str, str]]:
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # the test's own self-signed certificate
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            "127.0.0.1", port, timeout=30, context=context
        )
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Host": HOST}
    if cookie:
        headers["Cookie"] = cookie
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        connection.close()


class Nginx:
    """The shipped site (deploy/nginx/ip-portal.conf) with its upstream the
    two instances and its ports free ones; nothing else changed."""

    def __init__(self, folder: Path, upstreams: list[int], purge_port: int = 0) -> None:
        folder.mkdir()
        self.port, self.plain_port = free_port(), free_port()
        site = (DEPLOY / "nginx" / "ip-portal.conf").read_text()
        servers = "".join(
            f"    server 127.0.0.1:{port} max_fails=3 fail_timeout=10s;\n"
            for port in upstreams
        )
        site = re.sub(
            r"upstream ip_portal \{\n(.*?\n)*?    keepalive",
            ("upstream ip_portal {\n" + servers + "    keepalive"),
            site,
        )
        site = re.sub(r"^\s*listen \[::\].*\n", "", site, flags=re.MULTILINE)
        site = site.replace("listen 443 ssl", f"listen 127.0.0.1:{self.port} ssl")
        site = site.replace("listen 80;", f"listen 127.0.0.1:{self.plain_port};")
        self.purge_port = purge_port or free_port()
        site = site.replace("127.0.0.1:8079", f"127.0.0.1:{self.purge_port}")
        conf = nginx_site_for(folder, site)
        self.pid = folder / "nginx.pid"
        subprocess.run(
            [needs("nginx"), "-p", str(folder), "-c", str(conf)],
            check=True,
            capture_output=True,
        )
        self.access_log = folder / "logs" / "ip-portal.access.log"

    def stop(self) -> None:
        if self.pid.exists():
            os.kill(int(self.pid.read_text()), signal.SIGQUIT)
