#!/usr/bin/env bash
# OpenSSH's server from Debian's packages, unpacked into .cache/openssh (not installed, not
# started; see debs.sh): the ssh:// tests start their own throwaway sshd on 127.0.0.1 from it.
# Prints the sshd path.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dest=${SSHD_DIR:-$top/.cache/openssh}
binary=$dest/usr/sbin/sshd
if [ -x "$binary" ] && LD_LIBRARY_PATH="$dest/lib/x86_64-linux-gnu:$dest/usr/lib/x86_64-linux-gnu" "$binary" -V 2>/dev/null; then
  echo "$binary"; exit 0
fi
"$top/scripts/debs.sh" "$dest" bookworm bookworm-updates bookworm-security -- openssh-server libwrap0
echo "$binary"
