#!/usr/bin/env bash
# Gunicorn's own ASGI worker (-k asgi, Gunicorn 24+) beside uvicorn's Gunicorn worker, side by side on
# loopback with the sample project's ASGI app: throughput and latency with wrk (bounded: 10 s, 32
# connections), then a graceful stop with four 1.5 s requests in flight. Run under the servers' lock:
#   flock /tmp/cdk-django-servers.lock benchmarks/asgi-workers.sh [<venv>/bin]
set -euo pipefail
cd "$(dirname "$0")/../examples/mysite"
BIN=$(cd "${1:-../../.venv/bin}" && pwd)
export DJANGO_SECRET_KEY=bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz DJANGO_ALLOWED_HOSTS=app.example.test \
  PYTHONDONTWRITEBYTECODE=1 HOME=$(mktemp -d)
H=(-H 'Host: app.example.test' -H 'X-Forwarded-Proto: https')
for worker in ${WORKERS:-uvicorn.workers.UvicornWorker asgi}; do
  "$BIN/gunicorn" config.asgi:application --bind=127.0.0.1:8000 --worker-class=$worker --workers=2 \
    --keep-alive=65 --graceful-timeout=20 --forwarded-allow-ips='*' --worker-tmp-dir=/dev/shm \
    --log-level=warning > "$HOME/$worker.log" 2>&1 &
  pid=$!
  for _ in $(seq 50); do curl -fs "${H[@]}" -o /dev/null http://127.0.0.1:8000/healthz && break; sleep 0.2; done
  wrk -t2 -c32 -d3s "${H[@]}" http://127.0.0.1:8000/ > /dev/null # warm-up
  echo "=== $worker ($("$BIN/python3" -c 'import gunicorn, uvicorn; print("gunicorn", gunicorn.__version__, "uvicorn", uvicorn.__version__)'))"
  wrk -t2 -c32 -d10s --latency "${H[@]}" http://127.0.0.1:8000/ | grep -E 'Requests/sec|Latency|50%|99%|Socket errors|Non-2xx'
  for i in 1 2 3 4; do curl -s "${H[@]}" -o /dev/null -w "%{http_code}\n" "http://127.0.0.1:8000/slow?s=1.5" > "$HOME/slow$i" & done
  sleep 0.4; kill -TERM $pid; wait $pid || true; wait
  echo "in-flight on SIGTERM: $(cat "$HOME"/slow* | grep -c '^200$') of 4 answered 200"
  rm -f "$HOME"/slow*
done
