#!/usr/bin/env bash
# Docker Compose v2 for the compose target's tests. Debian bookworm ships only v1
# (docker-compose 1.29); trixie's docker-compose package is v2 (a Go binary that needs
# only libc6 >= 2.34). It is fetched with apt from a private sources list, state and cache,
# so apt checks the archive's signature and this machine's apt sources stay bookworm's,
# then unpacked as a docker CLI plugin under .cache/compose-v2/cli-plugins: tests point
# DOCKER_CONFIG there for v2, and /usr/bin/docker-compose stays v1.
# Usage: scripts/fetch-compose-v2.sh (idempotent; exits 0 without doing anything when present).
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.cache/compose-v2
if [ -x "$dest/cli-plugins/docker-compose" ] && "$dest/cli-plugins/docker-compose" version >/dev/null 2>&1; then
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/parts"
cat > "$work/sources.list" <<LIST
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main
LIST
apt_opts=(
  -o "Dir::Etc::SourceList=$work/sources.list"
  -o "Dir::Etc::SourceParts=$work/parts"
  -o "Dir::State::Lists=$work/lists"
  -o "Dir::Cache=$work/cache"
  -o "APT::Get::List-Cleanup=0"
  -o "Debug::NoLocking=1"
  -o "Acquire::Retries=3"
  -o "Acquire::http::Timeout=60"
)
# apt's download sandbox user cannot write into this private folder.
[ "$(id -u)" = 0 ] && apt_opts+=(-o "APT::Sandbox::User=root")
apt-get "${apt_opts[@]}" -qq update
(cd "$work" && apt-get "${apt_opts[@]}" -qq download docker-compose)
dpkg-deb -x "$work"/docker-compose_*.deb "$work/root"
mkdir -p "$dest/cli-plugins"
install -m 0755 "$work/root/usr/libexec/docker/cli-plugins/docker-compose" "$dest/cli-plugins/docker-compose" 2>/dev/null ||
  install -m 0755 "$(find "$work/root" -type f -name docker-compose | head -1)" "$dest/cli-plugins/docker-compose"
"$dest/cli-plugins/docker-compose" version
