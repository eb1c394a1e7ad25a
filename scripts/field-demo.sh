#!/usr/bin/env bash
# Shows issue 14's promise end to end: a field added to core's NewEnterprise, in that one place,
# reaches Python, Node and Kotlin with its type through the build alone (the generator and each
# binding's ordinary build; no binding file is edited). It adds `cost_center: Option<String>` to
# core/src/models/enterprise.rs in the working tree, regenerates, builds the three bindings, and
# checks in each language that the field exists with its type and goes out on the wire as
# `costCenter`; then it restores the tree whatever happens. The field goes last, as a new
# optional field should, so positional callers in every language keep working.
#
#     bash scripts/field-demo.sh        # after `make python-setup node-setup kotlin-setup`
set -euo pipefail
cd "$(dirname "$0")/.."
model=core/src/models/enterprise.rs
generated=(bindings-python/python/ctt_onboard/_generated.py bindings-node/lib/generated.d.ts)
if ! git diff --quiet -- "$model" "${generated[@]}"; then
  echo "field-demo: $model or a generated file has uncommitted changes; commit or stash them first" >&2
  exit 2
fi
restore() {
  git checkout -- "$model" "${generated[@]}"
  echo "field-demo: restored $model and the generated files"
}
trap restore EXIT
work=$(mktemp -d)

step() { printf '\n== %s\n' "$*"; }

step "1. the one edit: a field in core's NewEnterprise"
python3 - "$model" <<'PY'
import sys
path = sys.argv[1]
src = open(path).read()
# Appended as the last field, as a new optional field should be: positional callers (Kotlin's
# `NewEnterprise("name", services)`, Python's) keep working.
anchor = "    pub user_provisioning_enabled: Option<bool>,\n}\n"
assert anchor in src, "NewEnterprise's last field moved"
src = src.replace(anchor, anchor[:-2] + (
    "    /// The customer's cost centre in the provider's billing system.\n"
    "    #[serde(default, skip_serializing_if = \"Option::is_none\")]\n"
    "    #[cfg_attr(feature = \"uniffi\", uniffi(default))]\n"
    "    pub cost_center: Option<String>,\n}\n"), 1)
open(path, "w").write(src)
PY
git diff --stat -- "$model"

step "2. the build: the generator, then each binding's own build"
cargo run --quiet -p ctt-codegen -- --write
git diff --stat -- "${generated[@]}"
bash bindings-python/scripts/setup.sh >/dev/null
(cd bindings-node && npm run --silent build:debug >/dev/null)
(cd bindings-kotlin && mvn -B -ntp -q install -DskipTests)

step "3. Python: the attribute, its type (mypy --strict) and its wire name"
cat >"$work/demo.py" <<'PY'
from ctt_onboard import NewEnterprise, Onboarding, OnboardingPlan, Service

e = NewEnterprise(enterprise_name="Demo", services=[Service.SMS], cost_center="CC-42")
cost: str | None = e.cost_center
assert e.to_dict()["costCenter"] == "CC-42", e.to_dict()
assert NewEnterprise.from_dict({"enterpriseName": "D", "costCenter": "CC-7"}).cost_center == "CC-7"
# Through core and back: the flow keeps its plan in core's types, and hands it back.
flow = Onboarding(OnboardingPlan(e, "https://portal.example/cb"))
assert flow.plan.enterprise.cost_center == "CC-42", flow.plan
print("python: NewEnterprise.cost_center =", repr(cost), "->", e.to_dict(), "; back from core:",
      repr(flow.plan.enterprise.cost_center))
PY
.venv/bin/mypy --strict "$work/demo.py"
.venv/bin/python "$work/demo.py"

step "4. Node: the property in the generated types (tsc --strict) and on the wire"
# Type-checked beside the package's own type test, so it resolves `ctt-onboard` as that does.
demo_ts=bindings-node/test/field-demo.ts
cat >"$demo_ts" <<'TS'
import type { NewEnterprise } from 'ctt-onboard'
const e: NewEnterprise = { enterpriseName: 'Demo', services: ['SMS'], costCenter: 'CC-42' }
const cost: string | null | undefined = e.costCenter
console.log(cost)
TS
demo_tsconfig=bindings-node/test/tsconfig.field-demo.json
echo '{ "extends": "./tsconfig.json", "files": ["field-demo.ts"] }' >"$demo_tsconfig"
status=0
bindings-node/node_modules/.bin/tsc -p "$demo_tsconfig" || status=$?
rm -f "$demo_ts" "$demo_tsconfig"
[ "$status" -eq 0 ] || exit "$status"
echo "node: tsc --strict accepts NewEnterprise.costCenter (string | null | undefined)"
node -e "
const { Onboarding } = require('./bindings-node');
const enterprise = { enterpriseName: 'Field Demo', services: ['SMS'], costCenter: 'CC-42' };
// Through core and back: the flow keeps its plan in core's types, and hands it back.
const flow = new Onboarding({ enterprise, redirectUrl: 'https://portal.example/cb' });
const back = flow.plan.enterprise.costCenter;
if (back !== 'CC-42') { console.error('costCenter did not survive core:', flow.plan); process.exit(1); }
console.log('node: NewEnterprise.costCenter back from core:', JSON.stringify(back));
"

step "5. Kotlin: the generated record's property and its type (javap on the built jar)"
jar=
for candidate in bindings-kotlin/target/ctt-onboard-*.jar; do
  case $candidate in *sources* | *javadoc*) ;; *) jar=$candidate ;; esac
done
[ -n "$jar" ] || { echo "field-demo: no jar under bindings-kotlin/target" >&2; exit 1; }
javap -cp "$jar" dev.cttonboard.NewEnterprise | grep -E 'getCostCenter|NewEnterprise\(' | tee "$work/kotlin.txt"
grep -q 'java.lang.String getCostCenter()' "$work/kotlin.txt"
echo "kotlin: NewEnterprise.costCenter: String? is in the generated record"

step "done: one field in core reached Python, Node and Kotlin through the build alone"
git status --short -- bindings-python/src bindings-node/src bindings-kotlin/src | sed 's/^/changed binding file: /' || true
