#!/usr/bin/env bash
# One command from a fresh machine (Node 20, npm, g++, make, python3) to a
# working nettracer: system packages, npm dependencies, the BPF object and
# the native addon, the compiled CLI. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# Build: clang/llvm + bpftool for the BPF object, libbpf for the addon.
# Tests: iproute2 (ip netns, veth), nftables (forced loss), python3 for the traffic generator.
# Lint: clang-format-19, which Debian 12 and 13 both package (one version, one formatting).
# Tests of `nettracer top`: tmux, a real terminal to run it in and read back.
# npm run test:asan: patchelf, for a Node that loads the ASan runtime first
# (libasan and libubsan come with g++, through libgcc-N-dev).
packages=(clang llvm libbpf-dev libbpf1 libelf-dev zlib1g-dev bpftool pkg-config make g++ iproute2 nftables clang-format-19 patchelf tmux)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# nettracer agent's tests: a real Prometheus (and promtool), yamllint for the
# Kubernetes manifests, Podman (with runc: crun refuses hybrid cgroups) and
# debootstrap to build the image and run it, and the official OTLP .proto
# files. Debian 13 has opentelemetry-proto in main; Debian 12 only in
# bookworm-backports, added (at backports' default low priority: nothing else
# is upgraded from it) only when the package is nowhere else. kubectl is not packaged by Debian:
# the manifests test says so when it is missing.
agent_packages=(prometheus yamllint podman runc debootstrap)
agent_missing=()
for p in "${agent_packages[@]}" opentelemetry-proto; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || agent_missing+=("$p")
done
if [ ${#agent_missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  from=()
  if ! dpkg-query -W -f='${Status}' opentelemetry-proto 2>/dev/null | grep -q 'install ok installed' \
    && [ -z "$(apt-cache policy opentelemetry-proto 2>/dev/null | sed -n 's/^ *Candidate: //p' | grep -v none)" ]; then
    . /etc/os-release
    if [ "${VERSION_CODENAME:-}" = bookworm ]; then
      echo "setup: adding bookworm-backports for opentelemetry-proto"
      printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        | $SUDO tee /etc/apt/sources.list.d/nettracer-bookworm-backports.sources >/dev/null
      $SUDO apt-get update -qq
      from=(-t bookworm-backports)
    fi
  fi
  echo "setup: installing ${agent_missing[*]}"
  for p in "${agent_missing[@]}"; do
    target=()
    [ "$p" = opentelemetry-proto ] && target=("${from[@]}")
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${target[@]}" "$p" >/dev/null
  done
fi

# The identity the tracer runs as once attached: a system account of its
# own, so that no other process of the host can signal or trace it.
if ! getent passwd nettracer >/dev/null; then
  echo "setup: creating the system user nettracer"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin nettracer
fi

# npm ci runs the package's install script: the BPF object and the addon.
npm ci --no-audit --no-fund
npm run build:ts
# `npx nettracer` from this checkout: npx finds commands in node_modules/.bin,
# where npm links dependencies' commands but not the package's own.
ln -sfn ../../bin/run.cjs node_modules/.bin/nettracer
echo "setup: done. Try: sudo ./bin/run.cjs trace --with-loopback"
