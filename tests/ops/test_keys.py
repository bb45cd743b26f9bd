"""Key rotation: values carry their key id, several keys work at once, rotate_keys re-seals in
batches and carries on after an interruption, lookups and logins keep working throughout."""

import base64
import hashlib
import os

import pyotp
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from lixiao import keyring
from lixiao.accounts import totp
from lixiao.accounts.models import TOTPDevice
from lixiao.clearance.models import Event
from lixiao.directory import idnumbers
from lixiao.directory.models import Staff, Student
from lixiao.ops import rotation
from tests import factories as f
from tests.desk.conftest import desk_url

pytestmark = pytest.mark.django_db

OLD = "old-key-" + "o" * 40
NEW = "new-key-" + "n" * 40
T0 = 1_900_000_005.0


def legacy_seal(secret: str, label: bytes, plaintext: str, aad: bytes | None = None) -> str:
    """A value as the first release sealed it: base64(nonce + AES-GCM), no key id."""
    nonce = os.urandom(12)
    key = hashlib.sha256(label + secret.encode()).digest()
    return base64.b64encode(nonce + AESGCM(key).encrypt(nonce, plaintext.encode(), aad)).decode()


def found_by_id_number(client, batch, seed: int) -> list[str]:
    page = client.post(desk_url(batch), {"q": f.id_number(seed)})
    return [form.student.student_number for form in page.context["page"].object_list]


def test_a_value_carries_the_id_of_the_key_that_sealed_it(settings):
    settings.ID_NUMBER_KEYS = [OLD]
    token = idnumbers.encrypt(f.id_number(1))
    assert keyring.key_id_of(token) == keyring.key_id(OLD)
    assert f.id_number(1) not in token and OLD not in token
    settings.ID_NUMBER_KEYS = [NEW, OLD]  # a new key in front: new values use it, old ones open
    assert keyring.key_id_of(idnumbers.encrypt(f.id_number(1))) == keyring.key_id(NEW)
    assert idnumbers.decrypt(token) == f.id_number(1)


def test_values_from_before_key_ids_still_open(settings):
    settings.ID_NUMBER_KEYS = [NEW, OLD]
    id_token = legacy_seal(OLD, b"lixiao-id-encrypt:", f.id_number(2))
    assert keyring.key_id_of(id_token) is None
    assert idnumbers.decrypt(id_token) == f.id_number(2)
    totp_token = legacy_seal(
        OLD, b"lixiao-totp-secret:", "JBSWY3DPEHPK3PXP", b"lixiao-totp:device:7"
    )
    assert totp.unseal(totp_token, 7) == "JBSWY3DPEHPK3PXP"
    # Bound to its account as before: another account's id does not open it.
    with pytest.raises(keyring.UnknownKey):
        totp.unseal(totp_token, 8)


def test_a_removed_key_gives_a_message_that_says_what_to_do(settings):
    settings.ID_NUMBER_KEYS = [OLD]
    token = idnumbers.encrypt(f.id_number(3))
    settings.ID_NUMBER_KEYS = [NEW]
    with pytest.raises(keyring.UnknownKey) as caught:
        idnumbers.decrypt(token)
    assert keyring.key_id(OLD) in str(caught.value) and "rotate_keys" in str(caught.value)


def test_the_same_key_twice_is_refused_in_one_line(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.ID_NUMBER_KEYS = [NEW, NEW]
    with pytest.raises(ImproperlyConfigured, match="same key twice"):
        keyring.current()


def _university_under_the_old_key(settings, uni):
    """Every student, two staff ID numbers and a TOTP device, all sealed by OLD; the last
    student sealed before key ids existed and still on the initial password."""
    settings.ID_NUMBER_KEYS = [OLD]
    for s, seed in ((uni.student, 1), (uni.student_lit, 3), (uni.student_cs2, 5)):
        s.set_id_number(f.id_number(seed))
        s.save()
    extra = [f.student(f"20220001{n:02d}", f"学生{n}", uni.cs, seed=20 + n) for n in range(5)]
    for user, seed in ((uni.library, 61), (uni.dorm, 62)):
        Staff.objects.filter(user=user).update(
            id_number_enc=idnumbers.encrypt(f.id_number(seed)),
            id_number_hash=idnumbers.lookup_hash(f.id_number(seed)),
        )
    legacy = extra[-1]
    Student.objects.filter(pk=legacy.pk).update(
        id_number_enc=legacy_seal(OLD, b"lixiao-id-encrypt:", f.id_number(24))
    )
    legacy.user.uses_initial_password = True
    legacy.user.save()
    secret = pyotp.random_base32()
    totp.enable(uni.finance, secret, step=0)
    return legacy, secret


def _under(key: str) -> int:
    prefix = keyring.key_id(key) + ":"
    return sum(
        token.startswith(prefix)
        for model in (Student, Staff)
        for token in model.objects.values_list("id_number_enc", flat=True)
    ) + sum(t.startswith(prefix) for t in TOTPDevice.objects.values_list("secret_enc", flat=True))


def test_rotation_interrupted_half_way_then_resumed(settings, uni, monkeypatch):
    legacy, secret = _university_under_the_old_key(settings, uni)
    total = Student.objects.count() + 2 + 1  # students, two staff with ID numbers, one device
    settings.ID_NUMBER_KEYS = [NEW, OLD]

    # The first run dies after its second batch of 3 students (as a killed process would).
    batches = []

    def crash(progress):
        batches.append(progress.resealed)
        if len(batches) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rotation.rotate(batch_size=3, after_batch=crash)
    assert _under(NEW) == 6  # two committed batches, nothing of the third
    assert _under(NEW) + _under(OLD) + 1 == total  # the rest still under OLD (one from before ids)

    # Half-way, everything still works: search by ID number at the desk finds rotated and
    # unrotated students alike, the initial password (checked against the ID) still logs in.
    handler = Client()
    handler.force_login(uni.library)
    for seed in (1, 3, 5):
        assert len(found_by_id_number(handler, uni.batch, seed)) == 1
    student = Client()
    login = student.post(
        "/accounts/login/", {"username": legacy.student_number, "password": f.id_number(24)[-6:]}
    )
    assert login.status_code == 302
    assert student.session["_auth_user_id"] == str(legacy.user_id)

    # The second run picks up the rest and says so.
    call_command("rotate_keys", "--batch-size", "3")
    assert _under(NEW) == total
    event = Event.objects.get(action="ops.keys.rotated")
    assert event.data["key"] == keyring.key_id(NEW) and event.data["failed"] == {}

    # The old key can now go: every value opens, the lookup hash was re-hashed under NEW.
    settings.ID_NUMBER_KEYS = [NEW]
    for s in Student.objects.all():
        assert idnumbers.mask(idnumbers.decrypt(s.id_number_enc)) == s.id_number_masked
        assert s.id_number_hash == idnumbers.lookup_hash(idnumbers.decrypt(s.id_number_enc))
    for seed in (1, 3, 5):
        assert len(found_by_id_number(handler, uni.batch, seed)) == 1
    device = TOTPDevice.objects.get(user=uni.finance)
    assert totp.use_code(device, pyotp.TOTP(secret).at(T0), now=T0)
    # Running again finds nothing left to do.
    call_command("rotate_keys")
    last = Event.objects.filter(action="ops.keys.rotated").order_by("id").last()
    assert set(last.data["resealed"].values()) == {0}


def test_a_value_no_key_opens_is_reported_not_lost(settings, uni, capsys):
    settings.ID_NUMBER_KEYS = [OLD]
    uni.student.set_id_number(f.id_number(1))
    uni.student.save()
    settings.ID_NUMBER_KEYS = ["third-key-" + "t" * 40]
    with pytest.raises(CommandError, match="放回 LIXIAO_ID_KEY"):
        call_command("rotate_keys")
    uni.student.refresh_from_db()
    assert keyring.key_id_of(uni.student.id_number_enc) == keyring.key_id(OLD)  # left as it was


def test_dry_run_counts_values_per_key_and_changes_nothing(settings, uni, capsys):
    _university_under_the_old_key(settings, uni)
    settings.ID_NUMBER_KEYS = [NEW, OLD]
    before = list(Student.objects.values_list("id_number_enc", flat=True))
    call_command("rotate_keys", "--dry-run")
    out = capsys.readouterr().out
    assert f"{keyring.key_id(OLD)} 7" in out and "— 1" in out  # 7 by OLD, 1 from before ids
    assert list(Student.objects.values_list("id_number_enc", flat=True)) == before
