"""Schemathesis against a live server: every operation the schema lists, every phase, no 5xx.

The run is driven by /api/v1/openapi.json alone, so an operation added later is fuzzed without
touching this file. Credentials come from the schema's security schemes (a handler's session with
its CSRF pair for the desk, the finance source's token for pushes); path parameters are drawn
mostly from objects that exist, so requests reach the services and not only the 404s.
"""

import json
import os
import re
import subprocess
import sys
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pytest_django.live_server_helper import LiveServer

# Fixed in CI; LIXIAO_FUZZ_SEED and LIXIAO_FUZZ_EXAMPLES explore further on a developer's machine.
SEED = int(os.environ.get("LIXIAO_FUZZ_SEED", "20261128"))
EXAMPLES_PER_OPERATION = int(os.environ.get("LIXIAO_FUZZ_EXAMPLES", "20"))
STATEFUL_STEPS = 8
# Every check that holds for this API. Left out: positive_data_acceptance (the push accepts only
# what check_rows accepts: duplicates and 学号 lengths after trimming are beyond a JSON schema) and
# object_level_authorization (it needs a second user's credentials; tests/desk/test_api.py and
# tests/clearance/test_scope.py test who reaches what).
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "unsupported_method",
    "use_after_free",
    "ensure_resource_availability",
    "ignored_auth",
)


def _toml(value) -> str:
    return json.dumps(value, ensure_ascii=False)  # TOML's basic strings and arrays read as JSON


def config(schema: dict, credentials: dict, ids: list[int], students: list[str]) -> str:
    """schemathesis.toml: seed, bounds, credentials per security scheme, values that exist."""
    raw = credentials["raw"]
    secrets = {
        "DeskSession": f"api_key = {_toml(raw['session'])}",
        "StudentSession": f"api_key = {_toml(raw['student_session'])}",
        "CsrfCookie": f"api_key = {_toml(raw['csrf'])}",
        "CsrfToken": f"api_key = {_toml(raw['csrf'])}",
        "SourceToken": f"bearer = {_toml(raw['token'])}",
    }
    unknown = set(schema["components"].get("securitySchemes", {})) - set(secrets)
    assert not unknown, f"the fuzz test has no credentials for {unknown}: add them to `secrets`"
    lines = [
        f"seed = {SEED}",
        "workers = 1",
        "[generation]",
        f"max-examples = {EXAMPLES_PER_OPERATION}",
        'database = "none"',  # nothing replayed from an earlier run
        # A body over a limit is refused with 413 (too_large, too_many_rows): a rejection too.
        "[checks.negative_data_rejection]",
        "expected-statuses = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]",
        "[phases.stateful]",
        f"max-steps = {STATEFUL_STEPS}",
        "[dictionaries.ids]",
        f"values = {_toml(ids)}",
        "[dictionaries.students]",
        f"values = {_toml(students)}",
        "[parameters]",
        # The source whose token we hold (a wrong one is a 401 before the body is read).
        '"path.code" = "finance"',
        '"body.rows[*].student_number" = { dictionary = "students", probability = 0.5 }',
    ]
    # Every integer path parameter, whatever the operation, mostly names a row that exists.
    integers = {
        p["name"]
        for item in schema["paths"].values()
        for operation in item.values()
        for p in operation.get("parameters", [])
        if p["in"] == "path" and p["schema"].get("type") == "integer"
    }
    lines += [f'"path.{name}" = {{ dictionary = "ids", probability = 0.8 }}' for name in integers]
    for scheme, secret in secrets.items():
        lines += [f"[auth.openapi.{scheme}]", secret]
    return "\n".join(lines) + "\n"


@pytest.fixture
def api_server(live_db, settings, tasks_now):
    """The app on 127.0.0.1 at a free port, in a thread of this process; stopped even on failure."""
    settings.LIXIAO_PUSH_PER_MINUTE = 1_000_000  # the rate limit is tested on its own
    server = LiveServer("127.0.0.1:0")
    try:
        yield server.url
    finally:
        server.stop()


def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(
    uni, credentials, api_server, tmp_path
):
    from lixiao.clearance.models import Record

    schema_url = f"{api_server}/api/v1/openapi.json"  # http://127.0.0.1:<port>, never a file
    with urllib.request.urlopen(schema_url, timeout=10) as response:  # noqa: S310
        schema = json.load(response)
    # Ids of every table are small here: 1 up to the last record's covers batches, forms, records.
    ids = list(range(1, Record.objects.order_by("-id").values_list("id", flat=True).first() + 1))
    (tmp_path / "schemathesis.toml").write_text(
        config(schema, credentials, ids, ["2022000001", "2022000003", "2022000005"]),
        encoding="utf-8",
    )
    run = subprocess.run(
        [
            sys.executable,  # the CLI of the installed package, whatever PATH holds
            "-m",
            "schemathesis.cli",
            "--config-file",
            str(tmp_path / "schemathesis.toml"),
            "run",
            f"{api_server}/api/v1/openapi.json",
            "--checks",
            ",".join(CHECKS),
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--request-timeout",
            "30",
            "--report",
            "har",
            "--report-har-path",
            str(tmp_path / "run.har"),
        ],
        cwd=tmp_path,  # any file the run writes stays out of the repository
        capture_output=True,
        text=True,
        timeout=300 + 10 * EXAMPLES_PER_OPERATION,
    )
    assert run.returncode == 0, f"Schemathesis found failures:\n{run.stdout[-20000:]}\n{run.stderr}"
    assert "Tested:" in run.stdout and "Stateful" in run.stdout, run.stdout[-3000:]
    answers = statuses_by_operation(schema, tmp_path / "run.har")
    # The credentials worked: every operation was reached past authentication, not only refused
    # at the door (the push used to be fuzzed with a wrong token only).
    only_refused = {op: seen for op, seen in answers.items() if not set(seen) - {401, 403}}
    assert not only_refused, f"never past authentication: {only_refused}"
    assert all(status < 500 for seen in answers.values() for status in seen), answers


def statuses_by_operation(schema: dict, har: Path) -> dict[str, Counter]:
    """What each operation answered during the run, from the run's HAR record."""
    patterns = {
        f"{method.upper()} {path}": re.compile(
            "^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(path)) + "$"
        )
        for path, item in schema["paths"].items()
        for method in item
    }
    answers = {name: Counter() for name in patterns}
    for entry in json.loads(har.read_text(encoding="utf-8"))["log"]["entries"]:
        method = entry["request"]["method"]
        path = urlsplit(entry["request"]["url"]).path
        for name, pattern in patterns.items():
            if name.startswith(method + " ") and pattern.match(path):
                answers[name][entry["response"]["status"]] += 1
    return answers
