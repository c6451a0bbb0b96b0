#!/usr/bin/env bash
# QEMU 10.0 from Debian's bookworm-backports, unpacked beside the system's QEMU (not installed):
# apt-get download with a private sources list and state, then dpkg -x into .cache/qemu-10.0.
# Prints the path of its qemu-system-x86_64. Nothing of the system's apt setup changes.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dest=${QEMU10_DIR:-$top/.cache/qemu-10.0}
binary=$dest/usr/bin/qemu-system-x86_64
if [ -x "$binary" ] && "$binary" --version >/dev/null 2>&1; then echo "$binary"; exit 0; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-backports main" \
  > "$work/sources.list"
apt=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
     -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o APT::Sandbox::User=root)
apt-get "${apt[@]}" -qq update >&2
(cd "$work" && apt-get "${apt[@]}" -qq download qemu-system-x86/bookworm-backports \
  qemu-system-common/bookworm-backports qemu-system-data/bookworm-backports \
  seabios/bookworm-backports >&2)
rm -rf "$dest.new" && mkdir -p "$dest.new"
for deb in "$work"/*.deb; do dpkg -x "$deb" "$dest.new"; done
rm -rf "$dest" && mv "$dest.new" "$dest"
"$binary" --version >&2
echo "$binary"
