# The Celery app the worker and beat commands load (`celery --app=config`), configured from the
# CELERY_* Django settings (the README's data-tier block sets the broker from the construct's variables).
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
