/*
 * domain/domain.h — version-neutral rules of the central system, shared by the per-version
 * handlers (and later the REST API): id token decisions, meter values in one shape, and
 * signing station certificates. Pure functions over their arguments (the CSR signer reads
 * the configured CA files).
 */
#ifndef LW_CSMS_DOMAIN_H
#define LW_CSMS_DOMAIN_H

#include "codec/jdoc.h"
#include "ladewerk/base.h"
#include "ladewerk/ocpp.h"
#include "store/store.h"

/* The authorization status for a token looked up in the store: rc is the lookup's result
 * (0, LW_ENOTFOUND, other errors), rec the record when rc == 0. Expired tokens (expiry in
 * the past) are "Expired"; unknown ones "Invalid", or "Accepted" when unknown_accept.
 * A failed lookup gives "Invalid" (never grant on an error). Returns a static string that is
 * valid in 1.6 AuthorizationStatus and 2.x AuthorizationStatusEnumType. */
const char *lw_domain_token_status(int rc, const lw_id_token_rec_t *rec, int64_t now_ms,
                                   bool unknown_accept);

/* Converts a meterValue array (1.6 MeterValue[] or 2.x MeterValueType[] of the validated
 * request d) into one flat list of sampled values, each with its timestamp. Strings point
 * into d or arena (valid while both live). The list goes into buf when it has room for it
 * (cap values; buf may be NULL), else into arena. 2.x numbers are rendered as text, with
 * unitOfMeasure.multiplier applied (value * 10^multiplier), and signedMeterValue is kept as
 * its JSON text. Returns 0, LW_ENOMEM or LW_ETOOBIG (more than LW_STORE_VALUES_MAX). */
int lw_domain_meter_values(lw_jdoc_t *d, lw_jval_t meter_value, lw_ocpp_version_t v,
                           lw_arena_t *arena, lw_meter_value_t *buf, size_t cap,
                           lw_meter_value_t **out, size_t *n);

/* Signs a PEM CSR with the CA (ca_cert/ca_key: PEM files) for days. The CSR's signature
 * must verify, and its subject CN must equal station_id (OCPP 2.0.1 A02.FR.07 / 1.6
 * Security Whitepaper: the CSMS checks the CSR before signing). Appends the leaf and the CA
 * certificate (PEM) to out. Returns 0, LW_EINVAL (bad CSR, CN mismatch) or LW_EIO (CA files
 * unreadable), LW_ETLS (signing failed); why gets a reason (may be NULL). */
int lw_domain_sign_csr(const char *ca_cert, const char *ca_key, const char *csr_pem,
                       const char *station_id, int days, lw_buf_t *out, char *why, size_t whysz);

/* What the store keeps of an issued certificate: the first certificate of a PEM chain. */
typedef struct lw_domain_cert_info {
    char serial[128]; /* upper-case hex */
    char subject[256];
    int64_t not_before_ms, not_after_ms;
} lw_domain_cert_info_t;
/* Reads the first certificate of pem (borrowed). Returns 0 or LW_EINVAL. */
int lw_domain_cert_info(lw_str_t pem, lw_domain_cert_info_t *out);

#endif
