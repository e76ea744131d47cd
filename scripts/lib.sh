# shellcheck shell=bash
# Shared helpers for the SecondSite wrapper scripts (./secondsite, ./run-tests). Source, don't run.
#
#   find_jdk                  set and export JAVA_HOME and JAVA to a JDK >= 25, or exit 1
#   ensure_maven              make sure `mvn` is available (apt-get installs it when root), or exit 1
#   ensure_apt_packages P...  make sure Debian packages P... are installed (same rules), or exit 1
#   ensure_postgres           try to start the local PostgreSQL cluster if 127.0.0.1:5432 is down
#   ensure_azurite            install the pinned Azurite (Azure Storage emulator) under $ROOT/.tools/azurite
#
# Everything informational goes to stderr so that stdout stays the wrapped program's output.
#
# Overridable for tests:
#   SECONDSITE_JVM_DIR   directory searched for JDKs (default /usr/lib/jvm)
#   SECONDSITE_MIN_JAVA  minimum Java feature version (default 25)

: "${SECONDSITE_JVM_DIR:=/usr/lib/jvm}"
: "${SECONDSITE_MIN_JAVA:=25}"

# Azurite for the Azure Blob cache-store tests (AzureBlobStoreTest starts
# .tools/azurite/node_modules/.bin/azurite-blob itself). 3.35.0 is the newest release that still runs on
# Node.js 20 (3.36 wants >= 21, 3.37 >= 22); bump it together with the machine's Node.js.
SECONDSITE_AZURITE_VERSION=3.35.0

_ss_err() {
    printf 'secondsite: %s\n' "$*" >&2
}

# _ss_java_major JAVA_BINARY -> prints the feature version (8, 17, 25, ...) parsed from
# `java -version`, returns non-zero if it can't be run or parsed.
_ss_java_major() {
    local out ver
    out=$("$1" -version 2>&1) || return 1
    # e.g.  openjdk version "25.0.1" 2025-10-21 | java version "1.8.0_392" | openjdk version "26-ea"
    ver=$(printf '%s\n' "$out" | sed -n 's/^.* version "\([^"]*\)".*$/\1/p' | head -n 1)
    [ -n "$ver" ] || return 1
    case $ver in 1.*) ver=${ver#1.} ;; esac
    ver=${ver%%[!0-9]*}
    [ -n "$ver" ] || return 1
    printf '%s\n' "$ver"
}

# _ss_resolve PATH -> PATH with all symlinks resolved (falls back to PATH itself).
_ss_resolve() {
    readlink -f -- "$1" 2>/dev/null || printf '%s\n' "$1"
}

# _ss_jdk_ok JAVA_BINARY -> succeeds if it is a full JDK (javac next to it) of the minimum version;
# prints the version.
_ss_jdk_ok() {
    local java=$1 major
    [ -x "$java" ] || return 1
    [ -x "$(dirname -- "$java")/javac" ] || return 1
    major=$(_ss_java_major "$java") || return 1
    [ "$major" -ge "$SECONDSITE_MIN_JAVA" ] 2>/dev/null || return 1
    printf '%s\n' "$major"
}

# find_jdk: sets and exports JAVA_HOME and JAVA to a JDK >= $SECONDSITE_MIN_JAVA.
# Order: $JAVA_HOME, then the newest suitable $SECONDSITE_JVM_DIR/*/bin/java, then `java` on PATH.
find_jdk() {
    local candidate real major best="" best_major=0

    if [ -n "${JAVA_HOME:-}" ] && _ss_jdk_ok "$JAVA_HOME/bin/java" >/dev/null; then
        best=$JAVA_HOME/bin/java
    fi

    if [ -z "$best" ] && [ -d "$SECONDSITE_JVM_DIR" ]; then
        for candidate in "$SECONDSITE_JVM_DIR"/*/bin/java; do
            [ -e "$candidate" ] || continue
            if major=$(_ss_jdk_ok "$candidate"); then
                if [ "$major" -gt "$best_major" ]; then
                    best=$candidate
                    best_major=$major
                fi
            fi
        done
    fi

    if [ -z "$best" ] && candidate=$(command -v java 2>/dev/null); then
        real=$(_ss_resolve "$candidate")
        if _ss_jdk_ok "$real" >/dev/null; then
            best=$real
        fi
    fi

    if [ -z "$best" ]; then
        _ss_err "needs a JDK $SECONDSITE_MIN_JAVA or newer, found none. Install one (Debian: apt-get install openjdk-$SECONDSITE_MIN_JAVA-jdk, or Temurin $SECONDSITE_MIN_JAVA) or set JAVA_HOME to it."
        exit 1
    fi

    real=$(_ss_resolve "$best")
    JAVA_HOME=$(dirname -- "$(dirname -- "$real")")
    JAVA=$JAVA_HOME/bin/java
    export JAVA_HOME JAVA
}

# _ss_can_apt: true if we may install Debian packages ourselves.
_ss_can_apt() {
    [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1
}

# _ss_apt_install PKG...: apt-get update + install, output to stderr.
_ss_apt_install() {
    _ss_err "installing $* with apt-get ..."
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"; } >&2
}

ensure_maven() {
    command -v mvn >/dev/null 2>&1 && return 0
    if _ss_can_apt; then
        if _ss_apt_install maven && command -v mvn >/dev/null 2>&1; then
            return 0
        fi
        _ss_err "installing Maven with apt-get failed; install Maven 3.8+ and put mvn on PATH."
        exit 1
    fi
    _ss_err "needs Maven (mvn), which is not on PATH. Install it (Debian: sudo apt-get install maven, or from https://maven.apache.org) and retry."
    exit 1
}

ensure_apt_packages() {
    local pkg missing=()
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    if _ss_can_apt; then
        if _ss_apt_install "${missing[@]}"; then
            return 0
        fi
        _ss_err "installing ${missing[*]} with apt-get failed; install them and retry."
        exit 1
    fi
    _ss_err "needs these packages, which are not installed: ${missing[*]}. Install them (Debian: sudo apt-get install ${missing[*]}) and retry."
    exit 1
}

# ensure_postgres: best effort. Never fails; tests that need PostgreSQL report it themselves.
ensure_postgres() {
    local host=127.0.0.1 port=5432 version i
    if ! command -v pg_isready >/dev/null 2>&1; then
        _ss_err "warning: pg_isready not found; cannot check PostgreSQL on $host:$port (tests that need it will fail)."
        return 0
    fi
    pg_isready -q -h "$host" -p "$port" >/dev/null 2>&1 && return 0

    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
        for version in /etc/postgresql/*/; do
            version=$(basename -- "$version")
            [ -d "/etc/postgresql/$version/main" ] || continue
            _ss_err "PostgreSQL is not accepting connections on $host:$port; starting cluster $version/main ..."
            pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
        done
        for ((i = 0; i < 30; i++)); do
            pg_isready -q -h "$host" -p "$port" >/dev/null 2>&1 && return 0
            sleep 1
        done
    fi
    _ss_err "warning: PostgreSQL is not accepting connections on $host:$port (tests that need it will fail with their own message)."
    return 0
}

# ensure_azurite: installs azurite@$SECONDSITE_AZURITE_VERSION with npm into $ROOT/.tools/azurite unless that
# version is already there (Node.js and npm come from Debian's packages when missing). Needs ROOT set.
ensure_azurite() {
    local prefix=$ROOT/.tools/azurite installed=""
    local bin=$prefix/node_modules/.bin/azurite-blob
    local manifest=$prefix/node_modules/azurite/package.json
    if [ -x "$bin" ] && [ -f "$manifest" ]; then
        installed=$(sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([^"]*\)".*$/\1/p' "$manifest" | head -n 1)
        [ "$installed" = "$SECONDSITE_AZURITE_VERSION" ] && return 0
    fi
    if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
        ensure_apt_packages nodejs npm
    fi
    _ss_err "installing azurite@$SECONDSITE_AZURITE_VERSION under $prefix (npm) ..."
    mkdir -p "$prefix"
    if ! npm install --no-audit --no-fund --prefix "$prefix" "azurite@$SECONDSITE_AZURITE_VERSION" >&2 || [ ! -x "$bin" ]; then
        _ss_err "installing Azurite with npm failed; the Azure Blob store tests need $bin. Fix npm's access to its registry and retry."
        exit 1
    fi
}
