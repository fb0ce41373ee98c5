#!/usr/bin/env bash
# Builds the bot's image and runs it through the whole loop on this machine (the CI step):
#   1. starts a private Docker engine (its own socket, data and exec roots in a temp directory;
#      no bridge, no iptables: it never touches the machine's network), unless DOCKER_HOST is set;
#   2. builds the local base image (deploy/image/build-base.sh; the Debian rootfs is cached);
#   3. builds the image from the Dockerfile with that base;
#   4. runs dev/image-smoke.ts: the container against the real Redis and PostgreSQL on 127.0.0.1
#      and the Telegram emulator: health, Docker's HEALTHCHECK, an alert becoming a card, tini as
#      PID 1 and uid 1000, and a graceful `docker stop`;
#   5. removes the containers, stops the engine and unmounts what it left.
# The figures (image size, start-up to healthy, RSS) come out as one JSON line on stdout.
#
# Needs root, docker.io, debootstrap, Redis and PostgreSQL on 127.0.0.1, and npm registry access
# during the build (`--network host`). Behind a TLS-inspecting proxy, BUILD_CA_FILE (default:
# NODE_EXTRA_CA_CERTS) names extra CA certificates for npm in the build stage only.
# Settings: IMAGE (default chatops-bot:test); DOCKER_HOST to use an engine that is running
# already (then nothing is started or stopped). The private engine's data goes with its temp
# directory, so each run builds from scratch (a few minutes, mostly `npm ci`); only the Debian
# rootfs of the base is cached (build-base.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."

IMAGE="${IMAGE:-chatops-bot:test}"
CA_FILE="${BUILD_CA_FILE:-${NODE_EXTRA_CA_CERTS:-}}"

log() { printf '[test-image] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ "$(id -u)" -eq 0 ]] || die "run as root (dockerd and debootstrap need it)"
for tool in docker dockerd debootstrap node; do
  command -v "$tool" >/dev/null || die "'$tool' is missing (apt-get install docker.io debootstrap)"
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/test-image.XXXXXX")"
DOCKERD_PID=""
cleanup() {
  local status=$?
  if [[ -n "$DOCKERD_PID" ]]; then
    # Containers first, then the engine, then whatever it left mounted.
    local ids
    ids="$(docker ps --all --quiet 2>/dev/null || true)"
    [[ -z "$ids" ]] || docker rm --force $ids >/dev/null 2>&1 || true
    kill "$DOCKERD_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$DOCKERD_PID" 2>/dev/null || true
    # dockerd's own containerd (configured under $WORK) ends a moment after it.
    for _ in $(seq 1 50); do pgrep -f "$WORK/exec/containerd" >/dev/null || break; sleep 0.2; done
    if mountpoint -q "$WORK/exec/netns/default" 2>/dev/null; then umount "$WORK/exec/netns/default" || true; fi
    # Anything else still mounted under the temp directory (overlay layers of a killed engine).
    # (grep finds nothing once the engine cleaned up after itself: not a failure under `set -e`)
    { grep -o " $WORK/[^ ]*" /proc/mounts || true; } | sort -r | while read -r mount; do umount -l "$mount" || true; done
  fi
  for _ in 1 2 3 4 5; do
    rm -rf --one-file-system "$WORK" 2>/dev/null && break
    sleep 1
  done
  [[ ! -e "$WORK" ]] || log "could not remove $WORK entirely"
  exit "$status"
}
trap cleanup EXIT

if [[ -z "${DOCKER_HOST:-}" ]]; then
  log "starting a private dockerd in $WORK"
  dockerd --data-root "$WORK/data" --exec-root "$WORK/exec" --pidfile "$WORK/docker.pid" \
    -H "unix://$WORK/docker.sock" --iptables=false --ip6tables=false --bridge=none \
    >"$WORK/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  export DOCKER_HOST="unix://$WORK/docker.sock"
  for _ in $(seq 1 150); do docker version >/dev/null 2>&1 && break; sleep 0.2; done
  docker version >/dev/null 2>&1 || { tail -n 20 "$WORK/dockerd.log" >&2; die "dockerd did not start"; }
fi

log "base image"
BASE_IMAGE="$(deploy/image/build-base.sh)"

# The build context: exactly the files the Dockerfile copies (.dockerignore says the same), plus
# the CA file when there is one.
log "building $IMAGE from $BASE_IMAGE"
context="$WORK/context"
mkdir -p "$context/dev"
cp -r Dockerfile .dockerignore package.json package-lock.json tsconfig.json main.ts \
  domain db kv registry gateways ai executors handlers jobs bot http app "$context/"
cp dev/build.ts "$context/dev/"
if [[ -n "$CA_FILE" ]]; then cp "$CA_FILE" "$context/build-ca.crt"; fi
started=$SECONDS
docker build --network host --build-arg BASE_IMAGE="$BASE_IMAGE" \
  --build-arg VERSION="$(node -p 'require("./package.json").version')" \
  --build-arg REVISION="$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
  --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  -t "$IMAGE" "$context" >"$WORK/build.log" 2>&1 || { tail -n 40 "$WORK/build.log" >&2; die "docker build failed"; }
log "built $IMAGE in $((SECONDS - started)) s"

log "running the image through the loop"
node --import tsx dev/image-smoke.ts --image "$IMAGE"
