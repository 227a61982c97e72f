#!/usr/bin/env bash
# The whole test suite: lint (Biome), type-check and build, make sure Debian's Chromium is there for the
# browser test of the HTML report, then every *.test.js (one file at a time: timing-sensitive
# integration tests share two cores).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the report browser test (once)…"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "could not install chromium; the browser test will say so"
fi
npm run --silent lint
npx tsc -p .
mapfile -t files < <(find dist/src dist/test -name '*.test.js' | sort)
node --test --test-concurrency=1 "${files[@]}"
