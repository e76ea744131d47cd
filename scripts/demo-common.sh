# Shared by the demo scripts (sourced, not run): the CLI, step banners, a temporary directory with its own CLI
# profile, and a server on a free port with the CLI logged in to it. `demo_start NAME` leaves the caller in the
# demo directory with $URL set; the server stops (and the directory goes, with DEMO_KEEP=0) when the script exits.

ROOT=$(cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
read -r -a SS <<< "${SECONDSITE:-$ROOT/secondsite}"
ss() { "${SS[@]}" "$@"; }
step() { printf '\n==> %s\n' "$*"; }

demo_start() {
    DEMO=$(mktemp -d "${TMPDIR:-/tmp}/secondsite-$1.XXXXXX")
    cd "$DEMO"
    export SECONDSITE_CONFIG=$DEMO/profile.json   # leave the user's own CLI profile alone
    SERVER_PID=
    trap demo_stop EXIT

    step "Start the server (data dir $DEMO/data, a free port)"
    "${SS[@]}" server --data-dir "$DEMO/data" --port 0 > server.log 2>&1 &   # not through ss(): $! is the JVM
    SERVER_PID=$!
    for _ in $(seq 1 120); do
        grep -q 'listening on' server.log 2>/dev/null && break
        kill -0 "$SERVER_PID" 2>/dev/null || { cat server.log; exit 1; }
        sleep 1
    done
    URL=$(sed -n 's/^SecondSite server listening on \(https:[^ ]*\).*/\1/p' server.log)
    [ -n "$URL" ] || { echo "server did not start:"; cat server.log; exit 1; }
    echo "server: $URL"
    ss login --server "$URL" --data-dir data
}

demo_stop() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID"
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [ "${DEMO_KEEP:-1}" = 0 ]; then rm -rf "$DEMO"; else echo "(demo files kept in $DEMO)"; fi
}
