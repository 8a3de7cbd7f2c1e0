#!/usr/bin/env bash
# Does archbench measure what hyperfine measures? The same native workload commands, timed by
# both in one run: ratio of medians (target within ±5%) and each tool's per-run overhead on the
# no-op `startup` workload. The two tools alternate in ROUNDS short batches and their raw
# samples are pooled, so drift on a shared machine (other guests, frequency changes) lands on
# both equally instead of on whichever tool ran second.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release -q --bin archbench
AB="$CARGO_TARGET_DIR/release/archbench"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
RUNS=${RUNS:-10}
ROUNDS=${ROUNDS:-6}
W="$PWD/fixtures/workloads/target/x86_64-unknown-linux-musl/release/workloads"
mkdir -p "$work/tmp"
for r in $(seq "$ROUNDS"); do
  "$AB" bench --runs "$RUNS" --runner native --workload startup --workload sha256 --workload sort --workload syscall -o "$work/ab-$r.json" >/dev/null
  WORKLOAD_TMP="$work/tmp" hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$work/hf-$r.json" \
    "$W startup 0" "$W sha256 4096" "$W sort 2000" "$W syscall 200" >/dev/null
done
python3 - "$work" "$ROUNDS" <<'PY'
import json, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
ab, hf = {}, {}
for r in range(1, rounds + 1):
    for c in json.load(open(f"{work}/ab-{r}.json"))["payload"]:
        ab.setdefault(c["workload"], []).extend(s["wall"] for s in c["samples"])
    for res in json.load(open(f"{work}/hf-{r}.json"))["results"]:
        hf.setdefault(res["command"].split()[1], []).extend(res["times"])
print(f"{rounds} alternating rounds, {len(ab['sha256'])} samples per tool and workload")
for w in ["sha256", "sort", "syscall"]:
    a, h = statistics.median(ab[w]), statistics.median(hf[w])
    print(f"{w:<8} archbench {a*1e3:8.2f} ms  hyperfine {h*1e3:8.2f} ms  ratio {a/h:.3f}")
a, h = statistics.median(ab["startup"]), statistics.median(hf["startup"])
print(f"no-op    archbench {a*1e3:8.3f} ms  hyperfine {h*1e3:8.3f} ms  (per-run cost of spawning and waiting)")
PY
