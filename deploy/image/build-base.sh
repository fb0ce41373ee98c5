#!/usr/bin/env bash
# Builds a local Docker base image that holds a minimal Debian system and Node.js, for machines
# that can reach Debian's package mirror but no Docker image registry.
#
# What it does, in order:
#   1. Builds a minimal Debian root file system with `debootstrap --variant=minbase`, adds the
#      libraries Node needs, ca-certificates and tini, applies security updates, creates the
#      non-root user `node` (uid/gid 1000) and strips docs, man pages, locales and apt lists.
#      The result is cached as a tarball, so later runs skip this step entirely.
#   2. Unpacks that tarball into a scratch directory and copies THIS machine's Node.js binary
#      (plus npm and corepack, when they sit next to it) into /usr/local, as the official Node
#      images do.
#   3. Streams the scratch directory into `docker import` and tags the image as
#      `<name>:<node version>` and `<name>:local`.
#
# All progress goes to stderr; the only thing printed on stdout is the image tag, so
#   BASE_IMAGE="$(deploy/image/build-base.sh)"
# works.
#
# Needs: root (debootstrap and chroot), debootstrap, tar, a reachable Debian mirror, a Docker
# engine (the `docker` command honours DOCKER_HOST), and `node` on PATH (or NODE_BIN).
#
# Settings (environment variables, all optional):
#   DEBIAN_SUITE            Debian release to build from (default: bookworm).
#   DEBIAN_MIRROR           Mirror URL for debootstrap (default: the first one in this machine's
#                           apt sources that serves DEBIAN_SUITE).
#   DEBIAN_SECURITY_MIRROR  Mirror URL for "<suite>-security" (default: from the apt sources as
#                           above); "none" skips security updates.
#   BASE_IMAGE_NAME         Repository name of the image (default: chatops-node-base).
#   BASE_IMAGE_CACHE_DIR    Where the rootfs tarball is cached
#                           (default: ${XDG_CACHE_HOME:-$HOME/.cache}/chatops-bot).
#   BASE_IMAGE_REFRESH      Set to 1 to rebuild the cached rootfs even if it exists.
#   NODE_BIN                Node.js binary to copy (default: `command -v node`).
#   INCLUDE_NPM             Set to 0 to leave npm and corepack out (default: 1).
#   DOCKER_HOST             Which Docker engine to import into (read by `docker` itself).
set -euo pipefail

SUITE="${DEBIAN_SUITE:-bookworm}"
IMAGE_NAME="${BASE_IMAGE_NAME:-chatops-node-base}"
CACHE_DIR="${BASE_IMAGE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/chatops-bot}"
REFRESH="${BASE_IMAGE_REFRESH:-0}"
INCLUDE_NPM="${INCLUDE_NPM:-1}"
# Packages added on top of minbase. Node is linked against libstdc++ and libgcc_s (check with
# `ldd "$(command -v node)"`); libc is already part of minbase. tini is a tiny init that reaps
# zombies and forwards signals to node when it runs as PID 1.
EXTRA_PACKAGES="libstdc++6,libgcc-s1,ca-certificates,tini"
# The same search path the official Node images use.
IMAGE_PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

log() { printf '[build-base] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  # Print the comment block at the top of this file (everything up to `set -euo pipefail`).
  sed -n '2,/^set -euo pipefail/{/^set -euo pipefail/d;s/^# \{0,1\}//;p}' "$0"
}

# Prints the first mirror URL in this machine's apt sources that serves the given suite. Reads
# both the one-line format (sources.list, *.list) and the deb822 format (*.sources).
find_apt_mirror() {
  local want="$1" file found
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -r "$file" ]] || continue
    found="$(awk -v want="$want" '
      $1 == "deb" {
        i = 2
        # Skip options such as [arch=amd64 signed-by=...].
        if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
        if ($(i + 1) == want) { print $i; exit }
      }' "$file")"
    if [[ -n "$found" ]]; then printf '%s\n' "$found"; return 0; fi
  done
  for file in /etc/apt/sources.list.d/*.sources; do
    [[ -r "$file" ]] || continue
    found="$(awk -v want="$want" '
      # deb822: one stanza per block of lines, blank lines between stanzas.
      function flush(   n, i, s, u) {
        if (!done && types ~ /(^| )deb( |$)/ && enabled != "no") {
          n = split(suites, s, " ")
          for (i = 1; i <= n; i++) if (s[i] == want) { split(uris, u, " "); print u[1]; done = 1; break }
        }
        types = uris = suites = enabled = ""
      }
      done { exit }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      /^[ \t]/   { next }  # continuation lines: not used by the fields read here
      {
        key = tolower($1); sub(/:$/, "", key); $1 = ""; val = $0; sub(/^[ \t]+/, "", val)
        if (key == "types") types = val
        else if (key == "uris") uris = val
        else if (key == "suites") suites = val
        else if (key == "enabled") enabled = tolower(val)
      }
      END { flush() }' "$file")"
    if [[ -n "$found" ]]; then printf '%s\n' "$found"; return 0; fi
  done
  return 1
}

# Builds the minimal Debian rootfs in "$1" (an empty directory). Everything that does not depend
# on Node.js happens here, because the result is cached. The cache key includes this function's
# body, so editing it invalidates old caches automatically.
build_rootfs() {
  local root="$1"
  # Every deletion below is relative to $root: refuse anything that could point them at the host.
  [[ "$root" == /?*/* && -d "$root" ]] || die "bad rootfs directory: '$root'"

  log "debootstrap --variant=minbase ${SUITE} from ${MIRROR} (this takes a few minutes)"
  debootstrap --variant=minbase --arch="$ARCH" --include="$EXTRA_PACKAGES" \
    "$SUITE" "$root" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
    { tail -n 30 "$WORK/debootstrap.log" >&2; die "debootstrap failed (full log above)"; }

  # The apt sources the image will use: the release, its updates and, if known, security.
  rm -f "$root/etc/apt/sources.list"
  {
    printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\n' "$MIRROR" "$SUITE" "$SUITE"
    printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
    if [[ "$SECURITY_MIRROR" != none ]]; then
      printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\n' "$SECURITY_MIRROR" "$SUITE"
      printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
    fi
  } >"$root/etc/apt/sources.list.d/debian.sources"

  # Keep future `apt-get install` runs in Dockerfiles lean too: no docs (licences excepted), man
  # pages or translations, and no downloaded .deb files left behind.
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
Binary::apt::APT::Keep-Downloaded-Packages "false";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
EOF

  # Security and point-release updates, run inside the new system. /proc is mounted for the
  # maintainer scripts that look at it and unmounted again right after (and by cleanup on error).
  log "applying updates inside the rootfs"
  mount -t proc proc "$root/proc"
  MOUNTED_PROC="$root/proc"
  chroot "$root" /usr/bin/env -i PATH="$IMAGE_PATH" DEBIAN_FRONTEND=noninteractive \
    sh -c 'apt-get -qq update && apt-get -qq -y upgrade && apt-get -qq clean' \
    >"$WORK/upgrade.log" 2>&1 ||
    { tail -n 30 "$WORK/upgrade.log" >&2; die "apt-get upgrade in the rootfs failed"; }

  # The non-root user, with the same name and ids as in the official Node images.
  chroot "$root" /usr/sbin/groupadd --gid 1000 node
  chroot "$root" /usr/sbin/useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  umount "$root/proc"
  MOUNTED_PROC=""

  log "removing apt lists, docs, man pages, locales and logs"
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/cache/debconf/*-old \
    "$root"/var/lib/dpkg/*-old "$root"/usr/share/man/* "$root"/usr/share/info/* \
    "$root"/usr/share/groff/* "$root"/usr/share/lintian/* "$root"/usr/share/linda/* \
    "$root"/usr/share/locale/* "$root"/tmp/* "$root"/var/tmp/* "$root"/root/.cache
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  find "$root/var/log" -type f -delete
  # Docker provides /dev, hostname, hosts and resolv.conf at run time; do not ship the build
  # machine's copies (debootstrap copies them from the host).
  rm -rf "${root:?}"/dev/*  # ("${root:?}": never /dev/* of the host)
  printf 'localhost\n' >"$root/etc/hostname"
  printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
  : >"$root/etc/resolv.conf"
  [[ ! -e "$root/etc/machine-id" ]] || : >"$root/etc/machine-id"
}

# Removes the scratch directory on exit, after making sure nothing is still mounted in it.
cleanup() {
  if [[ -n "${MOUNTED_PROC:-}" ]]; then umount "$MOUNTED_PROC" 2>/dev/null || umount -l "$MOUNTED_PROC" || true; fi
  if [[ -n "${WORK:-}" && -d "$WORK" ]]; then rm -rf --one-file-system "$WORK"; fi
}

main() {
  case "${1:-}" in
    -h | --help) usage; exit 0 ;;
    "") ;;
    *) usage >&2; die "unexpected argument: $1" ;;
  esac

  [[ "$(id -u)" -eq 0 ]] || die "run as root (debootstrap, chroot and unpacking the rootfs need it)"
  local tool
  for tool in debootstrap docker tar chroot sha256sum; do
    command -v "$tool" >/dev/null || die "'$tool' is missing (Debian packages: debootstrap docker.io)"
  done

  # The Node.js binary to ship, and its version (v20.20.2 -> 20.20.2).
  NODE_BIN="$(readlink -f "${NODE_BIN:-$(command -v node || true)}")"
  [[ -x "$NODE_BIN" ]] || die "no node binary found; put node on PATH or set NODE_BIN"
  local node_version
  node_version="$("$NODE_BIN" -v)"
  node_version="${node_version#v}"
  [[ "$node_version" =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || die "unexpected 'node -v' output: $node_version"

  ARCH="$(dpkg --print-architecture)"
  MIRROR="${DEBIAN_MIRROR:-$(find_apt_mirror "$SUITE" || true)}"
  [[ -n "$MIRROR" ]] || die "no apt source serves '$SUITE'; set DEBIAN_MIRROR to a Debian mirror URL"
  SECURITY_MIRROR="${DEBIAN_SECURITY_MIRROR:-$(find_apt_mirror "${SUITE}-security" || echo none)}"

  # Fail early, before the slow part, if the Docker engine cannot be reached.
  docker version --format '{{.Server.Version}}' >/dev/null 2>&1 ||
    die "cannot reach a Docker engine (is dockerd running, and DOCKER_HOST set if it is not the default?)"

  WORK="$(mktemp -d "${TMPDIR:-/tmp}/build-base.XXXXXX")"
  MOUNTED_PROC=""
  trap cleanup EXIT
  local root="$WORK/rootfs"
  mkdir -p "$root" "$CACHE_DIR"

  # 1. The cached Debian rootfs. The key covers every input that changes its content.
  local key cache
  key="$(printf '%s\n' "$SUITE" "$ARCH" "$MIRROR" "$SECURITY_MIRROR" "$EXTRA_PACKAGES" \
    "$(declare -f build_rootfs)" | sha256sum | cut -c1-16)"
  cache="$CACHE_DIR/rootfs-${SUITE}-${ARCH}-${key}.tar.gz"

  # The image itself is up to date when it was made from the same rootfs and the same node (its
  # label says so): importing again would give it a new id and void every build cache on top.
  local tag="${IMAGE_NAME}:${node_version}" image_key
  image_key="$(printf '%s\n' "$key" "$(sha256sum <"$NODE_BIN")" "$INCLUDE_NPM" "$(declare -f main)" |
    sha256sum | cut -c1-16)"
  if [[ "$REFRESH" != 1 && -s "$cache" ]] &&
    [[ "$(docker image inspect --format '{{index .Config.Labels "chatops.base-key"}}' "$tag" 2>/dev/null)" == "$image_key" ]]; then
    docker tag "$tag" "${IMAGE_NAME}:local"
    log "$tag is up to date (same rootfs and node)"
    printf '%s\n' "$tag"
    return 0
  fi
  if [[ "$REFRESH" == 1 || ! -s "$cache" ]]; then
    build_rootfs "$root"
    log "caching the rootfs as $cache"
    tar --numeric-owner -C "$root" -czf "$cache.tmp" .
    mv -f "$cache.tmp" "$cache"
  else
    log "using the cached rootfs $cache"
    tar --numeric-owner -C "$root" -xzf "$cache"
  fi

  # 2. Node.js from this machine, laid out like the official images: /usr/local/bin/node, and
  # npm/corepack under /usr/local/lib/node_modules with symlinks in /usr/local/bin.
  log "adding node ${node_version} from ${NODE_BIN}"
  install -D -m 0755 "$NODE_BIN" "$root/usr/local/bin/node"
  local modules
  modules="$(dirname "$NODE_BIN")/../lib/node_modules"
  if [[ "$INCLUDE_NPM" == 1 ]]; then
    mkdir -p "$root/usr/local/lib/node_modules"
    if [[ -f "$modules/npm/bin/npm-cli.js" ]]; then
      cp -a "$modules/npm" "$root/usr/local/lib/node_modules/"
      ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
      ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
    else
      log "warning: npm not found next to node ($modules/npm); the image has no npm"
    fi
    if [[ -f "$modules/corepack/dist/corepack.js" ]]; then
      cp -a "$modules/corepack" "$root/usr/local/lib/node_modules/"
      ln -sf ../lib/node_modules/corepack/dist/corepack.js "$root/usr/local/bin/corepack"
    fi
  fi
  chown -R 0:0 "$root/usr/local/bin" "$root/usr/local/lib/node_modules" 2>/dev/null || true

  # Sanity check before importing: node must start inside the new rootfs, which catches a
  # missing shared library or a binary built for another architecture.
  chroot "$root" /usr/bin/env -i PATH="$IMAGE_PATH" node -e 'process.exit(0)' ||
    die "node does not start inside the rootfs (missing library? check 'ldd $NODE_BIN')"

  # 3. Import. `docker import` makes a single-layer image with no configuration, so everything a
  # Dockerfile would set (PATH, entrypoint, default command) is passed with --change.
  local previous new_id
  previous="$(docker image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)"
  log "importing into docker as $tag"
  tar --numeric-owner -C "$root" -c . | docker import \
    --message "Debian ${SUITE} minbase + Node.js v${node_version} (deploy/image/build-base.sh)" \
    --change "ENV PATH=${IMAGE_PATH}" \
    --change "ENV NODE_VERSION=${node_version}" \
    --change 'ENTRYPOINT ["/usr/bin/tini", "--"]' \
    --change 'CMD ["node"]' \
    --change "LABEL chatops.base-key=${image_key}" \
    - "$tag" >/dev/null
  docker tag "$tag" "${IMAGE_NAME}:local"
  # A rebuild leaves the image it replaced untagged; remove it unless a container still uses it
  # (then docker refuses, which is fine).
  new_id="$(docker image inspect --format '{{.Id}}' "$tag")"
  if [[ -n "$previous" && "$previous" != "$new_id" ]]; then
    docker image rm "$previous" >/dev/null 2>&1 || true
  fi

  local bytes
  bytes="$(docker image inspect --format '{{.Size}}' "$tag")"
  log "built $tag (also tagged ${IMAGE_NAME}:local), $((bytes / 1000000)) MB"
  printf '%s\n' "$tag"
}

main "$@"
