/*
 * ladewerk/limits.h — every limit in one place, each with its reason and ceiling.
 * Runtime-configurable limits take these as defaults.
 */
#ifndef LADEWERK_LIMITS_H
#define LADEWERK_LIMITS_H

/* OCPP-J message ids: "maximum of 36 characters, to allow for GUIDs" (OCPP-J 1.6 §4.1.1,
 * OCPP 2.0.1 Part 4 §4.1.3). */
#define LW_MSGID_MAX 36

/* Longest action name in any OCPP version is under 40 characters
 * ("NotifyAllowedEnergyTransferResponse" is a payload, not an action); 64 is ample. */
#define LW_ACTION_MAX 64

/* Largest OCPP-J frame accepted by default. The biggest real messages are 2.x
 * Get15118EVCertificate (exi up to 7500) and certificate chains (10 000 in
 * CertificateSigned); large NotifyReport batches can go beyond. 64 KiB by default,
 * configurable up to LW_FRAME_MAX_CEILING. */
#define LW_FRAME_MAX_DEFAULT (64 * 1024)
#define LW_FRAME_MAX_CEILING (16 * 1024 * 1024)

/* Arena cap for one decoded message: a decoded struct is at most a few times its JSON. */
#define LW_ARENA_DEFAULT_MAX (8 * 1024 * 1024)

/* JSON tokens per message: bounds the tokenizer's work and memory per frame. */
#define LW_JSON_TOKENS_MAX 65536

/* JSON nesting depth accepted by the codec: OCPP schemas nest at most ~10 levels. */
#define LW_JSON_DEPTH_MAX 32

/* Station ids: 1.6 chargeBoxIdentity is CiString[36]... but 2.0.1 allows up to 48
 * (SecurityCtrlr.Identity is string[48]). */
#define LW_STATION_ID_MAX 48

/* Default CALL timeout: OCPP leaves it to configuration; 30 s matches common practice. */
#define LW_CALL_TIMEOUT_MS_DEFAULT 30000

/* ---- station ------------------------------------------------------------------------------ */
/* Connectors (1.6) or EVSEs (2.x) per station: real chargers have 1-4, hubs up to ~24. */
#define LW_STATION_CONNECTORS_MAX 32
/* Outputs (frames to send) held before the host drains them: a burst of StatusNotifications
 * after boot plus answers; the host drains after every call, so 256 is never reached. */
#define LW_STATION_OUT_MAX 256
/* CALLs waiting to be sent (one is in flight at a time, OCPP-J). Transaction messages
 * queued while offline count here: a day offline at a 60 s meter interval on 4 connectors
 * is ~5800; 8192 keeps memory under a few MB even with large MeterValues. When full, new
 * periodic (Updated/sampled) meter values are not queued; start/stop messages always are,
 * up to the hard ceiling below. */
#define LW_STATION_QUEUE_MAX      8192
#define LW_STATION_QUEUE_HARD_MAX 9216
/* Local authorization list and authorization cache entries (LocalAuthListMaxLength). */
#define LW_STATION_LOCAL_LIST_MAX 1000
#define LW_STATION_AUTH_CACHE_MAX 256
/* Installed charging profiles (MaxChargingProfilesInstalled) and periods per schedule
 * (ChargingScheduleMaxPeriods); stack levels 0..LW_STATION_STACK_LEVEL_MAX. */
#define LW_STATION_PROFILES_MAX    32
#define LW_STATION_PERIODS_MAX     48
#define LW_STATION_STACK_LEVEL_MAX 8
/* Installed certificates (InstallCertificate, CertificateSigned). */
#define LW_STATION_CERTS_MAX 16
/* A firmware image the station accepts from a download (checked before its signature):
 * real charger images are 10-100 MB; the simulator holds the image in memory, so the cap
 * keeps a wrong URL from filling it. */
#define LW_STATION_FIRMWARE_MAX (64 * 1024 * 1024)
/* A journal larger than this is compacted once its queue is empty. */
#define LW_STATION_JOURNAL_COMPACT 262144
/* Largest journal loaded at start (a full queue of large messages). */
#define LW_STATION_JOURNAL_MAX (64 * 1024 * 1024)
/* Items per GetConfiguration answer (GetConfigurationMaxKeys), per NotifyReport message
 * (DeviceDataCtrlr.ItemsPerMessage) and per GetVariables/SetVariables request. */
#define LW_STATION_ITEMS_PER_MESSAGE 64
/* ---- rpc ---------------------------------------------------------------------------------- */
/* Nesting depth of an OCPP-J frame's payload or errorDetails as the RPC scanner accepts it
 * (the payload object itself is depth 1). Same bound as the codec's, so a frame the scanner
 * passes is never rejected for depth later, and a hostile 1 MB of '[' costs one linear scan
 * with no recursion. */
#define LW_RPC_DEPTH_MAX LW_JSON_DEPTH_MAX

/* errorDescription is "string[255]" in OCPP 2.0.1 / 2.1 Part 4 (CALLERROR); 1.6 sets no
 * bound, we use the same. Writers cut longer text at a UTF-8 boundary. */
#define LW_RPC_ERROR_DESCRIPTION_MAX 255

/* ---- transport ---------------------------------------------------------------------------- */

/* Largest HTTP request/response head (request line + headers) accepted: a WebSocket upgrade
 * with Authorization and a few subprotocols is under 1 KiB; 8 KiB is what common servers
 * allow, and it bounds the per-connection handshake buffer. */
#define LW_HTTP_HEAD_MAX (8 * 1024)

/* Header lines per HTTP head: the parsed head keeps a fixed array of this many views. */
#define LW_HTTP_HEADERS_MAX 32

/* HTTP request bodies on the operator listener (REST JSON): 1 MiB by default. */
#define LW_HTTP_BODY_MAX_DEFAULT (1024 * 1024)

/* Subprotocols offered in one upgrade: OCPP clients offer at most three (ocpp1.6, ocpp2.0.1,
 * ocpp2.1); 8 leaves room without growing the handshake struct much. */
#define LW_WS_PROTOCOLS_MAX 8

/* Largest WebSocket message (after reassembly of fragments) by default; configurable per
 * server/client up to LW_FRAME_MAX_CEILING. Larger gets close code 1009. */
#define LW_WS_MESSAGE_MAX_DEFAULT LW_FRAME_MAX_DEFAULT

/* Control frame payloads: RFC 6455 §5.5 says at most 125 bytes. */
#define LW_WS_CONTROL_MAX 125

/* Time a client has to complete TCP accept → (TLS) → upgrade request → our decision. */
#define LW_WS_HANDSHAKE_TIMEOUT_MS_DEFAULT 10000

/* After we send a close frame, how long we wait for the peer's before dropping TCP. */
#define LW_WS_CLOSE_TIMEOUT_MS 3000

/* Keepalive: server pings every interval; no answer within the grace closes the
 * connection (so no "online" zombies). */
#define LW_WS_PING_INTERVAL_MS_DEFAULT 60000
#define LW_WS_PONG_TIMEOUT_MS_DEFAULT  30000

/* Per-loop shared read buffer: one socket read at a time lands here; a connection keeps its
 * own buffer only while a frame or head is partially received. */
#define LW_NET_READ_BUF 65536

/* Per-loop frame scratch buffer for sending: a masked (client) or TLS frame up to this size
 * (header included) is built here without an allocation; OCPP messages are almost all far
 * smaller. A larger frame takes one temporary allocation. */
#define LW_NET_WRITE_SCRATCH (16 * 1024)

/* ---- store (csms/store) ----------------------------------------------------------------- */
/* Writes waiting for the writer thread. A commit with synchronous=FULL costs one or two
 * fsyncs (~1-10 ms); at 10k writes/s a 16k queue absorbs more than a second of stalled disk
 * before lw_store_submit answers LW_EBUSY (the caller sheds load instead of the loop blocking).
 * Each queued write is one allocation of its copied strings, so memory stays bounded. */
#define LW_STORE_QUEUE_MAX_DEFAULT 16384
/* Writes per transaction: a bigger batch amortizes the fsync further, but the first write of
 * the batch waits for the last; 1024 keeps a batch's work around a few milliseconds. */
#define LW_STORE_BATCH_MAX_DEFAULT 1024
/* Writes per transaction when nobody waits on any of them (journal rows of Heartbeats,
 * last-seen times, gathered for LW_STORE_LAZY_COMMIT_MS): nobody waits for the first of them,
 * and a bigger batch writes each station's journal head (and the journal's tail pages) once
 * for more rows. At 80k Heartbeats/s a 40 ms gathering is ~3,200 writes. */
#define LW_STORE_LAZY_BATCH_MAX_DEFAULT 4096
/* Rows per page in list reads (REST pagination, CLI listing). */
#define LW_STORE_PAGE_MAX 1000
/* Sampled values in one write (MeterValues / TransactionEvent / transactionData): a frame of
 * LW_FRAME_MAX_DEFAULT holds at most a few hundred; larger writes are refused (LW_ETOOBIG). */
#define LW_STORE_VALUES_MAX 4096
/* Bytes of one copied write (payload, answer and strings): bounded by the frame size, with
 * room for the ceiling frame of LW_FRAME_MAX_CEILING. */
#define LW_STORE_WRITE_BYTES_MAX (2 * LW_FRAME_MAX_CEILING)
/* Default wait for a lock held by another process (e.g. the CLI writing while serve runs). */
#define LW_STORE_BUSY_TIMEOUT_MS_DEFAULT 5000
/* SQLite page cache of the store's writer connection (KiB, an upper bound). Since schema 006
 * the durable write path appends (journal, meter rows, right-edge indexes) and updates one
 * transactions row and one journal_heads row per message, so a batch dirties ~150-300 pages:
 * the cache must hold those (else they spill into the WAL mid-transaction and are written
 * twice) but no longer every station's index leaves. bench_store (1,000 and 19,000 stations)
 * ran as fast with 1 MiB as with 64 MiB; 2 MiB leaves room for a full batch. A bigger cache
 * is RSS that 19,000 idle stations pay per connection (it filled during their boot storm). */
#define LW_STORE_WRITER_CACHE_KIB (2 * 1024)
/* Page cache of each read connection (KiB): list pages and point lookups. */
#define LW_STORE_READER_CACHE_KIB (8 * 1024)
/* WAL pages between checkpoints (SQLite's default is 1000): larger means fewer copies of hot
 * pages into the database file, smaller means shorter ones (each ends with an fsync of what
 * it wrote). The WAL file is truncated back to twice this after a checkpoint
 * (journal_size_limit), 32 MB with 4 KiB pages. */
#define LW_STORE_WAL_CHECKPOINT_PAGES 4096
/* Nice value of the background checkpoint thread (store/sqlite.c): its copy runs on the core
 * the loops and the writer use, and at nice 0 it delays the answers to durable messages by
 * milliseconds. At 19 it gets about 1.5% of a busy core and whatever is idle; if that lets
 * the WAL reach 4x the interval, a thread at normal priority bounds it (RESTART). */
#define LW_STORE_CKPT_NICE 19
/* Group commit: when a write someone waits for is queued, the writer waits this long for
 * more before it commits, unless LW_STORE_GROUP_COMMIT_ENOUGH writes are queued already. One
 * commit (an fsync, the tail pages of the tables written again) then answers more messages:
 * mixed load at half the maximum, CPU per message 55 -> 39 us. The cost is this much more
 * latency on a quiet server. */
#define LW_STORE_GROUP_COMMIT_US     500
#define LW_STORE_GROUP_COMMIT_ENOUGH 256
/* Transactions whose energy register the writer keeps in memory (direct-mapped by id), so a
 * MeterValues write does not read the transaction row back: more than the transactions a
 * big single node has open at once would only cost a read on a collision. */
#define LW_STORE_TX_CACHE 4096
/* Journal rows the writer walks back along a station's chain to find the CALL a reply answers
 * (schema 006): one CALL is in flight per direction (OCPP-J), so the CALL is a few rows back;
 * a reply further away than this is kept without its link (pairs show its CALL unanswered). */
#define LW_STORE_JOURNAL_LINK_SCAN 64
/* A 2.x TransactionEvent is a retry when its seqNo is among its transaction's newest this
 * many events (schema 010: a chain from transactions.last_event_id, no index): one CALL is
 * in flight per station, so the event being retried is the newest, or nearly. */
#define LW_STORE_TXEV_RETRY_ROWS 8
/* Stations whose journal head the writer keeps in memory (sets of LW_STORE_HEAD_WAYS by id
 * hash, least recently used out): the head is read from journal_heads on a miss, and written
 * back once per station and batch. More than the stations that are busy at once, or every
 * row costs a read of its head and the write-back of another (at 10,000 stations sending
 * Heartbeats into 2,048 slots: two more statements per message); 80 B each, 1.3 MB in all,
 * touched as stations write. With 8 ways, 10,000 busy stations overflow a set (and so evict
 * each other) rarely. */
#define LW_STORE_HEAD_CACHE 16384
/* Journal rows appended between two writes of the cached heads to journal_heads (schema 016):
 * fewer writes of a station's head (in a boot storm, one instead of three per station), and
 * at most this many rows (plus a batch) that a reader of a station's journal scans above the
 * mark, or that a writer counts in again after a crash or a rollback. */
#define LW_STORE_HEADS_LAZY_ROWS 4096
#define LW_STORE_HEAD_WAYS       8
/* Meter rows of a transaction searched for a MeterValues retry (schema 006): a station retries
 * the message it got no answer for, its newest; an offline queue is replayed in order, each
 * message answered before the next, so a retry is at most a few rows back. The writer keeps
 * 8 bytes per row per cached transaction (LW_STORE_TX_CACHE). */
#define LW_STORE_METER_RETRY_ROWS 8
/* Idle time of the store writer after writes before it gives its page-cache memory back
 * (sqlite3_db_release_memory + malloc_trim): long enough that a steady trickle of writes
 * never pays for re-reading pages, short enough that a boot storm's cache does not stay in
 * the RSS of thousands of idle stations. */
#define LW_STORE_IDLE_RELEASE_MS 2000
/* How long the writer may gather writes nobody waits on (journal rows, last-seen times)
 * before committing them: small commits cost more than the rows (tail pages of the journal
 * and its indexes rewritten, each station's journal head written once per commit, WAL locks). A
 * waited-on write commits at once, taking the gathered ones with it. Also the most the message log
 * lags behind the wire. */
#define LW_STORE_LAZY_COMMIT_MS 40

/* ---- api (csms/api) ------------------------------------------------------------------------ */
/* Rows per page of REST lists: 100 by default (one screen of the dashboard), at most 1000
 * (the store's page size, LW_STORE_PAGE_MAX), so one request's work and body stay bounded. */
#define LW_API_PAGE_DEFAULT 100
#define LW_API_PAGE_MAX     1000
/* Largest REST response body (CSV export of a page of transactions, a journal page of
 * 1000 messages of up to 64 KiB would not fit: journal pages are capped by this too). */
#define LW_API_BODY_MAX (16 * 1024 * 1024)
/* Commands kept in memory (queued, in flight and recently finished ones, for
 * GET /api/v1/commands/{id}): finished ones beyond this are dropped oldest first. */
#define LW_API_COMMANDS_MAX 10000
/* A queued command for an offline station waits this long by default (?ttl= overrides, up to
 * the ceiling): long enough for a reboot or a short outage, short enough that a stale
 * RemoteStart does not fire hours later. */
#define LW_API_COMMAND_TTL_MS_DEFAULT (15 * 60 * 1000)
#define LW_API_COMMAND_TTL_MS_MAX     (7 * 24 * 3600 * 1000LL)
/* Idempotency-Key header: a UUID is 36 characters; 128 leaves room for client schemes. */
#define LW_API_IDEMPOTENCY_KEY_MAX 128
/* Recent events kept for SSE clients (resume with Last-Event-ID, slow readers): at a few
 * hundred events per second in a big network this is several seconds of slack. */
#define LW_API_EVENTS_RING 4096
/* One event's data (JSON): events carry ids, statuses and numbers, never payloads. */
#define LW_API_EVENT_DATA_MAX 4096
/* Files (firmware images operators upload, diagnostics and logs stations upload). The
 * operator listener holds a whole request body in memory and a download is answered from
 * memory, so this bounds the memory of one transfer: embedded charger images are 1-16 MB,
 * Linux-based chargers' images with a root file system reach 50-100 MB; 64 MiB covers the
 * first kind many times and most of the second. `serve` must raise the listener's
 * http_body_max to this for the upload routes; JSON routes still refuse bodies larger than
 * LW_HTTP_BODY_MAX_DEFAULT (413). */
#define LW_API_FILE_MAX (64 * 1024 * 1024)
/* Firmware images kept at once: a network runs a handful of vendor/model lines, each with a
 * few versions; listing reads every record, so the bound keeps that cheap. */
#define LW_API_FIRMWARE_FILES_MAX 256
/* Stored file names (sanitized to [A-Za-z0-9._-]): long enough for any vendor image name. */
#define LW_API_FILENAME_MAX 128
/* An upload URL handed out with GetDiagnostics / GetLog stays usable this long: the station
 * may wait for retrieve/retry intervals (retries x retryInterval) before it uploads. */
#define LW_API_UPLOAD_TTL_MS (24LL * 3600 * 1000)
/* Upload slots kept per listing (GET /api/v1/stations/{id}/uploads reads every record). */
#define LW_API_UPLOADS_MAX 4096
/* Multipart bodies: parts looked at before giving up (chargers send one file part, maybe a
 * few form fields). */
#define LW_API_MULTIPART_PARTS_MAX 16
/* Webhooks: URLs (each gets every event), events waiting per URL (beyond it the oldest is
 * dropped and counted: a dead receiver must not grow memory), delivery attempts per event
 * (with back-off 1 s, 2 s, 4 s … capped at 60 s, eight attempts span about two minutes),
 * and the time one attempt may take (connect + answer). */
#define LW_API_WEBHOOK_URLS_MAX       8
#define LW_API_WEBHOOK_QUEUE_MAX      1024
#define LW_API_WEBHOOK_ATTEMPTS       8
#define LW_API_WEBHOOK_BACKOFF_MS     1000
#define LW_API_WEBHOOK_BACKOFF_MAX_MS 60000
#define LW_API_WEBHOOK_TIMEOUT_MS     10000
/* A webhook URL: http://host[:port]/path, the host a name or numeric address. */
#define LW_API_WEBHOOK_URL_MAX 512

/* Retention defaults of the periodic maintenance (LW_W_MAINTAIN; config overrides them).
 * The journal is for debugging a station's recent behaviour: a week and 5000 messages per
 * station (~2 days of a busy 2.x station at one message per 30 s) bound it at roughly
 * 5000 x ~600 bytes = 3 MB per station. Dedupe rows only need to outlive a retry: stations
 * resend unacknowledged messages within minutes of reconnecting, so two days is generous,
 * while one MeterValues row a minute per station makes the table grow fast if kept long. */
#define LW_STORE_JOURNAL_MAX_AGE_MS_DEFAULT       (7LL * 24 * 3600 * 1000)
#define LW_STORE_JOURNAL_KEEP_PER_STATION_DEFAULT 5000
#define LW_STORE_DEDUPE_MAX_AGE_MS_DEFAULT        (2LL * 24 * 3600 * 1000)
/* The history tables (a row per StatusNotification, BootNotification, firmware status,
 * NotifyEvent, security event, DataTransfer) are what the dashboard and the API show of a
 * station's past; transactions and meter rows are billing data and are never pruned. 10,000
 * stations add on the order of a million status rows a day; 90 days bound that while
 * keeping a quarter of history for fault analysis. */
#define LW_STORE_HISTORY_MAX_AGE_MS_DEFAULT (90LL * 24 * 3600 * 1000)
/* Entries of one device-model / NotifyEvent / configuration-key write: a full NotifyReport
 * frame of LW_FRAME_MAX_CEILING bytes holds a few thousand attributes at most. */
#define LW_STORE_ITEMS_MAX 8192
/* Rows one maintenance run deletes per table: it runs on the writer thread inside a group
 * commit, so a large backlog (first run after weeks) is drained over several runs instead of
 * stalling every write for seconds; 20k index-driven deletes take tens of milliseconds. */
#define LW_STORE_MAINT_ROWS_MAX 20000
/* When a run stopped at that bound, the next one follows after this instead of a whole
 * maintain-interval later, so a backlog of millions of rows drains in minutes. */
#define LW_STORE_MAINT_AGAIN_MS 2000

/* ---- csms (csms/session, csms/handlers) ------------------------------------------------------ */
/* CALLs a station may send while an earlier one still waits for its commit: the session
 * answers in order. Stations should send one at a time (OCPP-J §4.1.1); 32 absorbs a burst
 * of retries, and a station beyond it is closed rather than buffered without bound. */
#define LW_CSMS_INQ_MAX 32
/* CSMS-initiated CALLs queued per station behind the outstanding one (REST commands,
 * CertificateSigned); beyond it lw_csms_call's callback reports LW_EBUSY. */
#define LW_CSMS_CALL_QUEUE_MAX 64
/* Slots in the per-IP limiter table (upgrades and failed authentications per minute). A
 * full table evicts the oldest window; 4096 IPs cover a site of NATed chargers many times. */
#define LW_CSMS_IP_SLOTS 4096
/* Largest CSR accepted in SignCertificate (the 1.6 and 2.x schemas allow 5500 chars). */
#define LW_CSMS_CSR_MAX 5500
/* The first BootNotification of a connection that arrives within this time of the upgrade
 * is answered by the registration status the upgrade read from the store (for the
 * authentication) instead of reading it again: one thread-pool round trip less per
 * connecting station. Later boots, and a first boot after it, read the store again. */
#define LW_CSMS_POLICY_FRESH_MS 1000
/* A Heartbeat refreshes the station's last_seen_at in the store at most this often: the
 * column is for operators ("seen a minute ago"); connects and disconnects always write it. */
#define LW_CSMS_SEEN_PERSIST_MS 60000
/* At most one transaction.updated API event per transaction this often (per station: the
 * transaction it last published). An update within the window is held, newest values
 * winning, and published when the window ends (the loop's 1 s tick), or at once with the
 * station's next "started"/"ended" or its disconnect. Each event reads the transaction back
 * on the thread pool; a live chart needs no more than one a second. */
#define LW_CSMS_TX_UPDATE_MIN_MS 1000
/* Upgrades' store reads (station record, password check) run on the thread pool in batches:
 * at most this many jobs per loop (libuv's pool has 4 threads, so password hashing still
 * runs in parallel), each taking at most LW_CSMS_UPGRADE_BATCH waiting upgrades (a bound on
 * how long one job holds the others back). A second job starts only while a full batch
 * waits (session.c, upgrade_start). */
#define LW_CSMS_UPGRADE_JOBS  4
#define LW_CSMS_UPGRADE_BATCH 32

#endif
