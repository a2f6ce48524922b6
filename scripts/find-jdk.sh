# Sourced by ./sluice and .ci/run: sets SLUICE_JAVA_HOME to a JDK >= 21, looking at JAVA_HOME, then `java` on
# PATH, then /usr/lib/jvm/*. Prints one sentence and returns 1 when there is none.

_sluice_java_version() { # prints the major version of the java binary $1, or nothing
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}

_sluice_candidates() {
  [ -n "${JAVA_HOME:-}" ] && echo "$JAVA_HOME"
  if command -v java >/dev/null 2>&1; then
    dirname "$(dirname "$(readlink -f "$(command -v java)")")"
  fi
  ls -d /usr/lib/jvm/*/ 2>/dev/null | sed 's:/$::' | sort -rV
}

SLUICE_JAVA_HOME=""
while IFS= read -r candidate; do
  [ -x "$candidate/bin/java" ] || continue
  version=$(_sluice_java_version "$candidate/bin/java")
  if [ -n "$version" ] && [ "$version" -ge 21 ]; then
    SLUICE_JAVA_HOME="$candidate"
    break
  fi
done <<EOF_CANDIDATES
$(_sluice_candidates)
EOF_CANDIDATES

if [ -z "$SLUICE_JAVA_HOME" ]; then
  echo "sluice: no JDK 21 or newer found (looked at JAVA_HOME, java on PATH and /usr/lib/jvm); install one or set JAVA_HOME to it." >&2
  return 1 2>/dev/null || exit 1
fi
