/*
 * domain/domain.c — version-neutral rules (see domain.h): token decisions, meter value
 * flattening, certificate signing for SignCertificate.
 */
#include "domain/domain.h"

#include "ladewerk/limits.h"

#include <math.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

const char *lw_domain_token_status(int rc, const lw_id_token_rec_t *rec, int64_t now_ms,
                                   bool unknown_accept)
{
    if (rc == LW_ENOTFOUND) return unknown_accept ? "Accepted" : "Invalid";
    if (rc != 0 || !rec) return "Invalid";
    switch (rec->status) {
    case LW_TOKEN_ACCEPTED:
        if (rec->expiry_ms > 0 && rec->expiry_ms <= now_ms) return "Expired";
        return "Accepted";
    case LW_TOKEN_BLOCKED:
        return "Blocked";
    case LW_TOKEN_EXPIRED:
        return "Expired";
    case LW_TOKEN_CONCURRENT_TX:
        return "ConcurrentTx";
    default:
        return "Invalid";
    }
}

static lw_str_t jstr(const cJSON *o, const char *k)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(x) ? lw_str_c(x->valuestring) : LW_STR_NULL;
}

/* Renders a number the way it was most likely sent: integers without a fraction. */
static lw_str_t num_text(lw_arena_t *a, double d)
{
    char buf[64];
    int n;
    if (fabs(d) < 1e15 && d == (double)(int64_t)d)
        n = snprintf(buf, sizeof buf, "%lld", (long long)d);
    else
        n = snprintf(buf, sizeof buf, "%.15g", d);
    char *p = lw_arena_strdup(a, buf, (size_t)n);
    return p ? (lw_str_t){p, (size_t)n} : LW_STR_NULL;
}

int lw_domain_meter_values(const cJSON *meter_value, lw_ocpp_version_t v, lw_arena_t *arena,
                           lw_meter_value_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t total = 0;
    const cJSON *mv;
    cJSON_ArrayForEach(mv, meter_value)
    {
        total += (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(mv, "sampledValue"));
    }
    if (total == 0) return 0;
    if (total > LW_STORE_VALUES_MAX) return LW_ETOOBIG;
    lw_meter_value_t *vals = lw_arena_alloc(arena, total * sizeof *vals);
    if (!vals) return LW_ENOMEM;
    memset(vals, 0, total * sizeof *vals);
    size_t i = 0;
    cJSON_ArrayForEach(mv, meter_value)
    {
        int64_t ts = 0;
        lw_time_parse(jstr(mv, "timestamp"), &ts);
        const cJSON *sv;
        cJSON_ArrayForEach(sv, cJSON_GetObjectItemCaseSensitive(mv, "sampledValue"))
        {
            lw_meter_value_t *o = &vals[i++];
            o->timestamp_ms = ts;
            o->measurand = jstr(sv, "measurand");
            o->phase = jstr(sv, "phase");
            o->context = jstr(sv, "context");
            o->location = jstr(sv, "location");
            if (v == LW_OCPP_16) {
                o->value = jstr(sv, "value");
                o->unit = jstr(sv, "unit");
                o->format = jstr(sv, "format");
                /* 1.6: a SignedData value is the signed blob itself. */
                if (lw_str_eq_c(o->format, "SignedData")) o->signed_data = o->value;
            } else {
                const cJSON *val = cJSON_GetObjectItemCaseSensitive(sv, "value");
                double d = cJSON_IsNumber(val) ? val->valuedouble : 0;
                const cJSON *uom = cJSON_GetObjectItemCaseSensitive(sv, "unitOfMeasure");
                if (uom) {
                    o->unit = jstr(uom, "unit");
                    const cJSON *m = cJSON_GetObjectItemCaseSensitive(uom, "multiplier");
                    if (cJSON_IsNumber(m) && m->valueint != 0) d *= pow(10.0, m->valueint);
                }
                /* 2.x default unit of energy is Wh (UnitOfMeasureType.unit default). */
                o->value = num_text(arena, d);
                const cJSON *sig = cJSON_GetObjectItemCaseSensitive(sv, "signedMeterValue");
                if (sig) {
                    char *txt = cJSON_PrintUnformatted(sig);
                    if (txt) {
                        o->signed_data =
                            (lw_str_t){lw_arena_strdup(arena, txt, strlen(txt)), strlen(txt)};
                        cJSON_free(txt);
                    }
                }
            }
        }
    }
    *out = vals;
    *n = i;
    return 0;
}

static int fail(char *why, size_t whysz, int rc, const char *msg)
{
    if (why && whysz) snprintf(why, whysz, "%s", msg);
    return rc;
}

int lw_domain_sign_csr(const char *ca_cert, const char *ca_key, const char *csr_pem,
                       const char *station_id, int days, lw_buf_t *out, char *why, size_t whysz)
{
    int rc = LW_ETLS;
    X509 *ca = NULL, *crt = NULL;
    EVP_PKEY *key = NULL, *pub = NULL;
    X509_REQ *req = NULL;
    BIO *bio = NULL;
    FILE *f = fopen(ca_cert, "r");
    if (f) ca = PEM_read_X509(f, NULL, NULL, NULL), fclose(f);
    f = fopen(ca_key, "r");
    if (f) key = PEM_read_PrivateKey(f, NULL, NULL, NULL), fclose(f);
    if (!ca || !key) {
        rc = fail(why, whysz, LW_EIO, "CA certificate or key unreadable");
        goto out;
    }
    bio = BIO_new_mem_buf(csr_pem, -1);
    req = bio ? PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL) : NULL;
    if (!req) {
        rc = fail(why, whysz, LW_EINVAL, "CSR is not a PEM certificate request");
        goto out;
    }
    pub = X509_REQ_get_pubkey(req);
    if (!pub || X509_REQ_verify(req, pub) != 1) {
        rc = fail(why, whysz, LW_EINVAL, "CSR signature does not verify");
        goto out;
    }
    char cn[256] = "";
    X509_NAME *subj = X509_REQ_get_subject_name(req);
    if (X509_NAME_get_text_by_NID(subj, NID_commonName, cn, sizeof cn) < 0 ||
        strcmp(cn, station_id) != 0) {
        rc = fail(why, whysz, LW_EINVAL, "CSR subject CN is not the station id");
        goto out;
    }
    crt = X509_new();
    if (!crt) goto out;
    X509_set_version(crt, 2);
    unsigned char serial[16];
    if (RAND_bytes(serial, sizeof serial) != 1) goto out;
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
    if (!bn) goto out;
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(crt));
    BN_free(bn);
    X509_set_subject_name(crt, subj);
    X509_set_issuer_name(crt, X509_get_subject_name(ca));
    X509_gmtime_adj(X509_getm_notBefore(crt), -300);
    X509_gmtime_adj(X509_getm_notAfter(crt), (long)days * 86400);
    X509_set_pubkey(crt, pub);
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, ca, crt, NULL, NULL, 0);
    const char *exts[][2] = {{"basicConstraints", "critical,CA:FALSE"},
                             {"keyUsage", "critical,digitalSignature,keyAgreement"},
                             {"extendedKeyUsage", "clientAuth"}};
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        X509_EXTENSION *e = X509V3_EXT_conf(NULL, &ctx, exts[i][0], exts[i][1]);
        if (!e) goto out;
        X509_add_ext(crt, e, -1);
        X509_EXTENSION_free(e);
    }
    if (X509_sign(crt, key, EVP_sha256()) <= 0) {
        rc = fail(why, whysz, LW_ETLS, "signing failed");
        goto out;
    }
    BIO *mem = BIO_new(BIO_s_mem());
    if (!mem) goto out;
    PEM_write_bio_X509(mem, crt);
    PEM_write_bio_X509(mem, ca);
    char *p;
    long len = BIO_get_mem_data(mem, &p);
    rc = lw_buf_append(out, p, (size_t)len);
    BIO_free(mem);
out:
    BIO_free(bio);
    X509_REQ_free(req);
    EVP_PKEY_free(pub);
    EVP_PKEY_free(key);
    X509_free(ca);
    X509_free(crt);
    return rc;
}

static int64_t asn1_time_ms(const ASN1_TIME *t)
{
    struct tm tm;
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
    return (int64_t)timegm(&tm) * 1000;
}

int lw_domain_cert_info(lw_str_t pem, lw_domain_cert_info_t *out)
{
    memset(out, 0, sizeof *out);
    BIO *bio = BIO_new_mem_buf(pem.p, (int)pem.len);
    X509 *crt = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (!crt) return LW_EINVAL;
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(crt), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    if (hex) snprintf(out->serial, sizeof out->serial, "%s", hex);
    OPENSSL_free(hex);
    BN_free(bn);
    X509_NAME_oneline(X509_get_subject_name(crt), out->subject, sizeof out->subject);
    out->not_before_ms = asn1_time_ms(X509_get0_notBefore(crt));
    out->not_after_ms = asn1_time_ms(X509_get0_notAfter(crt));
    X509_free(crt);
    return out->serial[0] ? 0 : LW_EINVAL;
}
