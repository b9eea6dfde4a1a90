/*
 * domain/domain.c — version-neutral rules (see domain.h): token decisions, meter value
 * flattening, certificate signing for SignCertificate.
 */
#include "domain/domain.h"

#include "ladewerk/limits.h"

#include <cjson/cJSON.h>
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

static lw_str_t jstr(lw_jdoc_t *d, lw_jval_t o, const char *k)
{
    return lw_jdoc_str(d, lw_jdoc_get(d, o, k));
}

/* Renders a number the way it was most likely sent: integers without a fraction. */
static lw_str_t num_text(lw_arena_t *a, double d)
{
    char buf[64];
    int n;
    if (fabs(d) < 1e15 && d == (double)(int64_t)d) {
        /* "%lld" by hand: this runs for every 2.x sampled value. */
        int64_t x = (int64_t)d;
        uint64_t u = x < 0 ? (uint64_t)0 - (uint64_t)x : (uint64_t)x;
        char tmp[24];
        int k = 0;
        do {
            tmp[k++] = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        n = 0;
        if (x < 0) buf[n++] = '-';
        while (k)
            buf[n++] = tmp[--k];
    } else {
        n = snprintf(buf, sizeof buf, "%.15g", d);
    }
    char *p = lw_arena_strdup(a, buf, (size_t)n);
    return p ? (lw_str_t){p, (size_t)n} : LW_STR_NULL;
}

int lw_domain_meter_values(lw_jdoc_t *d, lw_jval_t meter_value, lw_ocpp_version_t v,
                           lw_arena_t *arena, lw_meter_value_t *buf, size_t cap,
                           lw_meter_value_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t total = 0;
    LW_JDOC_EACH(d, meter_value, mv)
    {
        lw_jval_t sv = lw_jdoc_get(d, mv, "sampledValue");
        if (lw_jdoc_type(d, sv) == LW_JT_ARRAY) total += lw_jdoc_count(d, sv);
    }
    if (total == 0) return 0;
    if (total > LW_STORE_VALUES_MAX) return LW_ETOOBIG;
    lw_meter_value_t *vals =
        buf && total <= cap ? buf : lw_arena_alloc(arena, total * sizeof *vals);
    if (!vals) return LW_ENOMEM;
    memset(vals, 0, total * sizeof *vals);
    size_t i = 0;
    LW_JDOC_EACH(d, meter_value, mv)
    {
        int64_t ts = 0;
        lw_time_parse(jstr(d, mv, "timestamp"), &ts);
        LW_JDOC_EACH(d, lw_jdoc_get(d, mv, "sampledValue"), sv)
        {
            lw_meter_value_t *o = &vals[i++];
            o->timestamp_ms = ts;
            o->measurand = jstr(d, sv, "measurand");
            o->phase = jstr(d, sv, "phase");
            o->context = jstr(d, sv, "context");
            o->location = jstr(d, sv, "location");
            if (v == LW_OCPP_16) {
                o->value = jstr(d, sv, "value");
                o->unit = jstr(d, sv, "unit");
                o->format = jstr(d, sv, "format");
                /* 1.6: a SignedData value is the signed blob itself. */
                if (lw_str_eq_c(o->format, "SignedData")) o->signed_data = o->value;
            } else {
                double x = 0;
                if (!lw_jdoc_num(d, lw_jdoc_get(d, sv, "value"), &x)) x = 0;
                lw_jval_t uom = lw_jdoc_get(d, sv, "unitOfMeasure");
                if (uom != LW_JNONE) {
                    o->unit = jstr(d, uom, "unit");
                    int64_t m;
                    if (lw_jdoc_int(d, lw_jdoc_get(d, uom, "multiplier"), &m) && m != 0)
                        x *= pow(10.0, (double)m);
                }
                /* 2.x default unit of energy is Wh (UnitOfMeasureType.unit default). */
                o->value = num_text(arena, x);
                lw_jval_t sig = lw_jdoc_get(d, sv, "signedMeterValue");
                if (sig != LW_JNONE) {
                    lw_buf_t t;
                    lw_buf_init(&t, lw_jdoc_raw(d, sig).len + 1);
                    if (lw_jdoc_compact(d, sig, &t) == 0) {
                        o->signed_data = (lw_str_t){lw_arena_strdup(arena, t.data, t.len), t.len};
                    } else {
                        /* escapes or unusual numbers: printed by cJSON, as it always was */
                        lw_str_t raw = lw_jdoc_raw(d, sig);
                        cJSON *j = cJSON_ParseWithLength(raw.p, raw.len);
                        char *txt = j ? cJSON_PrintUnformatted(j) : NULL;
                        cJSON_Delete(j);
                        if (txt)
                            o->signed_data =
                                (lw_str_t){lw_arena_strdup(arena, txt, strlen(txt)), strlen(txt)};
                        cJSON_free(txt);
                    }
                    lw_buf_free(&t);
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
    if (why && whysz) lw_cstr_copy(why, whysz, msg);
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
    if (hex) lw_cstr_copy(out->serial, sizeof out->serial, hex);
    OPENSSL_free(hex);
    BN_free(bn);
    X509_NAME_oneline(X509_get_subject_name(crt), out->subject, sizeof out->subject);
    out->not_before_ms = asn1_time_ms(X509_get0_notBefore(crt));
    out->not_after_ms = asn1_time_ms(X509_get0_notAfter(crt));
    X509_free(crt);
    return out->serial[0] ? 0 : LW_EINVAL;
}
