"""Every page's markup: sent under the Content-Security-Policy, nothing inline, every field labelled.

The browser tests see violations as they happen on the pages they visit; this reads the HTML
of every page type (rendered here, Python-drawn charts and QR codes included) so a new inline
handler or an unlabelled field fails fast, without a browser.
"""

from html.parser import HTMLParser

import pytest

from lixiao.appointments import services
from lixiao.clearance.models import Grant
from lixiao.demo import survey as demo_survey
from tests.appointments.conftest import at, make_plan, student
from tests.conftest import record
from tests.portal.conftest import complete_form
from tests.test_config import run

pytestmark = pytest.mark.django_db

EXPECTED_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


class Markup(HTMLParser):
    """Collects what a strict CSP would block, and the form fields with no name for a reader."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.inline: list[str] = []
        self.fields: list[dict] = []
        self.label_for: set[str] = set()
        self._script: dict | None = None
        self._label_depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.inline.append(f"<{tag} {name}={value!r}>")
            if name == "style":
                self.inline.append(f"<{tag} style={value!r}>")
            if name in ("href", "src", "action") and (value or "").lower().startswith(
                "javascript:"
            ):
                self.inline.append(f"<{tag} {name}={value!r}>")
        if tag == "style":
            self.inline.append("<style> block")
        if tag == "script":
            self._script = a
        if tag == "label":
            self._label_depth += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        hidden_input = tag == "input" and a.get("type") in ("hidden", "submit", "button", "reset")
        if tag in ("input", "select", "textarea") and not hidden_input:
            self.fields.append({"tag": tag, "wrapped": self._label_depth > 0, **a})

    def handle_endtag(self, tag):
        if tag == "label":
            self._label_depth = max(0, self._label_depth - 1)
        if tag == "script":
            self._script = None

    def handle_data(self, data):
        script = self._script
        if script is not None and "src" not in script and data.strip():
            if script.get("type") not in ("application/json", "application/ld+json"):
                self.inline.append(f"inline <script>: {data.strip()[:60]!r}")

    def unlabelled(self) -> list[str]:
        return [
            f"<{field['tag']} name={field.get('name')!r} id={field.get('id')!r}>"
            for field in self.fields
            if not (
                field["wrapped"]
                or field.get("aria-label")
                or field.get("aria-labelledby")
                or (field.get("id") and field["id"] in self.label_for)
            )
        ]


def pages_of(uni) -> list[tuple[object, str]]:
    """(who, path) for every page type of every surface."""
    demo_survey.create(uni.category)
    complete_form(uni)
    Grant.objects.filter(user=uni.counselor_cs).update(is_lead=True)
    batch, category, form = uni.batch.id, uni.category.id, uni.form.id
    step = uni.category.steps.first().id
    desk = f"/desk/b/{batch}/"
    # 预约办理: a plan on 学生公寓 with a booking, so every appointment page has content.
    plan = make_plan(uni)
    dorm = record(uni.form, "学生公寓").id
    services.book(student(uni.student.user), dorm, at(1, 9))
    return [
        (None, "/accounts/login/"),
        (None, "/verify/not-a-certificate/"),
        (uni.student.user, "/accounts/password/"),
        (uni.student.user, "/me/"),
        (uni.student.user, f"/me/code/{form}/"),
        (uni.student.user, f"/me/survey/{form}/"),
        (uni.student.user, "/inbox/"),
        (uni.student.user, "/desk/"),  # 403 page
        (uni.student.user, "/no-such-page/"),  # 404 page
        ("2022000002", f"/me/certificate/{batch}/"),
        (uni.counselor_cs, "/desk/"),
        (uni.counselor_cs, desk),
        (uni.counselor_cs, desk + "?q=2022&advanced=1"),
        (uni.counselor_cs, f"{desk}f/{form}/"),
        (uni.counselor_cs, desk + "stats/"),
        (uni.counselor_cs, desk + "recent/"),
        (uni.counselor_cs, desk + "objections/"),
        (uni.counselor_cs, "/desk/delegate/"),
        (uni.counselor_cs, "/desk/change-requests/"),
        (uni.dorm, desk + "import/"),
        (uni.office, "/console/"),
        (uni.office, "/console/categories/"),
        (uni.office, "/console/categories/new/"),
        (uni.office, f"/console/categories/{category}/"),
        (uni.office, f"/console/categories/{category}/steps/new/"),
        (uni.office, f"/console/categories/{category}/steps/{step}/edit/"),
        (uni.office, f"/console/categories/{category}/grants/"),
        (uni.office, f"/console/categories/{category}/service/"),
        (uni.office, f"/console/categories/{category}/setup/done/"),
        (uni.office, f"/console/categories/{category}/survey/results/"),
        (uni.office, "/console/batches/"),
        (uni.office, "/console/batches/new/"),
        (uni.office, f"/console/batches/{batch}/"),
        (uni.office, f"/console/batches/{batch}/grants/"),
        (uni.office, f"/console/batches/{batch}/roster/"),
        (uni.office, f"/console/batches/{batch}/supervision/"),
        (uni.office, f"/console/batches/{batch}/lifecycle/"),
        (uni.office, "/console/audit/"),
        (uni.office, "/console/masterdata/"),
        (uni.office, "/console/masterdata/departments/"),
        (uni.office, "/console/masterdata/staff/"),
        (uni.office, "/console/masterdata/staff/new/"),
        (uni.office, "/console/masterdata/staff/import/"),
        (uni.office, "/console/change-requests/"),
        (uni.office, "/integrations/"),
        (uni.office, "/integrations/library/"),
        (uni.office, "/accounts/totp/"),
        (uni.office, "/accounts/totp/staff/"),
        (uni.student.user, f"/me/appointments/{dorm}/"),
        (uni.dorm, desk + "appointments/"),
        (uni.dorm, desk + f"appointments/settings/{plan.step_id}/"),
        (uni.dorm, desk + "stats/"),
        (uni.office, f"/console/batches/{batch}/appointments/"),
        (uni.office, f"/console/batches/{batch}/appointments/{plan.step_id}/"),
        (uni.office, f"/console/batches/{batch}/appointments/{plan.step_id}/use/"),
    ]


def render_all(uni, client):
    from lixiao.directory.models import User

    for who, path in pages_of(uni):
        client.logout()
        if who is not None:
            client.force_login(User.objects.get(username=who) if isinstance(who, str) else who)
        response = client.get(path)
        assert response.status_code in (200, 403, 404), (path, response.status_code)
        yield path, response


def test_every_page_is_sent_under_the_policy_without_unsafe_inline(uni, client):
    for path, response in render_all(uni, client):
        header = response.headers.get("Content-Security-Policy")
        assert header, f"{path} has no Content-Security-Policy"
        policy = dict(part.strip().split(" ", 1) for part in header.split(";"))
        assert policy == EXPECTED_POLICY, path
        assert "unsafe" not in header


def test_no_page_has_an_inline_script_style_or_handler(uni, client):
    found = {}
    for path, response in render_all(uni, client):
        markup = Markup()
        markup.feed(response.content.decode())
        if markup.inline:
            found[path] = markup.inline
    assert not found, f"inline code the policy refuses: {found}"


def test_every_form_field_has_a_label(uni, client):
    # A placeholder is not a label: it disappears while typing and many readers skip it.
    found = {}
    for path, response in render_all(uni, client):
        markup = Markup()
        markup.feed(response.content.decode())
        if markup.unlabelled():
            found[path] = markup.unlabelled()
    assert not found, f"form fields without a label: {found}"


def test_the_cas_server_may_receive_the_logout_redirect(tmp_path):
    # With CAS on, our logout form is answered by a redirect to the CAS server's logout, which
    # form-action must allow; without CAS only this site.
    show = "from lixiao import settings as s; print(s.CONTENT_SECURITY_POLICY['DIRECTIVES']['form-action'])"
    with_cas = run(["-c", show], tmp_path, LIXIAO_CAS_URL="https://cas.example.edu.cn/cas")
    assert with_cas.stdout.strip() == "[\"'self'\", 'https://cas.example.edu.cn']"
    without = run(["-c", show], tmp_path)
    assert without.stdout.strip() == "[\"'self'\"]"


def test_the_checks_see_what_they_look_for():
    markup = Markup()
    markup.feed(
        '<div style="width: 5%"><button onclick="go()">Go</button></div><style>p{}</style>'
        '<script>alert(1)</script><script src="/static/x.js"></script>'
        '<script type="application/json">{"a": 1}</script>'
        '<input name="q" placeholder="学号"><label for="n">姓名</label><input id="n" name="n">'
        '<label>备注 <textarea name="note"></textarea></label><select name="s" aria-label="环节">'
        '</select><input type="hidden" name="csrf">'
    )
    assert markup.inline == [
        "<div style='width: 5%'>",
        "<button onclick='go()'>",
        "<style> block",
        "inline <script>: 'alert(1)'",
    ]
    assert markup.unlabelled() == ["<input name='q' id=None>"]


def test_an_expired_form_gets_our_page_not_djangos(client):
    # Django's own CSRF failure page carries an inline <style> the policy refuses, in English.
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/accounts/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "表单已过期，未能提交" in html and "刷新后重新提交" in html
    markup = Markup()
    markup.feed(html)
    assert markup.inline == [] and markup.unlabelled() == []
    english = strict.post("/accounts/login/", {}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The form has expired and was not sent" in english


def test_a_server_error_page_says_what_to_do(rf):
    from django.views.defaults import server_error

    response = server_error(rf.get("/desk/"))
    assert response.status_code == 500
    html = response.content.decode()
    assert "系统暂时无法完成您的请求" in html and "信息化部门" in html
    assert 'lang="zh-hans"' in html
    markup = Markup()
    markup.feed(html)
    assert markup.inline == []
