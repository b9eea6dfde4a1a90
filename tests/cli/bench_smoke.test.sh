#!/usr/bin/env bash
# bench_smoke.test.sh — the benchmark suite must not rot: runs `bench/run --quick` (a few
# hundred stations, one-second windows) against Ladewerk, the ceiling and the peer, and
# checks that it exits 0 and that every workload produced a figure for every server. No
# figure is compared with anything: performance is judged by BENCHMARKS.md, not by CI.
set -u
SRC=${LADEWERK_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${LADEWERK_BUILD:-$SRC/build}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0

for f in "$BUILD/ladewerk" "$BUILD/bench/bench_load" "$BUILD/bench/bench_echo_ceiling" \
    "$BUILD/bench/bench_store"; do
    if [ ! -x "$f" ]; then echo "FAIL: $f is not built"; exit 1; fi
done

timeout 280 "$SRC/bench/run" --quick --no-build --build-dir "$BUILD" --json "$T/r.json" \
    >"$T/out" 2>&1
rc=$?
if [ "$rc" != 0 ]; then
    echo "FAIL: bench/run --quick exited $rc"; sed 's/^/    /' "$T/out"; fails=$((fails+1))
else
    echo "ok   bench/run --quick exits 0"
fi

# Every row of the figures table has a number in each server column (no "—").
rows=$(grep -c '^| .*(\(B\|st/s\|msg/s\|µs\|s\)) ' "$T/out")
if [ "$rows" -lt 21 ]; then
    echo "FAIL: figures table has $rows rows, want 21"; fails=$((fails+1))
else
    echo "ok   figures table has $rows rows"
fi
if grep '^| .*(\(B\|st/s\|msg/s\|µs\|s\)) ' "$T/out" | awk -F'|' '{for(i=3;i<=5;i++) if ($i ~ /—/) bad=1} END {exit !bad}'; then
    echo "FAIL: a server column has no figure:"; grep '—' "$T/out" | sed 's/^/    /'
    fails=$((fails+1))
else
    echo "ok   every workload has a figure for ladewerk, ceiling and peer"
fi
for w in idle-ws idle-wss hb-1k hb-10k meter hb-1k-201 meter-201 mixed burst; do
    for s in ladewerk ceiling peer; do
        if ! grep -q "\"$w/$s\"" "$T/r.json"; then
            echo "FAIL: no result for $w/$s"; fails=$((fails+1))
        fi
    done
done
if grep -q '"failures": \[\]' "$T/r.json"; then
    echo "ok   no workload failed"
else
    echo "FAIL: failures reported"; sed -n '/failures/,$p' "$T/r.json" | sed 's/^/    /'
    fails=$((fails+1))
fi
# The codec figures are part of the run.
if grep -q 'lw decode' "$T/out"; then echo "ok   codec figures present"; else
    echo "FAIL: codec figures missing"; fails=$((fails+1)); fi
# So are the store micro-benchmark and ladewerk --threads 2 (Heartbeat 10k, MeterValues).
if grep -q 'CPU us/message' "$T/out"; then echo "ok   store figures present"; else
    echo "FAIL: bench_store figures missing"; fails=$((fails+1)); fi
for w in hb-10k meter; do
    if ! grep -q "\"$w/ladewerk-t2\"" "$T/r.json"; then
        echo "FAIL: no result for $w/ladewerk-t2"; fails=$((fails+1))
    fi
done

[ "$fails" = 0 ] && echo "bench_smoke: all ok" || echo "bench_smoke: $fails failed"
[ "$fails" = 0 ]
