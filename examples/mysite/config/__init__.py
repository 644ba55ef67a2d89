# Loads the Celery app with Django, so @shared_task binds to it in the web code that enqueues.
from .celery import app as celery_app

__all__ = ("celery_app",)
