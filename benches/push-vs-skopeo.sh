#!/usr/bin/env bash
# Push a 3-platform image (one ~50 MB incompressible layer per platform plus a shared one) from an
# OCI layout to an empty registry with `archbench image copy` and with `skopeo copy --all`, then
# push it again unchanged. Each round starts two fresh registries (one per tool) on loopback;
# rounds alternate which tool goes first. Prints medians and the ratios the README quotes.
#
#   benches/push-vs-skopeo.sh [ROUNDS]     (default 5; needs a release build: cargo build --release)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-5}"
BIN="${ARCHBENCH:-${CARGO_TARGET_DIR:-target}/release/archbench}"
[ -x "$BIN" ] || { echo "build first: cargo build --release (or set ARCHBENCH=path)"; exit 1; }
for t in docker-registry skopeo python3; do
  command -v "$t" >/dev/null || { echo "$t is missing: run scripts/setup"; exit 1; }
done
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

# The layout is written by a few lines of Python so the input is independent of both tools.
python3 - "$WORK/layout" <<'EOF'
import hashlib, io, json, os, sys, tarfile
root = sys.argv[1]
os.makedirs(f"{root}/blobs/sha256", exist_ok=True)
def blob(data):
    d = hashlib.sha256(data).hexdigest()
    with open(f"{root}/blobs/sha256/{d}", "wb") as f:
        f.write(data)
    return {"digest": f"sha256:{d}", "size": len(data)}
def layer(name, payload):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        info = tarfile.TarInfo(name); info.size = len(payload); info.mtime = 0
        t.addfile(info, io.BytesIO(payload))
    data = buf.getvalue()
    return data, dict(blob(data), mediaType="application/vnd.oci.image.layer.v1.tar")
shared, shared_d = layer("etc/shared", os.urandom(4 << 20))
manifests = []
for arch, variant in [("amd64", None), ("arm64", None), ("arm", "v7")]:
    own, own_d = layer(f"opt/{arch}.bin", os.urandom(50 << 20))
    cfg = {"architecture": arch, "os": "linux", "rootfs": {"type": "layers", "diff_ids": [shared_d["digest"], own_d["digest"]]}}
    if variant: cfg["variant"] = variant
    c = dict(blob(json.dumps(cfg).encode()), mediaType="application/vnd.oci.image.config.v1+json")
    m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": c, "layers": [shared_d, own_d]}
    md = dict(blob(json.dumps(m).encode()), mediaType=m["mediaType"])
    md["platform"] = {"architecture": arch, "os": "linux", **({"variant": variant} if variant else {})}
    manifests.append(md)
idx = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests}
i = dict(blob(json.dumps(idx).encode()), mediaType=idx["mediaType"], annotations={"org.opencontainers.image.ref.name": "v1"})
json.dump({"schemaVersion": 2, "manifests": [i]}, open(f"{root}/index.json", "w"))
open(f"{root}/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
EOF
SIZE=$(du -sm "$WORK/layout" | cut -f1)

start_registry() { # name -> sets PORT
  local dir="$WORK/reg-$1"
  PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
  mkdir -p "$dir"
  printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' "$dir/data" "$PORT" >"$dir/config.yml"
  docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.05; done
}
now() { date +%s.%N; }
calc() { awk "BEGIN { print $1 }"; }
timed() { local t0; t0=$(now); "$@" >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }; calc "$(now) - $t0"; }

ab_first=(); ab_again=(); sk_first=(); sk_again=()
for r in $(seq "$ROUNDS"); do
  start_registry "a$r"; pa=$PORT; start_registry "s$r"; ps=$PORT
  run_ab() { ab_first+=("$(timed "$BIN" image copy "oci:$WORK/layout:v1" "127.0.0.1:$pa/bench:v1")")
             ab_again+=("$(timed "$BIN" image copy "oci:$WORK/layout:v1" "127.0.0.1:$pa/bench:v1")"); }
  run_sk() { sk_first+=("$(timed skopeo copy -q --all --dest-tls-verify=false "oci:$WORK/layout:v1" "docker://127.0.0.1:$ps/bench:v1")")
             sk_again+=("$(timed skopeo copy -q --all --dest-tls-verify=false "oci:$WORK/layout:v1" "docker://127.0.0.1:$ps/bench:v1")"); }
  if (( r % 2 )); then run_ab; run_sk; else run_sk; run_ab; fi
  printf 'round %s: archbench %.2fs / re-push %.3fs; skopeo %.2fs / re-push %.3fs\n' "$r" \
    "${ab_first[-1]}" "${ab_again[-1]}" "${sk_first[-1]}" "${sk_again[-1]}"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
A=$(median "${ab_first[@]}"); AA=$(median "${ab_again[@]}"); S=$(median "${sk_first[@]}"); SA=$(median "${sk_again[@]}")
echo
echo "image: 3 platforms, ${SIZE} MB layout; $ROUNDS rounds; $(nproc) cores; $(skopeo --version)"
printf '%-34s %10s %10s\n' "" archbench skopeo
printf '%-34s %9.2fs %9.2fs\n' "first push to an empty registry" "$A" "$S"
printf '%-34s %9.3fs %9.3fs\n' "unchanged re-push" "$AA" "$SA"
printf 'archbench / skopeo, first push:   %.2fx   (target <= 1.0x)\n' "$(calc "$A / $S")"
printf 'archbench / skopeo, re-push:      %.2fx\n' "$(calc "$AA / $SA")"
printf 'archbench re-push / first push:   %.1f%%  (target <= 5%%)\n' "$(calc "100 * $AA / $A")"
