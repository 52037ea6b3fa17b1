#!/usr/bin/env bash
# Runs every cargo-fuzz target for FUZZ_SECS seconds (default 10) and prints the executions of
# each and their total. Any crash, timeout (an input taking over FUZZ_TIMEOUT seconds, default
# 10) or property failure stops the script with a non-zero status; the input is then in
# fuzz/artifacts/<target>/ (reproduce with `cargo +nightly fuzz run <target> <file>`).
#
#   FUZZ_SECS=5 bash fuzz/run.sh               # what CI runs
#   FUZZ_SECS=3600 bash fuzz/run.sh jwt_verify # a long campaign on one target
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz --locked`).
# FUZZ_SANITIZER: none (default: the crates forbid unsafe code, and the fastest runs find the
# most) or address (for campaigns that should also watch the C code of aws-lc).
# Corpora grow in fuzz/corpus/<target> (not committed), seeded from fuzz/seeds/<target>.
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_INCREMENTAL=0

secs="${FUZZ_SECS:-10}"
timeout_secs="${FUZZ_TIMEOUT:-10}"
sanitizer="${FUZZ_SANITIZER:-none}"
flags=(-a -s "$sanitizer")

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo +nightly fuzz list)
fi

cargo +nightly fuzz build "${flags[@]}"

total=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "seeds/$t"
  log="$(mktemp)"
  if ! cargo +nightly fuzz run "${flags[@]}" "$t" "corpus/$t" "seeds/$t" -- \
      -max_total_time="$secs" -timeout="$timeout_secs" -max_len=8192 \
      -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz: $t FAILED (input saved under fuzz/artifacts/$t/)"
    rm -f "$log"
    exit 1
  fi
  execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)"
  cov="$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*' || echo '?')"
  rm -f "$log"
  total=$((total + execs))
  printf 'fuzz: %-16s %10s executions in %ss (coverage %s)\n' "$t" "$execs" "$secs" "$cov"
done
echo "fuzz: ${#targets[@]} targets, ${total} executions in total, no crash"
