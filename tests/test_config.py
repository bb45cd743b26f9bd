"""Configuration from the environment: a mistake gives one clear line, never a traceback."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = ("LIXIAO_", "DATABASE_URL", "SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "CSRF_", "DJANGO_")


def run(args, tmp_path, **env_vars):
    env = {k: v for k, v in os.environ.items() if not k.startswith(OURS)}
    env.update(LIXIAO_VAR_DIR=str(tmp_path), PYTHONDONTWRITEBYTECODE="1", **env_vars)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def manage(tmp_path, *args, **env_vars):
    return run(["manage.py", *args], tmp_path, **env_vars)


def production(tmp_path, **overrides):
    values = {
        "LIXIAO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "lixiao.example.edu.cn,testserver",
        "LIXIAO_ID_KEY": secrets.token_urlsafe(40),
        "CSRF_TRUSTED_ORIGINS": "https://lixiao.example.edu.cn",
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def one_line(result, *words):
    """Refused with a single readable line on stderr that names what to fix."""
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("url", ["mysql://x", "nonsense", "oracle://u:p@h/db"])
def test_wrong_database_url_is_one_line(tmp_path, url):
    line = one_line(manage(tmp_path, "check", DATABASE_URL=url), "DATABASE_URL", "postgres://")
    assert line.startswith("Lixiao configuration error:")


def test_database_password_never_reaches_the_message(tmp_path):
    line = one_line(
        manage(tmp_path, "check", DATABASE_URL="mysql://lixiao:Top-Secret9@db/x"), "DATABASE_URL"
    )
    assert "Top-Secret9" not in line


def test_unreachable_postgres_is_one_line(tmp_path):
    result = manage(tmp_path, "migrate", DATABASE_URL="postgres://postgres@127.0.0.1:1/x")
    one_line(result, "Lixiao cannot use the database", "DATABASE_URL")


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "LIXIAO_ID_KEY"])
def test_production_refuses_to_start_without(tmp_path, missing):
    result = manage(tmp_path, "check", **production(tmp_path, **{missing: None}))
    one_line(result, missing, "is not set")


def test_wrong_number_is_one_line(tmp_path):
    one_line(
        manage(tmp_path, "check", LIXIAO_SESSION_IDLE_MINUTES="half an hour"),
        "LIXIAO_SESSION_IDLE_MINUTES",
        "whole number",
    )


def test_unknown_log_format_is_one_line(tmp_path):
    one_line(manage(tmp_path, "check", LOG_FORMAT="xml"), "LOG_FORMAT", "text or json")


def test_unknown_file_storage_is_one_line(tmp_path):
    one_line(manage(tmp_path, "check", LIXIAO_FILE_STORAGE="s3"), "LIXIAO_FILE_STORAGE", "database")


def test_zero_cool_off_is_refused(tmp_path):
    # django-axes reads a zero cool-off as "locked for ever".
    one_line(manage(tmp_path, "check", LIXIAO_LOCKOUT_MINUTES="0"), "LIXIAO_LOCKOUT_MINUTES")


def test_secret_from_a_missing_file_is_one_line(tmp_path):
    result = manage(
        tmp_path,
        "check",
        **production(tmp_path, SECRET_KEY=None, SECRET_KEY_FILE=str(tmp_path / "nope")),
    )
    one_line(result, "SECRET_KEY_FILE", "cannot be read")


def test_deploy_check_is_clean_with_a_complete_production_environment(tmp_path):
    key = tmp_path / "secret_key"
    key.write_text(secrets.token_urlsafe(50) + "\n")
    result = manage(
        tmp_path,
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **production(tmp_path, SECRET_KEY=None, SECRET_KEY_FILE=str(key)),
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_wsgi_import_with_bad_settings_is_one_line(tmp_path):
    result = run(["-c", "import lixiao.wsgi"], tmp_path, **production(tmp_path, SECRET_KEY=None))
    one_line(result, "Lixiao configuration error", "SECRET_KEY")


def test_production_serves_pages_after_collectstatic(tmp_path):
    """Manifest storage: every asset a page names must exist after collectstatic."""
    env = production(tmp_path)
    collected = manage(tmp_path, "collectstatic", "--no-input", "-v0", **env)
    assert collected.returncode == 0, collected.stderr
    script = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "r = Client().get('/accounts/login/', secure=True)\n"
        "print(r.status_code); print(r.content.decode())\n"
    )
    served = run(["-c", script], tmp_path, DJANGO_SETTINGS_MODULE="lixiao.settings", **env)
    assert served.returncode == 0, served.stderr
    status, html = served.stdout.split("\n", 1)
    assert status == "200"
    assert re.search(r'href="/static/bootstrap/css/bootstrap\.min\.[0-9a-f]{12}\.css"', html)
    assert re.search(r'href="/static/lixiao/lixiao\.[0-9a-f]{12}\.css"', html)


def environment_variables() -> set[str]:
    pattern = re.compile(r'env\.(?:text|flag|integer|number|items|required)\(\s*"([A-Z0-9_]+)"')
    names = set()
    for path in [*(ROOT / "lixiao").rglob("*.py"), *(ROOT / "deploy").rglob("*.py")]:
        names.update(pattern.findall(path.read_text(encoding="utf-8")))
    return names


def test_env_example_lists_every_variable_with_a_bilingual_comment():
    names = environment_variables()
    assert {"SECRET_KEY", "DATABASE_URL", "LIXIAO_ID_KEY", "LIXIAO_SESSION_MAX_HOURS"} <= names
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    listed = {}
    for i, line in enumerate(lines):
        match = re.match(r"^([A-Z0-9_]+)=", line)
        if match:
            comment = []
            j = i - 1
            while j >= 0 and lines[j].startswith("#"):
                comment.append(lines[j])
                j -= 1
            listed[match.group(1)] = comment
    missing = sorted(names - set(listed))
    assert not missing, f".env.example lacks {missing}"
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for name in names:
        comment = listed[name]
        assert any(cjk.search(c) for c in comment), f"{name}: no Chinese comment"
        english = [c for c in comment if not cjk.search(c) and re.search(r"[A-Za-z]{3,}", c)]
        assert english, f"{name}: no English comment"
