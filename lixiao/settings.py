"""Django settings, read from the environment (see .env.example for every variable)."""

import hashlib
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from lixiao import env
from lixiao.monitoring import logs

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.text("LIXIAO_VAR_DIR", str(BASE_DIR / "var")))

PRODUCTION = env.text("LIXIAO_ENV", "development") == "production"
DEBUG = env.flag("DEBUG", default=not PRODUCTION)

if PRODUCTION:
    SECRET_KEY = env.required("SECRET_KEY", "production needs a long random secret key")
    ALLOWED_HOSTS = env.items("ALLOWED_HOSTS")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "ALLOWED_HOSTS is not set: list the host names that serve Lixiao"
        )
    env.required(
        "LIXIAO_ID_KEY", "production needs the key that encrypts ID numbers (32+ random characters)"
    )
    ID_NUMBER_KEYS = env.secrets("LIXIAO_ID_KEY")
else:
    # Development default only: safe because it never leaves this machine.
    SECRET_KEY = env.text(
        "SECRET_KEY", "dev-insecure-lixiao-key-change-me-in-production-0123456789"
    )
    ALLOWED_HOSTS = env.items("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
    ID_NUMBER_KEYS = env.secrets("LIXIAO_ID_KEY", hashlib.sha256(SECRET_KEY.encode()).hexdigest())
# ID_NUMBER_KEYS seal ID numbers and TOTP secrets, the current one first; older ones stay listed
# until `manage.py rotate_keys` has re-sealed every value they made (lixiao.keyring).

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "csp",
    # Only for its static Swagger UI: without the app, /api/v1/docs loads it from a CDN.
    "ninja",
    "axes",
    "django_prometheus",
    "django_tasks",
    "django_tasks_db",
    "js_lib_htmx",
    "bootstrap",
    "lixiao.infra",
    "lixiao.directory",
    "lixiao.integrations",
    "lixiao.tabular",
    "lixiao.survey",
    "lixiao.objections",
    "lixiao.clearance",
    "lixiao.notify",
    "lixiao.appointments",
    "lixiao.accounts",
    "lixiao.portal",
    "lixiao.desk",
    "lixiao.console",
    "lixiao.api",
    "lixiao.demo",  # the demo university (manage.py seed_demo)
    "lixiao.ops",
    "lixiao.monitoring",
]

MIDDLEWARE = [
    "lixiao.monitoring.requestid.RequestIdMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "lixiao.accounts.middleware.AccountGateMiddleware",
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "lixiao.urls"
WSGI_APPLICATION = "lixiao.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "lixiao" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "lixiao.accounts.context.roles",
            ],
        },
    }
]


def _without_password(url: str) -> str:
    """The URL as it may appear in an error message: a password never reaches a log."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def _database(url: str) -> dict:
    try:
        config = dj_database_url.parse(url, conn_max_age=600, conn_health_checks=True)
    except Exception:  # dj-database-url raises several types for a bad URL, with long texts
        raise ImproperlyConfigured(
            f"DATABASE_URL={_without_password(url)!r} is not a database URL:"
            " use sqlite:////path/to/lixiao.sqlite3 or postgres://user:password@host:5432/name"
        ) from None
    engine = config.get("ENGINE", "")
    if engine.endswith(("sqlite3", "postgresql")):
        # The same engine wrapped by django-prometheus: it counts queries and their errors.
        config["ENGINE"] = "django_prometheus.db.backends." + engine.rsplit(".", 1)[1]
    if engine.endswith("sqlite3"):
        # WAL + busy timeout + IMMEDIATE: concurrent writers queue instead of failing
        # with "database is locked", and a transaction takes its write lock up front.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
            " PRAGMA foreign_keys=ON; PRAGMA cache_size=-64000;",
        }
    elif engine.endswith("postgresql"):
        pass
    else:
        raise ImproperlyConfigured(
            f"DATABASE_URL={_without_password(url)!r} names an unsupported database:"
            " use sqlite:/// or postgres://"
        )
    return config


DATABASE_URL = env.text("DATABASE_URL", f"sqlite:///{VAR_DIR / 'lixiao.sqlite3'}")
DATABASES = {"default": _database(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "directory.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "lixiao.accounts.backends.LixiaoBackend",
    # Never checks a password: it only restores sessions that a CAS login (accounts.cas) opened.
    "lixiao.accounts.backends.CASBackend",
]
PASSWORD_HASHERS = [
    # Argon2id at OWASP's m=19 MiB, t=2, p=1 (the measurement is in the class); hashes made with
    # Django's default Argon2 or PBKDF2 still verify and are upgraded at the next login.
    "lixiao.accounts.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
LIXIAO_PASSWORD_PROFILE = env.text("LIXIAO_PASSWORD_PROFILE", "djbh3")  # 等保 level 3
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "lixiao.accounts.validators.ProfileLengthValidator",
    },
    {"NAME": "lixiao.accounts.validators.CharacterClassesValidator"},
    {"NAME": "lixiao.accounts.validators.PersonalDataValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# An initial password (last 6 of the ID number) is weak by nature: it expires unused.
LIXIAO_INITIAL_PASSWORD_DAYS = env.integer("LIXIAO_INITIAL_PASSWORD_DAYS", 30)
# How long a student's 离校码 (counter QR code) stays valid after it is shown.
LIXIAO_COUNTER_CODE_MINUTES = env.integer("LIXIAO_COUNTER_CODE_MINUTES", 10)

# Lockout on username + client address: campus NAT puts thousands behind one address,
# so an address alone must never lock everybody out.
AXES_FAILURE_LIMIT = env.integer("LIXIAO_LOGIN_FAILURES", 5)
LIXIAO_LOCKOUT_MINUTES = env.integer("LIXIAO_LOCKOUT_MINUTES", 15)
if LIXIAO_LOCKOUT_MINUTES < 1 or AXES_FAILURE_LIMIT < 1:
    # A zero cool-off is a permanent lock in django-axes; a zero limit locks every login.
    raise ImproperlyConfigured(
        "LIXIAO_LOCKOUT_MINUTES and LIXIAO_LOGIN_FAILURES must be at least 1"
    )
AXES_COOLOFF_TIME = timedelta(minutes=LIXIAO_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]  # the combination, not either one
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "lixiao.accounts.views.locked_out"
# Number of reverse proxies in front of gunicorn that append to X-Forwarded-For.
LIXIAO_PROXY_COUNT = env.integer("LIXIAO_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "lixiao.accounts.network.client_ip"
AXES_VERBOSE = False
# Request fields django-axes masks in its record of a failed attempt (a second-factor code too).
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code"]
AXES_ENABLE_ACCESS_FAILURE_LOG = False

SESSION_ENGINE = "lixiao.accounts.sessions"  # the database backend, refusing impossible keys
SESSION_COOKIE_AGE = env.integer("LIXIAO_SESSION_IDLE_MINUTES", 30) * 60
SESSION_SAVE_EVERY_REQUEST = False  # the idle timer is refreshed by the account gate, once a minute
LIXIAO_SESSION_MAX_HOURS = env.integer("LIXIAO_SESSION_MAX_HOURS", 12)
# TOTP second factor (optional for staff): when on, an office account must set one up before
# anything else, and its logins then always need a code as well as the password.
LIXIAO_OFFICE_TOTP = env.flag("LIXIAO_OFFICE_TOTP", False)
# CAS single sign-on (统一身份认证), off while LIXIAO_CAS_URL is empty. The CAS user id (or the
# attribute named by LIXIAO_CAS_ATTRIBUTE) must be an existing account's 学号/职工号.
LIXIAO_CAS_URL = env.text("LIXIAO_CAS_URL", "")
LIXIAO_CAS_VERSION = env.text("LIXIAO_CAS_VERSION", "3")
LIXIAO_CAS_ATTRIBUTE = env.text("LIXIAO_CAS_ATTRIBUTE", "")
if LIXIAO_CAS_VERSION not in ("2", "3"):
    raise ImproperlyConfigured(f"LIXIAO_CAS_VERSION={LIXIAO_CAS_VERSION!r} must be 2 or 3")
if LIXIAO_CAS_URL:
    if not re.match(r"https?://[^/]+", LIXIAO_CAS_URL):
        raise ImproperlyConfigured(
            "LIXIAO_CAS_URL must be the CAS server's base URL, e.g. https://cas.example.edu.cn/cas/"
        )
    if PRODUCTION and not LIXIAO_CAS_URL.startswith("https://"):
        # Over plain HTTP anyone on the path could answer the ticket check and log in as anybody.
        raise ImproperlyConfigured("LIXIAO_CAS_URL must use https:// in production")
    # login, logout and p3/serviceValidate are joined to it: it must end with a slash.
    LIXIAO_CAS_URL = LIXIAO_CAS_URL.rstrip("/") + "/"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "lixiao" / "locale"]
TIME_ZONE = env.text("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# The project's own assets (lixiao.css) live outside any app, so the finders must be told.
STATICFILES_DIRS = [BASE_DIR / "lixiao" / "static"]
# Hashed, compressed static files (collectstatic first), served by whitenoise with far-future
# caching: production and the demo (`make demo` sets it); development serves from the apps.
STATIC_MANIFEST = env.flag("LIXIAO_STATIC_MANIFEST", PRODUCTION)
# Uploaded files (imports, attachments): "local" keeps them in LIXIAO_VAR_DIR/media (one node,
# the demo); "database" keeps them in the database, so every node reads what any node wrote
# (lixiao/infra/storage.py says why the database and not an object store).
LIXIAO_FILE_STORAGE = env.text("LIXIAO_FILE_STORAGE", "local")
_FILE_STORAGES = {
    "local": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / "media")},
    },
    "database": {"BACKEND": "lixiao.infra.storage.DatabaseStorage"},
}
if LIXIAO_FILE_STORAGE not in _FILE_STORAGES:
    raise ImproperlyConfigured(
        f"LIXIAO_FILE_STORAGE={LIXIAO_FILE_STORAGE!r} must be local or database"
    )
STORAGES = {
    "default": _FILE_STORAGES[LIXIAO_FILE_STORAGE],
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST

TASKS = {
    "default": {
        "BACKEND": env.text("LIXIAO_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# `manage.py task_worker` beats this often; a task whose worker has been silent for
# LIXIAO_WORKER_DEAD_SECONDS is lost: retried or marked failed with a message (lixiao.infra.workers).
LIXIAO_WORKER_BEAT_SECONDS = env.integer("LIXIAO_WORKER_BEAT_SECONDS", 10)
LIXIAO_WORKER_DEAD_SECONDS = env.integer("LIXIAO_WORKER_DEAD_SECONDS", 60)
if LIXIAO_WORKER_DEAD_SECONDS < 2 * LIXIAO_WORKER_BEAT_SECONDS:
    raise ImproperlyConfigured(
        "LIXIAO_WORKER_DEAD_SECONDS must be at least twice LIXIAO_WORKER_BEAT_SECONDS"
        " (one late beat must not fail a running task)"
    )

EMAIL_BACKEND = env.text("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.text("DEFAULT_FROM_EMAIL", "lixiao@localhost")

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.flag("LIXIAO_SSL_REDIRECT", True)
    # Probes and scrapes reach a node directly over plain HTTP on the local network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.integer("LIXIAO_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    CSRF_TRUSTED_ORIGINS = env.items("CSRF_TRUSTED_ORIGINS")

# Content-Security-Policy (django-csp), on every response: scripts, styles and everything else
# only from this site's own files — no inline script, handler or style, no eval, no CDN. Images
# also as data: URIs (Bootstrap's form icons, the empty favicon). Forms post only here, or to
# the CAS server whose logout our logout form redirects to. docs/install.md explains each part.
_FORM_ACTION = [SELF]
if LIXIAO_CAS_URL:
    _FORM_ACTION.append(re.match(r"https?://[^/]+", LIXIAO_CAS_URL).group(0))
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": _FORM_ACTION,
        "frame-ancestors": [NONE],
    },
}

DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
LIXIAO_UPLOAD_MAX_BYTES = env.integer("LIXIAO_UPLOAD_MAX_MB", 20) * 1024 * 1024

# Plain lines, or LOG_FORMAT=json for one JSON object a line; both carry the request id (the
# X-Request-ID nginx sends, or one made here), which every response also returns.
LOG_FORMAT = env.text("LOG_FORMAT", "text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r} must be text or json")
LOGGING = logs.config(LOG_FORMAT, env.text("LOG_LEVEL", "INFO"))

# --- Monitoring (lixiao.monitoring): /healthz, /readyz, /metrics -----------------------------------
# Addresses (or networks) allowed to read /metrics and /readyz's details; others get 403.
LIXIAO_METRICS_ALLOW = env.items("LIXIAO_METRICS_ALLOW", "127.0.0.1,::1")
# /readyz says "degraded" when the oldest queued task has waited longer than this (seconds).
LIXIAO_READY_QUEUE_SECONDS = env.integer("LIXIAO_READY_QUEUE_SECONDS", 300)
PROMETHEUS_EXPORT_MIGRATIONS = False

# --- Integrations and notifications (lixiao.integrations, lixiao.notify) ---------------------
# Pushes per source per minute; counted in the database so every node shares the limit.
LIXIAO_PUSH_PER_MINUTE = env.integer("LIXIAO_PUSH_PER_MINUTE", 30)
# Send each in-app notification by email too, to people who have an address.
LIXIAO_EMAIL_NOTIFICATIONS = env.flag("LIXIAO_EMAIL_NOTIFICATIONS", False)
# A group robot (WeCom / DingTalk style) that receives staff notifications as JSON text messages.
LIXIAO_WEBHOOK_URL = env.text("LIXIAO_WEBHOOK_URL", "")
LIXIAO_WEBHOOK_ATTEMPTS = env.integer("LIXIAO_WEBHOOK_ATTEMPTS", 5)
LIXIAO_WEBHOOK_BACKOFF_SECONDS = env.number("LIXIAO_WEBHOOK_BACKOFF_SECONDS", 2.0)
# How often `manage.py sync --every` runs when no interval is given (minutes).
LIXIAO_SYNC_EVERY_MINUTES = env.integer("LIXIAO_SYNC_EVERY_MINUTES", 10)
# `manage.py remind_deadlines`: remind of a step whose deadline is at most this many days away
# (or already passed) while students are still pending on it.
LIXIAO_DEADLINE_REMIND_DAYS = env.integer("LIXIAO_DEADLINE_REMIND_DAYS", 3)

# --- Operations (lixiao.ops) -------------------------------------------------------------------
# `manage.py backup` seals the archive with this key when it is set (and `restore` needs it).
LIXIAO_BACKUP_KEY = env.text("LIXIAO_BACKUP_KEY", "")

# --- Retention (clearance.services.purge; manage.py purge_personal_data) ----------------------
# Whole years after a batch is archived until its students' personal data is removed.
LIXIAO_RETENTION_YEARS = env.integer("LIXIAO_RETENTION_YEARS", 3)
# Days an audit event is kept before the purge deletes it: never under 180 (网络安全法 art. 21
# and 等保 level 3 keep logs at least six months).
LIXIAO_AUDIT_RETENTION_DAYS = env.integer("LIXIAO_AUDIT_RETENTION_DAYS", 1095)
if LIXIAO_RETENTION_YEARS < 1:
    raise ImproperlyConfigured(
        "LIXIAO_RETENTION_YEARS must be at least 1 (whole years after a batch is archived)"
    )
if LIXIAO_AUDIT_RETENTION_DAYS < 180:
    raise ImproperlyConfigured(
        "LIXIAO_AUDIT_RETENTION_DAYS must be at least 180: audit logs are kept six months or more"
    )

# --- Student portal (lixiao.portal) -----------------------------------------------------------
# Show the handler's personal name in a step's history to the student (off: only the unit).
LIXIAO_SHOW_HANDLER_NAMES = env.flag("LIXIAO_SHOW_HANDLER_NAMES", False)

# --- Cache (lixiao.portal.page_cache, filter lists) -------------------------------------------
# The student's form section is cached under keys that carry every version it shows, so a
# per-process cache (the default, one node) is never stale about states; with several nodes
# LIXIAO_CACHE_URL=redis://… shares one cache, so lists cleared on one node are cleared on all.
LIXIAO_CACHE_URL = env.text("LIXIAO_CACHE_URL", "")
if LIXIAO_CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": LIXIAO_CACHE_URL,
            "KEY_PREFIX": env.text("LIXIAO_CACHE_PREFIX", "lixiao"),
            # A Redis that does not answer fails a request within a second instead of hanging it
            # (and /readyz says so), rather than holding every thread of every node.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
elif LIXIAO_CACHE_URL:
    raise ImproperlyConfigured(
        "LIXIAO_CACHE_URL must be a redis://, rediss:// or unix:// URL (Redis)"
    )
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "lixiao",
            "OPTIONS": {"MAX_ENTRIES": env.integer("LIXIAO_CACHE_MAX_ENTRIES", 2000)},
        }
    }
# Seconds a cached form section lives. States never go stale (every change moves the key);
# this only bounds how old "数据更新" times and the "数据已过期" notice may look.
LIXIAO_PAGE_CACHE_SECONDS = env.integer("LIXIAO_PAGE_CACHE_SECONDS", 60)
