#!/usr/bin/env bash
# The classic builder against BuildKit, per strategy, on the compute fixture: the same
# `archbench build` with `--builder classic` and `--builder buildkit`, alternating in ROUNDS
# rounds, both without cache. Printed per strategy: each builder's median build time (context
# upload to image ID, the same measure for both) and the BuildKit / classic ratio with a
# bootstrap 95% interval, cold (no cache) and warm (right after the cold build, a copy of the
# fixture with one new line in src/main.c built with `--warm`: the cache kept, as a CI job that
# keeps its cache rebuilds after a commit).
#
#   benches/builders.sh                       ROUNDS=5 SCALE=60, linux/amd64 + linux/arm64
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
SCALE=${SCALE:-60}
# shellcheck source=benches/lib-builder.sh
. benches/lib-builder.sh
build() { # BUILDER CONTEXT OUT [FLAGS...]
  local b=$1 ctx=$2 out=$3; shift 3
  "$AB" build "$ctx" --builder "$b" --platform linux/amd64,linux/arm64 \
    --strategy native,cross,emulated --build-arg "BUILDER=$BASE" --build-arg "SCALE=$SCALE" \
    -t "archbench/builders:$b" --output "oci:$WORK/layout-$b" --json "$@" >"$out"
}
for r in $(seq "$ROUNDS"); do
  for b in classic buildkit; do
    build "$b" fixtures/build/compute "$WORK/$b-$r.json"
    ctx="$WORK/ctx-$b-$r"
    cp -r fixtures/build/compute "$ctx"
    echo "/* builders.sh $b round $r $(date +%s%N) */" >>"$ctx/src/main.c"
    build "$b" "$ctx" "$WORK/$b-warm-$r.json" --warm
  done
done
python3 - "$WORK" "$ROUNDS" "$SCALE" <<'PY'
import json, random, statistics, sys
work, rounds, scale = sys.argv[1], int(sys.argv[2]), sys.argv[3]
t = {}
for r in range(1, rounds + 1):
    for b in ("classic", "buildkit"):
        for kind, name in (("cold", f"{b}-{r}"), ("warm", f"{b}-warm-{r}")):
            for run in json.load(open(f"{work}/{name}.json"))["payload"]["runs"]:
                assert run["builder"] == b, run["note"]
                t.setdefault((f'{run["platform"]} {run["strategy"]}', kind, b), []).append(run["seconds"])
print(f"compute fixture, SCALE={scale}, {rounds} rounds alternating the builders")
print(f'{"build":24} {"":5} {"classic":>9} {"BuildKit":>9}  BuildKit / classic [95% CI]')
for combo in sorted({k[0] for k in t}):
    for kind in ("cold", "warm"):
        c, k = t[(combo, kind, "classic")], t[(combo, kind, "buildkit")]
        random.seed(1)
        boot = sorted(statistics.median(random.choices(k, k=len(k))) / statistics.median(random.choices(c, k=len(c))) for _ in range(2000))
        print(f'{combo:24} {kind:5} {statistics.median(c):8.2f}s {statistics.median(k):8.2f}s  '
              f'{statistics.median(k)/statistics.median(c):.3f} [{boot[50]:.3f}, {boot[1949]:.3f}]')
PY
