#!/usr/bin/env bash
# End-to-end load figures on loopback: the demo's router (auth-bench-e2e-server) serving
# GET /health and GET /bench/me (no auth; /bench/me answers the JSON /api/me answers) and
# GET /api/me (BearerLayer, HS256), without and with the
# verified-token cache, loaded by wrk for a bounded time per row. Rows alternate over ROUNDS
# rounds so machine drift hits them alike; the script prints requests per second per row and
# the share of each bare route's rate that /api/me keeps on the same server.
#
#   bash bench/e2e.sh            # 3 rounds x 4 rows x 5 s
#   DURATION=10 ROUNDS=5 bash bench/e2e.sh
#
# Traffic goes to 127.0.0.1 only. Not run by CI.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-32}
PORT_COLD=${PORT_COLD:-3901}
PORT_WARM=${PORT_WARM:-3902}

if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)" >&2
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
cargo build --release -q -p auth-bench --bin auth-bench-e2e-server
BIN=target/release/auth-bench-e2e-server

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

start() { # port token-file [--cache]; not in a subshell, so the trap knows the pid
  "$BIN" "127.0.0.1:$1" ${3:-} >"$2" &
  pids+=($!)
  for _ in $(seq 50); do [ -s "$2" ] && break; sleep 0.1; done
}
tmp=$(mktemp -d)
start "$PORT_COLD" "$tmp/cold"
start "$PORT_WARM" "$tmp/warm" --cache
TOKEN_COLD=$(head -n1 "$tmp/cold")
TOKEN_WARM=$(head -n1 "$tmp/warm")
sleep 0.5

# wrk: one thread (the server has one worker; 2 cores), CONNECTIONS keep-alive connections.
run() { # url [token]
  local hdr=()
  [ -n "${2:-}" ] && hdr=(-H "Authorization: Bearer $2")
  wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "${hdr[@]}" "$1" | awk '/Requests\/sec/ {print $2}'
}
# Every row must answer 200.
for u in "http://127.0.0.1:$PORT_COLD/health" "http://127.0.0.1:$PORT_WARM/health" "http://127.0.0.1:$PORT_COLD/bench/me"; do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$u")" = 200 ]
done
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN_COLD" "http://127.0.0.1:$PORT_COLD/api/me")" = 200 ]
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN_WARM" "http://127.0.0.1:$PORT_WARM/api/me")" = 200 ]
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT_COLD/api/me")" = 401 ]

declare -A sum
rows=("cold /health" "cold /bench/me" "cold /api/me" "warm /health" "warm /bench/me" "warm /api/me")
for r in $(seq "$ROUNDS"); do
  for row in "${rows[@]}"; do
    case "$row" in
      "cold /health") v=$(run "http://127.0.0.1:$PORT_COLD/health") ;;
      "cold /bench/me") v=$(run "http://127.0.0.1:$PORT_COLD/bench/me") ;;
      "cold /api/me") v=$(run "http://127.0.0.1:$PORT_COLD/api/me" "$TOKEN_COLD") ;;
      "warm /health") v=$(run "http://127.0.0.1:$PORT_WARM/health") ;;
      "warm /bench/me") v=$(run "http://127.0.0.1:$PORT_WARM/bench/me") ;;
      "warm /api/me") v=$(run "http://127.0.0.1:$PORT_WARM/api/me" "$TOKEN_WARM") ;;
    esac
    echo "round $r: $row $v req/s" >&2
    sum[$row]="${sum[$row]:-} $v"
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo
echo "e2e on 127.0.0.1, $(nproc) cores, wrk -t1 -c$CONNECTIONS -d${DURATION}s, $ROUNDS rounds (median req/s)"
echo
echo "| server | route | req/s | share of /health | share of /bench/me |"
echo "|---|---|---:|---:|---:|"
for mode in cold warm; do
  h=$(echo "${sum[$mode /health]}" | median)
  b=$(echo "${sum[$mode /bench/me]}" | median)
  m=$(echo "${sum[$mode /api/me]}" | median)
  label=$([ "$mode" = cold ] && echo "no token cache (every request verified)" || echo "token cache (hit)")
  pct() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0f%%", 100*a/b}'; }
  echo "| $label | /health (bare) | $h | 100% | $(pct "$h" "$b") |"
  echo "| $label | /bench/me (bare, same JSON as /api/me) | $b | $(pct "$b" "$h") | 100% |"
  echo "| $label | /api/me (BearerLayer HS256) | $m | $(pct "$m" "$h") | $(pct "$m" "$b") |"
done
