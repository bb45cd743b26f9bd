"""Login with 学号/职工号 and a password, or the initial password while it is still in use."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from lixiao.accounts import passwords


class LixiaoBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or password is None:
            return None
        User = get_user_model()
        user = (
            User.objects.select_related("student", "staff")
            .filter(username=username.strip())
            .first()
        )
        if user is None:
            User().set_password(
                password
            )  # same cost as a real check: no timing oracle for usernames
            return None
        if user.uses_initial_password:
            if not passwords.check_initial(user, password):
                return None
            if passwords.initial_expired(user):
                if request is not None:
                    request.lixiao_initial_expired = True
                return None
            return user if self.user_can_authenticate(user) else None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_user(self, user_id):
        """The session's person, with their student row in the same query: every page asks
        for it (their roles), and a separate lookup is one more round trip per request."""
        User = get_user_model()
        user = User._default_manager.select_related("student").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None


class CASBackend(LixiaoBackend):
    """The backend a CAS login (accounts.sso) records in the session. It authenticates nobody
    itself: the CAS server vouched for the person, and the view looked the account up. Its only
    job is get_user, the same as for a password login; the session's backend is also how the
    logout and the initial-password rule know that this session came from CAS."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        return None
