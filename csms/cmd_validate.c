/*
 * cmd_validate.c — `ladewerk validate`: checks one OCPP-J payload (the 4th element of a CALL,
 * or the 3rd of a CALLRESULT) against the generated validator of lib/codec, exactly as the
 * CSMS does for every frame it receives.
 *
 *   ladewerk validate --ocpp 1.6|2.0.1|2.1 --action NAME --request|--response [--lines]
 *                     [FILE|-]
 *
 * Exit 0: valid (prints "valid"). Exit 1: invalid; prints one line on stdout:
 *   invalid: <json path>: <keyword: detail> (<CALLERROR errorCode of that version>)
 * Exit 2: usage errors (unknown version or action, unreadable file, ...), on stderr.
 *
 * --lines (batch): the input holds one payload per line (JSON Lines) for the same action
 * and direction; one verdict line is printed per input line, in order, so output line N
 * answers input line N (an empty line is a payload too, and invalid). Exit 0 if every line
 * is valid, 1 if any is not. The whole input is still capped at LW_FRAME_MAX_CEILING.
 */
#include "commands.h"

#include "ladewerk/codec.h"
#include "ladewerk/limits.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: ladewerk validate --ocpp 1.6|2.0.1|2.1 --action NAME --request|--response "
            "[--lines] [FILE|-]\n"
            "\n"
            "Checks one OCPP-J payload (JSON object) against its schema. Reads FILE, or stdin\n"
            "when FILE is '-' or absent.\n"
            "  --lines  batch: one payload per input line (JSON Lines); prints one verdict\n"
            "           line per input line, in order (an empty line is invalid)\n"
            "  exit 0  valid (prints \"valid\"); with --lines: every line valid\n"
            "  exit 1  invalid (prints the JSON path, the violated constraint and the\n"
            "          CALLERROR errorCode of that OCPP version); with --lines: any line\n"
            "  exit 2  usage error\n");
}

/* Reads all of f into a malloc'd buffer, at most max bytes. Returns 0, LW_ETOOBIG or LW_IO. */
static int read_all(FILE *f, size_t max, char **out, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *p = malloc(cap);
    if (!p) return LW_ENOMEM;
    for (;;) {
        if (n == cap) {
            if (cap > max) {
                free(p);
                return LW_ETOOBIG;
            }
            char *q = realloc(p, cap * 2);
            if (!q) {
                free(p);
                return LW_ENOMEM;
            }
            p = q;
            cap *= 2;
        }
        size_t got = fread(p + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        free(p);
        return LW_EIO;
    }
    if (n > max) {
        free(p);
        return LW_ETOOBIG;
    }
    *out = p;
    *len = n;
    return 0;
}

static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0) return NULL;
    if (argv[*i][n] == '=') return argv[*i] + n + 1;
    if (argv[*i][n] != 0) return NULL;
    if (*i + 1 >= argc) return "";
    return argv[++*i];
}

/* Validates one payload and prints its verdict line. Returns 0 valid, 1 invalid, 2 error. */
static int verdict(const lw_codec_msg_t *m, lw_ocpp_version_t version, const char *json, size_t len)
{
    lw_codec_error_t err;
    int rc = lw_codec_validate(m, json, len, &err);
    if (rc == 0) {
        printf("valid\n");
        return 0;
    }
    if (rc != LW_ESCHEMA) {
        fprintf(stderr, "ladewerk validate: %s\n", lw_strerror(rc));
        return 2;
    }
    char line[600];
    lw_codec_error_format(&err, version, line, sizeof(line));
    printf("invalid: %s\n", line);
    return 1;
}

int lw_cmd_validate(int argc, char **argv)
{
    const char *ver = NULL, *action = NULL, *file = NULL, *v;
    int role = 0; /* 1 request, 2 response */
    int lines = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if ((v = opt_value(argc, argv, &i, "--ocpp"))) {
            ver = v;
        } else if ((v = opt_value(argc, argv, &i, "--action"))) {
            action = v;
        } else if (!strcmp(argv[i], "--request") || !strcmp(argv[i], "--response")) {
            int r = !strcmp(argv[i], "--request") ? 1 : 2;
            if (role && role != r) {
                fprintf(stderr, "ladewerk validate: give either --request or --response\n");
                return 2;
            }
            role = r;
        } else if (!strcmp(argv[i], "--lines")) {
            lines = 1;
        } else if (argv[i][0] == '-' && argv[i][1] != 0) {
            fprintf(stderr, "ladewerk validate: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        } else if (file) {
            fprintf(stderr, "ladewerk validate: more than one FILE given\n");
            return 2;
        } else {
            file = argv[i];
        }
    }
    if (!ver || !*ver || !action || !*action || !role) {
        fprintf(stderr, "ladewerk validate: --ocpp, --action and --request or --response are "
                        "required\n");
        usage(stderr);
        return 2;
    }
    lw_ocpp_version_t version;
    if (lw_ocpp_version_parse(lw_str_c(ver), &version) != 0) {
        fprintf(stderr, "ladewerk validate: unknown OCPP version '%s' (use 1.6, 2.0.1 or 2.1)\n",
                ver);
        return 2;
    }
    const lw_codec_action_t *a = lw_codec_action_find(version, lw_str_c(action));
    if (!a) {
        fprintf(stderr, "ladewerk validate: unknown action '%s' in OCPP %s\n", action,
                lw_ocpp_version_name(version));
        return 2;
    }
    const lw_codec_msg_t *m = role == 1 ? a->request : a->response;
    if (!m) {
        fprintf(stderr, "ladewerk validate: %s is a SEND message in OCPP %s: it has no response\n",
                a->name, lw_ocpp_version_name(version));
        return 2;
    }
    FILE *f = stdin;
    if (file && strcmp(file, "-") != 0) {
        f = fopen(file, "rb");
        if (!f) {
            fprintf(stderr, "ladewerk validate: cannot open %s: %s\n", file, strerror(errno));
            return 2;
        }
    }
    char *json = NULL;
    size_t len = 0;
    int rc = read_all(f, LW_FRAME_MAX_CEILING, &json, &len);
    if (f != stdin) fclose(f);
    if (rc) {
        fprintf(stderr, "ladewerk validate: cannot read %s: %s\n", file ? file : "stdin",
                rc == LW_ETOOBIG ? "larger than the 16 MiB frame ceiling" : lw_strerror(rc));
        return 2;
    }
    if (!lines) {
        rc = verdict(m, version, json, len);
        free(json);
        return rc;
    }
    /* A final '\n' ends the last line; it does not start an empty one. A '\r' before it is
     * JSON whitespace, so CRLF input needs no special case. */
    int worst = 0;
    for (size_t at = 0; at < len && worst < 2;) {
        const char *nl = memchr(json + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - json) : len;
        int r = verdict(m, version, json + at, end - at);
        if (r > worst) worst = r;
        at = nl ? end + 1 : len;
    }
    free(json);
    return worst;
}
