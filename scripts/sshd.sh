#!/usr/bin/env bash
# OpenSSH's server from Debian's packages, unpacked into .cache/openssh (not installed, not
# started): the ssh:// tests start their own throwaway sshd on 127.0.0.1 from it.
# apt-get download with a private sources list and state, then dpkg -x. Prints the sshd path.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dest=${SSHD_DIR:-$top/.cache/openssh}
binary=$dest/usr/sbin/sshd
if [ -x "$binary" ] && LD_LIBRARY_PATH="$dest/lib/x86_64-linux-gnu:$dest/usr/lib/x86_64-linux-gnu" "$binary" -V 2>/dev/null; then
  echo "$binary"; exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
cat > "$work/sources.list" <<LIST
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-updates main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security bookworm-security main
LIST
apt=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
     -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o "APT::Sandbox::User=$(id -un)")
apt-get "${apt[@]}" -qq update >&2
(cd "$work" && apt-get "${apt[@]}" -qq download openssh-server libwrap0 >&2)
rm -rf "$dest.new" && mkdir -p "$dest.new"
for deb in "$work"/*.deb; do dpkg -x "$deb" "$dest.new"; done
rm -rf "$dest" && mv "$dest.new" "$dest"
echo "$binary"
