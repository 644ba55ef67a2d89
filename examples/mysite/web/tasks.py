import os
import time

from celery import shared_task


@shared_task
def add(x, y):
    return x + y


@shared_task
def slow_mark(seconds, path):
    """Sleeps, then writes `path`: the suite sends SIGTERM while it sleeps and checks the file appears."""
    time.sleep(float(seconds))
    with open(path, "w") as f:
        f.write("done pid=%d" % os.getpid())
    return "done"
