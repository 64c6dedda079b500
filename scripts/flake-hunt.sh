#!/usr/bin/env bash
# Runs the whole suite (scripts/test.sh) N times on this machine and lists every test that
# failed at least once, with how often. The runner never retries a test, so a test that fails
# one run in five shows up here instead of being hidden. Usage: scripts/flake-hunt.sh [N] [nextest args]
set -uo pipefail
cd "$(dirname "$0")/.."

runs="${1:-5}"
shift || true
log_dir=".local/flake-hunt"
rm -rf "$log_dir"
mkdir -p "$log_dir"

failed_runs=0
started=$(date +%s)
for run in $(seq 1 "$runs"); do
    run_started=$(date +%s)
    if scripts/test.sh "$@" >"$log_dir/run-$run.log" 2>&1; then
        outcome="passed"
    else
        outcome="FAILED"
        failed_runs=$((failed_runs + 1))
    fi
    summary=$(grep -E '^ *Summary ' "$log_dir/run-$run.log" | tail -n 1 | sed 's/^ *//')
    echo "run $run/$runs: $outcome in $(( $(date +%s) - run_started )) s${summary:+ ($summary)}"
done

echo
echo "$runs runs in $(( $(date +%s) - started )) s; $failed_runs failed. Logs: $log_dir/"
# nextest marks each test that did not pass with one of these at the start of its line.
failures=$(grep -hE '^ *(FAIL|TIMEOUT|SIGSEGV|SIGABRT|SIGKILL|LEAK-FAIL|ABORT) \[' "$log_dir"/run-*.log \
    | sed -E 's/^ *[A-Z-]+ \[[^]]*\] (\([^)]*\) )?//' | sort | uniq -c | sort -rn)
if [ -z "$failures" ] && [ "$failed_runs" -eq 0 ]; then
    echo "no test failed"
    exit 0
fi
echo "tests that failed (runs):"
echo "${failures:-  (none named: see the logs for a failure outside the tests, such as the secrets scan)}"
exit 1
