#!/usr/bin/env bash
# Checks the system libraries the portal needs and installs what is missing
# with apt-get when it can; otherwise says exactly what to install.
#   scripts/system-deps.sh run    Pango, HarfBuzz's subsetter, the certificate's fonts, gettext
#   scripts/system-deps.sh test   the same, plus Chromium for browser tests, Poppler and ZBar
set -euo pipefail
purpose="${1:-run}"
missing=()

have_lib() { ldconfig -p 2>/dev/null | grep -q "$1"; }

have_lib 'libpango-1.0.so.0' || missing+=(libpango-1.0-0)
have_lib 'libpangoft2-1.0.so.0' || missing+=(libpangoft2-1.0-0)
# Without it WeasyPrint silently falls back to a Python font subsetter and a
# page with Chinese text takes seconds instead of a fraction of one.
have_lib 'libharfbuzz-subset.so.0' || missing+=(libharfbuzz-subset0)
# The certificate's fonts (portal/fonts.py, FAMILIES): Noto
# Serif CJK SC, then HanaMinA/HanaMinB for CJK Extensions A-F and BabelStone
# Han for Extension G and later. A name with a character none of them has is
# refused when entered; fc-list is how the portal finds them.
have_family() { command -v fc-list >/dev/null && fc-list ":family=$1" family | grep -q .; }
command -v fc-list >/dev/null || missing+=(fontconfig)
have_family 'Noto Serif CJK SC' || missing+=(fonts-noto-cjk)
have_family 'HanaMinB' || missing+=(fonts-hanazono)
have_family 'BabelStone Han' || missing+=(fonts-babelstone-han)
command -v msgfmt >/dev/null || missing+=(gettext)
# ffprobe reads the length of uploaded lesson videos (courses/media.py); the
# tests make their videos with ffmpeg.
command -v ffprobe >/dev/null || missing+=(ffmpeg)
if [ "$purpose" = "test" ]; then
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  command -v pdftoppm >/dev/null || missing+=(poppler-utils)
  # The tests read QR codes back as a phone would, with ZBar.
  command -v zbarimg >/dev/null || missing+=(zbar-tools)
  # The backup tests dump and restore a PostgreSQL database (docs/backups.md).
  command -v pg_dump >/dev/null || missing+=(postgresql-client)
  # The deployment's files are checked by the programs that read them, and the
  # small-cluster test runs nginx in front of two gunicorns (docs/deploy.md).
  command -v nginx >/dev/null || missing+=(nginx-light)
  [ -e /usr/lib/nginx/modules/ngx_http_cache_purge_module.so ] || missing+=(libnginx-mod-http-cache-purge)
  command -v systemd-analyze >/dev/null || missing+=(systemd)
  command -v logrotate >/dev/null || missing+=(logrotate)
  command -v openssl >/dev/null || missing+=(openssl)
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "System packages needed: ${missing[*]}"
if command -v apt-get >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    SUDO=""
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    echo "Install them, then run make again:"
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "Installed: ${missing[*]}"
else
  echo "This is not a Debian-like system. Install the equivalents of:"
  echo "  ${missing[*]}"
  echo "(Pango >= 1.44, HarfBuzz >= 6 with libharfbuzz-subset, fontconfig, the fonts Noto Serif CJK SC, HanaMinA and HanaMinB (Hanazono), BabelStone Han, GNU gettext)"
  exit 1
fi
