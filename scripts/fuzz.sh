#!/usr/bin/env bash
# `make fuzz`: fuzzes loyalty-core with cargo-fuzz (libFuzzer), each target of fuzz/fuzz_targets/ for a bounded
# time, and prints per target the executions, coverage and outcome, then a summary table. Not part of
# `make test` (which replays the kept inputs of fuzz/regressions/ as ordinary tests instead).
#
#   FUZZ_SECONDS   time per target, default 60
#   FUZZ_TARGETS   targets to run, space-separated, default all of fuzz/fuzz_targets/
#   FUZZ_SANITIZER none (default), or address, leak, memory or thread, which need a nightly toolchain
#   FUZZ_TOOLCHAIN rustup toolchain to build with (default: rustup's default, or nightly for a sanitizer)
#
# Why no sanitizer by default, even where nightly is installed: loyalty-core forbids unsafe code, so
# AddressSanitizer has little to find that the panics and overflow checks (kept on) do not, and it cost 4 to 5
# times the executions here (program: 23,500 inputs/s with it, 99,700 without).
#
# A crash leaves its input in fuzz/artifacts/<target>/ and makes the script fail; fuzz/README.md says how to
# keep it as a regression test. New corpus entries go to fuzz/corpus/<target>/ (ignored by git, except the
# committed seed-* files).
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
# Its own target directory: the fuzzing build flags would otherwise rebuild, and evict, the main build cache.
export CARGO_TARGET_DIR="$HOME/.cache/storefront-loyalty/fuzz-target"
logs="$HOME/.cache/storefront-loyalty/fuzz-logs"
mkdir -p "$logs"

seconds=${FUZZ_SECONDS:-60}
log() { printf '[fuzz] %s\n' "$*"; }
case $seconds in '' | *[!0-9]*)
  echo "fuzz: FUZZ_SECONDS must be a whole number of seconds, got \"$seconds\"" >&2
  exit 2
  ;;
esac

if ! cargo fuzz --version >/dev/null 2>&1; then
  log "installing cargo-fuzz (about 2 minutes on 2 cores)"
  # Retry without --locked in case its lock file pins a crate version the registry mirror lacks.
  cargo install cargo-fuzz --locked || cargo install cargo-fuzz || {
    echo "fuzz: could not install cargo-fuzz" >&2
    exit 1
  }
fi

sanitizer=${FUZZ_SANITIZER:-none}
toolchain=${FUZZ_TOOLCHAIN:-}
if [ "$sanitizer" != none ] && [ -z "$toolchain" ]; then
  if ! rustup toolchain list | grep -q '^nightly'; then
    echo "fuzz: sanitizer \"$sanitizer\" needs a nightly toolchain (rustup toolchain install nightly)" >&2
    exit 2
  fi
  toolchain=nightly
fi
cargo_fuzz=(cargo ${toolchain:+"+$toolchain"} fuzz)

targets=${FUZZ_TARGETS:-$(cd fuzz/fuzz_targets && ls -- *.rs | sed 's/\.rs$//')}
log "toolchain $(rustc ${toolchain:+"+$toolchain"} --version), sanitizer $sanitizer, ${seconds}s per target"
log "building the fuzz targets in $CARGO_TARGET_DIR"
if ! "${cargo_fuzz[@]}" build --sanitizer "$sanitizer" --target-dir "$CARGO_TARGET_DIR" 2>&1 | tail -n 20; then
  echo "fuzz: the build failed" >&2
  exit 1
fi

rows=()
crashed=0
for target in $targets; do
  out="$logs/$target.log"
  log "running $target for ${seconds}s (full log: $out)"
  # nice: the machine is shared with builds; fuzzing yields to them. One process, no -jobs: 2 cores.
  nice -n 10 "${cargo_fuzz[@]}" run "$target" --sanitizer "$sanitizer" --target-dir "$CARGO_TARGET_DIR" -- \
    -max_total_time="$seconds" -timeout=10 -print_final_stats=1 >"$out" 2>&1
  status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$out" | tail -n 1)
  [ -n "$runs" ] || runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$out" | tail -n 1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *\([0-9]*\).*/\1/p' "$out" | tail -n 1)
  last=$(grep -E '^#[0-9]+' "$out" | tail -n 1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  corpus=$(sed -n 's/.* corp: \([0-9]*\/[0-9A-Za-z]*\).*/\1/p' <<<"$last")
  artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$out" | tail -n 1)
  if [ "$status" -eq 0 ]; then
    result=ok
    grep -E '^(Done|stat::number_of_executed_units|stat::average_exec_per_sec)' "$out" | sed 's/^/  /'
  else
    crashed=$((crashed + 1))
    result=CRASH
    [ -n "$artifact" ] || result="FAILED (exit $status)"
    echo "  $target: $result"
    if [ -n "$artifact" ]; then
      { grep -A1 'panicked at' "$out" | head -n 4
        grep -E 'ERROR: libFuzzer|SUMMARY: libFuzzer|Test unit written|^[[:space:]]+cargo fuzz run' "$out"; } | sed 's/^/  | /'
    else
      grep -vE '^#[0-9]+' "$out" | tail -n 20 | sed 's/^/  | /'
    fi
  fi
  rows+=("$(printf '%-15s %-9s %12s %9s %7s %12s  %s' "$target" "$result" "${runs:-?}" "${speed:-?}" \
    "${cov:-?}" "${corpus:-?}" "${artifact:--}")")
done

echo
printf '%-15s %-9s %12s %9s %7s %12s  %s\n' target result executions exec/s cov corpus artifact
for row in "${rows[@]}"; do echo "$row"; done
total=$(wc -w <<<"$targets")
echo
echo "fuzz: $((total - crashed)) of $total targets ran ${seconds}s without a crash"
[ "$crashed" -eq 0 ]
