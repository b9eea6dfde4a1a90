# lib.sh — shared setup and the `expect` check for the CLI tests (sourced by station.test.sh
# and token.test.sh; not a test itself, so it does not match *.test.sh).
# Sets BIN (the binary under test), T (a temporary directory removed on exit) and fails.
BIN=${LADEWERK_BIN:-build/ladewerk}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
# expect WANT_RC PATTERN -- CMD...: runs CMD, checks its exit code and that stdout+stderr
# match the extended regex PATTERN ('' = no check).
expect() {
    local want=$1 pat=$2; shift 3
    out=$("$@" 2>&1); rc=$?
    if [ "$rc" != "$want" ]; then
        echo "FAIL: $* -> exit $rc, want $want"; echo "$out" | sed 's/^/    /'; fails=$((fails+1))
    elif [ -n "$pat" ] && ! grep -Eq -- "$pat" <<<"$out"; then
        echo "FAIL: $* -> output does not match /$pat/"; echo "$out" | sed 's/^/    /'
        fails=$((fails+1))
    else
        echo "ok   $*"
    fi
}
