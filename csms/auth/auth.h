/*
 * auth/auth.h — hashing of station passwords and API tokens, and constant-time checks.
 * Pure functions over bytes (OpenSSL for SHA-256, HMAC and randomness); the store keeps only
 * what these produce, never a clear password or token.
 */
#ifndef LW_AUTH_H
#define LW_AUTH_H

#include "ladewerk/base.h"

#define LW_AUTH_SALT_LEN  16
#define LW_AUTH_HASH_LEN  32
#define LW_AUTH_TOKEN_LEN 32 /* random bytes in an API token */
/* An API token as shown to the operator: "lw_" + base64url of 32 bytes (43 chars) + NUL. */
#define LW_AUTH_TOKEN_TEXT_MAX 48

/* Fills buf with n cryptographically random bytes. Returns 0 or LW_EIO. */
int lw_auth_random(void *buf, size_t n);

/* Station password hash: HMAC-SHA256 keyed with a per-station random salt over the password.
 * Borrows password. Writes LW_AUTH_HASH_LEN bytes to hash. */
void lw_auth_password_hash(const uint8_t salt[LW_AUTH_SALT_LEN], lw_str_t password,
                           uint8_t hash[LW_AUTH_HASH_LEN]);
/* Makes a fresh salt and the hash of password under it. Returns 0 or LW_EIO. */
int lw_auth_password_new(lw_str_t password, uint8_t salt[LW_AUTH_SALT_LEN],
                         uint8_t hash[LW_AUTH_HASH_LEN]);
/* true if password hashes to hash under salt; the comparison takes constant time. */
bool lw_auth_password_check(const uint8_t salt[LW_AUTH_SALT_LEN],
                            const uint8_t hash[LW_AUTH_HASH_LEN], lw_str_t password);

/* A random printable password for `station add` (OCPP passwords are 16..40 chars): writes
 * len (16..40) characters and a NUL into out (at least len + 1 bytes). Returns 0 or
 * LW_EINVAL / LW_EIO. */
int lw_auth_password_generate(char *out, size_t len);

/* A new API token: writes its text form into text (LW_AUTH_TOKEN_TEXT_MAX bytes, shown once
 * to the operator) and the SHA-256 of that text into hash (what the store keeps).
 * Returns 0 or LW_EIO. */
int lw_auth_token_new(char text[LW_AUTH_TOKEN_TEXT_MAX], uint8_t hash[LW_AUTH_HASH_LEN]);
/* SHA-256 of a presented token text. Borrows text. */
void lw_auth_token_hash(lw_str_t text, uint8_t hash[LW_AUTH_HASH_LEN]);

#endif
