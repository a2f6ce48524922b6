#!/usr/bin/env bash
# Copies the C libraries that the jlinked JVM links against (glibc: libc, libm, the loader...) from the build machine
# into a root directory that Jib adds as a layer to the `scratch` image, which has no C library of its own.
# Usage: runtime-libs.sh JLINK_DIR OUT_DIR. AWT's X11 and sound libraries are left out: the image runs headless.
# It also strips the symbol tables from the jlinked runtime's native libraries (binutils' strip; libjvm.so alone
# loses 5 MB): the JVM needs only their dynamic symbols (a crash report then shows offsets in libjvm, not names).
set -euo pipefail
jdk="$(cd "$1" && pwd)"
out="$2"
rm -rf "$out"
mkdir -p "$out/tmp"
if command -v strip >/dev/null 2>&1; then
  find "$jdk/lib" -type f -name '*.so' -exec strip --strip-unneeded {} +
else
  echo "runtime-libs.sh: no strip (binutils) on this machine: the image is about 6 MB larger" >&2
fi
find "$jdk/bin" "$jdk/lib" -type f \( -name '*.so' -o -perm -u+x \) \
    ! -name libawt_xawt.so ! -name libjawt.so ! -name libjsound.so ! -name libsplashscreen.so -print0 |
  xargs -0 -n 1 ldd 2>/dev/null |
  awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\/.*ld-linux/ { print $1 }' |
  grep -v "^$jdk/" | sort -u |
  while read -r lib; do
    mkdir -p "$out$(dirname "$lib")"
    cp -L "$lib" "$out$lib"
  done
if [ ! -e "$out/lib64/ld-linux-x86-64.so.2" ]; then
  echo "runtime-libs.sh: found no dynamic loader for $jdk/bin/java (ldd missing?)" >&2
  exit 1
fi
