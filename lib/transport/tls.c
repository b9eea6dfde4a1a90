/*
 * tls.c — OpenSSL 3 contexts for the transport: server (certificate, key, optional client
 * certificate verification = mutual TLS) and client (CA to verify the server, optional
 * client certificate). TLS 1.2 and 1.3 only. The per-connection SSL objects talk to the
 * socket through one BIO per loop in conn.c, so OpenSSL never touches a file descriptor.
 */
#include "net_int.h"

#include <openssl/err.h>
#include <stdlib.h>

static void log_ssl_error(const char *what)
{
    char buf[256];
    unsigned long e = ERR_get_error();
    ERR_error_string_n(e, buf, sizeof buf);
    lw_log(LW_LOG_ERROR, "tls", "event=config_failed step=\"%s\" error=\"%s\"", what,
           e ? buf : "unknown");
    ERR_clear_error();
}

static lw_tls_t *tls_new(const lw_tls_config_t *cfg, bool server, int *err)
{
    *err = LW_EINVAL;
    if (!cfg || (server && (!cfg->cert_file || !cfg->key_file))) return NULL;
    if (!cfg->cert_file != !cfg->key_file) return NULL;
    *err = LW_ETLS;
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!ctx) {
        log_ssl_error("SSL_CTX_new");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    /* Idle connections give their read/write record buffers back (memory per station). */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    const char *step = NULL;
    if (cfg->cert_file && SSL_CTX_use_certificate_chain_file(ctx, cfg->cert_file) != 1)
        step = "certificate";
    else if (cfg->key_file &&
             SSL_CTX_use_PrivateKey_file(ctx, cfg->key_file, SSL_FILETYPE_PEM) != 1)
        step = "private key";
    else if (cfg->cert_file && SSL_CTX_check_private_key(ctx) != 1)
        step = "key does not match certificate";
    if (!step && cfg->ca_file && SSL_CTX_load_verify_locations(ctx, cfg->ca_file, NULL) != 1)
        step = "CA file";
    if (!step && !cfg->ca_file && !server && SSL_CTX_set_default_verify_paths(ctx) != 1)
        step = "default CA paths";
    if (step) {
        log_ssl_error(step);
        SSL_CTX_free(ctx);
        return NULL;
    }
    int mode = SSL_VERIFY_NONE;
    if (server) {
        if (cfg->verify == LW_TLS_VERIFY_OPTIONAL) mode = SSL_VERIFY_PEER;
        if (cfg->verify == LW_TLS_VERIFY_REQUIRED)
            mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
        if (mode != SSL_VERIFY_NONE && cfg->ca_file) {
            STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->ca_file);
            if (names) SSL_CTX_set_client_CA_list(ctx, names);
        }
        static const unsigned char sid_ctx[] = "ladewerk";
        SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1);
    } else if (cfg->verify != LW_TLS_VERIFY_NONE || cfg->ca_file) {
        mode = SSL_VERIFY_PEER;
    }
    SSL_CTX_set_verify(ctx, mode, NULL);
    lw_tls_t *t = calloc(1, sizeof *t);
    if (!t) {
        SSL_CTX_free(ctx);
        *err = LW_ENOMEM;
        return NULL;
    }
    t->ctx = ctx;
    t->server = server;
    t->verify_host = !server && mode != SSL_VERIFY_NONE;
    *err = 0;
    return t;
}

lw_tls_t *lw_tls_server_new(const lw_tls_config_t *cfg, int *err)
{
    return tls_new(cfg, true, err);
}

lw_tls_t *lw_tls_client_new(const lw_tls_config_t *cfg, int *err)
{
    return tls_new(cfg, false, err);
}

void lw_tls_free(lw_tls_t *t)
{
    if (!t) return;
    SSL_CTX_free(t->ctx);
    free(t);
}
