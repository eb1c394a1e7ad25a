#!/usr/bin/env bash
# shellcheck disable=SC2317  # the functions are called indirectly (trap, "run_$lang")
# The shared scenarios (tests/scenarios/*.json) in every language: the Python harness (pytest),
# the Node harness (node --test) and the Kotlin harness (Maven, JUnit 5 dynamic tests). Prints,
# per language, "<language>: N run, P passed, F failed, S skipped" with every failed, skipped or
# missing case, then "scenarios: ..." and exits 1 when a case failed, when a language ran no case
# or left a case of the data out, or when a harness could not run.
#
# Needs, built beforehand (make test-scenarios does it): .venv with the Python binding (make
# python-setup), bindings-node/native's addon (npm run build:debug in bindings-node), and
# dev.cttonboard:ctt-onboard in ~/.m2 (mvn install -DskipTests in bindings-kotlin).
# LANGS="python node" runs only those.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PY="${CTT_PYTHON:-$ROOT/.venv/bin/python}"
LANGS="${LANGS:-python node kotlin}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/ctt-scenarios.XXXXXX")"
cleanup() {
    if [[ "${KEEP_WORK:-0}" == 1 ]]; then echo "scenarios: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

run_python() {
    "$PY" -m pytest "$HERE/python" -q -rs -p no:cacheprovider --show-capture=no \
        --junitxml="$WORK/python.xml" -o junit_family=xunit2
}
run_node() {
    node --test --test-reporter=tap --test-reporter-destination=stdout \
        --test-reporter=junit --test-reporter-destination="$WORK/node.xml" "$HERE/node/"
}
run_kotlin() {
    (cd "$HERE/kotlin" && mvn -B -ntp -Dstyle.color=never -Dctt.scenarios="$HERE" test) &&
        cp "$HERE"/kotlin/target/surefire-reports/TEST-*.xml "$WORK/kotlin.xml"
}

status=0
summaries=()
for lang in $LANGS; do
    rm -f "$WORK/$lang.xml"
    [[ $lang == kotlin ]] && rm -rf "$HERE/kotlin/target/surefire-reports"
    start=$SECONDS
    "run_$lang" >"$WORK/$lang.out" 2>&1
    rc=$?
    # Maven writes its report even when a test failed: take it for the counts.
    if [[ $lang == kotlin && ! -e "$WORK/kotlin.xml" ]]; then
        cp "$HERE"/kotlin/target/surefire-reports/TEST-*.xml "$WORK/kotlin.xml" 2>/dev/null
    fi
    summary="$(python3 "$HERE/summary.py" "$lang" "$WORK/$lang.xml")"
    src=$?
    echo "$summary [$((SECONDS - start))s]"
    summaries+=("$(head -n1 <<<"$summary")")
    if [[ $src != 0 || $rc != 0 ]]; then
        status=1
        if [[ $src == 0 ]]; then
            echo "  $lang: the harness exited with status $rc although every case passed; its last lines:"
        else
            echo "  $lang: last lines of its output:"
        fi
        sed 's/\x1b\[[0-9;]*m//g' "$WORK/$lang.out" | grep -v -E '^\s*$|^\s+at ' | tail -n 15 | sed "s#^#  $lang | #"
    fi
done
# The totals over the languages, from their summary lines.
read -r run passed failed skipped < <(printf '%s\n' "${summaries[@]}" |
    sed -E 's/^[a-z]+: ([0-9]+) run, ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped.*/\1 \2 \3 \4/' |
    awk '{r += $1; p += $2; f += $3; s += $4} END {print r + 0, p + 0, f + 0, s + 0}')
echo "scenarios: ${#summaries[@]} languages, $run run, $passed passed, $failed failed, $skipped skipped$([[ $status == 0 ]] || echo ': FAILED')"
exit $status
