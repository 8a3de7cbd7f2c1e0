#!/usr/bin/env bash
# Does `archbench build --builder buildkit` time what the seed's own tool times? The compute
# fixture built for one platform by archbench (BuildKit through a bollard session) and by
# `docker buildx build` (Debian trixie's buildx 0.13.1, docker driver, the same engine's
# BuildKit), interleaved in ROUNDS rounds, both without cache. Printed: each tool's median wall
# time with the ratio and a bootstrap 95% interval (target within ±5%), and whether the vertex
# lists agree (names, and cached or not) in every round.
#
#   benches/fidelity-buildkit.sh                 linux/amd64, native
#   PLATFORM=linux/arm64 STRATEGY=cross benches/fidelity-buildkit.sh
#   STRATEGY=multi benches/fidelity-buildkit.sh  one solve for linux/amd64,linux/arm64 on the
#                                                modern engine (DOCKER_HOST defaults to it)
#
# multi: archbench's `--strategy multi` against `docker buildx build --platform a,b` with the
# OCI exporter (`--output type=oci`), both on the engine with the containerd image store, both
# without attestations and without SOURCE_DATE_EPOCH (buildx adds provenance by default; it is
# turned off so both export the same index). The vertices of the platforms' runs are one solve's.
#
# archbench's time is its run's `seconds` (context upload to image ID, as BuildKit reports the
# end); buildx's is the wall time of the CLI process (it also loads the context and exports
# the image, and then exits). ROUNDS=10 by default; AB=path picks the archbench binary.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-10}
STRATEGY=${STRATEGY:-native}
if [ "$STRATEGY" = multi ]; then
  PLATFORM=${PLATFORM:-linux/amd64,linux/arm64}
  export DOCKER_HOST=${DOCKER_HOST:-unix:///run/archbench/modern.sock}
else
  PLATFORM=${PLATFORM:-linux/amd64}
fi
SCALE=${SCALE:-60}
[ -x "$HOME/.docker/cli-plugins/docker-buildx" ] || { echo "buildx is missing: run scripts/setup" >&2; exit 1; }
# shellcheck source=benches/lib-builder.sh
. benches/lib-builder.sh
# buildx needs to know the build's platform for the cross strategy only through --platform:
# BuildKit sets BUILDPLATFORM to the engine's own, as archbench's cross strategy does.
case "$STRATEGY" in
  native|cross) AB_EXTRA=(); BX_OUT=(--load) ;;
  multi) AB_EXTRA=(--source-date-epoch off); BX_OUT=(--provenance false --output "type=oci,dest=$WORK/bx.tar") ;;
  *) echo "STRATEGY must be native, cross or multi" >&2; exit 2 ;;
esac
now() { date +%s.%N; }
for r in $(seq "$ROUNDS"); do
  "$AB" build fixtures/build/compute --builder buildkit --platform "$PLATFORM" --strategy "$STRATEGY" \
    --build-arg "BUILDER=$BASE" --build-arg "SCALE=$SCALE" -t "archbench/fidelity:ab" \
    "${AB_EXTRA[@]}" --output "oci:$WORK/layout" --json >"$WORK/ab-$r.json"
  t0=$(now)
  /usr/bin/docker buildx build --builder default --no-cache --progress=rawjson --platform "$PLATFORM" \
    --build-arg "BUILDER=$BASE" --build-arg "SCALE=$SCALE" -t archbench/fidelity:bx "${BX_OUT[@]}" \
    fixtures/build/compute 2>"$WORK/bx-$r.rawjson" >/dev/null
  awk "BEGIN { print $(now) - $t0 }" >"$WORK/bx-$r.secs"
done
python3 - "$WORK" "$ROUNDS" "$PLATFORM $STRATEGY" <<'PY'
import json, random, re, statistics, sys
work, rounds, what = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def norm(name):
    # buildx names the builder image by tag; archbench's run is the same graph. Digests in
    # names (pinned FROMs) and the context's wording differ by client, so compare the steps.
    name = re.sub(r"@sha256:[0-9a-f]+", "", name)
    return name
import datetime
def ts(t):
    # RFC 3339 with nanoseconds; Python parses microseconds, which is plenty here.
    t = re.sub(r"(\.\d{6})\d*", r"\1", t).replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(t).timestamp()
ab, bx, abw, bxw, abs_, bxs, same, diffs = [], [], [], [], [], [], 0, []
def step(name):
    return name.startswith("[") and not name.startswith("[internal]")
for r in range(1, rounds + 1):
    runs = json.load(open(f"{work}/ab-{r}.json"))["payload"]["runs"]
    ab.append(runs[0]["seconds"])
    # A multi build's runs share one solve and one clock: their vertices together are it.
    vs = list({v["digest"]: v for run in runs for v in run["vertices"]}.values())
    abw.append(max(v["end"] for v in vs) - min(v["start"] for v in vs))
    abs_.append(max(v["end"] for v in vs) - min(v["start"] for v in vs if step(v["name"])))
    bx.append(float(open(f"{work}/bx-{r}.secs").read()))
    a = {norm(v["name"]): v["cached"] for v in vs if v["name"].startswith("[") and not v["name"].startswith("[internal]")}
    # rawjson is a stream of (indented) JSON objects, one per status update.
    text, dec, i, updates = open(f"{work}/bx-{r}.rawjson").read(), json.JSONDecoder(), 0, []
    while True:
        i = text.find("{", i)
        if i < 0:
            break
        obj, i = dec.raw_decode(text, i)
        updates.append(obj)
    b, starts, ends, step_starts = {}, [], [], []
    for u in updates:
        for v in u.get("vertexes") or []:
            if v.get("started"):
                starts.append(ts(v["started"]))
                if step(v["name"]):
                    step_starts.append(ts(v["started"]))
            if v.get("completed"):
                ends.append(ts(v["completed"]))
            n = norm(v["name"])
            if n.startswith("[") and not n.startswith("[internal]"):
                b[n] = v.get("cached", False) or b.get(n, False)
    bxw.append(max(ends) - min(starts))
    bxs.append(max(ends) - min(step_starts))
    if a == b:
        same += 1
    else:
        diffs.append((r, sorted(set(a.items()) ^ set(b.items()))))
def ratio(x, y):
    random.seed(1)
    boot = sorted(statistics.median(random.choices(x, k=len(x))) / statistics.median(random.choices(y, k=len(y))) for _ in range(2000))
    lo, hi = boot[50], boot[1949]
    verdict = "within ±5%" if 0.95 <= lo and hi <= 1.05 else ("outside ±5%" if hi < 0.95 or lo > 1.05 else "interval crosses the ±5% band")
    return f"ratio {statistics.median(x)/statistics.median(y):.3f} [{lo:.3f}, {hi:.3f}] ({verdict})"
print(f"{what}, {rounds} rounds interleaved:")
print(f"  Dockerfile steps to the end (first step's start to the last vertex's end, BuildKit's clock):")
print(f"    archbench {statistics.median(abs_):.2f} s, buildx {statistics.median(bxs):.2f} s, {ratio(abs_, bxs)}")
print(f"  every vertex (context transfer included; both send it by the session's file sync):")
print(f"    archbench {statistics.median(abw):.2f} s, buildx {statistics.median(bxw):.2f} s, {ratio(abw, bxw)}")
print(f"  client wall: archbench {statistics.median(ab):.2f} s (context upload to image ID), buildx {statistics.median(bx):.2f} s")
print(f"    (the buildx CLI process, start to exit): different scopes, so no ratio is printed")
print(f"  vertex lists (Dockerfile steps, cached or not) equal in {same} of {rounds} rounds")
for r, d in diffs[:3]:
    print(f"    round {r} differs: {d}")
PY
