# Sourced by the build benchmarks (builders.sh, fidelity-buildkit.sh), from the checkout's root:
# the archbench binary (AB=path, else a release build), a scratch directory WORK removed on exit
# with the processes in PIDS, a docker-registry on a free loopback port, and the compute
# fixture's builder image bootstrapped into it (BASE).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
if [ -z "${AB:-}" ]; then
  cargo build --release -q --bin archbench
  AB="$CARGO_TARGET_DIR/release/archbench"
fi
WORK=$(mktemp -d)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; rm -rf "$WORK"' EXIT
command -v docker-registry >/dev/null || { echo "docker-registry is missing: run scripts/setup" >&2; exit 1; }
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' "$WORK/reg" "$PORT" >"$WORK/reg.yml"
docker-registry serve "$WORK/reg.yml" >"$WORK/reg.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.05; done
BASE="127.0.0.1:$PORT/archbench/builder:bookworm"
"$AB" base bootstrap --platform linux/amd64,linux/arm64 --include gcc,make,libc6-dev \
  --extra linux/amd64=gcc-aarch64-linux-gnu,libc6-dev-arm64-cross -t "$BASE" >/dev/null
