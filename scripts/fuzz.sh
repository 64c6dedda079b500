#!/usr/bin/env bash
# Coverage-guided fuzzing of the request parsing and validation in `shared` (fuzz/, cargo-fuzz
# and libFuzzer), briefly: every target for the given seconds (default 20). Fails if any target
# crashes, fails an assertion, times out or runs out of memory; prints one line per target.
#
#   scripts/fuzz.sh [seconds-per-target]
#
# Works on the stable toolchain: with `--sanitizer none` every flag cargo-fuzz passes to rustc
# is a stable one (-Cpasses=sancov-module, -Cllvm-args=-sanitizer-coverage-*, --cfg fuzzing,
# -Cdebug-assertions), so neither nightly nor RUSTC_BOOTSTRAP is needed. (AddressSanitizer, the
# default, needs -Zsanitizer: nightly only. Safe Rust needs it little.)
#
# The committed seeds in fuzz/corpus/<target> are only read: what the fuzzer adds goes to
# .local/fuzz/corpus/<target> (the first corpus directory libFuzzer is given is the one it
# writes to), which later local runs start from too (it only grows: delete .local/fuzz to
# start over). A failing input is saved under
# fuzz/artifacts/<target>/ (gitignored); reproduce it with
#   .local/tools/bin/cargo-fuzz fuzz run -s none <target> fuzz/artifacts/<target>/<file>
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-20}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
    echo "usage: scripts/fuzz.sh [seconds-per-target]" >&2
    exit 2
fi

CARGO_FUZZ_VERSION=0.13.2
tools="$PWD/.local/tools"
cargo_fuzz="$tools/bin/cargo-fuzz"
if ! "$cargo_fuzz" --version 2>/dev/null | grep -qx "cargo-fuzz $CARGO_FUZZ_VERSION"; then
    echo "installing cargo-fuzz $CARGO_FUZZ_VERSION into $tools" >&2
    cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION" --root "$tools"
fi
# Called directly (not as `cargo fuzz`), so that no other cargo-fuzz on the machine is used.
fuzz() { "$cargo_fuzz" fuzz "$@"; }

# The largest input libFuzzer makes for each target: enough for what the target parses (the
# JSON bodies are also capped at the API's 64 KiB body limit inside the targets).
max_len() {
    case "$1" in
        email | wallet_address | idempotency_key) echo 1024 ;;
        list_query | linked_account | webhook_endpoint) echo 4096 ;;
        new_user | patch) echo 16384 ;;
        batch_import | stream_record) echo 65536 ;;
        *) echo 4096 ;;
    esac
}

mapfile -t targets < <(fuzz list)
echo "building ${#targets[@]} fuzz targets (instrumented, release, no sanitizer)" >&2
fuzz build -s none

scratch=.local/fuzz
mkdir -p "$scratch/logs"
failed=()
for target in "${targets[@]}"; do
    mkdir -p "$scratch/corpus/$target" "fuzz/corpus/$target"
    log="$scratch/logs/$target.log"
    status=0
    fuzz run -s none "$target" "$scratch/corpus/$target" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -max_len="$(max_len "$target")" -rss_limit_mb=512 \
        -timeout=10 -print_final_stats=1 >"$log" 2>&1 || status=$?
    # The last status line: "#123456 DONE cov: 1234 ft: 5678 corp: 90/12Kb ... exec/s: 6172 ...".
    last="$(grep -E '^#[0-9]+[[:space:]]' "$log" | tail -n 1 || true)"
    execs="$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n 1)"
    cov="$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")"
    ft="$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")"
    corp="$(sed -nE 's/.* corp: ([0-9]+\/[0-9A-Za-z]+).*/\1/p' <<<"$last")"
    rate="$(sed -nE 's/.* exec\/s: ([0-9]+).*/\1/p' <<<"$last")"
    summary="execs=${execs:-${last%% *}} cov=${cov:-?} ft=${ft:-?} corpus=${corp:-?} exec/s=${rate:-?}"
    if [ "$status" -eq 0 ]; then
        printf '%-18s ok     %s\n' "$target" "$summary"
    else
        artifact="$(sed -nE 's/.*Test unit written to (.*)$/\1/p' "$log" | tail -n 1)"
        printf '%-18s FAILED %s (exit %s; input: %s; log: %s)\n' \
            "$target" "$summary" "$status" "${artifact:-none}" "$log"
        failed+=("$target")
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    for target in "${failed[@]}"; do
        echo "--- $target: the failure (from $scratch/logs/$target.log)" >&2
        grep -E -A 12 "panicked at|ERROR: libFuzzer|==ERROR|SUMMARY" \
            "$scratch/logs/$target.log" | head -n 40 >&2 || true
    done
    echo "fuzzing failed: ${failed[*]}" >&2
    exit 1
fi
