#!/usr/bin/env bash
# `npx projen bench:recycling-versions`: which Gunicorn releases reset connections when a gthread worker
# recycles. For each version, a copy of the floor venv (.venv-floor, everything else at the floor) gets
# that Gunicorn, and `npx projen bench`'s recycling part runs on it (gthread ALB-direct, max-requests
# 100 with jitter and fixed, the mix profile, 3 figures each). Writes benchmarks/results/recycling-versions.md.
#   benchmarks/recycling-versions.sh [version ...]
set -euo pipefail
cd "$(dirname "$0")/.."
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(23.0.0 24.1.1 25.0.0 26.2.0 27.0.0 27.0.1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=benchmarks/results/recycling-versions.md
rows=()
for v in "${versions[@]}"; do
  cp -a .venv-floor "$work/$v"
  # pip rewrites the gunicorn script with the copy's own interpreter, so the copy runs its own Gunicorn.
  "$work/$v/bin/python" -m pip install --quiet --no-deps --force-reinstall --disable-pip-version-check "gunicorn==$v"
  CDK_DJANGO_PYTHON_BIN="$work/$v/bin" taskset -c 1 npx tsx benchmarks/run.ts --part recycling --json "$work/$v.json" >&2
  rows+=("$("$work/$v/bin/python" - "$v" "$work/$v.json" <<'PY'
import json, sys
v, path = sys.argv[1], sys.argv[2]
cells = []
for r in json.load(open(path)):
    rps = sorted(round(x) for x in r["rps"])
    cells.append(f"{r['layout']}: {', '.join(map(str, r['failed']))} failed, {rps[len(rps) // 2]} req/s")
print(f"| {v} | " + " | ".join(cells) + " |")
PY
)")
  rm -rf "${work:?}/$v"
done
{
  echo "# Gunicorn worker recycling by release"
  echo
  echo "Written by benchmarks/recycling-versions.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ). Each row: the floor venv (Python $(.venv-floor/bin/python -c 'import platform; print(platform.python_version())'), Django $(.venv-floor/bin/python -c 'import django; print(django.__version__)')) with that Gunicorn; gthread facing the ALB, max-requests 100, the mix profile, 1 vCPU; failed requests per figure (3 figures), median req/s."
  echo
  echo "| gunicorn | with jitter | fixed |"
  echo "|---|---|---|"
  printf '%s\n' "${rows[@]}"
} > "$out"
echo "wrote $out"
