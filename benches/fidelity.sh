#!/usr/bin/env bash
# Does archbench measure what hyperfine measures? The same native workload commands, timed by
# both in one run: ratio of medians (target within ±5%) and each tool's per-run overhead on the
# no-op `startup` workload.
#
# The two tools alternate in ROUNDS short batches (by default one recorded run each, after one
# warm-up run) and their raw samples are pooled, so drift on a shared machine (other guests,
# frequency changes) lands on both equally instead of on whichever tool ran second. Printed per
# workload: the ratio of pooled medians with a bootstrap 95% interval, and the median of the
# per-round ratios (each round's two batches ran seconds apart, so slow drift cancels in them).
#
# Two passes: "pinned" is how archbench measures by default (its runs pinned to one CPU), with
# hyperfine given the same CPU through taskset; "unpinned" is archbench --no-pin against plain
# hyperfine, to show what the scheduler's placement does to both.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release -q --bin archbench
AB="$CARGO_TARGET_DIR/release/archbench"
RUNS=${RUNS:-1}
ROUNDS=${ROUNDS:-150}
CPU=${CPU:-$(($(nproc) - 1))}
# Both tools run the same program: archbench builds it from the checkout's sources (the hidden
# --workloads-dir) in its first round, and hyperfine runs that file.
SRC="$PWD/fixtures/workloads"
W="$SRC/target/x86_64-unknown-linux-musl/release/workloads"
work=$(mktemp -d)
# Both tools run the workloads with their files in one RAM-backed parent directory (archbench's
# default scratch is /dev/shm; on a disk filesystem the syscall workload waits on writeback).
files=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
trap 'rm -rf "$work" "$files"' EXIT
mkdir -p "$files/hyperfine"

measure() { # MODE DIR
  local pin=(--cpu "$CPU") hf=(taskset -c "$CPU" hyperfine)
  if [ "$1" = unpinned ]; then pin=(--no-pin); hf=(hyperfine); fi
  mkdir -p "$2"
  for r in $(seq "$ROUNDS"); do
    "$AB" bench --workloads-dir "$SRC" --runs "$RUNS" --runner native --workload startup --workload sha256 \
      --workload sort --workload syscall --scratch "$files" "${pin[@]}" -o "$2/ab-$r.json" >/dev/null
    WORKLOAD_TMP="$files/hyperfine" "${hf[@]}" -N --warmup 1 --runs "$RUNS" \
      --export-json "$2/hf-$r.json" \
      "$W startup 0" "$W sha256 4096" "$W sort 2000" "$W syscall 2500" >/dev/null
  done
}

report() { # DIR
  python3 - "$1" "$ROUNDS" <<'PY'
import json, random, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
ab, hf, paired = {}, {}, {}
for r in range(1, rounds + 1):
    a_round = {c["workload"]: [s["wall"] for s in c["samples"]]
               for c in json.load(open(f"{work}/ab-{r}.json"))["payload"]}
    h_round = {res["command"].split()[1]: res["times"]
               for res in json.load(open(f"{work}/hf-{r}.json"))["results"]}
    for w, walls in a_round.items():
        ab.setdefault(w, []).extend(walls)
        hf.setdefault(w, []).extend(h_round[w])
        paired.setdefault(w, []).append(statistics.median(walls) / statistics.median(h_round[w]))

def ratio_ci(a, h, n=2000):
    rng = random.Random(7)
    rs = sorted(statistics.median(rng.choices(a, k=len(a)))
                / statistics.median(rng.choices(h, k=len(h))) for _ in range(n))
    return rs[int(0.025 * n)], rs[int(0.975 * n) - 1]

print(f"{rounds} alternating rounds, {len(ab['sha256'])} samples per tool and workload")
print(f"{'':8} {'archbench':>12} {'hyperfine':>12} {'ratio':>6} {'95% CI':>15} {'paired':>7}  target ±5%")
for w in ["sha256", "sort", "syscall"]:
    a, h = statistics.median(ab[w]), statistics.median(hf[w])
    lo, hi = ratio_ci(ab[w], hf[w])
    ok = "within" if abs(a / h - 1) <= 0.05 else "OUTSIDE"
    print(f"{w:<8} {a*1e3:9.2f} ms {h*1e3:9.2f} ms {a/h:6.3f} [{lo:.3f}, {hi:.3f}] "
          f"{statistics.median(paired[w]):7.3f}  {ok}")
a, h = statistics.median(ab["startup"]), statistics.median(hf["startup"])
print(f"no-op    {a*1e3:9.3f} ms {h*1e3:9.3f} ms  (per-run cost of spawning and waiting)")
PY
}

for mode in pinned unpinned; do
  measure "$mode" "$work/$mode"
  if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && cp -r "$work/$mode" "$KEEP/"; fi
  if [ "$mode" = pinned ]; then echo "== pinned to CPU $CPU"; else echo "== unpinned"; fi
  report "$work/$mode"
done
