/* SPDX-License-Identifier: Apache-2.0 */
/* main.c - arguments, configuration, wiring and signals; no logic of its own. */
#include "core/common.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/diskfull.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/procstats.h"
#include "core/registry.h"
#include "api/app.h"
#include "api/ui.h"
#include "auth/auth.h"
#include "auth/cli.h"
#include "events/delivery.h"
#include "events/secrets.h"
#include "http/server.h"
#include "jobs/deletion.h"
#include "jobs/gc.h"
#include "jobs/runner.h"
#include "store/backup.h"
#include "store/store.h"

#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

static int serve(const struct tams_config *cfg)
{
    struct tams_app app = {0};
    struct tams_buf why = TAMS_BUF_INIT(1024);
    struct tams_http_config hc = {
        .host = cfg->listen_host,
        .port = cfg->listen_port,
        .threads = cfg->threads,
        .max_body = cfg->max_body_bytes,
        .cors_origins = cfg->cors_origins,
        .access_log = cfg->access_log,
        .connection_timeout = cfg->connection_timeout,
        .header_timeout = cfg->header_timeout,
        .max_connections = cfg->max_connections,
        .max_per_address = cfg->max_connections_per_address,
        .public_url = cfg->public_url,
        .versions = tams_api_versions,
        .nversions = tams_api_nversions,
        .root_version = cfg->root_api_version,
    };
    const struct tams_route_table *root = NULL;
    struct tams_auth *auth = NULL;
    struct tams_runner *jobs = NULL;
    struct tams_deletion deletion = {0};
    struct tams_gc gc = {0};
    struct tams_delivery *delivery = NULL;
    struct tams_webhook_secrets *secrets = NULL;
    struct tams_procstats procstats;
    sigset_t sigs;
    int sig = 0, rc, nthreads;
    bool app_ready = false;

    rc = tams_api_root_routes(cfg->root_api_version, &root, &why);
    if (rc)
        goto out;
    rc = tams_mkdir_p(cfg->data_dir, TAMS_FS_DIR_MODE);
    if (rc) {
        tams_buf_addf(&why, "cannot create data directory '%s': %s", cfg->data_dir,
                      strerror(errno));
        goto out;
    }
    rc = tams_auth_open(&auth, cfg, &why);
    if (rc)
        goto out;
    hc.auth = auth;
    nthreads = cfg->threads ? cfg->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    rc = tams_store_open(&app.store, cfg->database, cfg->data_dir,
                         cfg->db_pool_size ? cfg->db_pool_size : 2 * nthreads, &why);
    if (rc)
        goto out;
    rc = tams_webhook_secrets_open(&secrets, cfg->webhook_secret_key, cfg->data_dir, &why);
    if (rc)
        goto out;
    app.webhook_secrets = secrets;
    rc = tams_app_init(&app, cfg, &why);
    if (rc)
        goto out;
    app_ready = true;
    app.ui_csp = tams_ui_csp_new(app.backends, app.nbackends); /* freed with the app */
    rc = tams_webhooks_upgrade(app.store, auth, secrets, &why);
    if (rc)
        goto out;

    /* Signals are taken synchronously by this thread; every other thread inherits the mask. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    tams_log_start_flusher();
    tams_registry_source(app.metrics, tams_auth_metrics_render, auth);
    tams_registry_source(app.metrics, tams_diskfull_render, NULL);
    tams_procstats_init(&procstats, cfg->data_dir);
    tams_registry_source(app.metrics, tams_procstats_render, &procstats);

    /* The jobs: deletion requests, garbage collection, webhook delivery. */
    jobs = tams_runner_new();
    deletion = (struct tams_deletion){.store = app.store, .cfg = cfg};
    gc = (struct tams_gc){
        .store = app.store, .cfg = cfg, .backends = app.backends, .nbackends = app.nbackends};
    tams_deletion_metrics(&deletion, app.metrics);
    tams_gc_metrics(&gc, app.metrics);
    rc = tams_runner_spawn(jobs, "tams-deletion", tams_deletion_run, &deletion, &app.deletion_job,
                           &why);
    if (!rc)
        rc = tams_runner_spawn(jobs, "tams-gc", tams_gc_run, &gc, NULL, &why);
    if (!rc)
        rc = tams_delivery_start(&delivery, jobs,
                                 &(struct tams_delivery_config){
                                     .store = app.store,
                                     .cfg = cfg,
                                     .backends = app.backends,
                                     .nbackends = app.nbackends,
                                     .metrics = app.metrics,
                                     .secrets = secrets,
                                     .may_read = tams_auth_owner_may_read,
                                     .may_read_ctx = auth,
                                 },
                                 &why);
    if (rc)
        goto out;

    rc = tams_http_start(&app.http, &hc, root, &app, &why);
    if (rc)
        goto out;
    tams_delivery_serving(delivery, tams_http_base_url(app.http));
    tams_log_info("listening on http://%s%s%s:%u (data dir '%s', store %s)",
                  strchr(cfg->listen_host, ':') ? "[" : "", cfg->listen_host,
                  strchr(cfg->listen_host, ':') ? "]" : "", (unsigned)tams_http_port(app.http),
                  cfg->data_dir, tams_store_name(app.store));
    while (sigwait(&sigs, &sig) != 0)
        ;
    tams_log_info("received %s, finishing in-flight requests",
                  sig == SIGTERM ? "SIGTERM" : "SIGINT");
    tams_http_stop(app.http, cfg->shutdown_timeout * 1000);
    app.http = NULL;
    tams_runner_stop(jobs);
    tams_runner_join(jobs); /* each finishes its current batch */
    tams_log_stop_flusher();
    tams_log_info("stopped");
out:
    tams_runner_free(jobs); /* stops and joins what still runs (error paths) */
    app.deletion_job = NULL;
    tams_delivery_free(delivery);
    tams_log_stop_flusher();
    if (rc)
        tams_log_error("cannot start: %s", why.len ? why.data : tams_strerror(rc));
    if (app_ready)
        tams_app_release(&app);
    tams_store_close(app.store);
    tams_webhook_secrets_free(secrets);
    tams_auth_close(auth);
    tams_buf_release(&why);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    struct tams_config cfg;
    struct tams_buf err = TAMS_BUF_INIT(4096);
    enum tams_config_action action = TAMS_CONFIG_RUN;
    int rc;

    tams_fs_private_umask(); /* the data directory is the server's alone, see core/fs.h */
    if (tams_auth_cli_wants(argc, argv))
        return tams_auth_cli(argc, argv, environ, stdin, stdout, stderr);
    if (tams_backup_cli_wants(argc, argv))
        return tams_backup_cli(argc, argv, environ, stdout, stderr);
    rc = tams_config_load(&cfg, argc, argv, environ, &action, &err);
    if (rc) {
        fprintf(stderr, "tamsd: %s\nTry 'tamsd --help'.\n", err.data);
        tams_buf_release(&err);
        tams_config_release(&cfg);
        return 2;
    }
    tams_buf_release(&err);
    if (action == TAMS_CONFIG_HELP) {
        tams_config_usage(stdout);
        tams_config_release(&cfg);
        return 0;
    }
    if (action == TAMS_CONFIG_VERSION) {
        printf("tamsd %s (TAMS API 7.0)\n", TAMS_VERSION);
        tams_config_release(&cfg);
        return 0;
    }
    tams_log_set_level(cfg.log_level);
    rc = serve(&cfg);
    tams_config_release(&cfg);
    return rc;
}
