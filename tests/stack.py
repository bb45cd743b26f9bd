"""Start Lixiao's processes on this machine as production runs them, and always stop them again.

Used by the cluster test (tests/cluster/) and the HTTP benches (bench/login_storm.py, bench/day.py):
gunicorn from deploy/gunicorn.conf.py, the task worker, and nginx (Debian's package) with the
proxy rules of deploy/nginx/. Every process binds 127.0.0.1 on a free port and is stopped by
`Stack.close()` (also on failure: use it as a context manager).
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
NGINX = "/usr/sbin/nginx"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env(var_dir: Path, **overrides) -> dict:
    """The environment of every process: this repository, a private var dir, no developer's own."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LIXIAO_", "DATABASE_URL", "DEBUG", "SECRET_KEY", "DJANGO_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="lixiao.settings",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONPATH=str(ROOT),
        LIXIAO_VAR_DIR=str(var_dir),
        DEBUG="0",
        LIXIAO_ACCESS_LOG="0",
    )
    env.update({k: str(v) for k, v in overrides.items()})
    return env


def manage(env: dict, *args: str, timeout: float = 1800) -> str:
    """Run a management command to its end; its output, or a failure with its stderr."""
    done = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def wait_http(url: str, seconds: float = 60, proc: subprocess.Popen | None = None) -> None:
    """Until the URL answers at all (any HTTP status); fail early when the process died."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(
                f"{proc.args[0]} exited with {proc.returncode} before {url} answered"
            )
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - 127.0.0.1 only
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answered at {url} within {seconds:.0f} s")


@dataclass
class Stack:
    """The processes started so far (by name), their logs in var_dir/logs, stopped by close()."""

    var_dir: Path
    env: dict
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def log(self, name: str) -> Path:
        (self.var_dir / "logs").mkdir(parents=True, exist_ok=True)
        return self.var_dir / "logs" / f"{name}.log"

    def _start(self, name: str, args: list[str], env: dict) -> subprocess.Popen:
        with self.log(name).open("ab") as out:
            # A session of its own: stopping the node stops gunicorn's workers with it.
            proc = subprocess.Popen(
                args,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.procs[name] = proc
        return proc

    def node(self, name: str, workers: int | None = 2, threads: int = 4, **env) -> str:
        """A gunicorn node from deploy/gunicorn.conf.py; returns its base URL once it answers."""
        port = free_port()
        self.ports[name] = port
        proc = self._start(
            name,
            [GUNICORN, "-c", str(ROOT / "deploy" / "gunicorn.conf.py")],
            {
                **self.env,
                "LIXIAO_BIND": f"127.0.0.1:{port}",
                **({"LIXIAO_WEB_WORKERS": str(workers)} if workers else {}),  # else the conf's
                "LIXIAO_WEB_THREADS": str(threads),
                **{k: str(v) for k, v in env.items()},
            },
        )
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/healthz", proc=proc)
        return url

    def worker(self, name: str = "worker", *args: str) -> subprocess.Popen:
        """The task worker (manage.py task_worker: db_worker with a heartbeat), no autoreloader."""
        return self._start(
            name,
            [PYTHON, "manage.py", "task_worker", "--queue-name", "default", "--no-reload", *args],
            self.env,
        )

    def nginx(self, upstreams: list[str], max_body: str = "25m") -> str:
        """nginx in front of these node names with deploy/nginx/lixiao-proxy.conf; its URL."""
        port = free_port()
        self.ports["nginx"] = port
        conf_dir = self.var_dir / "nginx"
        conf_dir.mkdir(parents=True, exist_ok=True)
        servers = "\n".join(
            f"        server 127.0.0.1:{self.ports[n]} max_fails=1 fail_timeout=5s;"
            for n in upstreams
        )
        # nginx's workers drop to an unprivileged user: they must be able to read the files.
        self.var_dir.chmod(0o755)
        (conf_dir / "nginx.conf").write_text(
            f"""
daemon off;
worker_processes 1;
pid {conf_dir}/nginx.pid;
error_log {conf_dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path {conf_dir}/body;
    proxy_temp_path {conf_dir}/proxy;
    fastcgi_temp_path {conf_dir}/fastcgi;
    uwsgi_temp_path {conf_dir}/uwsgi;
    scgi_temp_path {conf_dir}/scgi;
    upstream lixiao {{
{servers}
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        server_name _;
        set $lixiao_var_dir {self.var_dir};
        include {ROOT}/deploy/nginx/lixiao-proxy.conf;
    }}
}}
""",
            encoding="utf-8",
        )
        proc = self._start(
            "nginx",
            [NGINX, "-c", str(conf_dir / "nginx.conf"), "-e", str(conf_dir / "error.log")],
            self.env,
        )
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/healthz", proc=proc)
        return url

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Kill a process and everything it started (gunicorn's workers too), at once."""
        proc = self.procs[name]
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)

    def close(self) -> None:
        for proc in reversed(list(self.procs.values())):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)
                except ProcessLookupError:
                    pass
        self.procs.clear()


def have_nginx() -> bool:
    return Path(NGINX).exists() or bool(shutil.which("nginx"))
