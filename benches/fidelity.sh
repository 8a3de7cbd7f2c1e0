#!/usr/bin/env bash
# Does archbench measure what hyperfine measures? The same native workload commands, timed by
# both in one run: ratio of medians (target within ±5%) and each tool's per-run overhead on the
# no-op `startup` workload.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release -q --bin archbench
AB="$CARGO_TARGET_DIR/release/archbench"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
RUNS=${RUNS:-30}
"$AB" bench --runs "$RUNS" --runner native --workload startup --workload sha256 --workload sort --workload syscall -o "$work/ab.json" >/dev/null
W="$PWD/fixtures/workloads/target/x86_64-unknown-linux-musl/release/workloads"
mkdir -p "$work/tmp"
WORKLOAD_TMP="$work/tmp" hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$work/hf.json" \
  "$W startup 0" "$W sha256 4096" "$W sort 2000" "$W syscall 200" >/dev/null
python3 - "$work/ab.json" "$work/hf.json" <<'PY'
import json, sys
ab = {c["workload"]: c["wall"]["median"] for c in json.load(open(sys.argv[1]))["payload"]}
hf = {r["command"].split()[1]: r["median"] for r in json.load(open(sys.argv[2]))["results"]}
for w in ["sha256", "sort", "syscall"]:
    print(f"{w:<8} archbench {ab[w]*1e3:8.2f} ms  hyperfine {hf[w]*1e3:8.2f} ms  ratio {ab[w]/hf[w]:.3f}")
print(f"no-op    archbench {ab['startup']*1e3:8.3f} ms  hyperfine {hf['startup']*1e3:8.3f} ms  (per-run cost of spawning and waiting)")
PY
