#!/usr/bin/env bash
# archbench identify vs file(1), and layer streaming vs gzip -dc, measured in one run on this
# machine with hyperfine. Prints rates and ratios; the figures go in README with the machine.
#
#   benches/compare-file.sh [TREE]     (default /usr)
set -euo pipefail
cd "$(dirname "$0")/.."
TREE=${1:-/usr}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release -q --bin archbench
AB="$CARGO_TARGET_DIR/release/archbench"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

find "$TREE" -xdev -type f -print0 > "$work/files"
n=$(tr -cd '\0' < "$work/files" | wc -c)
echo "tree: $TREE, $n regular files; $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

hyperfine -N --warmup 1 --runs 3 --export-json "$work/id.json" \
  -n archbench "$AB identify --json --all $TREE" \
  -n 'file -b'  "bash -c 'xargs -0 file -b < $work/files > /dev/null'" >/dev/null
python3 - "$work/id.json" "$n" <<'PY'
import json, sys
r = {x["command"]: x["median"] for x in json.load(open(sys.argv[1]))["results"]}
n = int(sys.argv[2])
a, f = r["archbench"], r["file -b"]
print(f"identify: archbench {n/a:,.0f} files/s ({a:.2f} s), file(1) {n/f:,.0f} files/s ({f:.2f} s): {f/a:.1f}x")
PY

# Same answers? For every file file(1) calls ELF, archbench must report an ELF of the same class,
# byte order and machine (the corpus test checks the mapping in detail; this checks coverage).
"$AB" identify --json --all "$TREE" > "$work/ab.json"
xargs -0 file -N -F $'\t' < "$work/files" > "$work/file.txt" || true
python3 - "$work/ab.json" "$work/file.txt" "$TREE" <<'PY'
import json, os, sys
ab = json.load(open(sys.argv[1]))["payload"][0]["sections"][0]["files"]
root = sys.argv[3]
elf = {os.path.join(root, f["path"]): f["identity"] for f in ab if f.get("identity", {}).get("format") == "elf"}
want = {}
for line in open(sys.argv[2], errors="replace"):
    path, _, desc = line.rstrip("\n").partition("\t")
    if desc.strip().startswith("ELF"):
        want[path] = desc.strip()
same = sum(1 for p, d in want.items() if p in elf and d.startswith("ELF %d-bit %s" % (elf[p]["bits"], "LSB" if elf[p]["endian"] == "little" else "MSB")))
print(f"answers: file(1) finds {len(want)} ELF files, archbench {len(elf)}; class and byte order agree on {same}")
PY

# Layer streaming: a gzip tar of the tree's largest binaries directory.
LAYER_SRC=${LAYER_SRC:-/usr/bin}
tar -C "$(dirname "$LAYER_SRC")" -cf - "$(basename "$LAYER_SRC")" 2>/dev/null | gzip -6 > "$work/layer.tar.gz"
raw=$(gzip -dc "$work/layer.tar.gz" | wc -c)
hyperfine -N --warmup 1 --runs 5 --export-json "$work/gz.json" \
  -n archbench "$AB identify $work/layer.tar.gz" \
  -n 'gzip -dc' "bash -c 'gzip -dc $work/layer.tar.gz > /dev/null'" >/dev/null
python3 - "$work/gz.json" "$raw" <<'PY'
import json, sys
r = {x["command"]: x["median"] for x in json.load(open(sys.argv[1]))["results"]}
raw = int(sys.argv[2]) / 2**20
a, g = r["archbench"], r["gzip -dc"]
print(f"gzip layer ({raw:.0f} MiB uncompressed): archbench {raw/a:.0f} MiB/s, gzip -dc {raw/g:.0f} MiB/s: {g/a:.2f}x gzip's rate")
PY
