#!/usr/bin/env bash
# QEMU 10.0 from Debian's bookworm-backports, unpacked beside the system's QEMU into
# .cache/qemu-10.0 (not installed; see debs.sh). Prints the path of its qemu-system-x86_64.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dest=${QEMU10_DIR:-$top/.cache/qemu-10.0}
binary=$dest/usr/bin/qemu-system-x86_64
if [ -x "$binary" ] && "$binary" --version >/dev/null 2>&1; then echo "$binary"; exit 0; fi
"$top/scripts/debs.sh" "$dest" bookworm-backports -- qemu-system-x86/bookworm-backports \
  qemu-system-common/bookworm-backports qemu-system-data/bookworm-backports \
  seabios/bookworm-backports
"$binary" --version >&2
echo "$binary"
