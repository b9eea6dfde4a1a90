#!/usr/bin/env bash
# validate.test.sh — `ladewerk validate`: exit codes (0 valid, 1 invalid, 2 usage) and the
# one-line verdict with JSON path, constraint and the version's CALLERROR code.
set -u
BIN=${LADEWERK_BIN:-build/ladewerk}
SRC=${LADEWERK_SRC:-.}
S=$SRC/tests/data/samples
fails=0 n=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# check WANT_RC WANT_SUBSTRING(stdout+stderr) -- ARGS... (stdin from $IN if set)
check() {
    local want_rc=$1 want_out=$2; shift 3
    local out rc
    if [ -n "${IN-}" ]; then out=$(printf '%s' "$IN" | "$BIN" validate "$@" 2>&1); rc=$?
    else out=$("$BIN" validate "$@" 2>&1 </dev/null); rc=$?; fi
    n=$((n + 1))
    if [ "$rc" != "$want_rc" ] || [[ "$out" != *"$want_out"* ]]; then
        echo "FAIL: validate $* (stdin: ${IN-none})"
        echo "  got rc=$rc out: $out"
        echo "  want rc=$want_rc out containing: $want_out"
        fails=$((fails + 1))
    fi
}

# valid, from a file, from '-' and from stdin without a FILE
check 0 valid -- --ocpp 1.6 --action BootNotification --request "$S/v16/BootNotificationRequest.max.json"
check 0 valid -- --ocpp 2.0.1 --action TransactionEvent --request "$S/v201/TransactionEventRequest.max.json"
check 0 valid -- --ocpp 2.1 --action NotifyPeriodicEventStream --request "$S/v21/NotifyPeriodicEventStreamRequest.min.json"
check 0 valid -- --ocpp ocpp2.1 --action=Heartbeat --response "$S/v21/HeartbeatResponse.max.json"
IN='{"currentTime":"2026-01-02T03:04:05Z"}' check 0 valid -- --ocpp 1.6 --action Heartbeat --response -
IN='{}' check 0 valid -- --ocpp 1.6 --action Heartbeat --request

# invalid: path, constraint and the per-version error code, on stdout
IN='{"chargePointVendor":"a"}' check 1 'invalid: chargePointModel: required: property is missing (OccurenceConstraintViolation)' -- --ocpp 1.6 --action BootNotification --request
IN='{"reason":"PowerUp"}' check 1 'invalid: chargingStation: required: property is missing (OccurrenceConstraintViolation)' -- --ocpp 2.0.1 --action BootNotification --request
IN='{"connectorId":1,"meterValue":[{"timestamp":"2026-01-02T03:04:05Z","sampledValue":[{"value":"1"},{"value":"2"},{"value":"3","measurand":"Bogus"}]}]}' \
    check 1 'meterValue[0].sampledValue[2].measurand: enum: "Bogus"' -- --ocpp 1.6 --action MeterValues --request
IN='{"currentTime":"2026-01-02T03:04:05"}' check 1 'currentTime: format date-time' -- --ocpp 2.1 --action Heartbeat --response
IN='{"currentTime":5}' check 1 '(TypeConstraintViolation)' -- --ocpp 2.0.1 --action Heartbeat --response
IN='{"currentTime":"2026-01-02T03:04:05Z"' check 1 '(FormationViolation)' -- --ocpp 1.6 --action Heartbeat --response
IN='{"currentTime":"2026-01-02T03:04:05Z","x":1}' check 1 'x: additionalProperties: property "x" is not allowed (FormatViolation)' -- --ocpp 2.1 --action Heartbeat --response
IN='[]' check 1 'FormatViolation' -- --ocpp 2.1 --action Heartbeat --request
# the verdict is on stdout
out=$(printf '{}' | "$BIN" validate --ocpp 1.6 --action BootNotification --request 2>/dev/null)
n=$((n + 1)); [[ "$out" == invalid:* ]] || { echo "FAIL: verdict not on stdout: $out"; fails=$((fails + 1)); }

# --lines: one verdict per input line, in order; exit 1 if any line is invalid
out=$(printf '{"currentTime":"2026-01-02T03:04:05Z"}\n{}\n\n{"currentTime":"2016-12-31T23:59:60Z"}\r\n{"currentTime":"2024-05-01T12:00:60Z"}' |
    "$BIN" validate --ocpp 1.6 --action Heartbeat --response --lines 2>&1); rc=$?
line() { printf '%s\n' "$out" | sed -n "$1p"; }
n=$((n + 1))
if [ "$rc" != 1 ] || [ "$(printf '%s\n' "$out" | wc -l)" != 5 ] || [ "$(line 1)" != valid ] ||
    [[ "$(line 2)" != "invalid: currentTime: required"* ]] || [[ "$(line 3)" != *"(FormationViolation)" ]] ||
    [ "$(line 4)" != valid ] || [[ "$(line 5)" != *"format date-time"* ]]; then
    echo "FAIL: --lines batch: rc=$rc out:"; echo "$out"; fails=$((fails + 1))
fi
out=$(printf '{}\n{}\n' | "$BIN" validate --ocpp 2.1 --action Heartbeat --request --lines 2>&1); rc=$?
n=$((n + 1))
[ "$rc" = 0 ] && [ "$out" = $'valid\nvalid' ] || { echo "FAIL: --lines all valid: rc=$rc out: $out"; fails=$((fails + 1)); }

# usage errors
unset IN
check 2 "unknown OCPP version '1.7'" -- --ocpp 1.7 --action Heartbeat --request
check 2 "unknown action 'StartTransaction' in OCPP 2.0.1" -- --ocpp 2.0.1 --action StartTransaction --request
check 2 "has no response" -- --ocpp 2.1 --action NotifyPeriodicEventStream --response
check 2 "cannot open" -- --ocpp 1.6 --action Heartbeat --request "$tmp/missing.json"
check 2 "required" -- --ocpp 1.6 --action Heartbeat
check 2 "required" -- --action Heartbeat --request
check 2 "unknown option" -- --ocpp 1.6 --action Heartbeat --request --bogus
check 2 "either --request or --response" -- --ocpp 1.6 --action Heartbeat --request --response
check 0 "usage: ladewerk validate" -- --help

echo "$n checks, $fails failed"
[ "$fails" = 0 ]
