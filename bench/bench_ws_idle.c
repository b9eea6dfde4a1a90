/*
 * bench_ws_idle.c — memory per idle plain ws:// connection on the server side of
 * lib/transport. A forked child runs the server; the parent opens N client connections
 * (default 2000) through our client and reads the child's VmRSS from /proc before and
 * after. Prints bytes per connection. Usage: bench_ws_idle [N]
 */
#include "ladewerk/net.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static void srv_upgrade(lw_conn_t *c, const lw_ws_upgrade_t *req)
{
    lw_ws_accept(c, req->nprotocols ? req->protocols[0] : LW_STR_NULL);
}

static long rss_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) kb = atol(line + 6);
    if (f) fclose(f);
    return kb;
}

static int opened, closed;
static void cli_open(lw_conn_t *c, lw_str_t p)
{
    opened++;
}
static void cli_close(lw_conn_t *c, int code, lw_str_t r)
{
    closed++;
}

static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2000;
    raise_fd_limit();
    int pfd[2];
    if (pipe(pfd)) return 1;
    pid_t child = fork();
    if (child == 0) {
        uv_loop_t uv;
        uv_loop_init(&uv);
        lw_net_loop_t *l = lw_net_loop_new(&uv, NULL);
        lw_net_cbs_t cbs = {.on_upgrade = srv_upgrade};
        lw_server_config_t sc = {.host = "127.0.0.1", .ping_interval_ms = 60000};
        lw_server_t *s;
        if (lw_server_start(l, &sc, &cbs, NULL, &s)) _exit(1);
        int port = lw_server_port(s);
        if (write(pfd[1], &port, sizeof port) != sizeof port) _exit(1);
        uv_run(&uv, UV_RUN_DEFAULT);
        _exit(0);
    }
    int port = 0;
    if (read(pfd[0], &port, sizeof port) != sizeof port) return 1;
    usleep(100000);
    long before = rss_kb(child);
    uv_loop_t uv;
    uv_loop_init(&uv);
    lw_net_loop_t *l = lw_net_loop_new(&uv, NULL);
    char url[64];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/ocpp/x", port);
    const char *protos[] = {"ocpp1.6"};
    lw_client_config_t cc = {.url = url, .protocols = protos, .nprotocols = 1};
    lw_net_cbs_t cbs = {.on_open = cli_open, .on_close = cli_close};
    for (int i = 0; i < n; i++) {
        lw_conn_t *c;
        if (lw_ws_connect(l, &cc, &cbs, NULL, &c)) return 1;
        if (i % 100 == 99) /* do not overflow the listen backlog */
            while (opened + closed < i - 50)
                uv_run(&uv, UV_RUN_ONCE);
    }
    while (opened + closed < n)
        uv_run(&uv, UV_RUN_ONCE);
    usleep(300000);
    long after = rss_kb(child);
    printf("connections=%d opened=%d failed=%d server_rss_before_kb=%ld server_rss_after_kb=%ld "
           "bytes_per_conn=%.0f\n",
           n, opened, closed, before, after,
           opened ? (double)(after - before) * 1024.0 / opened : 0.0);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    return opened == n ? 0 : 1;
}
