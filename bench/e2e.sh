#!/usr/bin/env bash
# End-to-end load figures on loopback: the demo's router (auth-bench-e2e-server) serving
# GET /health and GET /bench/me (no auth; /bench/me builds the JSON /api/me answers, the way
# the demo's handler does) and GET /api/me (BearerLayer, HS256), without and with the
# verified-token cache, loaded by wrk for a bounded time per row.
#
# The server runs one Tokio worker pinned to one core and wrk one thread pinned to the other
# (taskset, when there are two cores), so the server is the bottleneck and the two never share
# a core. Rows alternate over ROUNDS rounds so machine drift hits them alike. Per row it
# prints the median requests per second and the median server CPU time per request (user +
# system time of the server process over the row, from /proc, divided by the requests wrk
# completed): the second is what the server spends, whatever the load generator and the
# other tenants of the machine do, so its shares are the steadier figure.
#
#   bash bench/e2e.sh            # 5 rounds x 6 rows x 5 s
#   DURATION=10 ROUNDS=7 bash bench/e2e.sh
#
# Traffic goes to 127.0.0.1 only. Not run by CI.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-5}
CONNECTIONS=${CONNECTIONS:-32}
PORT_COLD=${PORT_COLD:-3901}
PORT_WARM=${PORT_WARM:-3902}

if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)" >&2
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
cargo build --release -q -p auth-bench --bin auth-bench-e2e-server
BIN=target/release/auth-bench-e2e-server

# Pinning: the server on the last core, wrk on the first, when there are at least two.
SERVER_CPU=() CLIENT_CPU=()
cores=$(nproc)
if command -v taskset >/dev/null && [ "$cores" -ge 2 ]; then
  SERVER_CPU=(taskset -c "$((cores - 1))")
  CLIENT_CPU=(taskset -c 0)
fi
TICKS=$(getconf CLK_TCK)

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

declare -A PID
start() { # name port token-file [--cache]; not in a subshell, so the trap knows the pid
  "${SERVER_CPU[@]}" "$BIN" "127.0.0.1:$2" ${4:-} >"$3" &
  pids+=($!)
  PID[$1]=$!
  for _ in $(seq 50); do [ -s "$3" ] && break; sleep 0.1; done
}
tmp=$(mktemp -d)
start cold "$PORT_COLD" "$tmp/cold"
start warm "$PORT_WARM" "$tmp/warm" --cache
TOKEN_COLD=$(head -n1 "$tmp/cold")
TOKEN_WARM=$(head -n1 "$tmp/warm")
sleep 0.5

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # utime + stime of a pid, in ticks

# One row: prints "<req/s> <server us of CPU per request>".
run() { # server url [token]
  local hdr=() out before after
  [ -n "${3:-}" ] && hdr=(-H "Authorization: Bearer $3")
  before=$(cpu_ticks "${PID[$1]}")
  out=$("${CLIENT_CPU[@]}" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "${hdr[@]}" "$2")
  after=$(cpu_ticks "${PID[$1]}")
  echo "$out" | awk -v t="$((after - before))" -v hz="$TICKS" '
    /requests in/ {n = $1}
    /Requests\/sec/ {rps = $2}
    END {printf "%s %.2f\n", rps, (n > 0 ? t * 1e6 / hz / n : 0)}'
}
# Every row must answer 200, and /api/me without a token 401.
for u in "http://127.0.0.1:$PORT_COLD/health" "http://127.0.0.1:$PORT_WARM/health" "http://127.0.0.1:$PORT_COLD/bench/me"; do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$u")" = 200 ]
done
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN_COLD" "http://127.0.0.1:$PORT_COLD/api/me")" = 200 ]
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN_WARM" "http://127.0.0.1:$PORT_WARM/api/me")" = 200 ]
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT_COLD/api/me")" = 401 ]
# The bare route answers exactly what /api/me answers.
[ "$(curl -s "http://127.0.0.1:$PORT_COLD/bench/me")" = \
  "$(curl -s -H "Authorization: Bearer $TOKEN_COLD" "http://127.0.0.1:$PORT_COLD/api/me")" ]

declare -A RPS CPU SHARE
rows=("cold /health" "cold /bench/me" "cold /api/me" "warm /health" "warm /bench/me" "warm /api/me")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.4f", (b > 0 ? a / b : 0)}'; }
for r in $(seq "$ROUNDS"); do
  declare -A this=()
  for row in "${rows[@]}"; do
    mode=${row%% *} route=${row#* }
    port=$([ "$mode" = cold ] && echo "$PORT_COLD" || echo "$PORT_WARM")
    token=""
    if [ "$route" = /api/me ]; then
      token=$([ "$mode" = cold ] && echo "$TOKEN_COLD" || echo "$TOKEN_WARM")
    fi
    read -r rps cpu < <(run "$mode" "http://127.0.0.1:$port$route" "$token")
    echo "round $r: $row $rps req/s, $cpu us of server CPU per request" >&2
    RPS[$row]="${RPS[$row]:-} $rps"
    CPU[$row]="${CPU[$row]:-} $cpu"
    this[$row]=$cpu
  done
  # Shares within the round (the rows of one round ran back to back, so drift between rounds
  # cancels): a route keeps bare-CPU / route-CPU of the bare route's requests per second.
  for mode in cold warm; do
    for route in /health /bench/me /api/me; do
      for base in /health /bench/me; do
        k="$mode $route of $base"
        SHARE[$k]="${SHARE[$k]:-} $(ratio "${this[$mode $base]}" "${this[$mode $route]}")"
      done
    done
  done
done
median() { tr " " "\n" | grep -v "^$" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
pct() { awk -v a="$1" 'BEGIN {printf "%.0f%%", 100*a}'; }
pinned=$([ ${#SERVER_CPU[@]} -gt 0 ] && echo "server and wrk pinned to separate cores" || echo "unpinned")
echo
echo "e2e on 127.0.0.1, $(nproc) cores ($pinned), wrk -t1 -c$CONNECTIONS -d${DURATION}s, $ROUNDS rounds, medians"
echo
echo "| server | route | req/s | server CPU us/request | share of /health | share of /bench/me |"
echo "|---|---|---:|---:|---:|---:|"
for mode in cold warm; do
  label=$([ "$mode" = cold ] && echo "no token cache (every request verified)" || echo "token cache (hit)")
  for route in /health /bench/me /api/me; do
    name=$route
    case $route in
      /health) name="/health (bare)" ;;
      /bench/me) name="/bench/me (bare, the JSON /api/me answers)" ;;
      /api/me) name="/api/me (BearerLayer HS256)" ;;
    esac
    echo "| $label | $name | $(echo "${RPS[$mode $route]}" | median) | $(echo "${CPU[$mode $route]}" | median) | $(pct "$(echo "${SHARE[$mode $route of /health]}" | median)") | $(pct "$(echo "${SHARE[$mode $route of /bench/me]}" | median)") |"
  done
done
echo
echo "A share is the median over rounds of (bare route's server CPU per request / this route's),"
echo "both from the same round: the share of the bare route's requests per second this route"
echo "keeps on a saturated server core."
