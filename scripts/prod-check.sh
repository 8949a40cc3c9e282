#!/usr/bin/env bash
# `make prod-check`: the production settings as a deployment runs them.
#   1. Django's deployment checks at warning level (portal's own among them:
#      BASE_URL, broker and cache passwords, certificate fonts);
#   2. no model change without its migration;
#   3. the static files collected with the production storage (hashed names,
#      compressed copies), which fails on a reference to a missing file.
# On a server, run it with the deployment's environment file loaded. Without
# one (CI, a developer's machine) it loads the template the deployment starts
# from, deploy/ip-portal.env.example, so the template itself must pass; it
# says so on the first line, and the static files go to a throwaway folder.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

export DJANGO_SETTINGS_MODULE=portal.settings.production
if [ -z "${SECRET_KEY:-}" ]; then
  echo "prod-check: no deployment environment; using deploy/ip-portal.env.example with a new SECRET_KEY, SQLite and a throwaway folder"
  set -a
  # shellcheck source=../deploy/ip-portal.env.example
  . deploy/ip-portal.env.example
  set +a
  SECRET_KEY="$($PY -c 'import secrets; print(secrets.token_urlsafe(50))')"
  unset DATABASE_URL
  PORTAL_VAR_DIR="$(mktemp -d)"
  export SECRET_KEY PORTAL_VAR_DIR
  trap 'rm -rf "$PORTAL_VAR_DIR"' EXIT
fi
$PY manage.py check --deploy --fail-level WARNING
$PY manage.py makemigrations --check --dry-run
$PY manage.py collectstatic --noinput --verbosity 0
echo "prod-check: deployment checks pass, no migration missing, static files collected"
