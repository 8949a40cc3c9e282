"""Settings shared by every environment.

Every value that differs between machines comes from the environment; with
nothing set the portal runs on its embedded default (SQLite, files on disk, a
Celery broker on the filesystem). Each variable is documented in
docs/configuration.md.
"""

from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from celery.schedules import crontab

from portal import queues

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("PORTAL_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

# https://docs.djangoproject.com/en/5.2/ref/settings/#secret-key
SECRET_KEY = env.str("SECRET_KEY", default="")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- Applications ----------------------------------------------------------

INSTALLED_APPS = [
    "portal",
    "courses",
    "talentpool",
    "events",
    "subscriptions",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.routable_page",
    "wagtail.embeds",
    "wagtail.sites",
    "portal.users_app.PortalUsersConfig",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks",
]

MIDDLEWARE = [
    # First: every later middleware's log lines carry the request's id.
    "portal.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "portal.security_headers.ContentSecurityPolicyMiddleware",
    "portal.security_headers.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # The request's Wagtail site from the rows this process read in the last
    # PORTAL_SITE_CACHE_SECONDS, not a query per request (portal/sites.py).
    "portal.sites.SiteMiddleware",
    # Outside the session, CSRF and message middleware: it sees their cookies.
    "portal.frontend_cache.SharedCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "portal.middleware.StaffMFAMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # A view failing because the cache is down answers 503, not 500 or 429.
    "portal.http.CacheUnavailableMiddleware",
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
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
            ],
        },
    },
]

# --- Database --------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#databases
# DATABASE_URL=postgres://user@host:5432/name; unset: SQLite in var/.

DATABASES = {
    "default": env.db_url(
        "DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server, the worker and beat read while one writes.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    # A connection kept between requests may have been ended meanwhile (a
    # database restart or failover, an idle timeout): checked before a
    # request's first query and replaced, so no visitor gets an error for it
    # (tests/portal/test_fault_database.py; docs/operations.md).
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "portal.User"

# --- Cache -----------------------------------------------------------------
# One cache that every process shares: allauth's rate limits, django-ratelimit's
# and the talent pool's budgets are counted here (docs/configuration.md).
# REDIS_URL set: Redis. Unset, on SQLite: an SQLite file of its own beside the
# database (portal/cache.py), never a table in the main file, whose write lock
# a long import holds. Unset, on PostgreSQL: the table portal_cache there
# (migration portal/0004), which a long transaction does not lock.

REDIS_URL = env.str("REDIS_URL", default="")
CACHES: dict[str, dict] = {}
if REDIS_URL:
    CACHES["default"] = {
        # Django's RedisCache, a miss instead of an error when Redis is down
        # (portal/cache.py): pages keep answering; limiters fail as they say.
        "BACKEND": "portal.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "portal",
        # Seconds to connect and to wait for an answer: Redis out of the
        # network must cost a page a second, not the OS's minutes.
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    CACHES["default"] = {
        "BACKEND": "portal.cache.SQLiteCache",
        "LOCATION": str(VAR_DIR / "cache.sqlite3"),
        # Seconds a cache operation waits for another's write; past it the
        # limiters fail as portal/http.py says, never with a false 429.
        "OPTIONS": {"BUSY_TIMEOUT": 2, "MAX_ENTRIES": 1_000_000},
    }
else:
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "portal_cache",
        # Django's default (300) would cull rate-limit counters.
        "OPTIONS": {"MAX_ENTRIES": 1_000_000},
    }

# --- Sessions ----------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/topics/http/sessions/#using-cached-sessions
# Read from the shared cache, written through to the database: a signed-in
# request costs a Redis lookup instead of a query, and sessions survive a
# flushed cache. Without Redis the cache is a database table, so this changes
# little there; it is the same code either way.

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_CACHE_ALIAS = "default"

# --- Passwords and accounts --------------------------------------------------

# https://docs.djangoproject.com/en/5.2/topics/auth/passwords/#using-argon2-with-django
# Argon2id with OWASP's parameters (portal/hashers.py); the PBKDF2 hashes
# made before still verify and are rehashed at their owner's next sign-in.
PASSWORD_HASHERS = [
    "portal.hashers.PortalArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {
        "NAME": "portal.validators.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    "allauth.account.auth_backends.AuthenticationBackend",
]

LOGIN_URL = "account_login"
# After signing in without a `next` (portal.adapters): the learner's next step.
LOGIN_REDIRECT_URL = "courses:my_learning"
LOGOUT_REDIRECT_URL = "/"

# https://docs.allauth.org/en/latest/account/configuration.html
ACCOUNT_ADAPTER = "portal.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "portal.forms.SignupExtraForm"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = False
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = 3
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_PASSWORD_INPUT_RENDER_VALUE = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
ACCOUNT_RATE_LIMITS = {
    # allauth's defaults, written out so that they are visibly on.
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reset_password": "20/m/ip,5/m/key",
    "reauthenticate": "10/m/user",
    "reset_password_from_key": "20/m/ip",
    "signup": "20/m/ip",
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "confirm_email": "1/3m/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env.str("MFA_TOTP_ISSUER", default="IP Portal")
MFA_ADAPTER = "portal.adapters.MFAAdapter"

# --- Languages and time ----------------------------------------------------

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [
    ("zh-hans", "简体中文"),
    ("en", "English"),
]
LOCALE_PATHS = [BASE_DIR / "portal" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["portal.formats"]
LANGUAGE_COOKIE_NAME = "portal_language"
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES
# One time zone in the admin: Beijing time, with no choice in the account
# settings (a time in UTC beside one in Beijing time misleads).
WAGTAIL_USER_TIME_ZONES = [TIME_ZONE]

# --- Static and media files --------------------------------------------------

STATIC_URL = "/static/"
# str | Path: the test settings give folders as strings.
STATIC_ROOT: str | Path = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT: str | Path = VAR_DIR / "media"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# S3-compatible media storage, on when a bucket is named. Images are served
# through the portal, not by links to the bucket (portal/storage.py).
AWS_STORAGE_BUCKET_NAME = env.str("S3_BUCKET", default="")
if AWS_STORAGE_BUCKET_NAME:
    STORAGES["default"] = {"BACKEND": "portal.storage.S3MediaStorage"}
    # An empty value (a line of the environment file left blank) is unset:
    # boto3's own default (Amazon's endpoint, its credential chain).
    AWS_S3_ENDPOINT_URL = env.str("S3_ENDPOINT_URL", default="") or None
    AWS_S3_REGION_NAME = env.str("S3_REGION", default="") or None
    AWS_ACCESS_KEY_ID = env.str("S3_ACCESS_KEY_ID", default="") or None
    AWS_SECRET_ACCESS_KEY = env.str("S3_SECRET_ACCESS_KEY", default="") or None
    AWS_QUERYSTRING_AUTH = True
    AWS_DEFAULT_ACL = None

# Uploads: anything larger than this is refused with a message, not a 500.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
PORTAL_MAX_UPLOAD_SIZE = env.int("PORTAL_MAX_UPLOAD_SIZE", default=20 * 1024 * 1024)

# --- Lesson videos -------------------------------------------------------------
# The fastest a lesson video may play and still count (courses.services.
# video_heartbeat; the player holds its speed to this). 1.5: lectures stay
# comfortably intelligible up to about that speed, while at 2x, the top of
# browsers' speed menus, a completion would attest less than half the
# listening time. docs/configuration.md, "Lessons".
PORTAL_VIDEO_MAX_PLAYBACK_RATE = env.float("VIDEO_MAX_PLAYBACK_RATE", default=1.5)
if not 1 <= PORTAL_VIDEO_MAX_PLAYBACK_RATE <= 4:
    # Below 1 no learner could complete a video; above 4 nothing is attested.
    raise environ.ImproperlyConfigured("VIDEO_MAX_PLAYBACK_RATE must be 1 to 4.")

# --- E-mail ----------------------------------------------------------------
# Every message becomes a row in portal.OutgoingEmail first (docs/architecture.md,
# decision 1); a Celery task hands it to PORTAL_EMAIL_DELIVERY_BACKEND.

EMAIL_BACKEND = "portal.mail.OutboxEmailBackend"
_email_config = env.email_url("EMAIL_URL", default="consolemail://")
PORTAL_EMAIL_DELIVERY_BACKEND = _email_config.pop("EMAIL_BACKEND")
vars().update(_email_config)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="noreply@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Keep each e-mail's content after delivery and show account e-mails in the
# admin's outbox: development only (settings.dev), where no mail leaves the
# machine and the outbox is the mailbox. Deploy check portal.E011 refuses it.
PORTAL_EMAIL_KEEP_CONTENT = False
PORTAL_EMAIL_SWEEP_AFTER = timedelta(minutes=2)
PORTAL_EMAIL_MAX_ATTEMPTS = 5
# Delivery in batches over one connection (portal.services.email_deliver_batch):
# up to this many e-mails per task. A temporary failure is retried after
# PORTAL_EMAIL_RETRY_DELAY, doubled at each attempt (at most an hour).
PORTAL_EMAIL_BATCH_SIZE = env.int("EMAIL_BATCH_SIZE", default=100)
PORTAL_EMAIL_RETRY_DELAY = timedelta(minutes=1)
# At most this many e-mails handed to the provider per minute, counted across
# all workers in the cache; 0: no cap. docs/configuration.md, "E-mail".
PORTAL_EMAIL_MAX_PER_MINUTE = env.int("EMAIL_MAX_PER_MINUTE", default=0)
# Seconds an SMTP connection may hang (Django's default: forever). On SQLite a
# delivery holds the write lock for one message's hand-off.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
# Sent e-mails (their body already removed on delivery) are deleted after this
# many days by the beat task purge_sent_email; pending and failed ones stay.
PORTAL_EMAIL_RETENTION_DAYS = env.int("EMAIL_RETENTION_DAYS", default=90)

# --- Celery ----------------------------------------------------------------
# https://docs.celeryq.dev/en/stable/userguide/configuration.html

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        "control_folder": str(_broker_dir / "control"),
        "polling_interval": 0.2,
    }
else:
    # Redis: a message a worker took and never acknowledged (acks-late, and
    # the worker's main process was killed) goes back to its queue after
    # this many seconds; kombu's default is an hour. The beat sweeps redo
    # certificates and e-mails within minutes anyway, but Wagtail's tasks
    # and announcement batches waited for it. It must stay above the longest
    # a message is held unacknowledged, or a task that is running or waiting
    # for its countdown is delivered a second time: a task's hard limit
    # (5 minutes) and the longest countdown (an e-mail's last retry, 8
    # minutes with PORTAL_EMAIL_RETRY_DELAY and PORTAL_EMAIL_MAX_ATTEMPTS as
    # above; raise this with them). docs/operations.md, "When Redis or a
    # worker fails".
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 15 * 60}
# One queue per kind of work (portal/queues.py): certificates, email and the
# default; docs/deploy.md gives each its worker. settings.test moves them all.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = queues.task_routes(CELERY_TASK_DEFAULT_QUEUE)
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = 5 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 4 * 60
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# A safety net for memory (docs/certificates.md, "Performance"): a pool process
# whose resident memory has grown past this after a task is replaced by a fresh
# one. Certificate rendering keeps a process at ~200-215 MiB (most of it
# shared with the main process); the limit only acts if something grows
# beyond the 300 MB target. In KiB.
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env.int(
    "CELERY_WORKER_MAX_MEMORY_PER_CHILD", default=300_000
)
CELERY_BEAT_SCHEDULE = {
    # At second 0 of every minute (a crontab, not "every 60 s from whenever
    # beat started"): a page scheduled for 09:00 goes live at 09:00:00 plus
    # the task's own second, not up to a minute late.
    "publish-scheduled-pages": {
        "task": "portal.tasks.publish_scheduled_pages",
        "schedule": crontab(minute="*"),
    },
    "sweep-outgoing-email": {
        "task": "portal.tasks.sweep_outgoing_email",
        "schedule": 60.0,
    },
    # Announcements with nothing pending are marked sent; lost batches re-enqueued.
    "subscriptions-sweep-announcements": {
        "task": "subscriptions.tasks.sweep_announcements",
        "schedule": 300.0,
    },
    # Scheduled announcements go out at their minute (second 0, as pages).
    "subscriptions-send-scheduled": {
        "task": "subscriptions.tasks.send_scheduled_announcements",
        "schedule": crontab(minute="*"),
    },
    # Unconfirmed sign-ups and withdrawn subscribers without an account,
    # after 7 days (docs/privacy.md).
    "subscriptions-purge-email-subscribers": {
        "task": "subscriptions.tasks.purge_email_subscribers",
        "schedule": crontab(hour=3, minute=52),
    },
    "sweep-certificates": {
        "task": "courses.tasks.sweep_certificates",
        "schedule": 60.0,
    },
    "remind-expiring-certificates": {
        "task": "courses.tasks.remind_expiring_certificates",
        "schedule": crontab(hour=9, minute=5),
    },
    "purge-sent-email": {
        "task": "portal.tasks.purge_sent_email",
        "schedule": crontab(hour=3, minute=37),
    },
    "clear-expired-sessions": {
        "task": "portal.tasks.clear_expired_sessions",
        "schedule": crontab(hour=3, minute=17),
    },
    # Ask experts to reconfirm after 11 months; hide them after 12 (talentpool).
    "talentpool-reconfirmation": {
        "task": "talentpool.applications.tasks.reconfirmation_sweep",
        "schedule": crontab(hour=8, minute=20),
    },
    # Pending contact requests past their date to answer by (talentpool).
    "talentpool-contact-requests-expire": {
        "task": "talentpool.tasks.contact_requests_expire",
        "schedule": crontab(hour=0, minute=5),
    },
    # Contact requests older than CONTACT_REQUEST_RETENTION_DAYS lose their
    # message and note (talentpool; docs/privacy.md).
    "talentpool-contact-requests-purge": {
        "task": "talentpool.tasks.contact_requests_purge",
        "schedule": crontab(hour=3, minute=47),
    },
    # Remind registrants of tomorrow's events (09:00, CELERY_TIMEZONE: Shanghai).
    "events-registration-reminders": {
        "task": "events.registration.tasks.send_event_reminders",
        "schedule": crontab(hour=9, minute=0),
    },
}

# Wagtail's own background work (reference index, image renditions, file
# deletion) runs in the Celery worker, never inside a web request.
TASKS = {"default": {"BACKEND": "portal.tasks_backend.CeleryTaskBackend"}}
# The only django-tasks the worker runs: a queue message names a task by its
# path, and a path not listed here is refused before anything is imported
# (portal/tasks_backend.py). These are all that Wagtail and its search
# (modelsearch) define (tests/portal/test_task_allow_list.py keeps it so).
PORTAL_DJANGO_TASKS = [
    "modelsearch.tasks.insert_or_update_object_task",
    "wagtail.tasks.update_reference_index_task",
    "wagtail.tasks.delete_file_from_storage_task",
    "wagtail.images.tasks.set_image_focal_point_task",
    # The proxy's purge on publish (portal/frontend_cache.py).
    "wagtail.contrib.frontend_cache.tasks.purge_urls_from_cache_task",
]

# The reverse proxy's cache of pages anonymous visitors read
# (portal/frontend_cache.py; docs/deploy.md, "The proxy's cache"). Off unless
# FRONTEND_CACHE_URL names nginx's purge address; then those pages are kept
# FRONTEND_CACHE_SECONDS by nginx, and purged when published.
PORTAL_FRONTEND_CACHE_URL = env.str("FRONTEND_CACHE_URL", default="")
PORTAL_FRONTEND_CACHE_SECONDS = env.int("FRONTEND_CACHE_SECONDS", default=300)
# How long each process answers "which site is this request for?" from the
# rows it read, instead of a query per request (portal/sites.py); 0: never.
PORTAL_SITE_CACHE_SECONDS = env.int("SITE_CACHE_SECONDS", default=10)
WAGTAILFRONTENDCACHE = (
    {
        "nginx": {
            "BACKEND": "wagtail.contrib.frontend_cache.backends.HTTPBackend",
            "LOCATION": PORTAL_FRONTEND_CACHE_URL,
        }
    }
    if PORTAL_FRONTEND_CACHE_URL
    else {}
)

# --- Wagtail ---------------------------------------------------------------

WAGTAIL_SITE_NAME = env.str("WAGTAIL_SITE_NAME", default="知识产权培训与人才库")
# The portal's public address, the one source of every absolute link
# (portal/site_url.py). Unset, the development server's: `make run PORT=…`
# exports PORTAL_PORT. Production requires it (deploy check portal.E010).
PORTAL_BASE_URL = env.str(
    "BASE_URL", default=f"http://127.0.0.1:{env.int('PORTAL_PORT', default=8000)}"
).rstrip("/")
WAGTAILADMIN_BASE_URL = PORTAL_BASE_URL
WAGTAILADMIN_LOGIN_URL = "account_login"
# Pages restricted to signed-in users send visitors to allauth's login too.
WAGTAIL_FRONTEND_LOGIN_URL = "account_login"
WAGTAIL_PASSWORD_MANAGEMENT_ENABLED = False
WAGTAIL_PASSWORD_RESET_ENABLED = False
WAGTAILUSERS_PASSWORD_ENABLED = False
WAGTAIL_ENABLE_UPDATE_CHECK = False
WAGTAIL_ENABLE_WHATS_NEW_BANNER = False
# No avatars from gravatar.com: the portal must work on a closed intranet.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAIL_I18N_ENABLED = False
WAGTAILSEARCH_BACKENDS = {
    "default": {"BACKEND": "wagtail.search.backends.database"},
}
WAGTAILDOCS_EXTENSIONS = [
    "pdf",
    "doc",
    "docx",
    "xls",
    "xlsx",
    "ppt",
    "pptx",
    "odt",
    "txt",
    "zip",
    "ofd",
    # Lesson videos and their captions.
    "mp4",
    "webm",
    "ogv",
    "vtt",
]
WAGTAILDOCS_MAX_UPLOAD_SIZE = PORTAL_MAX_UPLOAD_SIZE
WAGTAILIMAGES_MAX_UPLOAD_SIZE = 10 * 1024 * 1024
WAGTAILEMBEDS_RESPONSIVE_HTML = True
WAGTAILDOCS_SERVE_METHOD = "serve_view"
# Wagtail 8's autosave (a draft revision every 500 ms of editing) is off: with
# it on, tests/browser/test_admin_csp.py saw an editor's "Save draft" store a
# page's date as today instead of the date just picked, for some session keys
# and not others. Off until that race is understood; editors save as before.
WAGTAIL_AUTOSAVE_INTERVAL = 0
WAGTAILADMIN_RICH_TEXT_EDITORS = {
    "default": {"WIDGET": "wagtail.admin.rich_text.DraftailRichTextArea"},
}

# --- Security headers --------------------------------------------------------
# On in every environment, so development and the browser tests see what
# production sends (docs/security.md). Content-Security-Policy by django-csp:
# https://django-csp.readthedocs.io/en/latest/configuration.html
# Scripts and styles come only from the portal's own files: no inline <script>,
# no on*= handler, no style= attribute in any template a browser is shown
# (the admin's included).

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # data: for the QR codes and icons that templates inline as data URIs.
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "media-src": ["'self'"],
        # Embedded videos (EmbedBlock) from the origins an operator lists.
        "frame-src": ["'self'", *env.list("CSP_FRAME_SRC", default=[])],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "report-uri": "/csp-report/",
    },
}
# Wagtail's admin (/admin/ only) differs in frames and images only. Scripts
# do not: the inline <script> elements Wagtail writes (inline panels,
# choosers, date pickers) are data attributes here, which
# static/js/admin-init.js acts on (portal/admin_scripts.py). Styles do not
# either: the portal's admin screens take their layout from
# static/css/admin.css (portal/wagtail_hooks.py), never a style= attribute;
# the one exception is a certificate template's HTML preview, whose response
# allows its own <style> by hash (courses/certificates/rendering.py). The
# admin frames its own previews and shows blob: images. Django's admin needs
# no exception.
PORTAL_CSP_ADMIN_PREFIXES = ["/admin/"]
PORTAL_CSP_ADMIN_DIRECTIVES = CONTENT_SECURITY_POLICY["DIRECTIVES"] | {
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:", "blob:"],
    "frame-ancestors": ["'self'"],
}
# Violation reports a browser may post to /csp-report/ per minute and address;
# past that they are dropped unread.
PORTAL_CSP_REPORT_RATE = env.str("CSP_REPORT_RATE", default="30/m")

# Permissions-Policy: browser features no page uses are off. The event
# check-in page turns the camera on for itself (@permissions_policy).
# Fullscreen stays on for the portal's own lesson videos. Security keys
# (publickey-credentials-*) must be turned on here if MFA ever offers WebAuthn.
PERMISSIONS_POLICY = {
    "accelerometer": [],
    "autoplay": [],
    "bluetooth": [],
    "camera": [],
    "display-capture": [],
    "encrypted-media": [],
    "fullscreen": ["self"],
    "geolocation": [],
    "gyroscope": [],
    "hid": [],
    "magnetometer": [],
    "microphone": [],
    "midi": [],
    "payment": [],
    "publickey-credentials-create": [],
    "publickey-credentials-get": [],
    "screen-wake-lock": [],
    "serial": [],
    "usb": [],
    "xr-spatial-tracking": [],
}
# https://docs.djangoproject.com/en/5.2/ref/settings/#secure-referrer-policy
# Other sites see no path or query of the portal (check-in codes, searches).
SECURE_REFERRER_POLICY = "same-origin"

# --- Logging ---------------------------------------------------------------

# Every record gets the id of the request it belongs to (portal/logs.py);
# production writes JSON lines (portal/settings/production.py), development
# this plain text. docs/operations.md, "Health checks and logs".
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "portal.logs.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "wagtail": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "kombu.connection": {"level": "ERROR"},
    },
}
# The client's address in each request's log line (portal.clientip); off by
# default: an address is personal data, and the log needs none to be useful.
PORTAL_LOG_CLIENT_IP = env.bool("LOG_CLIENT_IP", default=False)

PORTAL_DEMO_ADMIN_EMAIL = "admin@example.org"
# `manage.py load_demo` creates accounts whose passwords are in the README and
# a verified enterprise: allowed by dev and test settings only, refused here
# and in production.
PORTAL_DEMO_ALLOWED = False
# Account deletion asks for the password: guesses per signed-in user
# (django-ratelimit's format; portal/views.py account_delete).
PORTAL_ACCOUNT_DELETE_RATE = env.str("ACCOUNT_DELETE_RATE", default="5/5m")
# Downloads of "my data" (a JSON file of everything held about the user) per
# signed-in user (portal/views.py personal_data_download).
PORTAL_PERSONAL_DATA_RATE = env.str("PERSONAL_DATA_RATE", default="5/h")

# --- Retention of personal data (docs/privacy.md) ----------------------------
# The privacy notice renders these numbers (portal.privacy.retention_periods):
# change one here (or in the environment) and the notice says the new one.
# Contact requests: after this many days from sending, a request that is no
# longer waiting for the expert loses its message and the expert's note (beat
# task talentpool.tasks.contact_requests_purge, daily).
CONTACT_REQUEST_RETENTION_DAYS = env.int("CONTACT_REQUEST_RETENTION_DAYS", default=365)
# Application logs: the processes write to stdout; deploy/systemd appends it
# to /var/log/ip-portal/, which deploy/logrotate/ip-portal keeps this many
# days (its rotate and maxage: keep them in step). The notice states it.
PORTAL_LOG_RETENTION_DAYS = env.int("LOG_RETENTION_DAYS", default=180)

# --- Certificate signing ---------------------------------------------------
# docs/configuration.md, "Certificate signing": with a key and certificate
# (PEM/DER files, or one PKCS#12 file) every certificate PDF is signed (PAdES
# B-B). Unset: PDFs are not signed. A file that cannot be used stops the
# start-up (system check courses.E101).

PORTAL_CERTIFICATE_SIGNING_KEY = env.str("PORTAL_CERTIFICATE_SIGNING_KEY", default="")
PORTAL_CERTIFICATE_SIGNING_CERT = env.str("PORTAL_CERTIFICATE_SIGNING_CERT", default="")
PORTAL_CERTIFICATE_SIGNING_CHAIN = env.str(
    "PORTAL_CERTIFICATE_SIGNING_CHAIN", default=""
)
PORTAL_CERTIFICATE_SIGNING_PKCS12 = env.str(
    "PORTAL_CERTIFICATE_SIGNING_PKCS12", default=""
)
PORTAL_CERTIFICATE_SIGNING_PASSPHRASE = env.str(
    "PORTAL_CERTIFICATE_SIGNING_PASSPHRASE", default=""
)
# An RFC 3161 timestamp server (PAdES B-T); unset: no network access at all.
PORTAL_CERTIFICATE_TSA_URL = env.str("PORTAL_CERTIFICATE_TSA_URL", default="")

# --- The client's address ------------------------------------------------------
# docs/configuration.md, "The reverse proxy": how many proxies of ours append to
# X-Forwarded-For in front of the portal (nginx as documented: 1). 0 reads
# REMOTE_ADDR only. Every per-address limit (allauth's and django-ratelimit's)
# asks portal.clientip.client_ip, which reads this.
PORTAL_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if env.str("RATELIMIT_IP_META_KEY", default=""):
    # The old variable named one header for django-ratelimit only; ignoring it
    # silently would put every visitor behind the proxy into one limit.
    raise environ.ImproperlyConfigured(
        "RATELIMIT_IP_META_KEY is no longer read: unset it and set "
        "TRUSTED_PROXY_COUNT (docs/configuration.md)."
    )

# --- Certificate verification rate limits ------------------------------------
# https://django-ratelimit.readthedocs.io/en/stable/settings.html
# The public verification page, look-up form and JSON API count requests per
# client IP in the shared cache above (Redis, or the database table), so all
# web processes agree. Over the limit they answer 429 themselves
# (courses/certificates/views.py); no RATELIMIT_VIEW or exception class is set,
# so other views' 403 pages are unchanged. The client IP is the portal's one
# answer (above), not a header django-ratelimit picks itself.
RATELIMIT_USE_CACHE = "default"
RATELIMIT_IP_META_KEY = "portal.clientip.client_ip"
PORTAL_CERTIFICATE_RATE_LIMITS = {
    "pages": env.str("CERTIFICATE_VERIFY_RATE", default="30/m"),
    "lookup": env.str("CERTIFICATE_LOOKUP_RATE", default="10/m"),
    "api": env.str("CERTIFICATE_API_RATE", default="30/m"),
}
# Sign-ups by e-mail address without an account, per client address
# (subscriptions/views.py email_signup; each address also gets at most one
# confirmation e-mail an hour, subscriptions.services.CONFIRM_RESEND_AFTER).
PORTAL_SUBSCRIBE_RATE = env.str("SUBSCRIBE_RATE", default="5/m,20/h")
# The talent pool's search page, profiles and API: one budget per client
# (the signed-in user, else the client address) counted across all three
# (talentpool/views.py; docs/security.md, "Scraping the talent pool").
# Optional per-kind caps inside the budget when set: search, profile, api.
PORTAL_TALENT_RATE_LIMITS = {"budget": env.str("TALENT_RATE", default="60/m,1000/d")}
for _kind in ("search", "profile", "api"):
    if _kind_rate := env.str(f"TALENT_{_kind.upper()}_RATE", default=""):
        PORTAL_TALENT_RATE_LIMITS[_kind] = _kind_rate
# Distinct expert profiles (page or API) a client may open per day
# (Asia/Shanghai); a user of a verified enterprise gets the second figure.
PORTAL_TALENT_DAILY_PROFILES = env.int("TALENT_DAILY_PROFILES", default=100)
PORTAL_TALENT_DAILY_PROFILES_MEMBER = env.int(
    "TALENT_DAILY_PROFILES_MEMBER", default=1000
)
# Wagtail's form for password-protected pages, per client address.
PORTAL_PAGE_PASSWORD_RATE = env.str("PAGE_PASSWORD_RATE", default="10/m")
# Contact requests one enterprise may send a day (Asia/Shanghai days); an
# enterprise's own cap, set by a reviewer, wins.
PORTAL_TALENT_DAILY_REQUESTS = env.int("TALENT_DAILY_REQUESTS", default=5)
