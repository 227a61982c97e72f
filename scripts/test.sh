#!/usr/bin/env bash
# The whole test suite: lint (Biome), type-check and build, make sure Debian's Chromium (the browser test
# of the HTML report), haproxy (the canary test's load balancer) and prometheus (the monitoring and live-metrics tests) are
# there, then every *.test.js (one file at a time: timing-sensitive integration tests share two cores).
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# haproxy: the real load balancer of the canary test (test/haproxy-canary.test.ts); Debian puts it in /usr/sbin.
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
# prometheus: the real server of the monitoring tests (test/prometheus-*.test.ts, test/monitor-run.test.ts) and of
# test/live-metrics.test.ts (it scrapes `preflight run --metrics-port`).
command -v prometheus >/dev/null 2>&1 || [ -x /usr/bin/prometheus ] || missing+=(prometheus)
# prometheus-alertmanager: the real Alertmanager of the alert checks' test (test/alertmanager-checks.test.ts).
command -v prometheus-alertmanager >/dev/null 2>&1 || [ -x /usr/bin/prometheus-alertmanager ] || missing+=(prometheus-alertmanager)
# nats-server: the JetStream server the scale-out tests merge workers' results through (test/scale-out-*.test.ts).
command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || missing+=(nats-server)
# openssl: makes the self-signed and soon-to-expire certificates of the TLS checks' tests.
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if [ "${#missing[@]}" -gt 0 ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's ${missing[*]} for the browser and load-balancer tests (once)…"
  apt-get update -qq || true
  for p in "${missing[@]}"; do
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p" >/dev/null || echo "could not install $p; its test will say so"
  done
fi
npm run --silent lint
npx tsc -p .
mapfile -t files < <(find dist/src dist/test -name '*.test.js' | sort)
node --test --test-concurrency=1 "${files[@]}"
