#!/usr/bin/env bash
# token.test.sh — `ladewerk token create|list|revoke` against a temporary database.
set -u
. "$(dirname "$0")/lib.sh"
DB="sqlite:$T/tok.db"

expect 0 'usage: ladewerk token create' -- "$BIN" token --help
expect 2 'usage' -- "$BIN" token
expect 2 'create needs --role' -- "$BIN" token create --db "$DB"
expect 2 "--role must be viewer, operator or admin, not 'root'" -- "$BIN" token create --role root --db "$DB"
expect 2 "unknown action 'mint'" -- "$BIN" token mint --db "$DB"

# create prints the token as its last line, and a different one each time
t1=$("$BIN" token create --role admin --name ci --db "$DB" | tail -n1); rc=$?
t2=$("$BIN" token create --role viewer --db "$DB" | tail -n1)
if [[ "$t1" =~ ^lw_[A-Za-z0-9_-]{43}$ ]] && [ "$t1" != "$t2" ]; then echo "ok   token format"
else echo "FAIL: tokens '$t1' '$t2'"; fails=$((fails+1)); fi
# only the hash is stored
if grep -qa -- "${t1#lw_}" "$T"/tok.db* 2>/dev/null; then
    echo "FAIL: token text found in the database file"; fails=$((fails+1))
else echo "ok   token not stored in clear"; fi

expect 0 '^1 +admin +ci +[0-9T:-]+Z +-$' -- "$BIN" token list --db "$DB"
expect 0 '^2 +viewer +- ' -- "$BIN" token list --db "$DB"
expect 0 'token 1 revoked' -- "$BIN" token revoke 1 --db "$DB"
expect 0 'token 1 was already revoked' -- "$BIN" token revoke 1 --db "$DB"
expect 0 '^1 +admin +ci +[0-9T:-]+Z +[0-9T:-]+Z$' -- "$BIN" token list --db "$DB"
expect 1 'no token 99' -- "$BIN" token revoke 99 --db "$DB"
expect 2 'token ID must be a positive number' -- "$BIN" token revoke abc --db "$DB"
expect 2 'revoke needs a token ID' -- "$BIN" token revoke --db "$DB"
expect 2 '--role and --name belong to' -- "$BIN" token list --role admin --db "$DB"
printf 'db = %s\n' "$DB" >"$T/c.conf"
expect 0 '^2 +viewer' -- "$BIN" token list --config "$T/c.conf"
expect 1 'PostgreSQL is not supported' -- "$BIN" token list --db postgres://h/db

echo "$fails failed"
[ "$fails" = 0 ]
