#!/usr/bin/env bash
# `make prod-check`: the production settings as a deployment runs them.
#   1. Django's deployment checks at warning level (portal's own among them:
#      BASE_URL, broker and cache passwords, certificate fonts);
#   2. no model change without its migration;
#   3. the static files collected with the production storage (hashed names,
#      compressed copies), which fails on a reference to a missing file.
# On a server, run it with the deployment's environment file loaded. Without
# one (CI, a developer's machine) the required variables get example values,
# said so on the first line; the static files then go to a throwaway folder.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

export DJANGO_SETTINGS_MODULE=portal.settings.production
if [ -z "${SECRET_KEY:-}" ]; then
  echo "prod-check: no deployment environment; using example values (SECRET_KEY, BASE_URL, …)"
  SECRET_KEY="$($PY -c 'import secrets; print(secrets.token_urlsafe(50))')"
  export SECRET_KEY
  export ALLOWED_HOSTS="${ALLOWED_HOSTS:-portal.example.org}"
  export BASE_URL="${BASE_URL:-https://portal.example.org}"
  export EMAIL_URL="${EMAIL_URL:-smtp+tls://portal:secret@smtp.example.org:587}"
  PORTAL_VAR_DIR="$(mktemp -d)"
  export PORTAL_VAR_DIR
  trap 'rm -rf "$PORTAL_VAR_DIR"' EXIT
fi

$PY manage.py check --deploy --fail-level WARNING
$PY manage.py makemigrations --check --dry-run
$PY manage.py collectstatic --noinput --verbosity 0
echo "prod-check: deployment checks pass, no migration missing, static files collected"
