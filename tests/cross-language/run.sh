#!/usr/bin/env bash
# One onboarding flow across three languages, through one SQLite row (id, json, revision; every
# save a compare-and-swap on the revision), one ctt-sim process and one callback key:
#   node    creates the flow and advances it until the Global Admin is asked to register;
#   python  takes that callback and the next one (handle_callback with the shared key ring, then
#           advance, which confirms the sign-in with the vendor and asks the next thing);
#   kotlin  takes the remaining callbacks and advances until the flow is complete;
#   final   (python) checks the stored flow and the simulator's state.
# Each step appends "PASS|FAIL<TAB>lang<TAB>what" lines to a checks file; this script prints one
# line per step and ends with "cross-language: N passed, M failed" (exit 1 when M > 0).
#
# Needs, built beforehand: target/x86_64-unknown-linux-gnu/debug/ctt-sim (cargo build -p ctt-sim
# --bin ctt-sim), .venv with the Python binding (make python-setup), bindings-node/native's addon
# (npm run build:debug), examples/portal/node_modules (better-sqlite3), and
# dev.cttonboard:ctt-onboard in ~/.m2 (mvn install in bindings-kotlin).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SIM_BIN="${CTT_SIM_BIN:-$ROOT/target/x86_64-unknown-linux-gnu/debug/ctt-sim}"
PY="${CTT_PYTHON:-$ROOT/.venv/bin/python}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/ctt-cross-language.XXXXXX")"
SIM_PID=""
cleanup() {
    if [[ -n "$SIM_PID" ]]; then
        kill "$SIM_PID" 2>/dev/null
        wait "$SIM_PID" 2>/dev/null
    fi
    if [[ "${KEEP_WORK:-0}" == 1 ]]; then  # the SQLite file, the checks and each step's output
        echo "cross-language: kept $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export CTT_XLANG_DB="$WORK/flows.sqlite"
export CTT_XLANG_CHECKS="$WORK/checks.tsv"
export CTT_XLANG_NAME="Contoso Pharmaceuticals"
: >"$CTT_XLANG_CHECKS"

fail_setup() {
    echo "setup: $1" >&2
    echo "cross-language: 0 passed, 1 failed"
    exit 1
}

for need in "$SIM_BIN" "$PY" "$ROOT/bindings-node/lib/index.cjs" \
    "$ROOT/examples/portal/node_modules/better-sqlite3"; do
    [[ -e "$need" ]] || fail_setup "missing $need (see the header of $0)"
done
command -v node >/dev/null || fail_setup "node is not on PATH"
command -v mvn >/dev/null || fail_setup "mvn is not on PATH"

# The shared callback key: 32 random bytes, hex in the environment; each language decodes it.
CTT_XLANG_KEY_HEX="$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"
export CTT_XLANG_KEY_HEX
[[ ${#CTT_XLANG_KEY_HEX} == 64 ]] || fail_setup "could not read 32 random bytes"

# One simulator for every language: it prints one JSON line once it listens.
"$SIM_BIN" --port 0 >"$WORK/sim.out" 2>"$WORK/sim.err" &
SIM_PID=$!
for _ in $(seq 1 100); do
    [[ -s "$WORK/sim.out" ]] && break
    kill -0 "$SIM_PID" 2>/dev/null || break
    sleep 0.1
done
CTT_XLANG_SIM="$(head -n1 "$WORK/sim.out")"
[[ "$CTT_XLANG_SIM" == *'"base_url":"http://127.0.0.1:'* ]] ||
    fail_setup "ctt-sim printed no base URL on 127.0.0.1: '$CTT_XLANG_SIM' $(tail -n5 "$WORK/sim.err")"
export CTT_XLANG_SIM
echo "sim: ctt-sim pid $SIM_PID at $(jq -r .base_url <<<"$CTT_XLANG_SIM" 2>/dev/null || echo "$CTT_XLANG_SIM")"

STEPS=(node python kotlin final)
STEP_CMDS=(
    "node '$HERE/node_start.cjs'"
    "'$PY' '$HERE/python_callbacks.py' --asks 2"
    "cd '$HERE/kotlin' && mvn -B -ntp -q -Dstyle.color=never compile exec:exec@finish"
    "'$PY' '$HERE/check_final.py'"
)
broken=""
for i in "${!STEPS[@]}"; do
    step="${STEPS[$i]}"
    if [[ -n "$broken" ]]; then
        printf 'FAIL\t%s\tnot run: the %s step failed\n' "$step" "$broken" >>"$CTT_XLANG_CHECKS"
        echo "$step: not run (the $broken step failed)"
        continue
    fi
    start=$SECONDS
    bash -c "${STEP_CMDS[$i]}" >"$WORK/$step.out" 2>"$WORK/$step.err"
    rc=$?
    # A step prints its one summary line on stdout (Maven may add its own noise around it).
    summary="$(sed "s/\x1b\[[0-9;]*m//g" "$WORK/$step.out" | grep -E "^$step: " | tail -n1)"
    echo "${summary:-$step: (no summary line)} [$((SECONDS - start))s]"
    if [[ $rc != 0 ]]; then
        # A step that failed without saying which check did counts as one failed check.
        if ! grep -q "^FAIL"$'\t'"$step"$'\t' "$CTT_XLANG_CHECKS"; then
            printf 'FAIL\t%s\texited with status %s\n' "$step" "$rc" >>"$CTT_XLANG_CHECKS"
        fi
        echo "  $step exited with status $rc; last lines of its output:" >&2
        for f in "$WORK/$step.out" "$WORK/$step.err"; do
            sed 's/\x1b\[[0-9;]*m//g' "$f" | grep -v -E '^\s*$|^\s+at |^\[ERROR\] *($|To see|Re-run|For more|\[Help)' |
                tail -n 8 | sed "s#^#  $(basename "$f") | #" >&2
        done
        broken="$step"
    fi
done

passed=$(grep -c '^PASS' "$CTT_XLANG_CHECKS")
failed=$(grep -c '^FAIL' "$CTT_XLANG_CHECKS")
if [[ $failed != 0 ]]; then
    grep '^FAIL' "$CTT_XLANG_CHECKS" | while IFS=$'\t' read -r _ lang what; do
        echo "FAIL $lang: $what"
    done
fi
if [[ $passed == 0 && $failed == 0 ]]; then failed=1; fi
echo "cross-language: $passed passed, $failed failed"
[[ $failed == 0 ]]
