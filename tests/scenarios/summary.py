"""Reads one language's JUnit XML report of the scenarios and prints one line,
``<language>: N run, P passed, F failed, S skipped`` (then every failed and skipped case with its
message); exits 1 when a case failed, when no case ran, or when the report does not hold every
case of the data (the language left some out). Used by run.sh; the standard library only."""

from __future__ import annotations

import html
import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

SCENARIOS = Path(__file__).resolve().parent


def case_names() -> set[str]:
    names = set()
    for path in sorted(SCENARIOS.glob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8"))["cases"]:
            names.add(f"{path.stem}/{case['name']}")
    return names


def main() -> int:
    language, report = sys.argv[1], Path(sys.argv[2])
    expected = case_names()
    if not report.is_file():
        print(
            f"{language}: 0 run, 0 passed, 0 failed, 0 skipped (no report: the harness did not run)"
        )
        return 1
    passed, failed, skipped = [], [], []
    for tc in ET.parse(report).getroot().iter("testcase"):
        # The case name as each harness spells it: pytest's test_scenario[<family>/<case>],
        # node's <family>/<case>, JUnit's "scenarios() <family>/<case>".
        found = re.search(r"([a-z_]+/[A-Za-z0-9_]+)\]?$", tc.get("name", ""))
        name = found.group(1) if found else tc.get("name", "?")
        problem = tc.find("failure")
        if problem is None:
            problem = tc.find("error")
        skip = tc.find("skipped")
        if problem is not None:
            text = html.unescape((problem.get("message") or problem.text or "").strip())
            failed.append((name, text))
        elif skip is not None:
            reason = html.unescape((skip.get("message") or skip.text or "").strip())
            reason = reason.splitlines()[0] if reason else ""
            reason = reason.replace("org.opentest4j.TestAbortedException: Assumption failed: ", "")
            skipped.append((name, reason))
        else:
            passed.append(name)
    ran = len(passed) + len(failed)
    seen = {n for n in passed} | {n for n, _ in failed} | {n for n, _ in skipped}
    missing = sorted(expected - seen)
    print(
        f"{language}: {ran} run, {len(passed)} passed, {len(failed)} failed, {len(skipped)} skipped"
    )
    for name, text in failed:
        first = " | ".join(line for line in text.splitlines()[:6] if line.strip())
        print(f"  FAIL {language} {name}: {first[:600]}")
    for name, text in skipped:
        print(f"  SKIP {language} {name}: {text[:300]}")
    for name in missing:
        print(f"  MISSING {language} {name}: in the data, not in the report")
    return 1 if failed or ran == 0 or missing else 0


if __name__ == "__main__":
    sys.exit(main())
