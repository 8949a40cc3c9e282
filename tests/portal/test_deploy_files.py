"""The deployment's files (deploy/, docs/deploy.md) are read by the programs
that will read them on a server: nginx, systemd and logrotate accept them,
supervisord's configuration runs what the units run, every queue has its worker, and the
environment template names only documented variables.

Each program checks a copy whose server paths (/srv/ip-portal/app,
/etc/ip-portal, /var/log) point into a temporary folder, since this machine
is not the server; what the copy changes is exactly that list.
"""

import configparser
import getpass
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from portal import queues

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = DEPLOY / "systemd"


def needs(program: str) -> str:
    path = shutil.which(program)
    assert path, f"{program} is missing: scripts/system-deps.sh test installs it"
    return path


#: Debian's libnginx-mod-http-cache-purge (scripts/system-deps.sh test).
PURGE_MODULE = "/usr/lib/nginx/modules/ngx_http_cache_purge_module.so"


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "fullchain.pem", folder / "privkey.pem"
    subprocess.run(
        [
            needs("openssl"),
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=portal.example.org",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def nginx_site_for(folder: Path, site: str) -> Path:
    """deploy/nginx/ip-portal.conf with its paths moved into `folder`, inside
    a minimal nginx.conf of its own (Debian's includes the site the same
    way, inside `http { }`)."""
    cert, key = self_signed_certificate(folder)
    (folder / "logs").mkdir()
    shutil.copy(DEPLOY / "nginx" / "ip-portal-proxy.conf", folder)
    site = (
        site.replace("/etc/ssl/ip-portal/fullchain.pem", str(cert))
        .replace("/etc/ssl/ip-portal/privkey.pem", str(key))
        .replace("snippets/ip-portal-proxy.conf", str(folder / "ip-portal-proxy.conf"))
        .replace("/var/log/nginx/", f"{folder}/logs/")
        .replace("/var/cache/nginx/ip-portal", f"{folder}/cache")
    )
    (folder / "site.conf").write_text(site)
    conf = folder / "nginx.conf"
    conf.write_text(
        # Debian's nginx.conf loads the modules its packages install: the
        # cache purge module among them (libnginx-mod-http-cache-purge).
        f"load_module {PURGE_MODULE};\n"
        # Workers as the test's own user: its temporary folders are private.
        + (f"user {getpass.getuser()};\n" if os.geteuid() == 0 else "")
        + f"pid {folder}/nginx.pid;\n"
        f"error_log {folder}/logs/error.log;\n"
        "events { worker_connections 64; }\n"
        "http {\n"
        f"  client_body_temp_path {folder}/body;\n"
        f"  proxy_temp_path {folder}/proxy;\n"
        f"  access_log {folder}/logs/access.log;\n"
        f"  include {folder}/site.conf;\n"
        "}\n"
    )
    return conf


def test_nginx_accepts_the_site(tmp_path):
    conf = nginx_site_for(tmp_path, (DEPLOY / "nginx" / "ip-portal.conf").read_text())
    result = subprocess.run(
        [needs("nginx"), "-t", "-p", str(tmp_path), "-c", str(conf)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


def test_nginx_passes_media_to_the_portal():
    """Only the portal knows who may see a lesson image: a `location /media/`
    serving the folder directly would hand them to anyone with the address."""
    site = (DEPLOY / "nginx" / "ip-portal.conf").read_text()
    locations = re.findall(r"^\s*location\s+([^{]+)\{", site, re.MULTILINE)
    assert not [where for where in locations if "media" in where]
    assert "alias" not in re.sub(r"#.*", "", site)


def unit_copies(folder: Path) -> list[Path]:
    """The units with the server's paths pointing at this checkout, and each
    template as the instances ip-portal.target starts."""
    env = folder / "ip-portal.env"
    env.write_text((DEPLOY / "ip-portal.env.example").read_text())
    for unit in UNITS.iterdir():
        text = (
            unit.read_text()
            .replace("/srv/ip-portal/app", str(ROOT))
            .replace("/etc/ip-portal/ip-portal.env", str(env))
        )
        (folder / unit.name).write_text(text)
    started = target_wants()
    for name in started:
        template = re.sub(r"@[^.]+\.", "@.", name)
        if template != name:
            (folder / name).write_text((folder / template).read_text())
    return [folder / name for name in [*started, "ip-portal.target"]] + [
        folder / "ip-portal-backup.service",
        folder / "ip-portal-backup.timer",
    ]


def target_wants() -> list[str]:
    text = (UNITS / "ip-portal.target").read_text()
    return re.search(r"^Wants=(.*)$", text, re.MULTILINE).group(1).split()


def test_systemd_accepts_every_unit(tmp_path):
    result = subprocess.run(
        [
            needs("systemd-analyze"),
            "verify",
            "--man=no",
            *map(str, unit_copies(tmp_path)),
        ],
        capture_output=True,
        text=True,
    )
    # Unknown keys and bad values are only warnings to systemd: any line fails.
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_the_target_starts_a_worker_for_every_queue_and_one_beat():
    wanted = target_wants()
    workers = sorted(
        name.split("@")[1].removesuffix(".service")
        for name in wanted
        if name.startswith("ip-portal-worker@")
    )
    assert workers == sorted(queues.all_queues("celery"))
    assert wanted.count("ip-portal-beat.service") == 1
    assert any(name.startswith("ip-portal-web@") for name in wanted)


def exec_start(unit: str, instance: str = "") -> list[str]:
    """A unit's ExecStart as its words, as systemd would run them for
    `instance` (environment variables left as ${NAME})."""
    text = (UNITS / unit).read_text().replace("\\\n", " ")
    line = re.search(r"^ExecStart=(.*)$", text, re.MULTILINE).group(1)
    line = line.replace("%i", instance).replace("%I", instance).replace("%%", "%")
    return [
        word.removeprefix("/srv/ip-portal/app/").replace("{", "").replace("}", "")
        for word in shlex.split(line)
    ]


def supervisor_programs() -> dict[str, list[str]]:
    """Each program of deploy/supervisor/ip-portal.conf: its command's words,
    written as exec_start writes a unit's (${NAME} for supervisord's
    %(ENV_NAME)s)."""
    parser = configparser.RawConfigParser()
    parser.read(DEPLOY / "supervisor" / "ip-portal.conf")
    programs = {}
    for section in parser.sections():
        if section.startswith("program:"):
            command = re.sub(r"%\(ENV_([A-Z_]+)\)s", r"$\1", parser[section]["command"])
            command = command.replace("%%", "%")
            programs[section.removeprefix("program:")] = [
                word.removeprefix("/srv/ip-portal/app/")
                for word in shlex.split(command)
            ]
            assert parser[section]["user"] == "ip-portal"
            assert parser[section]["autorestart"] == "true"
    return programs


def test_supervisord_runs_what_the_units_run():
    programs = supervisor_programs()
    assert programs["web8000"] == exec_start("ip-portal-web@.service", "8000")
    assert programs["web8001"] == exec_start("ip-portal-web@.service", "8001")
    for queue in queues.all_queues("celery"):
        assert programs[f"worker-{queue}"] == exec_start(
            "ip-portal-worker@.service", queue
        )
    assert programs["beat"] == exec_start("ip-portal-beat.service")
    assert len(programs) == 3 + len(queues.all_queues("celery"))


def test_logrotate_accepts_the_rotation(tmp_path):
    logs = tmp_path / "log"
    logs.mkdir()
    (logs / "web-8000.log").write_text('{"message": "x"}\n')
    conf = tmp_path / "ip-portal"
    text = (DEPLOY / "logrotate" / "ip-portal").read_text()
    # The group exists on the server (docs/deploy.md, step 1), not here.
    conf.write_text(
        text.replace("/var/log/ip-portal/", f"{logs}/").replace(
            "su root ip-portal", "su root root"
        )
    )
    conf.chmod(0o644)
    result = subprocess.run(
        [needs("logrotate"), "--debug", "--state", str(tmp_path / "state"), str(conf)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "error" not in result.stderr.lower(), result.stderr
    assert "web-8000.log" in result.stderr
    assert re.search(r"^\s*rotate 180$", text, re.MULTILINE)


def test_the_environment_template_names_only_documented_variables():
    documented = set(
        re.findall(
            r"^\| `([A-Z0-9_]+)`",
            (ROOT / "docs" / "configuration.md").read_text(),
            re.MULTILINE,
        )
    )
    template = (DEPLOY / "ip-portal.env.example").read_text()
    names = re.findall(r"^([A-Z0-9_]+)=", template, re.MULTILINE)
    # The two the units themselves read (deploy/systemd), documented in deploy.md.
    process_settings = {"GUNICORN_WORKERS", "CELERY_CONCURRENCY"}
    undocumented = [name for name in names if name not in documented | process_settings]
    assert names and not undocumented
    deploy_guide = (ROOT / "docs" / "deploy.md").read_text()
    assert all(name in deploy_guide for name in process_settings)


@pytest.mark.parametrize(
    "unit", ["ip-portal-web@.service", "ip-portal-worker@.service"]
)
def test_the_processes_read_their_sizes_from_the_environment_file(unit):
    """A unit whose ${NAME} the template leaves out would start with an empty
    argument (gunicorn --workers '')."""
    template = (DEPLOY / "ip-portal.env.example").read_text()
    for name in re.findall(r"\$\{([A-Z_]+)\}", (UNITS / unit).read_text()):
        assert re.search(rf"^{name}=\S", template, re.MULTILINE), name
