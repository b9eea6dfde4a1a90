/*
 * auth/auth.c — station password and API token hashing (see auth.h).
 *
 * Why a single salted HMAC-SHA256 and not a slow password hash (scrypt, argon2, bcrypt):
 * OCPP station passwords are machine-generated random strings of 16..40 characters
 * (1.6 Security Whitepaper AuthorizationKey, 2.0.1 BasicAuthPassword), so they carry
 * 96+ bits of entropy and cannot be guessed from a dictionary; a slow hash buys nothing
 * against brute force of such keys but would cost milliseconds of CPU per connection.
 * After a CSMS restart thousands of stations reconnect per second and each one is verified;
 * one HMAC is about a microsecond, so verification never slows a reconnect storm. The
 * per-station salt still makes equal passwords hash differently and defeats precomputed
 * tables. API tokens are 32 random bytes, so a plain SHA-256 is enough for them too.
 * Comparisons use CRYPTO_memcmp (constant time).
 */
#include "auth/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <string.h>

int lw_auth_random(void *buf, size_t n)
{
    return RAND_bytes(buf, (int)n) == 1 ? 0 : LW_EIO;
}

void lw_auth_password_hash(const uint8_t salt[LW_AUTH_SALT_LEN], lw_str_t password,
                           uint8_t hash[LW_AUTH_HASH_LEN])
{
    unsigned int len = LW_AUTH_HASH_LEN;
    static const unsigned char empty = 0;
    HMAC(EVP_sha256(), salt, LW_AUTH_SALT_LEN,
         password.len ? (const unsigned char *)password.p : &empty, password.len, hash, &len);
}

int lw_auth_password_new(lw_str_t password, uint8_t salt[LW_AUTH_SALT_LEN],
                         uint8_t hash[LW_AUTH_HASH_LEN])
{
    int rc = lw_auth_random(salt, LW_AUTH_SALT_LEN);
    if (rc) return rc;
    lw_auth_password_hash(salt, password, hash);
    return 0;
}

bool lw_auth_password_check(const uint8_t salt[LW_AUTH_SALT_LEN],
                            const uint8_t hash[LW_AUTH_HASH_LEN], lw_str_t password)
{
    uint8_t got[LW_AUTH_HASH_LEN];
    lw_auth_password_hash(salt, password, got);
    return CRYPTO_memcmp(got, hash, LW_AUTH_HASH_LEN) == 0;
}

int lw_auth_password_generate(char *out, size_t len)
{
    /* 62 alphanumerics: no characters that need quoting in a shell, a config file or a
     * station's web UI. Rejection sampling keeps every character uniformly likely. */
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    if (len < 16 || len > 40) return LW_EINVAL;
    size_t i = 0;
    while (i < len) {
        uint8_t r[64];
        if (lw_auth_random(r, sizeof r)) return LW_EIO;
        for (size_t k = 0; k < sizeof r && i < len; k++)
            if (r[k] < 248) out[i++] = alpha[r[k] % 62]; /* 248 = 4 * 62 */
    }
    out[len] = 0;
    return 0;
}

void lw_auth_token_hash(lw_str_t text, uint8_t hash[LW_AUTH_HASH_LEN])
{
    unsigned int len = LW_AUTH_HASH_LEN;
    EVP_Digest(text.p ? text.p : "", text.len, hash, &len, EVP_sha256(), NULL);
}

int lw_auth_token_new(char text[LW_AUTH_TOKEN_TEXT_MAX], uint8_t hash[LW_AUTH_HASH_LEN])
{
    static const char b64u[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint8_t raw[LW_AUTH_TOKEN_LEN + 1] = {0}; /* one pad byte: 33 bytes = 44 chars, cut to 43 */
    if (lw_auth_random(raw, LW_AUTH_TOKEN_LEN)) return LW_EIO;
    size_t o = 0;
    memcpy(text, "lw_", 3);
    o = 3;
    for (size_t i = 0; i < 33; i += 3) {
        uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 | raw[i + 2];
        text[o++] = b64u[v >> 18 & 63];
        text[o++] = b64u[v >> 12 & 63];
        text[o++] = b64u[v >> 6 & 63];
        text[o++] = b64u[v & 63];
    }
    o = 3 + 43; /* 256 bits = 43 base64 characters; the 44th encodes only padding */
    text[o] = 0;
    lw_auth_token_hash((lw_str_t){text, o}, hash);
    return 0;
}
