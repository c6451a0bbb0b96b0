#!/usr/bin/env bash
# Debian packages unpacked into a directory, not installed: apt-get download with a private
# sources list and state (nothing of the system's apt setup changes), then dpkg -x.
#   scripts/debs.sh DEST SUITE... -- PACKAGE...
# SUITE: bookworm, bookworm-updates, bookworm-backports, bookworm-security (main of each).
set -euo pipefail
dest=$1; shift
suites=()
while [ "$1" != "--" ]; do suites+=("$1"); shift; done
shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
for suite in "${suites[@]}"; do
  case $suite in *-security) archive=debian-security ;; *) archive=debian ;; esac
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/$archive $suite main"
done > "$work/sources.list"
apt=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
     -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o "APT::Sandbox::User=$(id -un)")
apt-get "${apt[@]}" -qq update >&2
(cd "$work" && apt-get "${apt[@]}" -qq download "$@" >&2)
rm -rf "$dest.new" && mkdir -p "$dest.new"
for deb in "$work"/*.deb; do dpkg -x "$deb" "$dest.new"; done
rm -rf "$dest" && mv "$dest.new" "$dest"
