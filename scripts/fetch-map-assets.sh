#!/usr/bin/env bash
# Vendor Leaflet and every Leaflet plugin the maps use into maps/assets/vendor/ (gitignored).
#
# Why: maps must work on the bureau's intranet with no internet (SPEC §9), so landgis serves
# these files itself (/static/maps/vendor/...) and inlines them into saved maps. They come from
# the npm registry with `npm pack` at install time, never from a CDN at run time.
#
# Idempotent and offline-safe: a package whose wanted version is already unpacked is skipped,
# so a second run makes no network request. Versions are pinned here and in maps/assets.py.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENDOR="$ROOT/maps/assets/vendor"
PACKAGES=(
  "leaflet@1.9.4"
  "leaflet.fullscreen@3.0.0"
  "leaflet-measure@2.1.7"
  "leaflet-search@2.9.7"
  "leaflet.vectorgrid@1.3.0"
  "pmtiles@4.3.0"  # reads `landgis tiles` packs by HTTP range requests (maps/pack_map.py; BSD-3-Clause)
)

mkdir -p "$VENDOR"
missing=()
for spec in "${PACKAGES[@]}"; do
  name="${spec%@*}"
  version="${spec##*@}"
  stamp="$VENDOR/$name/.landgis-version"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$version" ]]; then
    continue
  fi
  missing+=("$spec")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "map assets: all ${#PACKAGES[@]} packages present in $VENDOR"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "map assets: npm is needed to fetch ${missing[*]} (apt-get install -y npm)" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for spec in "${missing[@]}"; do
  name="${spec%@*}"
  version="${spec##*@}"
  echo "map assets: fetching $spec from the npm registry"
  tarball="$(cd "$work" && npm pack --silent "$spec" 2>/dev/null | tail -n 1)"
  rm -rf "$work/package" "$VENDOR/$name.tmp"
  tar --warning=no-unknown-keyword -xzf "$work/$tarball" -C "$work"
  mv "$work/package" "$VENDOR/$name.tmp"
  rm -rf "$VENDOR/$name"
  mv "$VENDOR/$name.tmp" "$VENDOR/$name"
  echo "$version" > "$VENDOR/$name/.landgis-version"
  rm -f "$work/$tarball"
done
echo "map assets: ${#missing[@]} package(s) installed into $VENDOR"
