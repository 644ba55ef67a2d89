# The sample project the integration suite deploys: settings wired from the library's environment
# variables exactly as the README tells users to wire theirs (the cdk-django blocks are the README's).
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "django.contrib.staticfiles", "channels", "web"]
MIDDLEWARE = ["django.middleware.security.SecurityMiddleware", "django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
DATABASES = {}
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- cdk-django: settings ---
# On ECS the construct sets the DJANGO_* variables; without them (manage.py runserver) this is local development.
import os
DEBUG = os.environ.get("DJANGO_DEBUG", "true") == "true"  # the construct always passes DJANGO_DEBUG=false
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"] if not DEBUG else os.environ.get("DJANGO_SECRET_KEY", "django-insecure-local-development-only")
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")  # the load balancer terminates TLS
# Static files: collectstatic (in the Dockerfile) gathers them into STATIC_ROOT, WhiteNoise serves them.
STATIC_URL = os.environ.get("DJANGO_STATIC_URL", "/static/")
STATIC_ROOT = BASE_DIR / "staticfiles"
# Behind HTTPS (a certificate on the load balancer): redirect plain HTTP, and keep cookies off it.
SECURE_SSL_REDIRECT = SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = any(o.startswith("https://") for o in CSRF_TRUSTED_ORIGINS)
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "whitenoise.middleware.WhiteNoiseMiddleware")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
import django
if django.VERSION >= (6, 0):  # Content Security Policy, built into Django 6.0+: reported, not yet enforced
    from django.utils.csp import CSP
    MIDDLEWARE.append("django.middleware.csp.ContentSecurityPolicyMiddleware")
    SECURE_CSP_REPORT_ONLY = {"default-src": [CSP.SELF]}
# --- end cdk-django: settings ---


# --- cdk-django: ECS task IP ---
import json, urllib.request
def _ecs_task_ips():
    uri = os.environ.get("ECS_CONTAINER_METADATA_URI_V4")
    if not uri:
        return []
    try:
        with urllib.request.urlopen(uri + "/task", timeout=2) as response:
            task = json.load(response)
        return [ip for c in task.get("Containers", []) for n in c.get("Networks", []) for ip in n.get("IPv4Addresses", [])]
    except Exception:
        return []
ALLOWED_HOSTS += _ecs_task_ips()
# The ALB's health check sends no X-Forwarded-Proto: keep SECURE_SSL_REDIRECT off the health path.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# --- end cdk-django: ECS task IP ---

# --- cdk-django: data tier ---
if os.environ.get("DATABASE_HOST"):  # DjangoDatabase
    DATABASES = {"default": {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": os.environ["DATABASE_HOST"],
        "PORT": os.environ["DATABASE_PORT"],
        "NAME": os.environ["DATABASE_NAME"],
        "USER": os.environ["DATABASE_USER"],
        "PASSWORD": os.environ["DATABASE_PASSWORD"],
        "CONN_MAX_AGE": int(os.environ.get("DJANGO_CONN_MAX_AGE", "0")),
        "CONN_HEALTH_CHECKS": os.environ.get("DJANGO_CONN_HEALTH_CHECKS") == "true",  # Django 4.1+
        "OPTIONS": {"sslmode": os.environ.get("DATABASE_SSLMODE", "require")},
    }}
if os.environ.get("REDIS_URL"):  # DjangoCache: the Django cache and the Channels layer
    from urllib.parse import quote
    # The AUTH token goes into the URL: channels_redis before 4.1 ignores a host dict's "password".
    REDIS = os.environ["REDIS_URL"].replace("://", "://:%s@" % quote(os.environ.get("REDIS_PASSWORD", ""), safe=""), 1)
    CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": REDIS}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS]}}}
    # Celery on the cache: rediss:// needs ssl_cert_reqs (ElastiCache's certificate chains to a public CA).
    CELERY_BROKER_URL = CELERY_RESULT_BACKEND = REDIS + ("?ssl_cert_reqs=required" if REDIS.startswith("rediss:") else "")
if os.environ.get("CELERY_SQS_QUEUES"):  # DjangoTaskQueue: Celery on SQS (pip install "celery[sqs]"), the task role's credentials
    import json
    CELERY_BROKER_URL = "sqs://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "region": os.environ["CELERY_SQS_REGION"],
        "visibility_timeout": int(os.environ["CELERY_VISIBILITY_TIMEOUT"]),
        "predefined_queues": {name: {"url": url} for name, url in json.loads(os.environ["CELERY_SQS_QUEUES"]).items()},
    }
# A task goes back to the queue if its worker dies mid-run (tasks must be idempotent), not if it raised.
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# --- end cdk-django: data tier ---

# The sample's own: the suite checks the redirect without a certificate, collects into a temp dir,
# and uploads 5 MB bodies.
SECURE_SSL_REDIRECT = True
STATIC_ROOT = os.environ.get("SAMPLE_STATIC_ROOT", STATIC_ROOT)
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024

USE_TZ = True
LOGGING = {"version": 1, "disable_existing_loggers": False, "handlers": {"console": {"class": "logging.StreamHandler"}},
           "root": {"handlers": ["console"], "level": "WARNING"}, "loggers": {"celery": {"level": "INFO"}}}
