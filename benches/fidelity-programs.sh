#!/usr/bin/env bash
# `archbench bench FILE -- ARGS` against hyperfine on the same command (issue 17): the user's
# own program (fixtures/programs/primes, static amd64) timed by both tools in one run, ratio of
# medians (target within ±5%), and each tool's per-run overhead on a program that does almost
# nothing (`primes 2`: exec, print two lines, exit).
#
# The tools alternate in ROUNDS batches of RUNS recorded runs (after one warm-up each) and the
# samples are pooled, as benches/fidelity.sh does for the suite; both are pinned to one CPU
# (archbench by default, hyperfine through taskset). The wall time of each tool's whole batch
# is also taken, to show what the tool itself costs per run around the program.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release -q --bin archbench
AB="$CARGO_TARGET_DIR/release/archbench"
ROUNDS=${ROUNDS:-40}
RUNS=${RUNS:-5}
N=${N:-3000000}
CPU=${CPU:-$(($(nproc) - 1))}
SRC="$PWD/fixtures/programs/primes"
cargo build -q --release --manifest-path "$SRC/Cargo.toml" --target x86_64-unknown-linux-musl \
  --target-dir "$SRC/target"
P="$SRC/target/x86_64-unknown-linux-musl/release/primes"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for r in $(seq "$ROUNDS"); do
  for arg in "$N" 2; do
    t0=$(date +%s.%N)
    "$AB" bench "$P" --runs "$RUNS" --cpu "$CPU" -o "$work/ab-$arg-$r.json" -- "$arg" >/dev/null
    t1=$(date +%s.%N)
    taskset -c "$CPU" hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$work/hf-$arg-$r.json" \
      "$P $arg" >/dev/null 2>&1
    t2=$(date +%s.%N)
    echo "$arg $r $t0 $t1 $t2" >>"$work/batches"
  done
done

python3 - "$work" "$ROUNDS" "$RUNS" "$N" <<'PY'
import json, random, statistics, sys
work, rounds, runs, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def pooled(arg):
    ab, hf = [], []
    for r in range(1, rounds + 1):
        ab += [s["wall"] for s in json.load(open(f"{work}/ab-{arg}-{r}.json"))["payload"][0]["samples"]]
        hf += json.load(open(f"{work}/hf-{arg}-{r}.json"))["results"][0]["times"]
    return ab, hf
def ci(a, h, k=2000):
    rng = random.Random(7)
    rs = sorted(statistics.median(rng.choices(a, k=len(a))) / statistics.median(rng.choices(h, k=len(h))) for _ in range(k))
    return rs[int(0.025 * k)], rs[int(0.975 * k) - 1]
batches = [l.split() for l in open(f"{work}/batches")]
print(f"{rounds} alternating rounds of {runs} runs per tool (plus one warm-up each)")
print(f"{'command':<16} {'archbench':>11} {'hyperfine':>11} {'ratio':>6} {'95% CI':>15}  target ±5%")
for arg in [n, "2"]:
    a, h = pooled(arg)
    ma, mh = statistics.median(a), statistics.median(h)
    lo, hi = ci(a, h)
    ok = "within" if abs(ma / mh - 1) <= 0.05 else "OUTSIDE"
    print(f"primes {arg:<9} {ma*1e3:8.3f} ms {mh*1e3:8.3f} ms {ma/mh:6.3f} [{lo:.3f}, {hi:.3f}]  {ok}")
for arg in [n, "2"]:
    ab = statistics.median(float(b[3]) - float(b[2]) for b in batches if b[0] == arg)
    hf = statistics.median(float(b[4]) - float(b[3]) for b in batches if b[0] == arg)
    print(f"whole batch of {runs}+1 runs, primes {arg}: archbench {ab*1e3:.0f} ms, hyperfine {hf*1e3:.0f} ms "
          f"(process start, identification and results file included)")
PY
