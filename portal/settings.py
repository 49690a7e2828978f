"""The portal's one settings module, read from the environment (see README, "Settings").

Nothing here is overridden by a local file: what runs is what the environment says.
"""

import secrets
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from portal.cache_redis import cache_redis_url
from portal.env import (
    database_from_url,
    env_bool,
    env_int,
    env_list,
    env_secret,
    env_str,
    redis_urls,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("PORTAL_VAR_DIR", str(BASE_DIR / "var")))

# PORTAL_PRODUCTION turns on everything `manage.py check --deploy` asks for. It is off for
# `make run` on a laptop (plain http on localhost), on in docker-compose.yml.
PRODUCTION = env_bool("PORTAL_PRODUCTION", False)
DEBUG = env_bool("DJANGO_DEBUG", False)


def _development_secret_key() -> str:
    # Outside production a missing key is generated once and kept under var/, so sessions
    # survive a restart; production must be given one (variable or *_FILE).
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(64), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


SECRET_KEY = env_secret("DJANGO_SECRET_KEY", None)
if SECRET_KEY is None:
    if PRODUCTION:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE) must be set")
    SECRET_KEY = _development_secret_key()

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]"]
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "django_celery_beat",
    "axes",
    "csp",
    "portal",
    "institutions",
    "homework",
    "afterschool",
    "cases",
    "governance",
    "supply",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # a NUL byte in the path or query string: the Chinese 400 page (portal/params.py)
    "portal.params.RejectNulMiddleware",
    "portal.accounts.ActingUserMiddleware",  # who changed a password (audit)
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # a row lock that timed out: the Chinese "please try again" page (503), not a 500
    "portal.locks.LockTimeoutMiddleware",
    # axes last, as its documentation asks
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "portal.context_processors.portal",
            ],
        },
    },
]

# --- data stores: PostgreSQL only, Redis for cache and Celery -------------------------
DATABASE_URL = env_str("DATABASE_URL", f"postgres://postgres@/portal?host={VAR_DIR / 'pg'}")
DATABASES = {"default": database_from_url(DATABASE_URL)}
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# PostgreSQL's JIT compiles any statement its planner costs above jit_above_cost: on the
# portal's short queries the compiling costs more than it saves (the dashboard's colour
# count: 357 ms of JIT for 15 ms of work, bench/dashboard_load.py). Off unless set "on".
if not env_bool("DATABASE_JIT", False):
    _options = DATABASES["default"]["OPTIONS"]
    _options["options"] = " ".join(filter(None, [_options.get("options", ""), "-c jit=off"]))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", f"redis+socket://{VAR_DIR / 'redis' / 'redis.sock'}")
REDIS_CLIENT_URL, REDIS_BROKER_URL = redis_urls(REDIS_URL)
# The cache (Django's and the public pages') on a Redis database apart from the broker's:
# unset, REDIS_URL's server and the next database (portal/cache_redis.py).
PORTAL_CACHE_REDIS_URL = cache_redis_url(REDIS_URL, env_str("PORTAL_CACHE_REDIS_URL", None))
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": PORTAL_CACHE_REDIS_URL,
        "KEY_PREFIX": env_str("PORTAL_CACHE_PREFIX", "portal"),
    }
}

# Anonymous public pages (whitelist search, institution pages, the API) are cached whole for
# this long, invalidated by any change behind them (portal/public_cache.py); 0 turns it off.
PORTAL_PUBLIC_CACHE_SECONDS = env_int("PORTAL_PUBLIC_CACHE_SECONDS", 300)
# A page larger than this (pickled, bytes) is served but not cached; a search page of 20
# institutions is about 14 KB.
PORTAL_PUBLIC_CACHE_MAX_BYTES = env_int("PORTAL_PUBLIC_CACHE_MAX_BYTES", 64 * 1024)

# --- Celery (portal/celery.py reads the CELERY_* names) --------------------------------
CELERY_BROKER_URL = REDIS_BROKER_URL
CELERY_RESULT_BACKEND = REDIS_BROKER_URL
CELERY_TIMEZONE = "Asia/Shanghai"
# Delivery, chosen for the check runs (portal/compliance.py, portal/tasks.py), whose tasks may
# run twice but must not be lost silently:
# - acks late: a message is acknowledged when its task has ended, so a task whose worker dies
#   is not lost with it (every task here is idempotent: a chunk already done is skipped).
# - reject on worker lost: with acks late, Celery would still acknowledge (lose) the message of
#   a task whose pool process was killed (the OOM killer, SIGKILL); this puts it back instead.
#   The check chunks retry instead, at most 3 times (retry_on_worker_lost in portal/tasks.py),
#   so a chunk that kills its process every time cannot loop for ever.
# - prefetch 1: a worker reserves one task per process, not four; a chunk waits in Redis for a
#   free worker rather than in a busy worker's buffer (where it would die with that worker).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = env_str("PORTAL_CELERY_QUEUE", "celery")

# The nightly compliance run: default 02:00 Asia/Shanghai, editable afterwards in the admin
# (django-celery-beat's periodic tasks); the number of subjects one worker task takes.
PORTAL_CHECKS_HOUR = env_int("PORTAL_CHECKS_HOUR", 2)
PORTAL_CHECKS_MINUTE = env_int("PORTAL_CHECKS_MINUTE", 0)
# 2,500: each chunk of a rule costs a few fixed queries; at 500 those dominated a 30,000-class
# district (1.6 s against 0.44 s for the four homework rules, bench/homework_checks.py), and
# 12 chunks a rule still spread over several workers.
PORTAL_CHECK_CHUNK_SIZE = env_int("PORTAL_CHECK_CHUNK_SIZE", 2500)
# From this month on, a year whose holidays are not in the calendar yet raises a finding:
# the State Council announces next year's holidays each November.
PORTAL_CALENDAR_WARN_MONTH = env_int("PORTAL_CALENDAR_WARN_MONTH", 11)
# One check run at a time; a run not finished after this many seconds (its worker died) is
# marked failed by a periodic task, resolving nothing, and the next run goes ahead.
PORTAL_CHECK_RUN_TIMEOUT = env_int("PORTAL_CHECK_RUN_TIMEOUT", 2 * 3600)
# A chunk of a run is stopped after this many seconds (the soft limit, 60 s earlier, lets it
# record its rule as failed, resolving nothing; the hard limit kills the process). A chunk of
# 2,500 subjects takes seconds: 15 minutes is a hang, and 4 tries (3 retries after a lost
# worker) stay within PORTAL_CHECK_RUN_TIMEOUT, so a run ends before the sweep takes it.
PORTAL_CHECK_CHUNK_TIME_LIMIT = env_int("PORTAL_CHECK_CHUNK_TIME_LIMIT", 15 * 60)
# Redis hands an unacknowledged message (its whole worker died: nobody is left to reject it)
# to another worker after the visibility timeout. Longer than any task may run (a chunk's hard
# limit, twice over) or wait for its countdown (the digest's retry backoff, at most 10 min),
# or a task still running would be started twice; shorter than PORTAL_CHECK_RUN_TIMEOUT (half
# of it), so a dead worker's chunk comes back while its run still holds the claim and the run
# completes. One that comes back later finds its run failed by the sweep and does nothing.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int(
        "PORTAL_BROKER_VISIBILITY_TIMEOUT",
        max(PORTAL_CHECK_RUN_TIMEOUT // 2, 2 * PORTAL_CHECK_CHUNK_TIME_LIMIT),
    )
}

# Online payment providers offered on the parents' bills page, first the default. "sandbox"
# books a payment without money and exists only outside production: listing it with
# PORTAL_PRODUCTION=true stops the start (portal/deploy_checks.py). "transfer" is the bank
# transfer the school confirms.
PORTAL_PAYMENT_PROVIDERS = env_list(
    "PORTAL_PAYMENT_PROVIDERS", ["transfer"] if PRODUCTION else ["sandbox", "transfer"]
)
# The largest amount (元) one payment notice or one confirmed bank transfer may carry: a
# notice above it (or not a positive amount with at most two decimals) is refused with a 400
# and nothing is booked. A term's bill is a few thousand 元 at most.
PORTAL_PAYMENT_MAX_AMOUNT = env_int("PORTAL_PAYMENT_MAX_AMOUNT", 100_000)

# Evidence files answering a finding (PDF, JPG, PNG by content): at most this many bytes each.
PORTAL_EVIDENCE_MAX_BYTES = env_int("PORTAL_EVIDENCE_MAX_BYTES", 10 * 1024 * 1024)
# A note on a finding (assigning, answering, closing, sending back): at most this many
# characters; a longer one is refused with a message, nothing stored.
PORTAL_FINDING_NOTE_MAX_CHARS = env_int("PORTAL_FINDING_NOTE_MAX_CHARS", 2000)

# --- policy numbers (defaults: the national rules; bureau staff adjust them in the admin)
# Daily written homework done at home, minutes by grade (双减意见, 2021: grades 1-2 none,
# 3-6 at most 60 on average, 7-9 at most 90).
HOMEWORK_LIMITS = {
    **dict.fromkeys((1, 2), env_int("PORTAL_HOMEWORK_LIMIT_GRADES_1_2", 0)),
    **dict.fromkeys(range(3, 7), env_int("PORTAL_HOMEWORK_LIMIT_GRADES_3_6", 60)),
    **dict.fromkeys(range(7, 10), env_int("PORTAL_HOMEWORK_LIMIT_GRADES_7_9", 90)),
}
# Only required written homework counts toward the limit unless these say otherwise.
HOMEWORK_COUNT_OPTIONAL = env_bool("PORTAL_HOMEWORK_COUNT_OPTIONAL", False)
HOMEWORK_COUNT_NON_WRITTEN = env_bool("PORTAL_HOMEWORK_COUNT_NON_WRITTEN", False)
# A class's reported average is judged only once this many parents reported that day.
HOMEWORK_MIN_REPORTS = env_int("PORTAL_HOMEWORK_MIN_REPORTS", 3)

# Off-campus training (first values of the bureau's 校外培训规定; afterwards the admin).
# Price guidance per student per standard lesson by class size (Dali and Ziyang: 1-10 35元,
# 11-35 25元, 36-50 15元), upward float at most 10 %, no floor.
INSTITUTION_PRICE_TIERS = [(1, 10, "35.00"), (11, 35, "25.00"), (36, 50, "15.00")]
INSTITUTION_PRICE_FLOAT_PERCENT = env_str("PORTAL_PRICE_FLOAT_PERCENT", "10")
INSTITUTION_STANDARD_MINUTES = {"offline": 45, "online": 30}
# No training after 20:30 offline, 21:00 online; online lessons at most 30 minutes with at
# least 10 minutes between them (双减意见 and 教育部 校外培训 rules).
INSTITUTION_LATEST_END = {"offline": "20:30", "online": "21:00"}
INSTITUTION_ONLINE_MAX_MINUTES = 30
INSTITUTION_ONLINE_BREAK_MINUTES = 10
INSTITUTION_MAKEUP_SATURDAY_IS_REST = env_bool("PORTAL_MAKEUP_SATURDAY_IS_REST", False)
INSTITUTION_REVIEW_VALID_MONTHS = env_int("PORTAL_REVIEW_VALID_MONTHS", 15)
# 预收费: one collection at most 3 months, 60 lessons or 5000 yuan.
ESCROW_MAX_MONTHS = 3
ESCROW_MAX_LESSONS = 60
ESCROW_MAX_AMOUNT = "5000.00"

# After-school service: the service ends no earlier than local off-work time (e.g. 17:30 or
# 18:30; a district setting, then the admin's 课后服务规定).
AFTERSCHOOL_OFF_WORK_TIME = env_str("PORTAL_OFF_WORK_TIME", "17:30")

# --- auth and security ------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # the user with their school staff and parent rows in one query (portal/auth_backend.py)
    "portal.auth_backend.PortalBackend",
    # sessions made before PortalBackend (and tests logging in with it) name this one
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        # staff passwords: at least 12 characters (Django's, with a Chinese message)
        "NAME": "portal.accounts.MinimumLengthValidator",
        "OPTIONS": {"min_length": env_int("PORTAL_PASSWORD_MIN_LENGTH", 12)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:me"
LOGOUT_REDIRECT_URL = "home"

# django-axes: lock a username+address pair after 5 failures, for 30 minutes.
AXES_FAILURE_LIMIT = env_int("PORTAL_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("PORTAL_LOGIN_COOLOFF_MINUTES", 30) / 60  # hours
# locked per username + address, and per address alone (one address trying many names) at
# a higher limit of its own: a school's staff share one NAT address (portal.accounts)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
PORTAL_LOGIN_ADDRESS_FAILURE_LIMIT = env_int("PORTAL_LOGIN_ADDRESS_FAILURE_LIMIT", 30)
AXES_HANDLER = "portal.accounts.LoginThrottle"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Behind N trusted proxies the client is the Nth address from the right of
# X-Forwarded-For; otherwise REMOTE_ADDR (a forged header must not pick the locked address).
PORTAL_PROXY_COUNT = env_int("PORTAL_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "portal.access.client_ip"

# Django's database sessions, read by a fixed statement (portal/sessions.py, issue 20)
SESSION_ENGINE = "portal.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SESSION_COOKIE_AGE = 8 * 3600
SECURE_SSL_REDIRECT = PRODUCTION
SECURE_HSTS_SECONDS = 31536000 if PRODUCTION else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("PORTAL_BEHIND_PROXY", PRODUCTION):
    # gunicorn behind a TLS-terminating proxy that sets X-Forwarded-Proto
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy: no inline script anywhere, no third-party origin (the portal
# runs in closed networks, everything is served from static/).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # inline style attributes are tolerated for the Django admin; scripts never inline
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- i18n -------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- static files -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("PORTAL_STATIC_ROOT", str(VAR_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # hashed names need `collectstatic`, which the Docker image runs at build time;
        # `make run` and the tests serve the files straight from static/.
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
if not PRODUCTION:
    # whitenoise warns about a missing STATIC_ROOT even when it serves from the finders
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = VAR_DIR / "media"
# In tests and `make run` without collectstatic, whitenoise serves from the finders.
WHITENOISE_USE_FINDERS = env_bool("PORTAL_STATIC_FROM_FINDERS", not PRODUCTION)

# --- mail -------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "portal@localhost")

# --- REST framework ---------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "双减 portal API",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # a 403/404 is one line, without its traceback (portal/logfilters.py)
    "filters": {"refusals": {"()": "portal.logfilters.RefusalsOnOneLine"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("PORTAL_LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}, "django.request": {"filters": ["refusals"]}},
}
CSRF_FAILURE_VIEW = "portal.views.csrf_failure"

# --- enforcement: inspections (专项整治), 约谈, sanctions, 通报 ---
# A visit with failed items needs a follow-up visit (复查) within this many days, else a
# nightly finding (institutions.enforcement.no_follow_up).
ENFORCEMENT_FOLLOW_UP_DAYS = env_int("PORTAL_ENFORCEMENT_FOLLOW_UP_DAYS", 30)

# --- complaints: 举报/投诉 (institutions/complaints.py) ---
# Complaints one address may file in an hour (a flood gets the Chinese 429 page); counted in
# the Redis cache, nothing stored about the address.
PORTAL_COMPLAINT_RATE_PER_HOUR = env_int("PORTAL_COMPLAINT_RATE_PER_HOUR", 5)
# What happened: at most this many characters (a longer text is refused, naming the field).
PORTAL_COMPLAINT_TEXT_MAX_CHARS = env_int("PORTAL_COMPLAINT_TEXT_MAX_CHARS", 2000)
# Deadlines in working days of the portal's calendar, counted from the day of receipt:
# acknowledged (accepted or not) within 1, closed with a reply within 15.
PORTAL_COMPLAINT_ACK_WORKING_DAYS = env_int("PORTAL_COMPLAINT_ACK_WORKING_DAYS", 1)
PORTAL_COMPLAINT_CLOSE_WORKING_DAYS = env_int("PORTAL_COMPLAINT_CLOSE_WORKING_DAYS", 15)
# Complaints about the same institution (or school) and category within this many days are
# grouped under the first one.
PORTAL_COMPLAINT_GROUP_DAYS = env_int("PORTAL_COMPLAINT_GROUP_DAYS", 30)

# --- cases: the case library's import ---
# A collection larger than this (bytes of the uploaded file) is refused whole, with a Chinese
# message naming the limit: the largest published collection we know is under 100 KB; a
# 10 MB file was one collection pasted a hundred times.
PORTAL_CASES_IMPORT_MAX_BYTES = env_int("PORTAL_CASES_IMPORT_MAX_BYTES", 2 * 1024 * 1024)

# --- nav: the files browsers ask for at the site's root (favicon.ico) ---
# whitenoise serves static/root/ at "/" (in production too: nginx proxies every path to
# Django); the pages link the icon through {% static %} as well
WHITENOISE_ROOT = BASE_DIR / "static" / "root"

# --- claims: 消课 and the parent's confirmation (institutions/claims.py) ---
# A claimed lesson the parent has neither confirmed nor disputed within this many days
# (counted from the day it was claimed) counts as confirmed (逾期未确认，视为确认) in the
# nightly sweep. 3 days: the portal's default; the national notice asks for the parent's
# confirmation without fixing a period, so the bureau sets it.
PORTAL_CLAIM_CONFIRM_DAYS = env_int("PORTAL_CLAIM_CONFIRM_DAYS", 3)
# Purchases locked and confirmed together by the nightly sweep (one set-based update and one
# multi-row ledger insert per chunk).
PORTAL_CLAIM_SWEEP_CHUNK = env_int("PORTAL_CLAIM_SWEEP_CHUNK", 2000)

# --- sales: selling through the escrow (institutions/sales.py) ---
# An offer (a sale recorded by the institution, 待家长确认) the parent neither accepts nor
# declines within this many days lapses (已过期). 7 days: the portal's default, no national
# figure; the bureau sets it.
PORTAL_SALE_OFFER_DAYS = env_int("PORTAL_SALE_OFFER_DAYS", 7)

# --- org: the institution's side (机构端), institutions/accounts.py ---
# Account requests (申请机构账号) one address may file in an hour from the public pages
# (then the Chinese 429 page); counted in the Redis cache, nothing stored about the address.
PORTAL_ORG_REQUEST_RATE_PER_HOUR = env_int("PORTAL_ORG_REQUEST_RATE_PER_HOUR", 5)
# Length of the one-time initial password of a new institution account (shown once); never
# under the password validators' minimum (PORTAL_PASSWORD_MIN_LENGTH).
PORTAL_ORG_INITIAL_PASSWORD_LENGTH = env_int("PORTAL_ORG_INITIAL_PASSWORD_LENGTH", 16)

# --- care: the care ledger (关爱帮扶 一人一档), governance/care.py ---
# The categories of pupils needing care (comma-separated, shown as written): 留守儿童,
# 困难家庭, 残疾/随班就读, 心理关注 are the ones the national and provincial notices on care
# for left-behind and disadvantaged pupils name; a district may add its own.
PORTAL_CARE_CATEGORIES = env_list(
    "PORTAL_CARE_CATEGORIES", ["留守儿童", "困难家庭", "残疾/随班就读", "心理关注"]
)
# The categories whose pupils need more visits (at least PORTAL_CARE_SPECIAL_VISITS_PER_TERM).
PORTAL_CARE_SPECIAL_CATEGORIES = env_list(
    "PORTAL_CARE_SPECIAL_CATEGORIES", ["残疾/随班就读", "心理关注"]
)
# Home visits a term (家访): every recorded pupil at least 1, special pupils at least 3.
PORTAL_CARE_VISITS_PER_TERM = env_int("PORTAL_CARE_VISITS_PER_TERM", 1)
PORTAL_CARE_SPECIAL_VISITS_PER_TERM = env_int("PORTAL_CARE_SPECIAL_VISITS_PER_TERM", 3)
# Which logged forms count as a home visit (CareContact.Form values): 家访 only by default.
PORTAL_CARE_VISIT_FORMS = env_list("PORTAL_CARE_VISIT_FORMS", ["visit"])
# Days from the term's start (or the record's opening, if later) within which the first visit
# is due; the further visits of a special pupil fall due evenly over the rest of the term.
PORTAL_CARE_FIRST_VISIT_DAYS = env_int("PORTAL_CARE_FIRST_VISIT_DAYS", 30)

# --- governance: 阳光分班, the public random class draw (governance/draw.py) ---
# Whether a grade-7 draw may balance classes by a band the school gives (分层) as well as by
# gender, for every draw of the district; false (the national default: 均衡编班 without any
# grouping by scores). Bureau staff may also allow it for one draw when they publish its
# commitment. Grade 1 never uses bands.
PORTAL_DRAW_BANDS_ALLOWED = env_bool("PORTAL_DRAW_BANDS_ALLOWED", False)
# 标准班额 (教育部 2018, 消除大班额): at most 45 pupils a class in primary grade 1, 50 in junior
# grade 7; a draw whose classes would be larger is refused, naming the class count.
PORTAL_DRAW_CLASS_SIZE_MAX_GRADE_1 = env_int("PORTAL_DRAW_CLASS_SIZE_MAX_GRADE_1", 45)
PORTAL_DRAW_CLASS_SIZE_MAX_GRADE_7 = env_int("PORTAL_DRAW_CLASS_SIZE_MAX_GRADE_7", 50)
# At most this many classes and pupils in one draw, and the largest list file (bytes).
PORTAL_DRAW_MAX_CLASSES = env_int("PORTAL_DRAW_MAX_CLASSES", 30)
PORTAL_DRAW_MAX_PUPILS = env_int("PORTAL_DRAW_MAX_PUPILS", 1500)
PORTAL_DRAW_LIST_MAX_BYTES = env_int("PORTAL_DRAW_LIST_MAX_BYTES", 1024 * 1024)
# A published draw not run this many days after its scheduled day is a nightly finding.
PORTAL_DRAW_RUN_GRACE_DAYS = env_int("PORTAL_DRAW_RUN_GRACE_DAYS", 1)

# --- governance: exams (考试管理, governance/exams.py; issue 18 part 5) ---
# 《教育部办公厅关于加强义务教育学校考试管理的通知》(2021): no paper exams in grades 1–2; one
# end-of-term exam (期末) a term per subject; lower-secondary grades (7–9) may add one
# mid-term (期中); results as grades, never a published ranking.
PORTAL_EXAM_NO_PAPER_MAX_GRADE = env_int("PORTAL_EXAM_NO_PAPER_MAX_GRADE", 2)
PORTAL_EXAM_FINALS_PER_TERM = env_int("PORTAL_EXAM_FINALS_PER_TERM", 1)
PORTAL_EXAM_MIDTERMS_PER_TERM = env_int("PORTAL_EXAM_MIDTERMS_PER_TERM", 1)
PORTAL_EXAM_MIDTERM_MIN_GRADE = env_int("PORTAL_EXAM_MIDTERM_MIN_GRADE", 7)
PORTAL_EXAM_RANKING_ALLOWED = env_bool("PORTAL_EXAM_RANKING_ALLOWED", False)
# --- governance: letters to parents (致家长的一封信, governance/letters.py; part 6) ---
PORTAL_LETTER_TITLE_MAX_CHARS = env_int("PORTAL_LETTER_TITLE_MAX_CHARS", 100)
PORTAL_LETTER_BODY_MAX_CHARS = env_int("PORTAL_LETTER_BODY_MAX_CHARS", 5000)

# --- institutions: refunds of prepaid fees (退费申请, institutions/refunds.py) ---
# Calendar days (not working days: the escrow's other deadlines count calendar days and a
# parent waiting for money waits through weekends too) the institution has to agree to or
# refuse a parent's refund request; the day of the request is day 0, the institution may still
# answer on day N, and the nightly sweep of day N+1 sends an unanswered request to the bureau.
PORTAL_REFUND_ANSWER_DAYS = env_int("PORTAL_REFUND_ANSWER_DAYS", 7)
# Longest reason (parent, institution, bureau) in characters.
PORTAL_REFUND_REASON_MAX_CHARS = env_int("PORTAL_REFUND_REASON_MAX_CHARS", 300)

# --- designs: the homework design library and its review (homework/designs.py) ---
# Whether the author of a design may review it as a member of the school's 作业审核小组. No:
# a review is by another teacher (the notices on 作业设计 ask for collective review, 集体审核).
HOMEWORK_DESIGN_AUTHOR_MAY_REVIEW = env_bool("HOMEWORK_DESIGN_AUTHOR_MAY_REVIEW", False)
# The shortest comment a design returned to its author may carry (characters): a return
# says what to change.
HOMEWORK_DESIGN_RETURN_COMMENT_MIN = env_int("HOMEWORK_DESIGN_RETURN_COMMENT_MIN", 5)

# --- org (second part): waiting times of the bureau's queues (institutions/account_checks.py) ---
# A course filing (待备案) or an account request waiting longer than this many days is a
# nightly finding of the training line (no national figure: the portal's default).
PORTAL_ORG_QUEUE_DAYS = env_int("PORTAL_ORG_QUEUE_DAYS", 7)

# --- people: vetting of volunteers and resource people (afterschool/people.py) ---
# How long each vetting record of a person who teaches without being school staff stays
# valid, in months from the date on it. 无犯罪记录证明: 12, the yearly re-check of the 入职查询
# (《关于建立教职员工准入查询性侵违法犯罪信息制度的意见》2020 and 《未成年人学校保护规定》2021
# art. 42 ask schools to check volunteers and outside staff; districts re-check yearly).
# 健康证明: 12, the yearly 健康检查 of staff in contact with pupils (the 健康证 of public-place
# and catering staff is valid one year). 安全培训: 12, the yearly training districts require.
PEOPLE_NO_CRIMINAL_RECORD_MONTHS = env_int("PEOPLE_NO_CRIMINAL_RECORD_MONTHS", 12)
PEOPLE_HEALTH_CERT_MONTHS = env_int("PEOPLE_HEALTH_CERT_MONTHS", 12)
PEOPLE_TRAINING_MONTHS = env_int("PEOPLE_TRAINING_MONTHS", 12)
# A nightly finding this many days before any of them expires (then a serious one once it has).
PEOPLE_VETTING_WARN_DAYS = env_int("PEOPLE_VETTING_WARN_DAYS", 30)

# --- lunch: lunch-break care 午托 (afterschool/lunch.py) ---
# The most a school may ask per pupil per month for lunch-break care (午休托管服务费), in
# whole 元. Cities that price 校内午托 publish a ceiling per pupil per month (their 发改委/教育局
# notices on 课后服务及午休托管收费, commonly 100–300 元); 200 元 is the portal's default
# within that range: set the district's own published figure here.
LUNCH_FEE_CAP_PER_MONTH = env_int("LUNCH_FEE_CAP_PER_MONTH", 200)

# --- sites: community care sites' safety checks (afterschool/sites.py) ---
# A community site (社区托管点) whose last safety check (安全检查) is older than this many
# months may not open: its courses are neither published nor enrolled, and it is a nightly
# finding. A check of D is good through the same day N months later (D + N months, the last
# day of the month when that day does not exist); the day after, the site is shut.
SITES_SAFETY_CHECK_MONTHS = env_int("SITES_SAFETY_CHECK_MONTHS", 12)

# --- funding: subsidy, fee cap (afterschool/funding.py; issue 19 part 4) ---
# Per-pupil public subsidy of the after-school service (财政奖补): this percentage of a
# school's pupils × this many 元 a school year (the published case: 60 % of pupils × 500 元 a
# year). A term is half a school year: each term receives half the yearly amount.
FUNDING_SUBSIDY_SHARE_PERCENT = env_int("FUNDING_SUBSIDY_SHARE_PERCENT", 60)
FUNDING_SUBSIDY_PER_PUPIL_YEAR = env_int("FUNDING_SUBSIDY_PER_PUPIL_YEAR", 500)
# District cap on the fee of one course per pupil per term (元): fee per lesson × the
# course's lessons in the term. Default 600 元: 梧州市教育局 and 市发改委 (January 2022,
# 《关于调整梧州市属公办中小学校内课后服务收费标准等有关问题的通知》) cap the in-school
# after-school service at 120 元 per pupil a month; a term of five months makes 600 元.
FUNDING_FEE_CAP_PER_TERM = env_int("FUNDING_FEE_CAP_PER_TERM", 600)

# --- fair: the matching fair (双向选择会, supply/fair.py; issue 19 part 2) ---
# How many ranked choices (志愿) a school may mark for one need and a provider for one offer
# (no national figure: the districts' fairs let each side fill five 志愿).
PORTAL_FAIR_MAX_CHOICES = env_int("PORTAL_FAIR_MAX_CHOICES", 5)
# How many schools' needs one offer may serve at most (its quota in the matching).
PORTAL_FAIR_MAX_OFFER_CAPACITY = env_int("PORTAL_FAIR_MAX_OFFER_CAPACITY", 10)

# --- holiday: holiday care at host sites (afterschool/holiday.py, issue 17 part 1) ---
# 暑期/寒假托管 as the published programmes run it (教育部办公厅 2021《关于支持探索开展暑期托管
# 服务的通知》): on weekdays (0=Monday … 4=Friday), a morning session covering at least 8:30 to
# 11:30, afternoons optional; no subject lessons (不得组织集体补课). A vacation plan's days must
# be among these, its start no later and its end no earlier than the morning's.
HOLIDAY_CARE_WEEKDAYS = [int(d) for d in env_list("HOLIDAY_CARE_WEEKDAYS", list("01234"))]
HOLIDAY_CARE_MORNING_START = env_str("HOLIDAY_CARE_MORNING_START", "08:30")
HOLIDAY_CARE_MORNING_END = env_str("HOLIDAY_CARE_MORNING_END", "11:30")
# The district's cap on what a family pays for one week block (元, whole yuan): 杭州市西湖区
# 2022 暑托班 charged 500 元 a pupil for a two-week period (50 元 a day, insurance included),
# i.e. 250 元 a week; 公益普惠 caps elsewhere are lower. A host site's fee above it is refused.
HOLIDAY_CARE_FEE_CAP_PER_WEEK = env_int("HOLIDAY_CARE_FEE_CAP_PER_WEEK", 250)
# A week block starting within this many days at a host site whose school's vacation plan is
# not in effect is a nightly finding (the parents who enrolled would find it shut).
HOLIDAY_CARE_WARN_DAYS = env_int("HOLIDAY_CARE_WARN_DAYS", 3)

# --- catalogue: the district course catalogue, 公益课程包 (supply/catalogue.py) ---
# "Small school" for the dispatch rule (派单: rural and small schools first): fewer pupils
# (portal Child rows) than this. 国办发〔2018〕27号 calls a 乡村小规模学校 one of fewer than
# 100 pupils.
CATALOGUE_SMALL_SCHOOL_PUPILS = env_int("CATALOGUE_SMALL_SCHOOL_PUPILS", 100)
# Days after a package's service window ends before a granted order with fewer recorded
# visits (送单) than granted is a nightly finding.
CATALOGUE_DELIVERY_GRACE_DAYS = env_int("CATALOGUE_DELIVERY_GRACE_DAYS", 7)

# --- calls: the public call for providers with expert scoring (supply/calls.py) ---
# With this many or more experts' scores for a criterion, the highest and the lowest (one
# each) are dropped before the mean (the usual 去掉一个最高分和一个最低分 of expert panels;
# issue 19: "when 5 or more experts score").
PORTAL_CALL_TRIM_MIN_EXPERTS = env_int("PORTAL_CALL_TRIM_MIN_EXPERTS", 5)
# Counted experts (conflicts of interest excluded) each application needs before the bureau
# may admit: a panel of at least three (the portal's default; 政府采购 panels are odd and 3+).
PORTAL_CALL_MIN_EXPERTS = env_int("PORTAL_CALL_MIN_EXPERTS", 3)
# Organisation registrations (注册组织账号) one address may make in an hour.
PORTAL_SUPPLY_REGISTER_RATE_PER_HOUR = env_int("PORTAL_SUPPLY_REGISTER_RATE_PER_HOUR", 5)
# --- calls: scoring deadline (supply/call_checks.py) ---
# Days after a call's deadline by which every assigned expert's scores should be in; a call
# still open with scores missing later than this is a nightly finding (the portal's default).
PORTAL_CALL_SCORING_DAYS = env_int("PORTAL_CALL_SCORING_DAYS", 14)
