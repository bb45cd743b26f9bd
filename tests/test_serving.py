"""How Lixiao is served: one gunicorn configuration, and a server error a person can act on."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import path

from lixiao import urls as site_urls

ROOT = Path(__file__).resolve().parent.parent


def _broken(request):
    raise RuntimeError("secret detail that must not reach the page")


# The site's own URLs (the error page links home) plus one view that fails.
urlpatterns = [path("broken/", _broken), *site_urls.urlpatterns]


@pytest.mark.urls("tests.test_serving")
def test_a_server_error_with_debug_off_is_a_sentence_not_a_traceback(settings):
    settings.DEBUG = False
    response = Client(raise_request_exception=False).get("/broken/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "系统暂时无法完成您的请求" in html
    assert "secret detail" not in html and "Traceback" not in html


def _gunicorn_config(**env_vars) -> dict:
    """The settings gunicorn takes from deploy/gunicorn.conf.py with this environment."""
    script = (
        "import sys; from gunicorn.app.wsgiapp import WSGIApplication\n"
        "sys.argv = ['gunicorn', '-c', 'deploy/gunicorn.conf.py']\n"
        "c = WSGIApplication().cfg\n"
        "print(c.bind, c.workers, c.threads, c.worker_class_str, c.preload_app, c.wsgi_app)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIXIAO_")}
    env.update(env_vars)
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def test_one_gunicorn_configuration_follows_the_environment():
    line = _gunicorn_config(LIXIAO_BIND="127.0.0.1:8123", LIXIAO_WEB_WORKERS="3")
    assert line == "['127.0.0.1:8123'] 3 4 gthread True lixiao.wsgi:application"


def test_the_production_env_file_passes_the_deploy_check_once_its_secrets_exist(tmp_path):
    """deploy/lixiao.env as shipped, with its secret files written (docs/install.md step 5)."""
    import secrets

    values = {}
    for line in (ROOT / "deploy" / "lixiao.env").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    secret_files = {
        "SECRET_KEY_FILE": secrets.token_urlsafe(50),
        "LIXIAO_ID_KEY_FILE": secrets.token_urlsafe(40),
        "DATABASE_URL_FILE": f"sqlite:///{tmp_path / 'lixiao.sqlite3'}",
    }
    for name, content in secret_files.items():
        path = tmp_path / name.lower()
        path.write_text(content + "\n", encoding="utf-8")
        values[name] = str(path)
    values["LIXIAO_VAR_DIR"] = str(tmp_path)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LIXIAO_", "DATABASE_URL", "DJANGO_", "DEBUG"))
    }
    env.update(values)
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "System check identified no issues" in done.stdout
