#!/usr/bin/env bash
# Fetch the web-map libraries the interoperability tests drive in headless Chromium into
# build/test-vendor/ (gitignored): MapLibre GL JS, the library of the web maps on other origins
# (a bureau's 一张图 portal, a park's site) that must be able to use landgis (SPEC §8.1, §8.2).
#
# Why not maps/assets/vendor/: landgis itself does not serve MapLibre (its maps are Leaflet);
# only the tests load it, on a page of another origin. Like scripts/fetch-map-assets.sh it comes
# from the npm registry with `npm pack` at install time, never from a CDN, pinned here, and a
# package already unpacked at the wanted version is skipped (no network on a second run).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENDOR="$ROOT/build/test-vendor"
PACKAGES=(
  "maplibre-gl@6.20.0"
  "maplibre-gl@5.24.1"
)

mkdir -p "$VENDOR"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for spec in "${PACKAGES[@]}"; do
  name="${spec%@*}"
  version="${spec##*@}"
  dest="$VENDOR/$name-$version"
  if [[ -f "$dest/.landgis-version" ]]; then
    continue
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "test assets: npm is needed to fetch $spec (apt-get install -y npm)" >&2
    exit 1
  fi
  echo "test assets: fetching $spec from the npm registry"
  tarball="$(cd "$work" && npm pack --silent "$spec" 2>/dev/null | tail -n 1)"
  rm -rf "$work/package" "$dest.tmp"
  tar --warning=no-unknown-keyword -xzf "$work/$tarball" -C "$work"
  mv "$work/package" "$dest.tmp"
  rm -rf "$dest"
  mv "$dest.tmp" "$dest"
  echo "$version" > "$dest/.landgis-version"
  rm -f "$work/$tarball"
done
echo "test assets: ${#PACKAGES[@]} package(s) present in $VENDOR"
