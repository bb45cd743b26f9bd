from django.urls import path

from lixiao.accounts import twofactor, views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    # CAS single sign-on (统一身份认证), 404 while LIXIAO_CAS_URL is empty
    path("cas/login/", views.cas_login, name="cas_login"),
    path("cas/callback/", views.cas_callback, name="cas_callback"),
    path("password/", views.password_change, name="password_change"),
    path("role/", views.choose_role, name="role"),
    # TOTP second factor (双因素认证): login step, enrolment, off, the office's lost-phone reset
    path("login/code/", twofactor.verify, name="totp_verify"),
    path("totp/", twofactor.setup, name="totp"),
    path("totp/disable/", twofactor.disable, name="totp_disable"),
    path("totp/staff/", twofactor.staff, name="totp_staff"),
    path("totp/staff/<int:user_id>/reset/", twofactor.reset, name="totp_reset"),
    path("", views.home, name="home"),
]
