"""What every simulated person does first: take the login page's CSRF token and log in."""

import os
import re

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
PASSWORD = os.environ.get("BENCH_PASSWORD", "lixiao-demo")


def accounts(var: str) -> list[str]:
    """Usernames from a file named by an environment variable (one a line), written by the bench."""
    with open(os.environ[var], encoding="utf-8") as fh:
        return [line.strip() for line in fh if line.strip()]


def log_in(client, username: str, name: str = "POST /accounts/login/") -> bool:
    """GET the login page, POST the credentials; True when the answer is the redirect onwards."""
    page = client.get("/accounts/login/", name="GET /accounts/login/")
    match = CSRF.search(page.text or "")
    if not match:
        return False
    with client.post(
        "/accounts/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": match.group(1)},
        headers={"Referer": client.base_url + "/accounts/login/"},
        allow_redirects=False,
        name=name,
        catch_response=True,
    ) as answer:
        if answer.status_code != 302 or "/accounts/login/" in answer.headers.get("Location", ""):
            answer.failure(f"login of {username} answered {answer.status_code}")
            return False
        answer.success()
        return True
