#!/usr/bin/env bash
# The classic builder against BuildKit, per strategy, on the compute fixture: the same
# `archbench build` with `--builder classic` and `--builder buildkit`, alternating in ROUNDS
# rounds, both without cache. Printed per strategy: each builder's median build time (context
# upload to image ID, the same measure for both) and the BuildKit / classic ratio with a
# bootstrap 95% interval; and each builder's median "work" time (steps without FROM).
#
#   benches/builders.sh                       ROUNDS=5 SCALE=60, linux/amd64 + linux/arm64
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
if [ -z "${AB:-}" ]; then
  cargo build --release -q --bin archbench
  AB="$CARGO_TARGET_DIR/release/archbench"
fi
ROUNDS=${ROUNDS:-5}
SCALE=${SCALE:-60}
WORK=$(mktemp -d)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; rm -rf "$WORK"' EXIT
# shellcheck source=benches/lib-builder.sh
. benches/lib-builder.sh
for r in $(seq "$ROUNDS"); do
  for b in classic buildkit; do
    "$AB" build fixtures/build/compute --builder "$b" --platform linux/amd64,linux/arm64 \
      --strategy native,cross,emulated --build-arg "BUILDER=$BASE" --build-arg "SCALE=$SCALE" \
      -t "archbench/builders:$b" --output "oci:$WORK/layout-$b" --json >"$WORK/$b-$r.json"
  done
done
python3 - "$WORK" "$ROUNDS" "$SCALE" <<'PY'
import json, random, statistics, sys
work, rounds, scale = sys.argv[1], int(sys.argv[2]), sys.argv[3]
t, w = {}, {}
for r in range(1, rounds + 1):
    for b in ("classic", "buildkit"):
        for run in json.load(open(f"{work}/{b}-{r}.json"))["payload"]["runs"]:
            assert run["builder"] == b, run["note"]
            k = (f'{run["platform"]} {run["strategy"]}', b)
            t.setdefault(k, []).append(run["seconds"])
            w.setdefault(k, []).append(run["work_seconds"])
print(f"compute fixture, SCALE={scale}, {rounds} rounds alternating, no cache")
print(f'{"build":24} {"classic":>9} {"BuildKit":>9}  BuildKit / classic [95% CI]   work: classic  BuildKit')
for combo in sorted({k[0] for k in t}):
    c, k = t[(combo, "classic")], t[(combo, "buildkit")]
    random.seed(1)
    boot = sorted(statistics.median(random.choices(k, k=len(k))) / statistics.median(random.choices(c, k=len(c))) for _ in range(2000))
    print(f'{combo:24} {statistics.median(c):8.2f}s {statistics.median(k):8.2f}s  {statistics.median(k)/statistics.median(c):.3f} [{boot[50]:.3f}, {boot[1949]:.3f}]'
          f'          {statistics.median(w[(combo, "classic")]):6.2f}s {statistics.median(w[(combo, "buildkit")]):8.2f}s')
PY
