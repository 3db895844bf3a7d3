#!/usr/bin/env bash
# Install and start what the test suite needs from Debian packages: PostgreSQL 15 + PostGIS 3,
# Chromium and CJK fonts for the map tests, npm for the vendored map assets, poppler-utils for the print sheets.
# Idempotent: on a machine that already has them it only checks the cluster is up.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

need_apt=()
command -v pg_ctlcluster >/dev/null 2>&1 || need_apt+=(postgresql-15)
ls /usr/share/postgresql/15/extension/postgis.control >/dev/null 2>&1 || need_apt+=(postgresql-15-postgis-3)
# headless-browser map tests (Debian chromium, never a downloaded browser) and CJK glyphs for screenshots
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
ls /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc >/dev/null 2>&1 || need_apt+=(fonts-noto-cjk)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
# print sheets (issue 20): pdftotext/pdftoppm read the rendered PDFs
command -v pdftotext >/dev/null 2>&1 || need_apt+=(poppler-utils)
# interoperability (issue 18): Debian's GDAL 3.6 command line, the GDAL stock QGIS is built on
command -v ogrinfo >/dev/null 2>&1 || need_apt+=(gdal-bin)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing ${need_apt[*]} (Debian packages)…"
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! pg_lsclusters 2>/dev/null | grep -q '^15 *main'; then
  pg_createcluster 15 main >/dev/null
fi
if ! pg_lsclusters | grep -q '^15 *main.*online'; then
  pg_ctlcluster --skip-systemctl-redirect 15 main start
fi
for _ in $(seq 1 30); do
  pg_isready -h 127.0.0.1 -p 5432 -q && break
  sleep 1
done

PGURL_ADMIN=${LANDGIS_PG_ADMIN:-postgresql://postgres@127.0.0.1:5432/postgres}
DB=${LANDGIS_TEST_DB:-landgis_test}
psql "$PGURL_ADMIN" -qtAc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1 || psql "$PGURL_ADMIN" -qc "CREATE DATABASE $DB"
psql "${PGURL_ADMIN%/*}/$DB" -qc "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null
echo "PostGIS ready: ${PGURL_ADMIN%/*}/$DB"
