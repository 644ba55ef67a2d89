import asyncio
import json
import os
import time

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt


def _response(body, content_type="application/json"):
    response = HttpResponse(body, content_type=content_type)
    response["X-Served-By"] = "django"  # tells the tests a request reached a Django view
    response["X-Worker-Pid"] = str(os.getpid())  # which worker process answered (the benchmark's spread)
    return response


def index(request):
    return _response(json.dumps({"hello": "world", "secure": request.is_secure()}))


def healthz(request):
    # The secure flag shows whether the proxy's X-Forwarded-Proto reached Django (the exemption
    # in settings only matters without a proxy).
    return _response("ok secure=%s host=%s" % (request.is_secure(), request.get_host()), "text/plain")


def slow(request):
    time.sleep(float(request.GET.get("s", "1.5")))
    return _response("slept", "text/plain")


def cpu(request):
    """CPU-bound JSON: builds and serializes n rows (about a millisecond of one core for the default 200)."""
    n = min(int(request.GET.get("n", "200")), 5000)
    rows = [{"id": i, "name": "item-%d" % i, "score": (i * 7919) % 1000 / 10, "tags": ["a", "b", str(i % 7)]} for i in range(n)]
    return _response(json.dumps({"count": n, "total": sum(r["score"] for r in rows), "rows": rows}))


async def async_slow(request):
    """An async view waiting on I/O without holding a thread (ASGI): asyncio.sleep(s), 50 ms by default."""
    started = time.time()
    await asyncio.sleep(float(request.GET.get("s", "0.05")))
    response = _response("slept", "text/plain")
    # When the view ran (the suite checks that concurrent requests overlap under ASGI).
    response["X-View-Span"] = "%.6f-%.6f" % (started, time.time())
    return response


@csrf_exempt
def upload(request):
    return _response(json.dumps({"bytes": len(request.body)}))


def whoami(request):
    return _response(json.dumps({"host": request.get_host(), "secure": request.is_secure(), "remote": request.META.get("REMOTE_ADDR")}))


def dbcheck(request):
    """One query and one cache round trip: fails (500) when the credentials the process holds are refused."""
    from django.core.cache import cache
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT session_user, current_user, pg_backend_pid()")
        session_user, current_user, backend = cursor.fetchone()
    cache.set("dbcheck", session_user, 60)
    return _response(json.dumps({
        "db_user": session_user, "db_role": current_user, "db_backend": backend,
        "cache": cache.get("dbcheck"), "pid": os.getpid(),
    }))


def enqueue(request):
    """Enqueues a task from the web code (what a real view does) and returns its id."""
    from web import tasks

    if request.GET.get("task") == "slow":
        result = tasks.slow_mark.delay(request.GET["s"], request.GET["path"])
    else:
        result = tasks.add.delay(int(request.GET.get("x", "2")), int(request.GET.get("y", "3")))
    return _response(json.dumps({"id": result.id}))


def task_result(request, task_id):
    from celery.result import AsyncResult

    result = AsyncResult(task_id)
    return _response(json.dumps({"state": result.state, "result": result.result if result.successful() else None}))
