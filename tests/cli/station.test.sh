#!/usr/bin/env bash
# station.test.sh — `ladewerk station add|list|set|remove` against a temporary database:
# output, error messages and exit codes (0 ok, 1 failure, 2 usage).
set -u
. "$(dirname "$0")/lib.sh"
DB="sqlite:$T/st.db"

expect 0 'usage: ladewerk station add' -- "$BIN" station --help
expect 2 'usage' -- "$BIN" station
expect 2 "unknown action 'frobnicate'" -- "$BIN" station frobnicate
expect 2 'missing station ID' -- "$BIN" station add --db "$DB"

# add: profile 1 by default, generated password printed once
expect 0 'password: [A-Za-z0-9]{24}$' -- "$BIN" station add CP-1 --db "$DB"
expect 1 "station 'CP-1' already exists" -- "$BIN" station add CP-1 --db "$DB"
expect 0 'security profile 2' -- "$BIN" station add CP-2 --profile 2 --password 0123456789abcdef --db "$DB"
out=$("$BIN" station add CP-3 --profile 2 --password 0123456789abcdef --db "$DB")
if grep -q password: <<<"$out"; then echo "FAIL: a given password was printed"; fails=$((fails+1)); fi
expect 0 'security profile 0' -- "$BIN" station add OPEN-0 --profile 0 --db "$DB"
expect 0 'security profile 3' -- "$BIN" station add CERT-3 --profile 3 --db "$DB"
expect 2 'profile 0 means no authentication' -- "$BIN" station add X0 --profile 0 --password 0123456789abcdef --db "$DB"
expect 2 '--profile must be 0, 1, 2 or 3' -- "$BIN" station add X --profile 4 --db "$DB"
expect 2 '16 to 40 characters' -- "$BIN" station add X --password short --db "$DB"
expect 2 '--status must be' -- "$BIN" station add X --status Maybe --db "$DB"
expect 2 "may not contain '/'" -- "$BIN" station add a/b --db "$DB"
expect 2 "may not contain ':'" -- "$BIN" station add a:b --db "$DB"
expect 2 'printable ASCII' -- "$BIN" station add "a b" --db "$DB"
expect 2 'longer than 48' -- "$BIN" station add "$(printf 'x%.0s' {1..49})" --db "$DB"
expect 0 'added' -- "$BIN" station add "$(printf 'y%.0s' {1..48})" --profile 0 --db "$DB"
expect 2 "unknown option '--frob'" -- "$BIN" station add X --frob --db "$DB"
expect 2 'option --db needs a value' -- "$BIN" station list --db

# list
expect 0 '^CP-1 +1 +Accepted +set' -- "$BIN" station list --db "$DB"
expect 0 '^OPEN-0 +0 +Accepted +-' -- "$BIN" station list --db "$DB"
n=$("$BIN" station list --db "$DB" | tail -n +2 | wc -l)
[ "$n" = 6 ] && echo "ok   list shows 6 stations" || { echo "FAIL: list shows $n stations, want 6"; fails=$((fails+1)); }

# set
expect 0 'updated' -- "$BIN" station set CP-1 --status Rejected --db "$DB"
expect 0 '^CP-1 +1 +Rejected' -- "$BIN" station list --db "$DB"
expect 1 'profile 1 needs a password' -- "$BIN" station set OPEN-0 --profile 1 --db "$DB"
expect 0 'updated' -- "$BIN" station set OPEN-0 --profile 1 --password abcdefghijklmnop --db "$DB"
expect 0 '^OPEN-0 +1 +Accepted +set' -- "$BIN" station list --db "$DB"
expect 0 'updated' -- "$BIN" station set OPEN-0 --profile 0 --db "$DB"
expect 0 '^OPEN-0 +0 +Accepted +-' -- "$BIN" station list --db "$DB"
expect 1 "no station 'NOPE'" -- "$BIN" station set NOPE --status Pending --db "$DB"
expect 2 'set needs --profile, --password or --status' -- "$BIN" station set CP-1 --db "$DB"

# remove
expect 0 'removed' -- "$BIN" station remove CP-2 --db "$DB"
expect 1 "no station 'CP-2'" -- "$BIN" station remove CP-2 --db "$DB"
expect 2 'remove takes only' -- "$BIN" station remove CP-1 --profile 1 --db "$DB"

# --db forms and --config
expect 0 'added' -- "$BIN" station add BARE --profile 0 --db "$T/bare.db"
[ -f "$T/bare.db" ] && echo "ok   a bare path is a sqlite file" || { echo "FAIL: $T/bare.db missing"; fails=$((fails+1)); }
printf '# test config\nlog_level = info\ndb = sqlite:%s/cfg.db  # inline comment\n' "$T" >"$T/a.conf"
expect 0 'added' -- "$BIN" station add CFG --profile 0 --config "$T/a.conf"
expect 0 '^CFG ' -- "$BIN" station list --config "$T/a.conf"
expect 0 '^CP-1 ' -- "$BIN" station list --config "$T/a.conf" --db "$DB"
printf 'db\n' >"$T/bad.conf"
expect 1 "bad.conf:1: expected 'key = value'" -- "$BIN" station list --config "$T/bad.conf"
printf 'db =\n' >"$T/empty.conf"
expect 1 "empty.conf:1: key 'db' has an empty value" -- "$BIN" station list --config "$T/empty.conf"
expect 1 'missing.conf: cannot read config file' -- "$BIN" station list --config "$T/missing.conf"
expect 1 'PostgreSQL is not supported' -- "$BIN" station list --db postgres://localhost/x
expect 1 'cannot open the database' -- "$BIN" station list --db "sqlite:$T/no/such/dir.db"

echo "$fails failed"
[ "$fails" = 0 ]
