/*
 * store/sqlite.c — the SQLite backend of the store (lw_store_sqlite_backend, see store.h).
 *
 * One file in WAL mode. The writer connection is used only by store.c's writer thread; every
 * other thread that reads gets its own connection on first use (WAL readers see the last
 * commit and never block the writer). synchronous=FULL: WAL is fsynced at every commit, so a
 * commit that returned survives power loss, which is what "acknowledged means durable" needs
 * (NORMAL would only survive a process crash). Statements are prepared once per connection
 * and cached. All SQLite-dialect SQL lives in this file and the .sql files in migrations/.
 *
 * The durable write path (issue 6; measured with bench/bench_store.c) is kept short:
 *  - a MeterValues (or TransactionEvent, transactionData) is ONE meter_rows row whose samples
 *    column holds every sampled value as JSON (schema 003), not one row per value;
 *  - the transaction's energy register lives in a writer-side cache (tx_cached_t), so a
 *    MeterValues does not read the transaction row back before updating it;
 *  - nothing on that path writes a B-tree at a random place but the transaction's
 *    tx_meter row (schema 014: a narrow row, many to a page) and, every 4,096 journal rows
 *    (schema 016), the station's journal_heads row (schema 006): journal and meter rows are
 *    appended and chained
 *    (journal.prev_id from journal_heads, meter_rows.prev_id from tx_meter.last_meter_id),
 *    a reply's link to its CALL (journal.call_id) is found by walking a few rows back, and
 *    a MeterValues of a transaction is told from a retry by its key among the
 *    transaction's newest rows (meter_rows.dkey, prefixes kept in tx_cached_t) instead of
 *    a dedupe row. Readers walk the chains;
 *  - writes that are one statement skip the savepoint;
 *  - the writer's page cache holds what a batch dirties, no more (see conn_open).
 * The message journal stays in this database and in the writer's transactions: it costs
 * CPU, not fsyncs (group commit pays one fsync per batch either way), and a second file with
 * its own writer would spend the same CPU on the same core while SQL tools and tests that
 * read the journal next to the data would lose it.
 */
#include "store/store_int.h"
#include "store/walbuf.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- statements ------------------------------------------------------------------------------ */

#define STMTS(X)                                                                                   \
    X(SAVEPOINT, "SAVEPOINT w")                                                                    \
    X(RELEASE, "RELEASE w")                                                                        \
    X(ROLLBACK_TO, "ROLLBACK TO w")                                                                \
    X(BEGIN, "BEGIN IMMEDIATE")                                                                    \
    X(COMMIT, "COMMIT")                                                                            \
    X(ST_INSERT, "INSERT INTO stations (id, security_profile, pw_salt, pw_hash, reg_status, "      \
                 "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")                                    \
    X(ST_INSERT_ONLINE, "INSERT INTO stations (id, security_profile, pw_salt, pw_hash, "           \
                        "reg_status, created_at, online, last_seen_at, ocpp_version) "             \
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?6, ?7) ON CONFLICT (id) DO UPDATE "   \
                        "SET online = 1, last_seen_at = ?6, ocpp_version = CASE WHEN ?7 = '' "     \
                        "THEN ocpp_version ELSE ?7 END")                                           \
    X(ST_UPDATE, "UPDATE stations SET "                                                            \
                 "security_profile = CASE WHEN ?2 THEN ?3 ELSE security_profile END, "             \
                 "pw_salt = CASE WHEN ?4 THEN ?5 ELSE pw_salt END, "                               \
                 "pw_hash = CASE WHEN ?4 THEN ?6 ELSE pw_hash END, "                               \
                 "reg_status = CASE WHEN ?7 THEN ?8 ELSE reg_status END WHERE id = ?1")            \
    X(ST_DELETE, "DELETE FROM stations WHERE id = ?1")                                             \
    X(ST_DELETE_CS, "DELETE FROM connector_status WHERE station_id = ?1")                          \
    X(ST_CONN, "UPDATE stations SET online = ?2, last_seen_at = ?3, "                              \
               "ocpp_version = CASE WHEN ?4 = '' THEN ocpp_version ELSE ?4 END WHERE id = ?1")     \
    X(ST_BOOT, "UPDATE stations SET vendor = ?2, model = ?3, serial = ?4, firmware = ?5, "         \
               "iccid = ?6, imsi = ?7, meter_type = ?8, meter_serial = ?9, last_boot_at = ?10, "   \
               "last_seen_at = ?10 WHERE id = ?1")                                                 \
    X(BOOT_INSERT, "INSERT INTO boot_notifications (station_id, reason, payload, answered, at) "   \
                   "VALUES (?1, ?2, ?3, ?4, ?5)")                                                  \
    /* An upsert, not INSERT OR REPLACE: with foreign keys on, REPLACE's delete-and-insert         \
     * costs ~0.5-0.9 us more per StatusNotification; the row ends up the same. */                 \
    X(CS_UPSERT, "INSERT INTO connector_status (station_id, evse_id, connector_id, status, "       \
                 "error_code, info, vendor_id, vendor_error_code, at) "                            \
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "                                    \
                 "ON CONFLICT (station_id, evse_id, connector_id) DO UPDATE SET "                  \
                 "status = ?4, error_code = ?5, info = ?6, vendor_id = ?7, "                       \
                 "vendor_error_code = ?8, at = ?9")                                                \
    X(CS_HIST, "INSERT INTO status_history (station_id, evse_id, connector_id, status, "           \
               "error_code, info, vendor_id, vendor_error_code, at) "                              \
               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")                                      \
    X(DD_GET, "SELECT tx_id, answer FROM dedupe WHERE station_id = ?1 AND kind = ?2 AND key = ?3") \
    X(DD_PUT, "INSERT INTO dedupe (station_id, kind, key, tx_id, answer, at) "                     \
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6)")                                                   \
    X(DD_CLAIM, "INSERT OR IGNORE INTO dedupe (station_id, kind, key, tx_id, answer, at) "         \
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6)")                                                 \
    X(TX_INSERT, "INSERT INTO transactions (tx_uid, station_id, evse_id, connector_id, id_token, " \
                 "id_token_type, start_at, meter_start_wh, reservation_id, remote_start_id) "      \
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)")                               \
    X(TXM_INSERT, "INSERT INTO tx_meter (tx_id, last_register_wh) VALUES (?1, ?2)")                \
    X(TX_STATE, "SELECT station_id, meter_start_wh, coalesce(m.last_register_wh, -1), "            \
                "coalesce(m.meter_backwards, 0), state, coalesce(m.last_meter_id, 0) "             \
                "FROM " TX_FROM " WHERE id = ?1")                                                  \
    X(TX_FIND_UID, "SELECT id, last_event_id FROM transactions WHERE station_id = ?1 "             \
                   "AND tx_uid = ?2")                                                              \
    X(TX_ORPHAN_STOP, "INSERT INTO orphan_stops (station_id, tx_id, id_tag, meter_stop_wh, "       \
                      "stop_at, reason, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")         \
    X(TX_STOP, "UPDATE transactions SET state = 1, stop_at = ?2, meter_stop_wh = ?3, "             \
               "stop_reason = ?4 WHERE id = ?1")                                                   \
    /* upserts: a transaction stored before schema 014 always has its tx_meter row (the            \
     * migration copied them all), but a missing row must not drop a reading */                    \
    X(TX_REGISTER, "INSERT INTO tx_meter (tx_id, last_register_wh, meter_backwards, energy_wh, "   \
                   "last_meter_id) VALUES (?1, ?3, ?4, CASE WHEN ?2 >= 0 AND ?3 >= ?2 "            \
                   "THEN ?3 - ?2 ELSE 0 END, ?5) ON CONFLICT (tx_id) DO UPDATE SET "               \
                   "last_register_wh = ?3, meter_backwards = ?4, energy_wh = CASE WHEN ?2 >= 0 "   \
                   "AND ?3 >= ?2 THEN ?3 - ?2 ELSE energy_wh END, last_meter_id = ?5")             \
    X(TX_START_WH, "UPDATE transactions SET meter_start_wh = ?2 WHERE id = ?1")                    \
    X(TX_LAST_METER, "INSERT INTO tx_meter (tx_id, last_meter_id) VALUES (?1, ?2) "                \
                     "ON CONFLICT (tx_id) DO UPDATE SET last_meter_id = ?2")                       \
    X(TX_EVENT_UPD, "UPDATE transactions SET "                                                     \
                    "evse_id = CASE WHEN ?2 > 0 THEN ?2 ELSE evse_id END, "                        \
                    "connector_id = CASE WHEN ?3 > 0 THEN ?3 ELSE connector_id END, "              \
                    "id_token = CASE WHEN ?4 <> '' THEN ?4 ELSE id_token END, "                    \
                    "id_token_type = CASE WHEN ?4 <> '' THEN ?5 ELSE id_token_type END, "          \
                    "last_seq_no = max(last_seq_no, ?6), offline = offline | ?7, "                 \
                    "last_trigger = ?8, triggers = CASE WHEN triggers = '' THEN ?8 "               \
                    "WHEN instr(',' || triggers || ',', ',' || ?8 || ',') > 0 THEN triggers "      \
                    "ELSE triggers || ',' || ?8 END, charging_state = CASE WHEN ?9 <> '' THEN ?9 " \
                    "ELSE charging_state END, "                                                    \
                    "reservation_id = CASE WHEN ?10 >= 0 THEN ?10 ELSE reservation_id END, "       \
                    "remote_start_id = CASE WHEN ?11 >= 0 THEN ?11 ELSE remote_start_id END, "     \
                    "state = CASE WHEN ?12 THEN 1 ELSE state END, "                                \
                    "stop_at = CASE WHEN ?12 THEN ?13 ELSE stop_at END, "                          \
                    "stop_reason = CASE WHEN ?12 THEN ?14 ELSE stop_reason END, "                  \
                    "meter_stop_wh = CASE WHEN ?12 THEN coalesce((SELECT last_register_wh FROM "   \
                    "tx_meter WHERE tx_id = ?1), -1) ELSE meter_stop_wh END, "                     \
                    "last_event_id = ?15 WHERE id = ?1")                                           \
    X(TXEV_INSERT, "INSERT INTO transaction_events (tx_id, seq_no, event_type, trigger_reason, "   \
                   "offline, at, answer, prev_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")        \
    X(TXEV_LINK, "SELECT prev_id, seq_no, answer FROM transaction_events WHERE id = ?1")           \
    X(MV_INSERT, "INSERT INTO meter_rows (station_id, evse_id, connector_id, tx_id, at, n, "       \
                 "samples, prev_id, dkey) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")            \
    X(MV_DUP, "SELECT prev_id, dkey FROM meter_rows WHERE id = ?1")                                \
    X(JR_INSERT, "INSERT INTO journal (station_id, inbound, msg_type, msg_id, action, payload, "   \
                 "at, prev_id, call_id, reply_type, reply_payload, reply_at, id) "                 \
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)")                \
    X(JH_GET, "SELECT last_id FROM journal_heads WHERE station_id = ?1")                           \
    X(JH_PUT, "INSERT INTO journal_heads (station_id, last_id, n) VALUES (?1, ?2, ?3) "            \
              "ON CONFLICT (station_id) DO UPDATE SET last_id = excluded.last_id, n = n + ?3")     \
    X(DATA_VERSION, "PRAGMA data_version")                                                         \
    X(JH_UNMARKED, "SELECT id, station_id FROM journal WHERE id > "                                \
                   "(SELECT upto FROM journal_heads_mark) ORDER BY id")                            \
    X(JH_MARK, "UPDATE journal_heads_mark SET upto = max(upto, "                                   \
               "coalesce((SELECT max(id) FROM journal), 0))")                                      \
    X(JR_NEXT_ID, "SELECT upto + 1 FROM journal_heads_mark") /* after JH_MARK */                   \
    X(JH_OVER, "SELECT station_id, last_id FROM journal_heads WHERE n > ?1 AND station_id > ?2 "   \
               "AND (?3 = '' OR station_id = ?3) ORDER BY station_id LIMIT ?4")                    \
    X(JH_SET_N, "UPDATE journal_heads SET n = ?2 WHERE station_id = ?1")                           \
    X(JR_LINK, "SELECT prev_id, inbound, msg_type, msg_id, reply_type FROM journal WHERE id = ?1") \
    X(JR_DELETE, "DELETE FROM journal WHERE id = ?1")                                              \
    X(JR_PRUNE_AGE, "DELETE FROM journal WHERE id < ?1 AND (?2 = '' OR station_id = ?2)")          \
    X(JR_FIRST_FROM, "SELECT at FROM journal WHERE id >= ?1 ORDER BY id LIMIT 1")                  \
    X(JR_ID_RANGE, "SELECT min(id), max(id) FROM journal")                                         \
    X(DD_PRUNE, "DELETE FROM dedupe WHERE at < ?1 AND (?2 = '' OR station_id = ?2)")               \
    X(SEC_INSERT, "INSERT INTO security_events (station_id, type, tech_info, at) "                 \
                  "VALUES (?1, ?2, ?3, ?4)")                                                       \
    X(FW_INSERT, "INSERT INTO fw_status_history (station_id, what, status, request_id, at) "       \
                 "VALUES (?1, ?2, ?3, ?4, ?5)")                                                    \
    X(DT_INSERT, "INSERT INTO data_transfers (station_id, inbound, vendor_id, message_id, data, "  \
                 "at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")                                            \
    X(TOK_UPSERT, "INSERT INTO id_tokens (id_token, type, status, expiry, group_id, updated_at) "  \
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id_token, type) DO UPDATE SET "    \
                  "status = excluded.status, expiry = excluded.expiry, "                           \
                  "group_id = excluded.group_id, updated_at = excluded.updated_at")                \
    X(API_INSERT, "INSERT INTO api_tokens (hash, role, name, created_at) VALUES (?1, ?2, ?3, ?4)") \
    X(API_REVOKE, "UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at = 0")        \
    X(API_EXISTS, "SELECT 1 FROM api_tokens WHERE id = ?1")                                        \
    /* schema 002 writes */                                                                        \
    X(ST_ALL_OFFLINE, "UPDATE stations SET online = 0 WHERE online <> 0")                          \
    X(DM_CLEAR, "DELETE FROM device_model WHERE station_id = ?1")                                  \
    X(DM_UPSERT, "INSERT INTO device_model (station_id, component, component_inst, evse_id, "      \
                 "connector_id, variable, variable_inst, attr_type, value, mutability, "           \
                 "characteristics, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "  \
                 "?11, ?12) ON CONFLICT (station_id, component, component_inst, evse_id, "         \
                 "connector_id, variable, variable_inst, attr_type) DO UPDATE SET "                \
                 "value = excluded.value, mutability = CASE WHEN excluded.mutability <> '' "       \
                 "THEN excluded.mutability ELSE mutability END, characteristics = CASE WHEN "      \
                 "excluded.characteristics <> '' THEN excluded.characteristics ELSE "              \
                 "characteristics END, updated_at = excluded.updated_at")                          \
    X(DEV_INSERT, "INSERT INTO device_events (station_id, event_id, trigger, component, "          \
                  "variable, actual, payload, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")        \
    X(CK_CLEAR, "DELETE FROM config_keys WHERE station_id = ?1")                                   \
    X(CK_UPSERT, "INSERT INTO config_keys (station_id, key, value, readonly, updated_at) "         \
                 "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (station_id, key) DO UPDATE SET "        \
                 "value = excluded.value, readonly = excluded.readonly, "                          \
                 "updated_at = excluded.updated_at")                                               \
    X(RSV_NEXT, "SELECT coalesce(max(id), 0) + 1 FROM reservations WHERE station_id = ?1")         \
    X(RSV_UPSERT, "INSERT INTO reservations (id, station_id, evse_id, connector_id, id_token, "    \
                  "group_id, expiry, status, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, " \
                  "?9) ON CONFLICT (station_id, id) DO UPDATE SET evse_id = excluded.evse_id, "    \
                  "connector_id = excluded.connector_id, id_token = excluded.id_token, "           \
                  "group_id = excluded.group_id, expiry = excluded.expiry, "                       \
                  "status = excluded.status")                                                      \
    X(RSV_STATUS, "UPDATE reservations SET status = ?3 WHERE station_id = ?1 AND id = ?2")         \
    X(RSV_EXPIRE, "UPDATE reservations SET status = 'Expired' WHERE rowid IN (SELECT rowid FROM "  \
                  "reservations WHERE status IN ('Requested', 'Accepted') AND expiry <= ?1 "       \
                  "LIMIT ?2)")                                                                     \
    X(PF_UPSERT, "INSERT INTO charging_profiles (station_id, profile_id, evse_id, connector_id, "  \
                 "stack_level, purpose, kind, tx_id, valid_from, valid_to, profile, status, "      \
                 "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) "    \
                 "ON CONFLICT (station_id, profile_id) DO UPDATE SET evse_id = excluded.evse_id, " \
                 "connector_id = excluded.connector_id, stack_level = excluded.stack_level, "      \
                 "purpose = excluded.purpose, kind = excluded.kind, tx_id = excluded.tx_id, "      \
                 "valid_from = excluded.valid_from, valid_to = excluded.valid_to, "                \
                 "profile = excluded.profile, status = excluded.status, "                          \
                 "updated_at = excluded.updated_at")                                               \
    X(PF_STATUS, "UPDATE charging_profiles SET status = ?3, updated_at = ?4 "                      \
                 "WHERE station_id = ?1 AND profile_id = ?2")                                      \
    X(CERT_INSERT,                                                                                 \
      "INSERT INTO certificates (station_id, cert_type, serial, subject, not_before, "             \
      "not_after, pem, csr, issued_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")               \
    X(CMD_FIND_IDEM, "SELECT id FROM commands WHERE station_id = ?1 AND idempotency_key = ?2")     \
    X(CMD_INSERT, "INSERT INTO commands (id, station_id, action, payload, idempotency_key, "       \
                  "created_at, expires_at, updated_at) VALUES (?7, ?1, ?2, ?3, ?4, ?5, ?6, ?5)")   \
    X(CMD_STATE, "SELECT station_id, status FROM commands WHERE id = ?1")                          \
    X(CMD_SET, "UPDATE commands SET status = ?2, "                                                 \
               "msg_id = CASE WHEN ?3 <> '' THEN ?3 ELSE msg_id END, "                             \
               "sent_at = CASE WHEN ?2 = 'sent' THEN ?4 ELSE sent_at END, "                        \
               "response = CASE WHEN ?2 = 'answered' THEN ?5 ELSE response END, "                  \
               "error = CASE WHEN ?2 = 'failed' THEN ?6 ELSE error END, "                          \
               "error_desc = CASE WHEN ?2 = 'failed' THEN ?7 ELSE error_desc END, "                \
               "updated_at = ?4 WHERE id = ?1")                                                    \
    X(CMD_EXPIRE, "UPDATE commands SET status = 'expired', updated_at = ?1 WHERE id IN (SELECT "   \
                  "id FROM commands WHERE status IN ('queued', 'sent') AND expires_at <= ?1 "      \
                  "AND (?2 = '' OR station_id = ?2) LIMIT ?3)")                                    \
    X(MT_JR_AGE, "DELETE FROM journal WHERE id < ?1 AND id < (SELECT min(id) FROM journal) + ?2")  \
    X(MT_DD_AGE, "DELETE FROM dedupe WHERE (station_id, kind, key) IN (SELECT station_id, kind, "  \
                 "key FROM dedupe WHERE at < ?1 LIMIT ?2)")                                        \
    /* reads */                                                                                    \
    X(R_BEGIN, "BEGIN")                                                                            \
    X(R_END, "COMMIT")                                                                             \
    X(R_STATION, "SELECT " STATION_COLS " FROM stations WHERE id = ?1")                            \
    X(R_STATIONS, "SELECT " STATION_COLS " FROM stations WHERE id > ?1 ORDER BY id LIMIT ?2")      \
    X(R_TOKEN, "SELECT id_token, type, status, expiry, group_id FROM id_tokens "                   \
               "WHERE id_token = ?1 ORDER BY type LIMIT 1")                                        \
    X(R_TX, "SELECT " TX_COLS " FROM " TX_FROM " WHERE id = ?1")                                   \
    X(R_TX_UID, "SELECT " TX_COLS " FROM " TX_FROM " WHERE station_id = ?1 AND tx_uid = ?2")       \
    X(R_METER_HEAD, "SELECT coalesce(m.last_meter_id, 0) FROM " TX_FROM " WHERE id = ?1")          \
    X(R_METER_PREV, "SELECT prev_id FROM meter_rows WHERE id = ?1")                                \
    X(R_METER_ROW, "SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, "           \
                   "j.value ->> 4, j.value ->> 5, j.value ->> 6, j.value ->> 7, j.value ->> 8 "    \
                   "FROM meter_rows m, json_each(m.samples) j WHERE m.id = ?1 ORDER BY j.key")     \
    /* a station's newest journal row: its newest above the mark (016), else its head */           \
    X(R_JHEAD,                                                                                     \
      "SELECT max(coalesce((SELECT last_id FROM journal_heads WHERE station_id = ?1), 0), "        \
      "coalesce((SELECT id FROM journal WHERE id > (SELECT upto FROM journal_heads_mark) "         \
      "AND station_id = ?1 ORDER BY id DESC LIMIT 1), 0))")                                        \
    X(R_JROW, "SELECT id, inbound, msg_type, msg_id, action, payload, at, prev_id, station_id, "   \
              "reply_type, reply_payload, reply_at FROM journal WHERE id = ?1")                    \
    X(R_JREPLY, "SELECT id, inbound, msg_type, msg_id, action, payload, at FROM journal "          \
                "WHERE call_id = ?1 ORDER BY id LIMIT 1")                                          \
    X(R_API_FIND, "SELECT id, role, name, created_at, revoked_at FROM api_tokens WHERE hash = ?1") \
    X(R_API_LIST, "SELECT id, role, name, created_at, revoked_at FROM api_tokens ORDER BY id")     \
    /* schema 002 reads */                                                                         \
    X(R_TXS2, "SELECT " TX_COLS " FROM " TX_FROM " WHERE (?1 = '' OR station_id = ?1) "            \
              "AND (?2 < 0 OR state = ?2) AND (?3 = 0 OR id < ?3) AND (?5 = '' OR id_token = ?5) " \
              "AND (?6 = 0 OR start_at >= ?6) AND (?7 = 0 OR start_at < ?7) "                      \
              "ORDER BY id DESC LIMIT ?4")                                                         \
    X(R_TXS_ASC, "SELECT " TX_COLS " FROM " TX_FROM " WHERE (?1 = '' OR station_id = ?1) "         \
                 "AND (?2 < 0 OR state = ?2) AND id > ?3 AND (?5 = '' OR id_token = ?5) "          \
                 "AND (?6 = 0 OR start_at >= ?6) AND (?7 = 0 OR start_at < ?7) "                   \
                 "ORDER BY id LIMIT ?4")                                                           \
    X(R_STATIONS_F, "SELECT " STATION_COLS " FROM stations WHERE id > ?1 "                         \
                    "AND (?2 = 0 OR online = (?2 = 1)) AND (?3 = '' OR reg_status = ?3) "          \
                    "AND (?4 = '' OR instr(lower(id), lower(?4)) OR instr(lower(vendor), "         \
                    "lower(?4)) OR instr(lower(model), lower(?4)) OR instr(lower(serial), "        \
                    "lower(?4))) ORDER BY id LIMIT ?5")                                            \
    X(R_CS, "SELECT 0, evse_id, connector_id, status, error_code, info, vendor_id, "               \
            "vendor_error_code, at FROM connector_status WHERE station_id = ?1 "                   \
            "ORDER BY evse_id, connector_id LIMIT ?3")                                             \
    X(R_CS_HIST, "SELECT id, evse_id, connector_id, status, error_code, info, vendor_id, "         \
                 "vendor_error_code, at FROM status_history WHERE station_id = ?1 "                \
                 "AND (?2 = 0 OR id < ?2) ORDER BY id DESC LIMIT ?3")                              \
    X(R_DM,                                                                                        \
      "SELECT component, component_inst, evse_id, connector_id, variable, variable_inst, "         \
      "attr_type, value, mutability, characteristics, updated_at FROM device_model "               \
      "WHERE station_id = ?1 AND (?2 = '' OR component = ?2) AND (?3 = '' OR variable = ?3) "      \
      "ORDER BY component, component_inst, evse_id, connector_id, variable, variable_inst, "       \
      "attr_type LIMIT ?5 OFFSET ?4")                                                              \
    X(R_DEV, "SELECT id, event_id, at, trigger, component, variable, actual, payload "             \
             "FROM device_events WHERE station_id = ?1 AND (?2 = 0 OR id < ?2) "                   \
             "ORDER BY id DESC LIMIT ?3")                                                          \
    X(R_CK, "SELECT key, value, readonly, updated_at FROM config_keys WHERE station_id = ?1 "      \
            "ORDER BY key")                                                                        \
    X(R_RSV, "SELECT id, station_id, evse_id, connector_id, id_token, group_id, expiry, status, "  \
             "created_at FROM reservations WHERE station_id = ?1 AND (?2 = 0 OR id = ?2) "         \
             "AND (?3 = 0 OR (status IN ('Requested', 'Accepted') AND expiry > ?4)) ORDER BY id")  \
    X(R_PF, "SELECT station_id, profile_id, evse_id, connector_id, stack_level, purpose, kind, "   \
            "status, coalesce(tx_id, 0), valid_from, valid_to, updated_at, profile "               \
            "FROM charging_profiles WHERE station_id = ?1 AND (?2 < 0 OR evse_id = ?2) "           \
            "ORDER BY evse_id, purpose, stack_level, profile_id")                                  \
    X(R_CERT, "SELECT id, station_id, cert_type, serial, subject, csr, pem, not_before, "          \
              "not_after, issued_at, revoked_at FROM certificates WHERE (?1 = '' OR "              \
              "station_id = ?1) AND (?2 = 0 OR id < ?2) ORDER BY id DESC LIMIT ?3")                \
    X(R_CMD_ID, "SELECT " CMD_COLS " FROM commands WHERE id = ?2 LIMIT ?4")                        \
    X(R_CMD_PENDING, "SELECT " CMD_COLS " FROM commands WHERE station_id = ?1 AND "                \
                     "status = 'queued' AND expires_at > ?3 ORDER BY id LIMIT ?4")                 \
    X(R_CMD_LIST, "SELECT " CMD_COLS " FROM commands WHERE (?1 = '' OR station_id = ?1) "          \
                  "AND (?2 = 0 OR id < ?2) ORDER BY id DESC LIMIT ?4")

#define STATION_COLS                                                                               \
    "id, security_profile, pw_salt, pw_hash, reg_status, ocpp_version, vendor, model, serial, "    \
    "firmware, iccid, imsi, meter_type, meter_serial, created_at, last_boot_at, last_seen_at, "    \
    "online"
#define CMD_COLS                                                                                   \
    "id, station_id, action, status, payload, response, error_desc, error, "                       \
    "coalesce(idempotency_key, ''), msg_id, created_at, expires_at, sent_at, updated_at"
/* The columns of a transaction record and what they are read from: energy_wh and
 * meter_backwards live in tx_meter (schema 014), joined by the transaction's id. */
#define TX_COLS                                                                                    \
    "id, tx_uid, station_id, evse_id, connector_id, id_token, state, start_at, stop_at, "          \
    "meter_start_wh, meter_stop_wh, coalesce(m.energy_wh, 0), stop_reason, last_seq_no, "          \
    "offline, coalesce(m.meter_backwards, 0), reservation_id, remote_start_id, last_trigger"
#define TX_FROM "transactions LEFT JOIN tx_meter m ON m.tx_id = transactions.id"

enum {
#define X(name, sql) Q_##name,
    STMTS(X)
#undef X
        Q_COUNT
};
static const char *const stmt_sql[] = {
#define X(name, sql) sql,
    STMTS(X)
#undef X
};

typedef struct conn {
    sqlite3 *db;
    sqlite3_stmt *st[Q_COUNT];
    struct conn *next;
} conn_t;

/* What the writer knows of a transaction's energy register and meter chain (the columns
 * store_values maintains). It mirrors the committed row plus this batch's successful writes; any
 * rollback (of one write or of a batch) empties the whole cache, so it is never ahead of the file.
 */
typedef struct tx_cached {
    int64_t id; /* 0 = empty slot */
    int64_t start_wh, last_wh;
    int64_t last_meter; /* transactions.last_meter_id: the head of its meter_rows chain */
    /* First 8 bytes of the dedupe keys (meter_rows.dkey) of its newest MeterValues rows, so
     * that a new message is told from a retry without reading rows back; loaded from the
     * chain on first use (keys_loaded), legacy when the chain holds rows from before 006. */
    uint64_t recent[LW_STORE_METER_RETRY_ROWS];
    uint8_t n_recent, next_recent;
    bool keys_loaded, legacy;
    bool backwards;
    char station[LW_STATION_ID_MAX + 1];
} tx_cached_t;

/* The head of a station's journal chain as the writer knows it: journal_heads.last_id after
 * the appends so far, and the appends not yet added to journal_heads.n. Dirty entries are
 * written to journal_heads every LW_STORE_HEADS_LAZY_ROWS appends (heads_flush_all, which
 * also moves journal_heads_mark, schema 016), when evicted, before a prune reads the table
 * and at close: once per station and LW_STORE_HEADS_LAZY_ROWS rows instead of once per row
 * or per batch. Readers find the rows above the mark themselves (R_JHEAD); a writer that
 * lost its dirty entries (a rollback, another writer, a crash) counts those rows in again
 * (heads_recover) before it appends. */
typedef struct head_cached {
    int64_t last_id; /* 0 with station "" = empty slot */
    uint32_t hash;   /* str_hash(station) */
    uint32_t used;   /* the writer's head_clock at the last use: a set's least recent goes */
    int32_t added;
    bool dirty;
    char station[LW_STATION_ID_MAX + 1];
} head_cached_t;

typedef struct sqlite_be sqlite_be_t;
typedef struct ckpt {
    sqlite_be_t *b;
    sqlite3 *db;
    pthread_t thread;
    int frames; /* WAL frames after the last commit that asked this thread, 0 = none */
    int index;
    bool started;
} ckpt_t;

struct sqlite_be {
    char *path;
    int busy_ms;
    const lw_clock_t *clock;
    conn_t writer;
    tx_cached_t *txc;     /* LW_STORE_TX_CACHE slots, writer thread only */
    head_cached_t *heads; /* LW_STORE_HEAD_CACHE slots, writer thread only */
    uint32_t *dirty;      /* indexes into heads marked dirty since the last heads_flush */
    uint32_t n_dirty;     /* (an index may repeat: heads_flush skips the clean ones) */
    uint32_t head_clock;  /* counts head uses (head_cached_t.used) */
    uint32_t heads_rows;  /* journal rows appended since the last heads_flush_all */
    bool heads_exact;     /* heads + journal_heads = the journal (heads_recover ran) */
    int64_t jr_next;      /* the id of the next journal row (valid with heads_exact) */
    bool spoiled;         /* a failed write changed rows of the open transaction (be_apply) */
    bool savepoints;      /* a savepoint per write (the replay of a spoiled batch) */
    int64_t data_version; /* the writer's PRAGMA data_version at its last batch */
    bool sync_full;       /* the writer's synchronous setting is FULL (see be_durability) */
    /* the checkpoint threads (ckpt_main), each with its connection: [0] copies in the
     * background (PASSIVE, at a lower priority), [1] bounds the WAL (RESTART) */
    ckpt_t ck[2];
    pthread_mutex_t ck_mu;
    pthread_cond_t ck_cv;
    bool ck_stop;
    lw_buf_t samples; /* writer thread: the JSON of one meter row */
    int version;
    pthread_key_t key; /* this thread's read conn_t */
    pthread_mutex_t mu;
    conn_t *readers; /* every read connection, closed at close */
};

static sqlite3_stmt *q(conn_t *c, int id)
{
    sqlite3_stmt *st = c->st[id];
    if (!st) {
        if (sqlite3_prepare_v3(c->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &c->st[id],
                               NULL) != SQLITE_OK) {
            lw_log(LW_LOG_ERROR, "store", "event=prepare_failed sql=\"%.40s\" err=\"%s\"",
                   stmt_sql[id], sqlite3_errmsg(c->db));
            return NULL;
        }
        st = c->st[id];
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

static int map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return 0;
    case SQLITE_CONSTRAINT:
        return LW_EEXISTS;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return LW_EBUSY;
    case SQLITE_NOMEM:
        return LW_ENOMEM;
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
        return LW_EIO;
    default:
        return LW_ESTORE;
    }
}

/* Runs a statement that returns no rows; returns 0 or an LW_E code. */
static int step_done(conn_t *c, sqlite3_stmt *st)
{
    if (!st) return LW_ESTORE;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) return 0;
    if ((rc & 0xff) != SQLITE_CONSTRAINT)
        lw_log(LW_LOG_ERROR, "store", "event=step_failed err=\"%s\"", sqlite3_errmsg(c->db));
    return map_rc(rc);
}

/* Steps st (its parameters bound) for its first column: *out, 0 when
 * there is no row. Returns 0 or an LW_E code; resets st. */
static int one_i64(sqlite3_stmt *st, int64_t *out)
{
    if (!st) return LW_ESTORE;
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : map_rc(rc);
}

static void b_str(sqlite3_stmt *st, int i, lw_str_t s)
{
    sqlite3_bind_text(st, i, s.p ? s.p : "", (int)s.len, SQLITE_STATIC);
}
static void b_i64(sqlite3_stmt *st, int i, int64_t v)
{
    sqlite3_bind_int64(st, i, v);
}

static void col_cpy(sqlite3_stmt *st, int i, char *out, size_t sz)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    size_t n = t ? (size_t)sqlite3_column_bytes(st, i) : 0;
    if (n >= sz) n = sz - 1;
    if (n) memcpy(out, t, n);
    out[n] = 0;
}
static lw_str_t col_str(sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    return t ? (lw_str_t){t, (size_t)sqlite3_column_bytes(st, i)} : (lw_str_t){"", 0};
}

/* ---- open, migrations ---------------------------------------------------------------------- */

/* SQLite keeps memory statistics by default, behind one process-wide mutex taken on every
 * allocation and free it makes. Nothing here reads them (sqlite3_memory_used, sqlite3_status),
 * so they are switched off once, before the first connection initializes the library. */
static void sqlite_config_once(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static int conn_open(sqlite_be_t *b, conn_t *c, char *err, size_t errsz)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, sqlite_config_once);
    memset(c, 0, sizeof *c);
    /* the writer's WAL frames go out in one write per commit (walbuf.c) */
    const char *vfs = c == &b->writer && lw_walbuf_register() == SQLITE_OK ? LW_WALBUF_VFS : NULL;
    int rc = sqlite3_open_v2(b->path, &c->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, vfs);
    if (rc != SQLITE_OK) {
        if (err)
            snprintf(err, errsz, "%s: cannot open database: %s", b->path,
                     c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        sqlite3_close(c->db);
        c->db = NULL;
        return LW_EIO;
    }
    sqlite3_busy_timeout(c->db, b->busy_ms);
    sqlite3_extended_result_codes(c->db, 1);
    /* journal_mode=WAL is persistent in the file; foreign keys and synchronous are per
     * connection. */
    const char *pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                          "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;";
    char *msg = NULL;
    if (sqlite3_exec(c->db, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
        if (err)
            snprintf(err, errsz, "%s: not a usable SQLite database: %s", b->path, msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_close(c->db);
        c->db = NULL;
        return LW_EIO;
    }
    /* Page cache: it must hold the pages a batch dirties, or they spill into the WAL in
     * mid-transaction and are written again at commit (LW_STORE_WRITER_CACHE_KIB says how it
     * was sized). The size is an upper bound, allocated as pages are used. Readers scan pages
     * of lists and need less.
     * The writer does not checkpoint (see ckpt_main); the WAL file is truncated back to twice
     * the checkpoint interval when it restarts. */
    char tune[160];
    if (c == &b->writer)
        snprintf(tune, sizeof tune, "PRAGMA cache_size=-%d; PRAGMA journal_size_limit=%lld;",
                 LW_STORE_WRITER_CACHE_KIB, (long long)LW_STORE_WAL_CHECKPOINT_PAGES * 4096 * 2);
    else
        snprintf(tune, sizeof tune, "PRAGMA cache_size=-%d;", LW_STORE_READER_CACHE_KIB);
    sqlite3_exec(c->db, tune, NULL, NULL, NULL); /* tuning only: a failure is not fatal */
    return 0;
}

static void conn_close(conn_t *c)
{
    for (int i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(c->st[i]);
    sqlite3_close(c->db);
    c->db = NULL;
}

static int exec(conn_t *c, const char *sql, char *err, size_t errsz, const char *what)
{
    char *msg = NULL;
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        if (err) snprintf(err, errsz, "%s: %s", what, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return map_rc(rc) ? map_rc(rc) : LW_ESTORE;
    }
    return 0;
}

/* The first row of PRAGMA foreign_key_check, as an error naming the table: a migration left
 * a row whose reference has no target. 0 when there is none. */
static int fk_check(conn_t *c, char *err, size_t errsz, const char *path)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db, "PRAGMA foreign_key_check", -1, &st, NULL) != SQLITE_OK) {
        if (err) snprintf(err, errsz, "%s: foreign key check: %s", path, sqlite3_errmsg(c->db));
        return LW_ESTORE;
    }
    int rc = 0, step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        if (err)
            snprintf(
                err, errsz, "%s: after migrating, row %lld of %s references a missing row of %s",
                path, (long long)sqlite3_column_int64(st, 1),
                (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 2));
        rc = LW_ESTORE;
    } else if (step != SQLITE_DONE) {
        if (err) snprintf(err, errsz, "%s: foreign key check: %s", path, sqlite3_errmsg(c->db));
        rc = LW_ESTORE;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Applies every embedded migration newer than the file's schema_version, all in one
 * IMMEDIATE transaction, so two processes opening a fresh file at once cannot both apply.
 * Foreign keys are off meanwhile, so a migration can rebuild a table the way SQLite documents
 * it (create, copy, drop, rename) without the drop cascading to the rows referencing it;
 * every reference is checked before the commit, and foreign keys are on again after it. */
static int migrate(sqlite_be_t *b, char *err, size_t errsz)
{
    conn_t *c = &b->writer;
    int rc = exec(c, "PRAGMA foreign_keys=OFF", err, errsz, b->path);
    if (!rc) rc = exec(c, "BEGIN IMMEDIATE", err, errsz, b->path);
    if (!rc)
        rc = exec(c,
                  "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                  "name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
                  err, errsz, b->path);
    int have = 0;
    if (!rc) {
        sqlite3_stmt *st;
        sqlite3_prepare_v2(c->db, "SELECT coalesce(max(version), 0) FROM schema_version", -1, &st,
                           NULL);
        if (st && sqlite3_step(st) == SQLITE_ROW) have = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    int newest = 0;
    for (const lw_store_migration_t *m = lw_store_migrations; m->sql; m++)
        newest = m->version;
    if (!rc && have > newest) {
        if (err)
            snprintf(err, errsz, "%s: database schema version %d is newer than this program's (%d)",
                     b->path, have, newest);
        rc = LW_ENOTSUP;
    }
    const int had = have;
    for (const lw_store_migration_t *m = lw_store_migrations; !rc && m->sql; m++) {
        if (m->version <= have) continue;
        char what[256];
        snprintf(what, sizeof what, "%s: migration %s", b->path, m->name);
        rc = exec(c, m->sql, err, errsz, what);
        if (rc) break;
        sqlite3_stmt *st;
        sqlite3_prepare_v2(c->db,
                           "INSERT INTO schema_version (version, name, applied_at) "
                           "VALUES (?1, ?2, ?3)",
                           -1, &st, NULL);
        sqlite3_bind_int(st, 1, m->version);
        sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, lw_clock_wall(b->clock));
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : LW_ESTORE;
        sqlite3_finalize(st);
        have = m->version;
        lw_log(LW_LOG_INFO, "store", "event=migrated version=%d name=%s", m->version, m->name);
    }
    if (!rc && have != had) rc = fk_check(c, err, errsz, b->path);
    if (!rc)
        rc = exec(c, "COMMIT", err, errsz, b->path);
    else /* also when BEGIN failed: a ROLLBACK without a transaction does nothing */
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    int fk = exec(c, "PRAGMA foreign_keys=ON", rc ? NULL : err, errsz, b->path);
    if (!rc) b->version = have;
    return rc ? rc : fk;
}

/* ---- checkpoints ----------------------------------------------------------------------------- */

/* SQLite's automatic checkpoint runs inside the COMMIT that crosses the threshold, so the
 * writer stalled for the whole copy (up to LW_STORE_WAL_CHECKPOINT_PAGES pages written to the
 * database file and fsynced) and every write queued behind it waited: the tail of the
 * group-commit latency. bench_store, 150k messages: longest commit 64-68 ms -> 28-33 ms,
 * p99 MeterValues latency 73-81 ms -> 39-44 ms with a thread, for ~1 us more CPU per
 * message (pages rewritten between two passive checkpoints are copied twice). Here the writer
 * only notes the WAL size after each commit (wal_hook) and threads of the backend checkpoint
 * on their own connections:
 *  - ck[0] runs a PASSIVE checkpoint every LW_STORE_WAL_CHECKPOINT_PAGES frames, at nice
 *    LW_STORE_CKPT_NICE: PASSIVE takes no lock a writer needs, and at a lower priority its
 *    copy (milliseconds of CPU on the core the loops use) no longer delays the answers to
 *    durable messages (mixed load at half the maximum, p99: 14-59 ms -> 4-5 ms, with
 *    group commit);
 *  - ck[1], at normal priority, runs a RESTART checkpoint if commits keep the passive ones
 *    from catching up and the WAL reaches 4x the interval: it makes the writer wait for the
 *    frames left, bounding the file, and copies them at full speed.
 * The WAL restarts (and is truncated) at a writer's next transaction once every frame is
 * copied. Lowering a thread's priority needs no privilege; a failure leaves it as it was. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
    (void)db, (void)name;
    sqlite_be_t *b = arg;
    if (frames >= LW_STORE_WAL_CHECKPOINT_PAGES) {
        pthread_mutex_lock(&b->ck_mu);
        b->ck[0].frames = frames;
        /* without the RESTART thread, the background one bounds the file itself */
        int i = b->ck[1].started ? 1 : 0;
        if (frames >= 4 * LW_STORE_WAL_CHECKPOINT_PAGES) b->ck[i].frames = frames;
        pthread_cond_broadcast(&b->ck_cv);
        pthread_mutex_unlock(&b->ck_mu);
    }
    return SQLITE_OK;
}

static void *ckpt_main(void *arg)
{
    ckpt_t *c = arg;
    sqlite_be_t *b = c->b;
    pthread_setname_np(pthread_self(), c->index ? "lw-ckpt-1" : "lw-ckpt-0");
    if (c->index == 0) setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), LW_STORE_CKPT_NICE);
    pthread_mutex_lock(&b->ck_mu);
    for (;;) {
        while (!b->ck_stop && !c->frames)
            pthread_cond_wait(&b->ck_cv, &b->ck_mu);
        if (b->ck_stop) break;
        int frames = c->frames;
        c->frames = 0;
        pthread_mutex_unlock(&b->ck_mu);
        int mode = frames >= 4 * LW_STORE_WAL_CHECKPOINT_PAGES && (c->index || !b->ck[1].started)
                       ? SQLITE_CHECKPOINT_RESTART
                       : SQLITE_CHECKPOINT_PASSIVE;
        int log = 0, copied = 0;
        int rc = sqlite3_wal_checkpoint_v2(c->db, NULL, mode, &log, &copied);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            lw_log(LW_LOG_WARN, "store", "event=checkpoint_failed err=\"%s\"",
                   sqlite3_errmsg(c->db));
        pthread_mutex_lock(&b->ck_mu);
    }
    pthread_mutex_unlock(&b->ck_mu);
    return NULL;
}

/* Opens a checkpoint connection and starts its thread; false if either fails. */
static bool ckpt_open(sqlite_be_t *b, int i)
{
    ckpt_t *c = &b->ck[i];
    c->b = b;
    c->index = i;
    if (sqlite3_open_v2(b->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(c->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_close(c->db);
        c->db = NULL;
        return false;
    }
    sqlite3_busy_timeout(c->db, b->busy_ms);
    if (pthread_create(&c->thread, NULL, ckpt_main, c)) {
        sqlite3_close(c->db);
        c->db = NULL;
        return false;
    }
    c->started = true;
    return true;
}

/* Starts the checkpoint threads. A failure is not fatal: without the first, the writer
 * checkpoints itself (SQLite's automatic checkpoint); without the second, the first also
 * bounds the WAL. */
static void ckpt_start(sqlite_be_t *b)
{
    if (!ckpt_open(b, 0)) return;
    ckpt_open(b, 1);
    sqlite3_wal_hook(b->writer.db, wal_hook, b); /* replaces the automatic checkpoint */
}

static void ckpt_stop(sqlite_be_t *b)
{
    if (b->ck[0].started) {
        sqlite3_wal_hook(b->writer.db, NULL, NULL);
        pthread_mutex_lock(&b->ck_mu);
        b->ck_stop = true;
        pthread_cond_broadcast(&b->ck_cv);
        pthread_mutex_unlock(&b->ck_mu);
    }
    for (int i = 0; i < 2; i++) {
        ckpt_t *c = &b->ck[i];
        if (c->started) pthread_join(c->thread, NULL);
        c->started = false;
        sqlite3_close(c->db);
        c->db = NULL;
    }
}

static void be_close(void *be);

static int be_open(const char *target, const lw_store_options_t *opts, void **out, char *err,
                   size_t errsz)
{
    sqlite_be_t *b = calloc(1, sizeof *b);
    if (!b) return LW_ENOMEM;
    b->path = strdup(target);
    b->busy_ms = opts->busy_timeout_ms;
    b->clock = opts->clock;
    pthread_mutex_init(&b->mu, NULL);
    pthread_mutex_init(&b->ck_mu, NULL);
    pthread_cond_init(&b->ck_cv, NULL);
    /* JSON escaping grows a string at most 6x (\u00XX), plus ~40 bytes of syntax per value */
    lw_buf_init(&b->samples, 6 * (size_t)LW_STORE_WRITE_BYTES_MAX + 64 * LW_STORE_VALUES_MAX);
    b->txc = calloc(LW_STORE_TX_CACHE, sizeof *b->txc);
    b->heads = calloc(LW_STORE_HEAD_CACHE, sizeof *b->heads);
    b->dirty = calloc(2 * LW_STORE_HEAD_CACHE, sizeof *b->dirty);
    if (!b->txc || !b->heads || !b->dirty || pthread_key_create(&b->key, NULL)) {
        free(b->txc);
        free(b->heads);
        free(b->dirty);
        free(b->path);
        free(b);
        return LW_ENOMEM;
    }
    int rc = b->path ? conn_open(b, &b->writer, err, errsz) : LW_ENOMEM;
    b->sync_full = true; /* conn_open set synchronous=FULL */
    if (!rc) rc = migrate(b, err, errsz);
    if (rc) {
        be_close(b);
        return rc;
    }
    sqlite3_wal_autocheckpoint(b->writer.db, LW_STORE_WAL_CHECKPOINT_PAGES);
    ckpt_start(b);
    *out = b;
    return 0;
}

static int heads_flush_all(sqlite_be_t *b);

/* The writer's PRAGMA data_version (it changes when another connection commits), -1 when it
 * cannot be read. */
static int64_t data_version(conn_t *c)
{
    int64_t v = -1;
    sqlite3_stmt *st = q(c, Q_DATA_VERSION);
    if (st && sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    if (st) sqlite3_reset(st);
    return v;
}

/* The heads this writer still holds go to journal_heads at close, so that the file needs no
 * recovery (not when nothing was appended since the last flush: a read-only CLI command takes
 * no write lock). If another writer wrote in between, it counted these rows in already. */
static void heads_close(sqlite_be_t *b)
{
    conn_t *c = &b->writer;
    if (!c->db || !b->heads_rows || step_done(c, q(c, Q_BEGIN))) return;
    if (data_version(c) != b->data_version || heads_flush_all(b) || step_done(c, q(c, Q_COMMIT)))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

static void be_close(void *be)
{
    sqlite_be_t *b = be;
    heads_close(b);
    ckpt_stop(b);
    conn_t *r = b->readers;
    while (r) {
        conn_t *next = r->next;
        conn_close(r);
        free(r);
        r = next;
    }
    if (b->writer.db) conn_close(&b->writer);
    pthread_key_delete(b->key);
    pthread_mutex_destroy(&b->mu);
    pthread_mutex_destroy(&b->ck_mu);
    pthread_cond_destroy(&b->ck_cv);
    lw_buf_free(&b->samples);
    free(b->txc);
    free(b->heads);
    free(b->dirty);
    free(b->path);
    free(b);
}

static int be_schema_version(void *be)
{
    return ((sqlite_be_t *)be)->version;
}

/* This thread's read connection, opened on first use. */
static conn_t *reader(sqlite_be_t *b)
{
    conn_t *c = pthread_getspecific(b->key);
    if (c) return c;
    c = calloc(1, sizeof *c);
    if (!c) return NULL;
    if (conn_open(b, c, NULL, 0)) {
        free(c);
        return NULL;
    }
    pthread_setspecific(b->key, c);
    pthread_mutex_lock(&b->mu);
    c->next = b->readers;
    b->readers = c;
    pthread_mutex_unlock(&b->mu);
    return c;
}

/* ---- writer side ----------------------------------------------------------------------------- */

static void txc_clear(sqlite_be_t *b)
{
    memset(b->txc, 0, LW_STORE_TX_CACHE * sizeof *b->txc);
}
/* Only when the batch is rolled back or the file changed under the writer: dirty heads hold
 * appends that journal_heads does not have yet, of this batch or of earlier ones, which
 * heads_recover then finds again. */
static void heads_clear(sqlite_be_t *b)
{
    memset(b->heads, 0, LW_STORE_HEAD_CACHE * sizeof *b->heads);
    b->n_dirty = 0;
    b->heads_rows = 0;
    b->heads_exact = false;
}

static uint32_t str_hash(lw_str_t s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < s.len; i++)
        h = (h ^ (uint8_t)s.p[i]) * 16777619u;
    return h;
}

/* Writes one dirty journal head to journal_heads. */
static int head_flush(sqlite_be_t *b, head_cached_t *h)
{
    conn_t *c = &b->writer;
    sqlite3_stmt *st = q(c, Q_JH_PUT);
    if (!st) return LW_ESTORE;
    sqlite3_bind_text(st, 1, h->station, -1, SQLITE_STATIC);
    b_i64(st, 2, h->last_id);
    b_i64(st, 3, h->added);
    int rc = step_done(c, st);
    if (!rc) h->dirty = false, h->added = 0;
    return rc;
}

/* Writes every dirty journal head (when the dirty list is full, and before a write that may
 * be rolled back to its savepoint). */
static int heads_flush(sqlite_be_t *b)
{
    /* the dirty list, not the whole cache: a scan of every slot per commit read ~1 MB */
    for (uint32_t i = 0; i < b->n_dirty; i++) {
        head_cached_t *h = &b->heads[b->dirty[i]];
        if (!h->dirty) continue;
        int rc = head_flush(b, h);
        if (rc) return rc;
    }
    b->n_dirty = 0;
    return 0;
}

/* Writes every dirty journal head and moves journal_heads_mark up to the newest journal row:
 * with heads_exact, every row is then counted in journal_heads. The mark never comes down, and
 * new rows take ids above it and above every row (jr_next): no id is used twice, even after a
 * prune took the newest rows, so a row above the mark is newer than every row below it. */
static int heads_flush_all(sqlite_be_t *b)
{
    conn_t *c = &b->writer;
    int rc = heads_flush(b);
    if (!rc) rc = step_done(c, q(c, Q_JH_MARK));
    if (!rc) b->heads_rows = 0;
    return rc;
}

static int heads_recover(sqlite_be_t *b);

/* Acknowledged means durable: a batch with a write someone waits for commits with
 * synchronous=FULL (the WAL is fsynced before COMMIT returns). A batch of fire-and-forget
 * writes only (journal rows of Heartbeats, last-seen times) commits with NORMAL: no fsync;
 * a process crash loses nothing (the WAL is in the page cache), a power loss can lose that
 * batch, and the next FULL commit's fsync makes it durable with its own. */
static int be_durability(void *be, bool durable)
{
    sqlite_be_t *b = be;
    if (b->sync_full == durable) return 0;
    int rc = sqlite3_exec(b->writer.db,
                          durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", NULL,
                          NULL, NULL);
    if (rc != SQLITE_OK) return map_rc(rc);
    b->sync_full = durable;
    return 0;
}

static int be_begin(void *be)
{
    sqlite_be_t *b = be;
    conn_t *c = &b->writer;
    b->spoiled = false;
    int rc = step_done(c, q(c, Q_BEGIN));
    if (rc) return rc;
    /* The writer's caches mirror the file as this connection left it: another process
     * writing in between (the CLI) changes data_version, and they are dropped. */
    int64_t v = data_version(c);
    if (v < 0 || v != b->data_version) txc_clear(b), heads_clear(b);
    if (v >= 0) b->data_version = v;
    /* the heads another writer (or this one, before a rollback) left unwritten: counted in
     * and written now, so that two writers never both hold the same rows as dirty */
    return b->heads_exact ? 0 : heads_recover(b);
}
static int be_commit(void *be)
{
    sqlite_be_t *b = be;
    conn_t *c = &b->writer;
    int rc = b->heads_rows >= LW_STORE_HEADS_LAZY_ROWS ? heads_flush_all(b) : 0;
    return rc ? rc : step_done(c, q(c, Q_COMMIT));
}

static void be_rollback(void *be)
{
    sqlite_be_t *b = be;
    conn_t *c = &b->writer;
    if (!sqlite3_get_autocommit(c->db)) sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    txc_clear(b);
    heads_clear(b);
    b->spoiled = false;
}

static bool be_spoiled(void *be)
{
    return ((sqlite_be_t *)be)->spoiled;
}

static void be_savepoints(void *be, bool on)
{
    ((sqlite_be_t *)be)->savepoints = on;
}

static void be_release_memory(void *be)
{
    sqlite_be_t *b = be;
    /* Frees the writer's unused page-cache pages (the cache fills during a boot storm and
     * would otherwise stay resident while stations idle); the next burst re-reads them from
     * the OS page cache. The transaction-register cache stays: it is small. */
    sqlite3_db_release_memory(b->writer.db);
}

static size_t be_cache_bytes(void *be)
{
    int cur = 0, hi = 0;
    sqlite3_db_status(((sqlite_be_t *)be)->writer.db, SQLITE_DBSTATUS_CACHE_USED, &cur, &hi, 0);
    return cur > 0 ? (size_t)cur : 0;
}

/* The register state of transaction id: from the cache, else read from its row and cached.
 * Returns the slot, or NULL when no such transaction exists (or on a read error). */
static tx_cached_t *txc_get(sqlite_be_t *b, int64_t id)
{
    tx_cached_t *e = &b->txc[(uint64_t)id % LW_STORE_TX_CACHE];
    if (e->id == id) return e;
    conn_t *c = &b->writer;
    sqlite3_stmt *st = q(c, Q_TX_STATE);
    if (!st) return NULL;
    b_i64(st, 1, id);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    if (found) {
        memset(e, 0, sizeof *e);
        e->id = id;
        col_cpy(st, 0, e->station, sizeof e->station);
        e->start_wh = sqlite3_column_int64(st, 1);
        e->last_wh = sqlite3_column_int64(st, 2);
        e->backwards = sqlite3_column_int(st, 3) != 0;
        e->last_meter = sqlite3_column_int64(st, 5);
    }
    sqlite3_reset(st);
    return found ? e : NULL;
}

/* Looks up a dedupe row; returns 1 if found (fills res), 0 if not, < 0 on error. */
static int dedupe_get(conn_t *c, lw_str_t station, const char *kind, const uint8_t *key,
                      size_t klen, lw_store_result_t *res, lw_arena_t *scratch)
{
    sqlite3_stmt *st = q(c, Q_DD_GET);
    if (!st) return LW_ESTORE;
    b_str(st, 1, station);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, key, (int)klen, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        res->duplicate = true;
        res->tx_id = sqlite3_column_int64(st, 0);
        lw_str_t a = col_str(st, 1);
        char *copy = lw_arena_strdup(scratch, a.p, a.len);
        res->answer = copy ? (lw_str_t){copy, a.len} : LW_STR_NULL;
        sqlite3_reset(st);
        return 1;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : map_rc(rc);
}

static int dedupe_put(sqlite_be_t *b, lw_str_t station, const char *kind, const uint8_t *key,
                      size_t klen, int64_t tx_id, lw_str_t answer)
{
    conn_t *c = &b->writer;
    sqlite3_stmt *st = q(c, Q_DD_PUT);
    if (!st) return LW_ESTORE;
    b_str(st, 1, station);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, key, (int)klen, SQLITE_STATIC);
    b_i64(st, 4, tx_id);
    b_str(st, 5, answer);
    b_i64(st, 6, lw_clock_wall(b->clock));
    return step_done(c, st);
}

/* Is v a reading of the cumulative energy register? Its default measurand is
 * Energy.Active.Import.Register (1.6 §7.31, 2.0.1 MeasurandEnumType); per-phase values are
 * left out so the total is compared with the total. Returns Wh in *wh. */
static bool register_wh(const lw_meter_value_t *v, int64_t *wh)
{
    if (v->measurand.len && !lw_str_eq_c(v->measurand, "Energy.Active.Import.Register"))
        return false;
    if (v->phase.len) return false;
    if (v->format.len && lw_str_eq_c(v->format, "SignedData")) return false;
    char buf[64];
    if (!v->value.len || v->value.len >= sizeof buf) return false;
    memcpy(buf, v->value.p, v->value.len);
    buf[v->value.len] = 0;
    char *end;
    double d = strtod(buf, &end);
    if (*end || d != d) return false;
    if (v->unit.len && lw_str_eq_c(v->unit, "kWh"))
        d *= 1000.0;
    else if (v->unit.len && !lw_str_eq_c(v->unit, "Wh"))
        return false;
    *wh = (int64_t)(d + (d >= 0 ? 0.5 : -0.5));
    return true;
}

/* Appends one sampled value to b as the JSON array of schema 003's meter_rows.samples. */
static int sample_json(lw_buf_t *b, const lw_meter_value_t *v)
{
    /* the timestamp by hand: printf's machinery was a visible share of the writer's CPU */
    char num[24], *e = num + sizeof num, *d = e;
    int64_t t = v->timestamp_ms;
    uint64_t u = t < 0 ? 0 - (uint64_t)t : (uint64_t)t;
    do {
        *--d = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (t < 0) *--d = '-';
    *--d = '[';
    int rc = lw_buf_append(b, d, (size_t)(e - d));
    const lw_str_t f[8] = {v->value,   v->measurand, v->phase,  v->unit,
                           v->context, v->location,  v->format, v->signed_data};
    for (int i = 0; i < 8 && !rc; i++) {
        rc = lw_buf_putc(b, ',');
        if (!rc) rc = lw_buf_append_json_str(b, f[i]);
    }
    return rc ? rc : lw_buf_putc(b, ']');
}

static uint64_t key_prefix(const uint8_t *key, size_t klen)
{
    uint64_t p = 0;
    memcpy(&p, key, klen < sizeof p ? klen : sizeof p);
    return p;
}

static void recent_push(tx_cached_t *tx, uint64_t p)
{
    tx->recent[tx->next_recent] = p;
    tx->next_recent = (uint8_t)((tx->next_recent + 1) % LW_STORE_METER_RETRY_ROWS);
    if (tx->n_recent < LW_STORE_METER_RETRY_ROWS) tx->n_recent++;
}

/* The tx_meter row of a new transaction (schema 014): its latest register reading is its
 * meter start until a reading arrives. */
static int tx_meter_insert(conn_t *c, int64_t tx_id, int64_t start_wh)
{
    sqlite3_stmt *st = q(c, Q_TXM_INSERT);
    if (!st) return LW_ESTORE;
    b_i64(st, 1, tx_id);
    b_i64(st, 2, start_wh);
    return step_done(c, st);
}

/* Stores values as one meter row (linked to tx_id when > 0: chained after the transaction's
 * previous row, schema 006) and advances the transaction's register: meter start (if
 * unknown), latest reading, energy, the backwards flag, and the head of its meter chain. */
static int store_values(sqlite_be_t *b, lw_str_t station, int evse, int conn_id, int64_t tx_id,
                        const lw_meter_value_t *vals, size_t n, const uint8_t *dkey, size_t dlen)
{
    conn_t *c = &b->writer;
    if (!n) return 0;
    tx_cached_t *tx = tx_id > 0 ? txc_get(b, tx_id) : NULL;
    int64_t start = tx ? tx->start_wh : -1, last = tx ? tx->last_wh : -1;
    bool backwards = tx ? tx->backwards : false, moved = false;
    lw_buf_reset(&b->samples);
    int rc = lw_buf_putc(&b->samples, '[');
    for (size_t i = 0; i < n && !rc; i++) {
        const lw_meter_value_t *v = &vals[i];
        if (i) rc = lw_buf_putc(&b->samples, ',');
        if (!rc) rc = sample_json(&b->samples, v);
        int64_t wh;
        if (tx && register_wh(v, &wh)) {
            if (start < 0) start = wh;
            if (last >= 0 && wh < last) backwards = true;
            last = wh;
            moved = true;
        }
    }
    if (!rc) rc = lw_buf_putc(&b->samples, ']');
    if (rc) return rc;
    sqlite3_stmt *st = q(c, Q_MV_INSERT);
    if (!st) return LW_ESTORE;
    b_str(st, 1, station);
    sqlite3_bind_int(st, 2, evse);
    sqlite3_bind_int(st, 3, conn_id);
    if (tx_id > 0)
        b_i64(st, 4, tx_id);
    else
        sqlite3_bind_null(st, 4);
    b_i64(st, 5, vals[0].timestamp_ms);
    b_i64(st, 6, (int64_t)n);
    sqlite3_bind_text(st, 7, b->samples.data, (int)b->samples.len, SQLITE_STATIC);
    b_i64(st, 8, tx ? tx->last_meter : 0);
    if (dkey)
        sqlite3_bind_blob(st, 9, dkey, (int)dlen, SQLITE_STATIC);
    else
        sqlite3_bind_zeroblob(st, 9, 0);
    rc = step_done(c, st);
    if (b->samples.cap > 1024 * 1024) { /* one huge write does not pin its buffer forever */
        size_t max = b->samples.max;
        lw_buf_free(&b->samples);
        lw_buf_init(&b->samples, max);
    }
    if (rc || !tx) return rc;
    int64_t row = sqlite3_last_insert_rowid(c->db);
    /* The meter start of a transaction that began without one: its first register reading
     * (rare: the only write to the wide transactions row here). */
    if (start != tx->start_wh) {
        if (!(st = q(c, Q_TX_START_WH))) return LW_ESTORE;
        b_i64(st, 1, tx_id);
        b_i64(st, 2, start);
        if ((rc = step_done(c, st))) return rc;
    }
    /* One write of the narrow tx_meter row either way: the chain head moves with every row. */
    if (!(st = q(c, moved ? Q_TX_REGISTER : Q_TX_LAST_METER))) return LW_ESTORE;
    b_i64(st, 1, tx_id);
    if (moved) {
        b_i64(st, 2, start);
        b_i64(st, 3, last);
        sqlite3_bind_int(st, 4, backwards);
        b_i64(st, 5, row);
    } else {
        b_i64(st, 2, row);
    }
    if ((rc = step_done(c, st))) return rc;
    /* be_apply empties the cache if a later step of this write fails */
    tx->start_wh = start, tx->last_wh = last, tx->backwards = backwards;
    tx->last_meter = row;
    if (dkey && tx->keys_loaded) recent_push(tx, key_prefix(dkey, dlen));
    return 0;
}

static int station_put(sqlite_be_t *b, const lw_store_write_t *w)
{
    conn_t *c = &b->writer;
    const typeof(w->u.station_put) *p = &w->u.station_put;
    sqlite3_stmt *st;
    if (p->must_not_exist) {
        if (!(st = q(c, p->connecting ? Q_ST_INSERT_ONLINE : Q_ST_INSERT))) return LW_ESTORE;
        b_str(st, 1, w->station_id);
        sqlite3_bind_int(st, 2, p->set_profile ? p->security_profile : 1);
        if (p->pw_set) {
            sqlite3_bind_blob(st, 3, p->pw_salt, 16, SQLITE_STATIC);
            sqlite3_bind_blob(st, 4, p->pw_hash, 32, SQLITE_STATIC);
        }
        sqlite3_bind_text(st, 5, lw_reg_status_name(p->set_reg_status ? p->reg_status : 0), -1,
                          SQLITE_STATIC);
        b_i64(st, 6, p->connecting ? p->at_ms : lw_clock_wall(b->clock));
        if (p->connecting) b_str(st, 7, p->ocpp_version);
        return step_done(c, st);
    }
    if (!(st = q(c, Q_ST_UPDATE))) return LW_ESTORE;
    b_str(st, 1, w->station_id);
    sqlite3_bind_int(st, 2, p->set_profile);
    sqlite3_bind_int(st, 3, p->security_profile);
    sqlite3_bind_int(st, 4, p->set_password);
    if (p->pw_set) {
        sqlite3_bind_blob(st, 5, p->pw_salt, 16, SQLITE_STATIC);
        sqlite3_bind_blob(st, 6, p->pw_hash, 32, SQLITE_STATIC);
    }
    sqlite3_bind_int(st, 7, p->set_reg_status);
    sqlite3_bind_text(st, 8, lw_reg_status_name(p->reg_status), -1, SQLITE_STATIC);
    int rc = step_done(c, st);
    if (!rc && sqlite3_changes(c->db) == 0) rc = LW_ENOTFOUND;
    return rc;
}

static int tx_start(sqlite_be_t *b, const lw_store_write_t *w, const uint8_t *key, size_t klen,
                    lw_store_result_t *res, lw_arena_t *scratch)
{
    conn_t *c = &b->writer;
    const typeof(w->u.tx_start) *p = &w->u.tx_start;
    int rc = dedupe_get(c, w->station_id, "start", key, klen, res, scratch);
    if (rc) return rc < 0 ? rc : 0;
    sqlite3_stmt *st = q(c, Q_TX_INSERT);
    if (!st) return LW_ESTORE;
    sqlite3_bind_null(st, 1);
    b_str(st, 2, w->station_id);
    sqlite3_bind_int(st, 3, 0);
    sqlite3_bind_int(st, 4, p->connector_id);
    b_str(st, 5, p->id_tag);
    b_str(st, 6, LW_STR(""));
    b_i64(st, 7, p->at_ms);
    b_i64(st, 8, p->meter_start_wh);
    sqlite3_bind_int(st, 9, p->reservation_id);
    sqlite3_bind_int(st, 10, -1);
    if ((rc = step_done(c, st))) return rc;
    res->tx_id = sqlite3_last_insert_rowid(c->db);
    if ((rc = tx_meter_insert(c, res->tx_id, p->meter_start_wh))) return rc;
    return dedupe_put(b, w->station_id, "start", key, klen, res->tx_id, p->answer);
}

static int tx_stop(sqlite_be_t *b, const lw_store_write_t *w, const uint8_t *key, size_t klen,
                   lw_store_result_t *res, lw_arena_t *scratch)
{
    conn_t *c = &b->writer;
    const typeof(w->u.tx_stop) *p = &w->u.tx_stop;
    int rc = dedupe_get(c, w->station_id, "stop", key, klen, res, scratch);
    if (rc) return rc < 0 ? rc : 0;
    sqlite3_stmt *st = q(c, Q_TX_STATE);
    if (!st) return LW_ESTORE;
    b_i64(st, 1, p->tx_id);
    bool found = false;
    if (sqlite3_step(st) == SQLITE_ROW) found = lw_str_eq(col_str(st, 0), w->station_id);
    sqlite3_reset(st);
    if (!found) {
        /* Unknown, -1, or another station's transaction: acknowledged all the same and kept
         * for reconciliation (orphan_stops); result.tx_id 0, row_id the orphan row. */
        if (!(st = q(c, Q_TX_ORPHAN_STOP))) return LW_ESTORE;
        b_str(st, 1, w->station_id);
        b_i64(st, 2, p->tx_id);
        b_str(st, 3, p->id_tag);
        b_i64(st, 4, p->meter_stop_wh);
        b_i64(st, 5, p->at_ms);
        b_str(st, 6, p->reason);
        b_i64(st, 7, lw_clock_wall(b->clock));
        if ((rc = step_done(c, st))) return rc;
        res->row_id = sqlite3_last_insert_rowid(c->db);
        res->tx_id = 0;
        return dedupe_put(b, w->station_id, "stop", key, klen, 0, p->answer);
    }
    res->tx_id = p->tx_id;
    /* transactionData first, then the stop reading itself, so the register check sees it. */
    lw_meter_value_t stop = {.timestamp_ms = p->at_ms, .context = LW_STR("Transaction.End")};
    char num[32];
    int nl = snprintf(num, sizeof num, "%lld", (long long)p->meter_stop_wh);
    stop.value = (lw_str_t){num, (size_t)nl};
    stop.measurand = LW_STR("Energy.Active.Import.Register");
    stop.unit = LW_STR("Wh");
    if ((rc = store_values(b, w->station_id, 0, 0, p->tx_id, p->values, p->n_values, NULL, 0)))
        return rc;
    if ((rc = store_values(b, w->station_id, 0, 0, p->tx_id, &stop, 1, NULL, 0))) return rc;
    if (!(st = q(c, Q_TX_STOP))) return LW_ESTORE;
    b_i64(st, 1, p->tx_id);
    b_i64(st, 2, p->at_ms);
    b_i64(st, 3, p->meter_stop_wh);
    b_str(st, 4, p->reason.len ? p->reason : LW_STR("Local")); /* 1.6: absent means Local */
    if ((rc = step_done(c, st))) return rc;
    return dedupe_put(b, w->station_id, "stop", key, klen, p->tx_id, p->answer);
}

/* Is this TransactionEvent a retry of one stored for transaction id (same seqNo)? Returns 1
 * (res filled with the first answer), 0 when new, < 0 on error. Rows stored before schema 007
 * keep their answer in dedupe (key: lw_store_dedupe_key of the write). */
static int tx_event_retry(conn_t *c, const lw_store_write_t *w, int64_t id, int64_t last_event,
                          const uint8_t *key, size_t klen, lw_store_result_t *res,
                          lw_arena_t *scratch)
{
    /* Schema 010: the transaction's events are a chain from transactions.last_event_id; a
     * retry repeats the seqNo of one of the newest (one CALL in flight per station). */
    sqlite3_stmt *st = NULL;
    int rc = SQLITE_DONE;
    for (int k = 0; last_event > 0 && k < LW_STORE_TXEV_RETRY_ROWS; k++) {
        if (!(st = q(c, Q_TXEV_LINK))) return LW_ESTORE;
        b_i64(st, 1, last_event);
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW) break;
        if (sqlite3_column_int(st, 1) == w->u.tx_event.seq_no) break;
        last_event = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        rc = SQLITE_DONE;
    }
    if (rc != SQLITE_ROW) {
        if (st) sqlite3_reset(st);
        return rc == SQLITE_DONE ? 0 : map_rc(rc);
    }
    bool legacy = sqlite3_column_type(st, 2) == SQLITE_NULL;
    lw_str_t a = col_str(st, 2);
    char *copy = legacy ? NULL : lw_arena_strdup(scratch, a.p, a.len);
    sqlite3_reset(st);
    if (legacy) {
        rc = dedupe_get(c, w->station_id, "event", key, klen, res, scratch);
        if (rc) return rc;
    }
    /* Stored, with or without a recorded answer: never stored twice. */
    res->duplicate = true;
    res->tx_id = id;
    if (!legacy) res->answer = copy ? (lw_str_t){copy, a.len} : LW_STR_NULL;
    return 1;
}

static int tx_event(sqlite_be_t *b, const lw_store_write_t *w, const uint8_t *key, size_t klen,
                    lw_store_result_t *res, lw_arena_t *scratch)
{
    conn_t *c = &b->writer;
    const typeof(w->u.tx_event) *p = &w->u.tx_event;
    if (!p->tx_uid.len || !p->event_type.len) return LW_EINVAL;
    int rc;
    sqlite3_stmt *st = q(c, Q_TX_FIND_UID);
    if (!st) return LW_ESTORE;
    b_str(st, 1, w->station_id);
    b_str(st, 2, p->tx_uid);
    int64_t id = 0, last_event = 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        id = sqlite3_column_int64(st, 0), last_event = sqlite3_column_int64(st, 1);
    sqlite3_reset(st);
    if (id) { /* a retry: this transaction already has this seqNo (2.0.1 E01-E04: seqNo) */
        rc = tx_event_retry(c, w, id, last_event, key, klen, res, scratch);
        if (rc) return rc < 0 ? rc : 0;
    } else {
        /* The first event we see opens the transaction, whatever its type: after an outage
         * "Updated" or even "Ended" may arrive for a transaction whose "Started" was lost. */
        if (!(st = q(c, Q_TX_INSERT))) return LW_ESTORE;
        b_str(st, 1, p->tx_uid);
        b_str(st, 2, w->station_id);
        sqlite3_bind_int(st, 3, p->evse_id);
        sqlite3_bind_int(st, 4, p->connector_id);
        b_str(st, 5, p->id_token);
        b_str(st, 6, p->id_token_type);
        b_i64(st, 7, p->at_ms);
        b_i64(st, 8, -1);
        sqlite3_bind_int(st, 9, p->reservation_id);
        sqlite3_bind_int(st, 10, p->remote_start_id);
        if ((rc = step_done(c, st))) return rc;
        id = sqlite3_last_insert_rowid(c->db);
        if ((rc = tx_meter_insert(c, id, -1))) return rc;
    }
    res->tx_id = id;
    if (!(st = q(c, Q_TXEV_INSERT))) return LW_ESTORE;
    b_i64(st, 1, id);
    sqlite3_bind_int(st, 2, p->seq_no);
    b_str(st, 3, p->event_type);
    b_str(st, 4, p->trigger_reason);
    sqlite3_bind_int(st, 5, p->offline);
    b_i64(st, 6, p->at_ms);
    b_str(st, 7, p->answer);
    b_i64(st, 8, last_event);
    if ((rc = step_done(c, st))) return rc;
    int64_t event_id = sqlite3_last_insert_rowid(c->db);
    rc = store_values(b, w->station_id, p->evse_id, p->connector_id, id, p->values, p->n_values,
                      NULL, 0);
    if (rc) return rc;
    if (!(st = q(c, Q_TX_EVENT_UPD))) return LW_ESTORE;
    bool ended = lw_str_eq_c(p->event_type, "Ended");
    b_i64(st, 1, id);
    sqlite3_bind_int(st, 2, p->evse_id);
    sqlite3_bind_int(st, 3, p->connector_id);
    b_str(st, 4, p->id_token);
    b_str(st, 5, p->id_token_type);
    sqlite3_bind_int(st, 6, p->seq_no);
    sqlite3_bind_int(st, 7, p->offline);
    b_str(st, 8, p->trigger_reason);
    b_str(st, 9, p->charging_state);
    sqlite3_bind_int(st, 10, p->reservation_id);
    sqlite3_bind_int(st, 11, p->remote_start_id);
    sqlite3_bind_int(st, 12, ended);
    b_i64(st, 13, p->at_ms);
    /* OCPP 2.0.1 E06: stoppedReason absent on Ended means Local. */
    b_str(st, 14, p->stopped_reason.len ? p->stopped_reason : LW_STR("Local"));
    b_i64(st, 15, event_id);
    return step_done(c, st);
}

/* Claims a dedupe key with one INSERT OR IGNORE (no lookup before it: a retry is the rare
 * case). Returns 0 when the key is new (the row is written, rolled back with the write if
 * it fails later), 1 for a retry (res filled from the first write's row), < 0 on error. */
static int dedupe_claim(sqlite_be_t *b, lw_str_t station, const char *kind, const uint8_t *key,
                        size_t klen, int64_t tx_id, lw_store_result_t *res, lw_arena_t *scratch)
{
    conn_t *c = &b->writer;
    sqlite3_stmt *st = q(c, Q_DD_CLAIM);
    if (!st) return LW_ESTORE;
    b_str(st, 1, station);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, key, (int)klen, SQLITE_STATIC);
    b_i64(st, 4, tx_id);
    b_str(st, 5, LW_STR_NULL);
    b_i64(st, 6, lw_clock_wall(b->clock));
    int rc = step_done(c, st);
    if (rc) return rc;
    if (sqlite3_changes(c->db)) return 0;
    rc = dedupe_get(c, station, kind, key, klen, res, scratch);
    return rc ? rc : LW_ESTORE; /* 0 would mean the row vanished in between */
}

/* Walks up to max rows of tx's meter chain from its head. With key NULL it loads the key
 * prefixes of the rows into tx->recent (and tx->legacy); else it looks for key. Returns 1
 * when key was found, 0 when not, < 0 on error. */
static int meter_chain_keys(conn_t *c, tx_cached_t *tx, const uint8_t *key, size_t klen, int max)
{
    int64_t id = tx->last_meter;
    for (int k = 0; id > 0 && k < max; k++) {
        sqlite3_stmt *st = q(c, Q_MV_DUP);
        if (!st) return LW_ESTORE;
        b_i64(st, 1, id);
        int rc = sqlite3_step(st);
        if (rc != SQLITE_ROW) {
            sqlite3_reset(st);
            return rc == SQLITE_DONE ? 0 : map_rc(rc);
        }
        id = sqlite3_column_int64(st, 0);
        const uint8_t *dk = sqlite3_column_blob(st, 1);
        size_t n = (size_t)sqlite3_column_bytes(st, 1);
        bool found = false;
        if (sqlite3_column_type(st, 1) == SQLITE_NULL)
            tx->legacy = true;
        else if (!key && n)
            recent_push(tx, key_prefix(dk, n));
        else if (key)
            found = n == klen && !memcmp(dk, key, klen);
        sqlite3_reset(st);
        if (found) return 1;
    }
    return 0;
}

/* Is this MeterValues (dedupe key) a retry of one of the newest LW_STORE_METER_RETRY_ROWS
 * MeterValues rows of transaction tx (meter_rows.dkey, schema 006)? A station retries the
 * message it got no answer for, its latest. The writer keeps those rows' key prefixes in tx,
 * so a new message costs no read; a prefix match is confirmed on the rows. Rows stored
 * before 006 have no dkey: with one in the chain the key is also looked up in dedupe, where
 * it was kept then. Returns 1 for a retry (res filled), 0 when new, < 0 on error. Reads only:
 * nothing to undo if the write fails later. */
static int meter_retry(sqlite_be_t *b, lw_str_t station, tx_cached_t *tx, const uint8_t *key,
                       size_t klen, lw_store_result_t *res, lw_arena_t *scratch)
{
    conn_t *c = &b->writer;
    int rc;
    if (!tx->keys_loaded) {
        if ((rc = meter_chain_keys(c, tx, NULL, 0, LW_STORE_METER_RETRY_ROWS)) < 0) return rc;
        tx->keys_loaded = true;
    }
    uint64_t p = key_prefix(key, klen);
    for (int i = 0; i < tx->n_recent; i++) {
        if (tx->recent[i] != p) continue;
        /* rows of other writes (StopTransaction) may sit between: look a little further */
        rc = meter_chain_keys(c, tx, key, klen, 4 * LW_STORE_METER_RETRY_ROWS);
        if (rc < 0) return rc;
        if (rc) {
            res->duplicate = true;
            res->tx_id = tx->id;
            return 1;
        }
        break;
    }
    return tx->legacy ? dedupe_get(c, station, "meter", key, klen, res, scratch) : 0;
}

static int meter_values(sqlite_be_t *b, const lw_store_write_t *w, const uint8_t *key, size_t klen,
                        lw_store_result_t *res, lw_arena_t *scratch)
{
    conn_t *c = &b->writer;
    const typeof(w->u.meter) *p = &w->u.meter;
    int64_t tx = 0;
    if (p->tx_uid.len) {
        sqlite3_stmt *st = q(c, Q_TX_FIND_UID);
        if (!st) return LW_ESTORE;
        b_str(st, 1, w->station_id);
        b_str(st, 2, p->tx_uid);
        if (sqlite3_step(st) == SQLITE_ROW) tx = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
    } else if (p->tx_id > 0) {
        tx_cached_t *e = txc_get(b, p->tx_id);
        if (e && lw_str_eq_c(w->station_id, e->station)) tx = p->tx_id;
    }
    /* A transactionId we do not know is kept unlinked rather than refused: the values are
     * the station's measurements either way. Its retries are found in dedupe; those of a
     * linked message among its transaction's newest rows (schema 006). */
    tx_cached_t *e = tx ? txc_get(b, tx) : NULL;
    int rc = e ? meter_retry(b, w->station_id, e, key, klen, res, scratch)
               : dedupe_claim(b, w->station_id, "meter", key, klen, tx, res, scratch);
    if (rc) return rc < 0 ? rc : 0;
    res->tx_id = tx;
    return store_values(b, w->station_id, p->evse_id, p->connector_id, tx, p->values, p->n_values,
                        e ? key : NULL, klen);
}

/* ---- schema 002 writes ----------------------------------------------------------------------- */

/* Binds st (NULL passes through) for one page of a station's rows, newest first: parameters
 * (station, before, limit). Returns st. */
static sqlite3_stmt *bind_page(sqlite3_stmt *st, lw_str_t station, int64_t before, size_t limit)
{
    if (!st) return NULL;
    b_str(st, 1, station);
    b_i64(st, 2, before);
    b_i64(st, 3, (int64_t)limit);
    return st;
}

/* Runs statement id on connection c with the station as its one parameter: the
 * clear-before-replace and delete steps. 0 or a negative LW_E* code. */
static int run_for_station(conn_t *c, int id, lw_str_t station)
{
    sqlite3_stmt *st = q(c, id);
    if (!st) return LW_ESTORE;
    b_str(st, 1, station);
    return step_done(c, st);
}

static int64_t now_or(sqlite_be_t *b, int64_t at_ms)
{
    return at_ms ? at_ms : lw_clock_wall(b->clock);
}

/* Foreign keys tie per-station state to a registered station. */
static int fk_notfound(int rc)
{
    return rc == LW_EEXISTS ? LW_ENOTFOUND : rc;
}

static int device_model(sqlite_be_t *b, const lw_store_write_t *w, lw_store_result_t *res)
{
    conn_t *c = &b->writer;
    const typeof(w->u.device_model) *p = &w->u.device_model;
    sqlite3_stmt *st;
    int rc;
    if (p->replace_all) {
        if ((rc = run_for_station(c, Q_DM_CLEAR, w->station_id))) return rc;
    }
    int64_t at = now_or(b, p->at_ms);
    for (size_t i = 0; i < p->n_attrs; i++) {
        const lw_dm_attr_t *a = &p->attrs[i];
        if (!a->component.len || !a->variable.len) return LW_EINVAL;
        if (!(st = q(c, Q_DM_UPSERT))) return LW_ESTORE;
        b_str(st, 1, w->station_id);
        b_str(st, 2, a->component), b_str(st, 3, a->component_inst);
        sqlite3_bind_int(st, 4, a->evse_id);
        sqlite3_bind_int(st, 5, a->connector_id);
        b_str(st, 6, a->variable), b_str(st, 7, a->variable_inst);
        b_str(st, 8, a->attr_type.len ? a->attr_type : LW_STR("Actual"));
        b_str(st, 9, a->value), b_str(st, 10, a->mutability), b_str(st, 11, a->characteristics);
        b_i64(st, 12, at);
        if ((rc = step_done(c, st))) return fk_notfound(rc);
    }
    res->row_id = (int64_t)p->n_attrs;
    return 0;
}

static int device_events(sqlite_be_t *b, const lw_store_write_t *w, lw_store_result_t *res)
{
    conn_t *c = &b->writer;
    const typeof(w->u.device_events) *p = &w->u.device_events;
    for (size_t i = 0; i < p->n_events; i++) {
        const lw_dm_event_t *e = &p->events[i];
        sqlite3_stmt *st = q(c, Q_DEV_INSERT);
        if (!st) return LW_ESTORE;
        b_str(st, 1, w->station_id);
        sqlite3_bind_int(st, 2, e->event_id);
        b_str(st, 3, e->trigger), b_str(st, 4, e->component), b_str(st, 5, e->variable);
        b_str(st, 6, e->actual), b_str(st, 7, e->payload);
        b_i64(st, 8, now_or(b, e->at_ms));
        int rc = step_done(c, st);
        if (rc) return rc;
        res->row_id = sqlite3_last_insert_rowid(c->db);
    }
    return 0;
}

static int config_keys(sqlite_be_t *b, const lw_store_write_t *w, lw_store_result_t *res)
{
    conn_t *c = &b->writer;
    const typeof(w->u.config_keys) *p = &w->u.config_keys;
    sqlite3_stmt *st;
    int rc;
    if (p->replace_all) {
        if ((rc = run_for_station(c, Q_CK_CLEAR, w->station_id))) return rc;
    }
    int64_t at = now_or(b, p->at_ms);
    for (size_t i = 0; i < p->n_keys; i++) {
        const lw_config_key_t *k = &p->keys[i];
        if (!k->key.len) return LW_EINVAL;
        if (!(st = q(c, Q_CK_UPSERT))) return LW_ESTORE;
        b_str(st, 1, w->station_id);
        b_str(st, 2, k->key);
        if (k->no_value)
            sqlite3_bind_null(st, 3);
        else
            b_str(st, 3, k->value);
        sqlite3_bind_int(st, 4, k->readonly);
        b_i64(st, 5, at);
        if ((rc = step_done(c, st))) return fk_notfound(rc);
    }
    res->row_id = (int64_t)p->n_keys;
    return 0;
}

static int reservation_put(sqlite_be_t *b, const lw_store_write_t *w, lw_store_result_t *res)
{
    conn_t *c = &b->writer;
    const typeof(w->u.reservation) *p = &w->u.reservation;
    if (p->id < 0 || !p->id_token.len) return LW_EINVAL;
    sqlite3_stmt *st;
    int id = p->id;
    if (!id) {
        if (!(st = q(c, Q_RSV_NEXT))) return LW_ESTORE;
        b_str(st, 1, w->station_id);
        int rc = sqlite3_step(st);
        int64_t next = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        sqlite3_reset(st);
        if (rc != SQLITE_ROW) return map_rc(rc) ? map_rc(rc) : LW_ESTORE;
        if (next > INT32_MAX) return LW_ETOOBIG; /* reservationId is a 32-bit integer */
        id = (int)next;
    }
    if (!(st = q(c, Q_RSV_UPSERT))) return LW_ESTORE;
    sqlite3_bind_int(st, 1, id);
    b_str(st, 2, w->station_id);
    sqlite3_bind_int(st, 3, p->evse_id);
    sqlite3_bind_int(st, 4, p->connector_id);
    b_str(st, 5, p->id_token), b_str(st, 6, p->group_id);
    b_i64(st, 7, p->expiry_ms);
    b_str(st, 8, p->status.len ? p->status : LW_STR("Requested"));
    b_i64(st, 9, now_or(b, p->at_ms));
    int rc = step_done(c, st);
    if (rc) return rc;
    res->row_id = id;
    return 0;
}

static int profile_put(sqlite_be_t *b, const lw_store_write_t *w, lw_store_result_t *res)
{
    conn_t *c = &b->writer;
    const typeof(w->u.profile) *p = &w->u.profile;
    if (!p->profile.len || !p->purpose.len) return LW_EINVAL;
    sqlite3_stmt *st = q(c, Q_PF_UPSERT);
    if (!st) return LW_ESTORE;
    b_str(st, 1, w->station_id);
    sqlite3_bind_int(st, 2, p->profile_id);
    sqlite3_bind_int(st, 3, p->evse_id);
    sqlite3_bind_int(st, 4, p->connector_id);
    sqlite3_bind_int(st, 5, p->stack_level);
    b_str(st, 6, p->purpose);
    b_str(st, 7, p->kind.len ? p->kind : LW_STR("Absolute"));
    if (p->tx_id > 0)
        b_i64(st, 8, p->tx_id);
    else
        sqlite3_bind_null(st, 8);
    b_i64(st, 9, p->valid_from_ms), b_i64(st, 10, p->valid_to_ms);
    b_str(st, 11, p->profile);
    b_str(st, 12, p->status.len ? p->status : LW_STR("Requested"));
    b_i64(st, 13, now_or(b, p->at_ms));
    int rc = step_done(c, st);
    if (!rc) res->row_id = p->profile_id;
    return rc;
}

static int cmd_insert(sqlite_be_t *b, const lw_store_write_t *w, lw_store_result_t *res)
{
    conn_t *c = &b->writer;
    const typeof(w->u.cmd) *p = &w->u.cmd;
    /* ttl bounded to ten years so created + ttl cannot overflow */
    if (!p->action.len || !p->payload.len || p->ttl_s <= 0 || p->ttl_s > 10LL * 366 * 86400)
        return LW_EINVAL;
    sqlite3_stmt *st;
    if (p->idempotency_key.len) {
        /* OCPP commands are not idempotent (two RemoteStarts start two sessions): a client
         * retrying its POST with the same key gets the command it already created. */
        if (!(st = q(c, Q_CMD_FIND_IDEM))) return LW_ESTORE;
        b_str(st, 1, w->station_id);
        b_str(st, 2, p->idempotency_key);
        int rc = sqlite3_step(st);
        int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        sqlite3_reset(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return map_rc(rc);
        if (id) {
            res->row_id = id;
            res->duplicate = true;
            return 0;
        }
    }
    int64_t at = now_or(b, p->at_ms);
    if (!(st = q(c, Q_CMD_INSERT))) return LW_ESTORE;
    b_str(st, 1, w->station_id);
    b_str(st, 2, p->action), b_str(st, 3, p->payload);
    if (p->idempotency_key.len)
        b_str(st, 4, p->idempotency_key);
    else
        sqlite3_bind_null(st, 4);
    b_i64(st, 5, at);
    b_i64(st, 6, at + p->ttl_s * 1000);
    if (p->id > 0)
        b_i64(st, 7, p->id);
    else
        sqlite3_bind_null(st, 7); /* the next row id */
    int rc = step_done(c, st);
    if (!rc) res->row_id = sqlite3_last_insert_rowid(c->db);
    return rc;
}

static int cmd_update(sqlite_be_t *b, const lw_store_write_t *w, lw_store_result_t *res)
{
    conn_t *c = &b->writer;
    const typeof(w->u.cmd_update) *p = &w->u.cmd_update;
    if (p->status == LW_CMD_QUEUED || (unsigned)p->status > LW_CMD_EXPIRED) return LW_EINVAL;
    sqlite3_stmt *st = q(c, Q_CMD_STATE);
    if (!st) return LW_ESTORE;
    b_i64(st, 1, p->id);
    int rc = sqlite3_step(st);
    bool mine = rc == SQLITE_ROW && lw_str_eq(col_str(st, 0), w->station_id);
    lw_cmd_status_t now = LW_CMD_FAILED;
    if (mine && lw_cmd_status_parse((const char *)sqlite3_column_text(st, 1), &now)) mine = false;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return map_rc(rc);
    if (!mine) return LW_ENOTFOUND; /* unknown, or another station's command */
    bool ok;
    switch (p->status) {
    case LW_CMD_SENT:
    case LW_CMD_EXPIRED:
        ok = now == LW_CMD_QUEUED || now == LW_CMD_SENT;
        break;
    default: /* ANSWERED, FAILED */
        ok = now == LW_CMD_QUEUED || now == LW_CMD_SENT || now == LW_CMD_EXPIRED;
        break;
    }
    if (!ok) return LW_EEXISTS;
    if (!(st = q(c, Q_CMD_SET))) return LW_ESTORE;
    b_i64(st, 1, p->id);
    sqlite3_bind_text(st, 2, lw_cmd_status_name(p->status), -1, SQLITE_STATIC);
    b_str(st, 3, p->status == LW_CMD_SENT ? p->msg_id : LW_STR_NULL);
    b_i64(st, 4, now_or(b, p->at_ms));
    b_str(st, 5, p->response);
    b_str(st, 6, p->error_code), b_str(st, 7, p->error_desc);
    if ((rc = step_done(c, st))) return rc;
    res->row_id = p->id;
    return 0;
}

/* The cached journal head of station (borrowed, valid until the next head_get). A miss reads
 * journal_heads into the empty or least recently used way of the station's set (written back
 * first when dirty): set-associative, so that two busy stations whose ids hash alike do not
 * evict each other on every row, as they did in a direct-mapped cache (at 1,000 stations in
 * 2,048 slots, a third of the stations shared their slot). */
static int head_get(sqlite_be_t *b, lw_str_t station, head_cached_t **out)
{
    uint32_t hash = str_hash(station);
    size_t sets = LW_STORE_HEAD_CACHE / LW_STORE_HEAD_WAYS;
    head_cached_t *set = &b->heads[(hash % sets) * LW_STORE_HEAD_WAYS], *v = NULL;
    for (int i = 0; i < LW_STORE_HEAD_WAYS; i++) {
        head_cached_t *h = &set[i];
        if (!h->station[0]) {
            if (!v || v->station[0]) v = h;
            continue;
        }
        if (h->hash == hash && lw_str_eq_c(station, h->station)) {
            h->used = ++b->head_clock;
            *out = h;
            return 0;
        }
        if (!v || (v->station[0] && (int32_t)(h->used - v->used) < 0)) v = h;
    }
    int rc;
    if (v->dirty && (rc = head_flush(b, v))) return rc;
    conn_t *c = &b->writer;
    sqlite3_stmt *st = q(c, Q_JH_GET);
    if (!st) return LW_ESTORE;
    b_str(st, 1, station);
    rc = sqlite3_step(st);
    int64_t last = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return map_rc(rc);
    memset(v, 0, sizeof *v);
    memcpy(v->station, station.p, station.len);
    v->hash = hash;
    v->last_id = last;
    v->used = ++b->head_clock;
    *out = v;
    return 0;
}

/* Row id of station h was appended (or found above the mark, heads_recover): h is its head. */
static int head_append(sqlite_be_t *b, head_cached_t *h, int64_t id)
{
    h->last_id = id;
    h->added++;
    b->heads_rows++;
    if (!h->dirty) {
        h->dirty = true;
        /* room: a slot is listed at most once per clean-to-dirty turn, and the list is emptied
         * at each flush; a slot flushed on eviction and dirtied again is listed twice */
        int rc;
        if (b->n_dirty == 2 * LW_STORE_HEAD_CACHE && (rc = heads_flush(b))) return rc;
        b->dirty[b->n_dirty++] = (uint32_t)(h - b->heads);
    }
    return 0;
}

/* Counts the journal rows above journal_heads_mark into the heads of their stations, unless
 * journal_heads has them already (a head written when evicted, or by an older Ladewerk that
 * wrote heads at every commit, is at or above its station's rows), then writes every head
 * and moves the mark (heads_flush_all). In the writer's transaction, with an empty cache: the
 * rows are those whose heads a writer held when it crashed, rolled back or was followed by
 * another writer, at most ~LW_STORE_HEADS_LAZY_ROWS and a batch. */
static int heads_recover(sqlite_be_t *b)
{
    conn_t *c = &b->writer;
    sqlite3_stmt *st = q(c, Q_JH_UNMARKED);
    if (!st) return LW_ESTORE;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        head_cached_t *h = NULL;
        if ((rc = head_get(b, col_str(st, 1), &h)) ||
            (id > h->last_id && (rc = head_append(b, h, id)))) {
            sqlite3_reset(st);
            return rc;
        }
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return map_rc(rc);
    if ((rc = heads_flush_all(b)) || (rc = one_i64(q(c, Q_JR_NEXT_ID), &b->jr_next))) return rc;
    b->heads_exact = true;
    return 0;
}

/* LW_W_JOURNAL (schema 006): the row is chained after the station's previous one
 * (journal_heads.last_id), and a reply (CALLRESULT 3, CALLERROR 4, 2.1 CALLRESULTERROR 5) is
 * linked to the CALL (2) it answers: the nearest earlier row of the station with
 * the same message id in the other direction, unless a reply in this direction with that id
 * comes first (that CALL is answered already). The walk is bounded: a reply comes a few rows
 * after its CALL (one CALL in flight per direction, OCPP-J §4.1.1). */
static int journal_put(sqlite_be_t *b, const lw_store_write_t *w, lw_store_result_t *res)
{
    conn_t *c = &b->writer;
    const typeof(w->u.journal) *p = &w->u.journal;
    sqlite3_stmt *st;
    int rc;
    head_cached_t *h = NULL;
    if ((rc = head_get(b, w->station_id, &h))) return rc;
    int64_t head = h->last_id, call = 0;
    bool reply = p->msg_type == 3 || p->msg_type == 4 || p->msg_type == 5;
    int64_t row = reply ? head : 0; /* a CALL written with its answer links nothing */
    for (int k = 0; row && k < LW_STORE_JOURNAL_LINK_SCAN; k++) {
        if (!(st = q(c, Q_JR_LINK))) return LW_ESTORE;
        b_i64(st, 1, row);
        if (sqlite3_step(st) != SQLITE_ROW) break; /* chain end (or pruned) */
        int64_t prev = sqlite3_column_int64(st, 0);
        bool in = sqlite3_column_int(st, 1) != 0;
        int type = sqlite3_column_int(st, 2);
        bool same = lw_str_eq(col_str(st, 3), p->msg_id);
        bool answered = sqlite3_column_int(st, 4) != 0; /* a CALL with its answer (008) */
        sqlite3_reset(st);
        if (same && in != p->inbound && type == 2) {
            if (!answered) call = row;
            break;
        }
        if (same && in == p->inbound && (type == 3 || type == 4 || type == 5)) break;
        row = prev;
    }
    if (!(st = q(c, Q_JR_INSERT))) return LW_ESTORE;
    b_str(st, 1, w->station_id);
    sqlite3_bind_int(st, 2, p->inbound);
    sqlite3_bind_int(st, 3, p->msg_type);
    b_str(st, 4, p->msg_id), b_str(st, 5, p->action), b_str(st, 6, p->payload);
    b_i64(st, 7, p->at_ms);
    b_i64(st, 8, head);
    b_i64(st, 9, call);
    sqlite3_bind_int(st, 10, p->reply_type);
    b_str(st, 11, p->reply_payload);
    b_i64(st, 12, p->reply_type ? p->reply_at_ms : 0);
    b_i64(st, 13, b->jr_next);
    if ((rc = step_done(c, st))) return rc;
    res->row_id = b->jr_next++;
    return head_append(b, h, res->row_id);
}

/* The first journal id whose row is at or after cutoff (ms), as a binary search over ids:
 * rows are appended in arrival order (schema 009 dropped the index on at). Every row below
 * *cut is older than cutoff, up to rows whose time is out of order by the delay of an answer
 * (a CALL written with its answer carries the CALL's time). For the age prunes, which may
 * take the newest rows: the mark is moved up to the newest row first, so that its id does
 * not come back (heads_flush_all). */
static int journal_age_cut(sqlite_be_t *b, int64_t cutoff, int64_t *cut)
{
    conn_t *c = &b->writer;
    int rc = heads_flush_all(b);
    if (rc) return rc;
    sqlite3_stmt *st = q(c, Q_JR_ID_RANGE);
    if (!st) return LW_ESTORE;
    rc = sqlite3_step(st);
    int64_t lo = sqlite3_column_int64(st, 0), hi = sqlite3_column_int64(st, 1) + 1;
    bool empty = rc != SQLITE_ROW || sqlite3_column_type(st, 0) == SQLITE_NULL;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return map_rc(rc);
    *cut = 0;
    if (empty) return 0;
    /* the smallest x in [lo, hi] whose first row at or after it is not older than cutoff
     * (hi: no row at or after it) */
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (!(st = q(c, Q_JR_FIRST_FROM))) return LW_ESTORE;
        b_i64(st, 1, mid);
        rc = sqlite3_step(st);
        bool newer = rc != SQLITE_ROW || sqlite3_column_int64(st, 0) >= cutoff;
        sqlite3_reset(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return map_rc(rc);
        if (newer)
            hi = mid;
        else
            lo = mid + 1;
    }
    *cut = lo;
    return 0;
}

/* Keeps the newest keep journal rows of each station whose count is above keep + slack
 * (station "" = every station), deleting at most max rows in all; adds the rows deleted to
 * *deleted. Per station it walks the chain from the head: keep rows, then deletes the rest
 * of the chain, and sets journal_heads.n to what it found (age pruning leaves n high; a walk
 * that finds fewer rows corrects it). Stations are taken in id order a few at a time, so no
 * statement reads journal_heads while it is being updated. */
static int journal_keep(sqlite_be_t *b, lw_str_t station, int64_t keep, int64_t slack, int64_t max,
                        int64_t *deleted)
{
    conn_t *c = &b->writer;
    enum { CHUNK = 32 };
    char ids[CHUNK][LW_STATION_ID_MAX + 1], after[LW_STATION_ID_MAX + 1] = "";
    int64_t heads[CHUNK], done = 0;
    for (;;) {
        sqlite3_stmt *st = q(c, Q_JH_OVER);
        if (!st) return LW_ESTORE;
        b_i64(st, 1, keep + slack);
        sqlite3_bind_text(st, 2, after, -1, SQLITE_STATIC);
        b_str(st, 3, station);
        b_i64(st, 4, CHUNK);
        int n = 0, rc = SQLITE_DONE;
        while (n < CHUNK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            col_cpy(st, 0, ids[n], sizeof ids[n]);
            heads[n++] = sqlite3_column_int64(st, 1);
        }
        sqlite3_reset(st);
        if (n < CHUNK && rc != SQLITE_DONE) return map_rc(rc);
        for (int i = 0; i < n; i++) {
            int64_t id = heads[i], seen = 0;
            bool whole = true; /* the walk reached the end of the chain */
            while (id) {
                if (done >= max) {
                    whole = false;
                    break;
                }
                if (!(st = q(c, Q_JR_LINK))) return LW_ESTORE;
                b_i64(st, 1, id);
                rc = sqlite3_step(st);
                int64_t prev = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
                sqlite3_reset(st);
                if (rc == SQLITE_DONE) break; /* chain end: older rows were pruned */
                if (rc != SQLITE_ROW) return map_rc(rc);
                if (seen < keep) {
                    seen++;
                } else {
                    if (!(st = q(c, Q_JR_DELETE))) return LW_ESTORE;
                    b_i64(st, 1, id);
                    if ((rc = step_done(c, st))) return rc;
                    done++;
                }
                id = prev;
            }
            if (!whole) break; /* n stays high: the next run goes on */
            if (!(st = q(c, Q_JH_SET_N))) return LW_ESTORE;
            sqlite3_bind_text(st, 1, ids[i], -1, SQLITE_STATIC);
            b_i64(st, 2, seen);
            if ((rc = step_done(c, st))) return rc;
        }
        if (n) memcpy(after, ids[n - 1], sizeof after);
        if (n < CHUNK || done >= max) break;
    }
    *deleted += done;
    return 0;
}

/* The tables history_prune() bounds by age (LW_STORE_HISTORY_MAX_AGE_MS_DEFAULT): each has an
 * INTEGER PRIMARY KEY id in arrival order. Transactions, meter rows and their events are
 * billing data and are not among them. */
static const char *const history_tables[] = {"status_history",    "boot_notifications",
                                             "fw_status_history", "device_events",
                                             "security_events",   "data_transfers"};

/* One statement of history_prune() on table tbl (a name from history_tables, put into the
 * SQL text with %1$s): binds the integers args, steps once; *out gets the first column of a
 * row (left alone when there is none or it is NULL). Prepared per call: it runs once per
 * maintenance run. */
static int hist_exec(conn_t *c, const char *fmt, const char *tbl, const int64_t *args, int nargs,
                     int64_t *out)
{
    char sql[320];
    int n = snprintf(sql, sizeof sql, fmt, tbl);
    if (n < 0 || (size_t)n >= sizeof sql) return LW_EINVAL;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
        lw_log(LW_LOG_ERROR, "store", "event=prepare_failed sql=\"%.40s\" err=\"%s\"", sql,
               sqlite3_errmsg(c->db));
        return LW_ESTORE;
    }
    sqlite3_bind_text(st, 1, tbl, -1, SQLITE_STATIC);
    for (int i = 0; i < nargs; i++)
        sqlite3_bind_int64(st, i + 2, args[i]);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && out && sqlite3_column_type(st, 0) != SQLITE_NULL)
        *out = sqlite3_column_int64(st, 0);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        lw_log(LW_LOG_ERROR, "store", "event=step_failed err=\"%s\"", sqlite3_errmsg(c->db));
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : map_rc(rc);
}

/* Age retention of the history tables by the server's clock (schema 012): the rows up to
 * the newest mark at or before now - max_age go, at most cap rows a run (from the oldest);
 * marks whose rows are all gone go with them (an emptied table hands out its ids again, which
 * an old mark must not cover); then the table's newest row is marked with now, unless no row
 * came since the last mark. ?1 is the table's name in history_marks. */
static int history_prune(conn_t *c, const lw_store_maint_t *m, int64_t cap, lw_store_result_t *res)
{
    int rc;
    for (size_t i = 0; i < sizeof history_tables / sizeof *history_tables; i++) {
        const char *t = history_tables[i];
        int64_t cut = -1;
        int64_t a_cut[] = {m->now_ms - m->history_max_age_ms};
        if ((rc = hist_exec(c,
                            "SELECT max_id FROM history_marks WHERE tbl = ?1 AND at <= ?2 "
                            "ORDER BY at DESC LIMIT 1",
                            t, a_cut, 1, &cut)))
            return rc;
        if (cut >= 0) {
            int64_t left = cap - res->pruned_history, a_del[] = {cut, left > 0 ? left : 0};
            if ((rc = hist_exec(c,
                                "DELETE FROM %1$s WHERE id <= ?2 AND id < "
                                "(SELECT min(id) FROM %1$s) + ?3",
                                t, a_del, 2, NULL)))
                return rc;
            res->pruned_history += sqlite3_changes(c->db);
            int64_t low = INT64_MAX;
            if ((rc = hist_exec(c, "SELECT min(id) FROM %1$s", t, NULL, 0, &low))) return rc;
            if (low <= cut) res->more = true;
            int64_t a_low[] = {low};
            if ((rc = hist_exec(c, "DELETE FROM history_marks WHERE tbl = ?1 AND max_id < ?2", t,
                                a_low, 1, NULL)))
                return rc;
        }
        int64_t a_now[] = {m->now_ms};
        if ((rc = hist_exec(c,
                            "INSERT OR REPLACE INTO history_marks (tbl, at, max_id) "
                            "SELECT ?1, ?2, m FROM (SELECT max(id) AS m FROM %1$s) WHERE m > "
                            "coalesce((SELECT max(max_id) FROM history_marks WHERE tbl = ?1), 0)",
                            t, a_now, 1, NULL)))
            return rc;
    }
    return 0;
}

/* Periodic retention (LW_W_MAINTAIN). Each step deletes at most rows_max rows
 * (LW_STORE_MAINT_ROWS_MAX) so one run never holds the writer for long; res->more tells the
 * caller to run again soon. */
static int maintain(sqlite_be_t *b, const lw_store_write_t *w, lw_store_result_t *res)
{
    conn_t *c = &b->writer;
    const lw_store_maint_t *m = &w->u.maint;
    sqlite3_stmt *st;
    int rc;
    int64_t cap = m->rows_max > 0 ? m->rows_max : LW_STORE_MAINT_ROWS_MAX;
    if (m->journal_max_age_ms > 0) {
        int64_t cut;
        if ((rc = journal_age_cut(b, m->now_ms - m->journal_max_age_ms, &cut))) return rc;
        if (!(st = q(c, Q_MT_JR_AGE))) return LW_ESTORE;
        b_i64(st, 1, cut);
        b_i64(st, 2, cap);
        if ((rc = step_done(c, st))) return rc;
        res->pruned_journal += sqlite3_changes(c->db);
        /* rows below the cut that the id-range bound left for the next run */
        if (!(st = q(c, Q_JR_ID_RANGE))) return LW_ESTORE;
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL &&
            sqlite3_column_int64(st, 0) < cut)
            res->more = true;
        sqlite3_reset(st);
    }
    if (m->journal_keep_per_station > 0) {
        /* Only stations more than 1/8 over the bound: the walk down a station's chain costs
         * the rows kept as well as those deleted, so it runs once per keep/8 new rows, not
         * for every row appended since the last run. */
        int64_t keep = m->journal_keep_per_station, max = 2 * cap - res->pruned_journal;
        if ((rc = heads_flush(b))) return rc;
        if (max > 0 &&
            (rc = journal_keep(b, LW_STR_NULL, keep, keep / 8, max, &res->pruned_journal)))
            return rc;
        if (res->pruned_journal >= 2 * cap) res->more = true;
    }
    if (m->dedupe_max_age_ms > 0) {
        if (!(st = q(c, Q_MT_DD_AGE))) return LW_ESTORE;
        b_i64(st, 1, m->now_ms - m->dedupe_max_age_ms);
        b_i64(st, 2, cap);
        if ((rc = step_done(c, st))) return rc;
        res->pruned_dedupe = sqlite3_changes(c->db);
        if (res->pruned_dedupe >= cap) res->more = true;
    }
    if (m->history_max_age_ms > 0 && (rc = history_prune(c, m, cap, res))) return rc;
    if (!(st = q(c, Q_CMD_EXPIRE))) return LW_ESTORE;
    b_i64(st, 1, m->now_ms);
    b_str(st, 2, LW_STR_NULL);
    b_i64(st, 3, cap);
    if ((rc = step_done(c, st))) return rc;
    res->expired_commands = sqlite3_changes(c->db);
    if (!(st = q(c, Q_RSV_EXPIRE))) return LW_ESTORE;
    b_i64(st, 1, m->now_ms);
    b_i64(st, 2, cap);
    if ((rc = step_done(c, st))) return rc;
    res->expired_reservations = sqlite3_changes(c->db);
    if (res->expired_commands >= cap || res->expired_reservations >= cap) res->more = true;
    return 0;
}

static int apply_004(sqlite_be_t *b, const lw_store_write_t *w, lw_store_result_t *res);

static int apply_kind(sqlite_be_t *b, const lw_store_write_t *w, const uint8_t *key, size_t klen,
                      lw_store_result_t *res, lw_arena_t *scratch)
{
    conn_t *c = &b->writer;
    sqlite3_stmt *st;
    int rc;
#define Q(id)                                                                                      \
    if (!(st = q(c, id))) return LW_ESTORE
    switch (w->kind) {
    case LW_W_STATION_PUT:
        return station_put(b, w);
    case LW_W_STATION_DELETE:
        if ((rc = run_for_station(c, Q_ST_DELETE_CS, w->station_id))) return rc;
        if ((rc = run_for_station(c, Q_ST_DELETE, w->station_id))) return rc;
        return sqlite3_changes(c->db) ? 0 : LW_ENOTFOUND;
    case LW_W_STATION_CONN:
        Q(Q_ST_CONN);
        b_str(st, 1, w->station_id);
        sqlite3_bind_int(st, 2, w->u.conn.online);
        b_i64(st, 3, w->u.conn.at_ms);
        b_str(st, 4, w->u.conn.ocpp_version);
        if ((rc = step_done(c, st))) return rc;
        return sqlite3_changes(c->db) ? 0 : LW_ENOTFOUND;
    case LW_W_BOOT: {
        const typeof(w->u.boot) *p = &w->u.boot;
        Q(Q_ST_BOOT);
        b_str(st, 1, w->station_id);
        b_str(st, 2, p->vendor), b_str(st, 3, p->model), b_str(st, 4, p->serial);
        b_str(st, 5, p->firmware), b_str(st, 6, p->iccid), b_str(st, 7, p->imsi);
        b_str(st, 8, p->meter_type), b_str(st, 9, p->meter_serial);
        b_i64(st, 10, p->at_ms);
        if ((rc = step_done(c, st))) return rc;
        if (!sqlite3_changes(c->db)) return LW_ENOTFOUND;
        Q(Q_BOOT_INSERT);
        b_str(st, 1, w->station_id);
        b_str(st, 2, p->reason);
        b_str(st, 3, p->payload);
        sqlite3_bind_text(st, 4, lw_reg_status_name(p->answered), -1, SQLITE_STATIC);
        b_i64(st, 5, p->at_ms);
        if ((rc = step_done(c, st))) return rc;
        res->row_id = sqlite3_last_insert_rowid(c->db);
        return 0;
    }
    case LW_W_STATUS:
        for (int k = 0; k < 2; k++) {
            const typeof(w->u.status) *p = &w->u.status;
            Q(k ? Q_CS_HIST : Q_CS_UPSERT);
            b_str(st, 1, w->station_id);
            sqlite3_bind_int(st, 2, p->evse_id);
            sqlite3_bind_int(st, 3, p->connector_id);
            b_str(st, 4, p->status), b_str(st, 5, p->error_code), b_str(st, 6, p->info);
            b_str(st, 7, p->vendor_id), b_str(st, 8, p->vendor_error_code);
            b_i64(st, 9, p->at_ms);
            if ((rc = step_done(c, st))) return rc == LW_EEXISTS ? LW_ENOTFOUND : rc;
        }
        res->row_id = sqlite3_last_insert_rowid(c->db);
        return 0;
    case LW_W_TX_START:
        return tx_start(b, w, key, klen, res, scratch);
    case LW_W_TX_STOP:
        return tx_stop(b, w, key, klen, res, scratch);
    case LW_W_TX_EVENT:
        return tx_event(b, w, key, klen, res, scratch);
    case LW_W_METER_VALUES:
        return meter_values(b, w, key, klen, res, scratch);
    case LW_W_JOURNAL:
        return journal_put(b, w, res);
    case LW_W_JOURNAL_PRUNE: {
        const typeof(w->u.prune) *p = &w->u.prune;
        int64_t deleted = 0;
        if (p->older_than_ms > 0) {
            for (int k = 0; k < 2; k++) {
                /* Dedupe rows age out with the journal: a retry comes within minutes. */
                int64_t cut = p->older_than_ms;
                if (!k && (rc = journal_age_cut(b, p->older_than_ms, &cut))) return rc;
                Q(k ? Q_DD_PRUNE : Q_JR_PRUNE_AGE);
                b_i64(st, 1, cut);
                b_str(st, 2, w->station_id);
                if ((rc = step_done(c, st))) return rc;
                if (!k) deleted += sqlite3_changes(c->db);
            }
        }
        if (p->keep_per_station > 0) {
            /* exact: every station above the bound, whatever the row count */
            if ((rc = heads_flush(b))) return rc;
            rc = journal_keep(b, w->station_id, p->keep_per_station, 0, INT64_MAX, &deleted);
            if (rc) return rc;
        }
        res->row_id = deleted;
        return 0;
    }
    case LW_W_SECURITY_EVENT:
        Q(Q_SEC_INSERT);
        b_str(st, 1, w->station_id);
        b_str(st, 2, w->u.security.type), b_str(st, 3, w->u.security.tech_info);
        b_i64(st, 4, w->u.security.at_ms);
        if ((rc = step_done(c, st))) return rc;
        res->row_id = sqlite3_last_insert_rowid(c->db);
        return 0;
    case LW_W_FW_STATUS:
        Q(Q_FW_INSERT);
        b_str(st, 1, w->station_id);
        b_str(st, 2, w->u.fw_status.what), b_str(st, 3, w->u.fw_status.status);
        sqlite3_bind_int(st, 4, w->u.fw_status.request_id);
        b_i64(st, 5, w->u.fw_status.at_ms);
        if ((rc = step_done(c, st))) return rc == LW_EEXISTS ? LW_EINVAL : rc;
        res->row_id = sqlite3_last_insert_rowid(c->db);
        return 0;
    case LW_W_DATA_TRANSFER:
        Q(Q_DT_INSERT);
        b_str(st, 1, w->station_id);
        sqlite3_bind_int(st, 2, w->u.data_transfer.inbound);
        b_str(st, 3, w->u.data_transfer.vendor_id), b_str(st, 4, w->u.data_transfer.message_id);
        b_str(st, 5, w->u.data_transfer.data);
        b_i64(st, 6, w->u.data_transfer.at_ms);
        if ((rc = step_done(c, st))) return rc;
        res->row_id = sqlite3_last_insert_rowid(c->db);
        return 0;
    case LW_W_ID_TOKEN_PUT:
        if (!w->u.id_token.id_token.len) return LW_EINVAL;
        Q(Q_TOK_UPSERT);
        b_str(st, 1, w->u.id_token.id_token), b_str(st, 2, w->u.id_token.type);
        sqlite3_bind_text(st, 3, lw_token_status_name(w->u.id_token.status), -1, SQLITE_STATIC);
        b_i64(st, 4, w->u.id_token.expiry_ms);
        b_str(st, 5, w->u.id_token.group_id);
        b_i64(st, 6, lw_clock_wall(b->clock));
        return step_done(c, st);
    case LW_W_API_TOKEN_PUT:
        Q(Q_API_INSERT);
        sqlite3_bind_blob(st, 1, w->u.api_token.hash, 32, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, lw_role_name(w->u.api_token.role), -1, SQLITE_STATIC);
        b_str(st, 3, w->u.api_token.name);
        b_i64(st, 4, w->u.api_token.at_ms);
        if ((rc = step_done(c, st))) return rc;
        res->row_id = sqlite3_last_insert_rowid(c->db);
        return 0;
    case LW_W_API_TOKEN_REVOKE:
        Q(Q_API_REVOKE);
        b_i64(st, 1, w->u.api_revoke.id);
        b_i64(st, 2, w->u.api_revoke.at_ms);
        if ((rc = step_done(c, st))) return rc;
        if (sqlite3_changes(c->db)) return 0;
        Q(Q_API_EXISTS);
        b_i64(st, 1, w->u.api_revoke.id);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_ROW) return LW_ENOTFOUND;
        res->duplicate = true; /* already revoked */
        return 0;
    case LW_W_STATIONS_OFFLINE:
        Q(Q_ST_ALL_OFFLINE);
        if ((rc = step_done(c, st))) return rc;
        res->row_id = sqlite3_changes(c->db);
        return 0;
    case LW_W_DEVICE_MODEL:
        return device_model(b, w, res);
    case LW_W_DEVICE_EVENTS:
        return device_events(b, w, res);
    case LW_W_CONFIG_KEYS:
        return config_keys(b, w, res);
    case LW_W_RESERVATION_PUT:
        return reservation_put(b, w, res);
    case LW_W_RESERVATION_STATUS:
        if (!w->u.reservation_status.status.len) return LW_EINVAL;
        Q(Q_RSV_STATUS);
        b_str(st, 1, w->station_id);
        sqlite3_bind_int(st, 2, w->u.reservation_status.id);
        b_str(st, 3, w->u.reservation_status.status);
        if ((rc = step_done(c, st))) return rc;
        return sqlite3_changes(c->db) ? 0 : LW_ENOTFOUND;
    case LW_W_PROFILE_PUT:
        return profile_put(b, w, res);
    case LW_W_PROFILE_STATUS:
        if (!w->u.profile_status.status.len) return LW_EINVAL;
        Q(Q_PF_STATUS);
        b_str(st, 1, w->station_id);
        sqlite3_bind_int(st, 2, w->u.profile_status.profile_id);
        b_str(st, 3, w->u.profile_status.status);
        b_i64(st, 4, now_or(b, w->u.profile_status.at_ms));
        if ((rc = step_done(c, st))) return rc;
        return sqlite3_changes(c->db) ? 0 : LW_ENOTFOUND;
    case LW_W_CERT_ISSUED: {
        const typeof(w->u.cert) *p = &w->u.cert;
        if (!p->pem.len || !p->serial.len) return LW_EINVAL;
        Q(Q_CERT_INSERT);
        b_str(st, 1, w->station_id);
        b_str(st, 2, p->cert_type.len ? p->cert_type : LW_STR("ChargingStationCertificate"));
        b_str(st, 3, p->serial), b_str(st, 4, p->subject);
        b_i64(st, 5, p->not_before_ms), b_i64(st, 6, p->not_after_ms);
        b_str(st, 7, p->pem), b_str(st, 8, p->csr);
        b_i64(st, 9, now_or(b, p->at_ms));
        if ((rc = step_done(c, st))) return rc;
        res->row_id = sqlite3_last_insert_rowid(c->db);
        return 0;
    }
    case LW_W_CMD_INSERT:
        return cmd_insert(b, w, res);
    case LW_W_CMD_UPDATE:
        return cmd_update(b, w, res);
    case LW_W_CMD_EXPIRE:
        Q(Q_CMD_EXPIRE);
        b_i64(st, 1, w->u.cmd_expire.now_ms);
        b_str(st, 2, w->station_id);
        b_i64(st, 3, INT64_MAX);
        if ((rc = step_done(c, st))) return rc;
        res->row_id = sqlite3_changes(c->db);
        return 0;
    case LW_W_MAINTAIN:
        return maintain(b, w, res);
    default:
        return apply_004(b, w, res);
    }
#undef Q
}

/* Writes are applied without a savepoint each: a SAVEPOINT and its RELEASE cost more than
 * the one or two statements of most writes (a boot storm ran 9% faster without them). A
 * failed statement leaves nothing of itself, so a failed write that changed no row
 * (sqlite3_total_changes64 unchanged) left no trace; one that did spoils the batch
 * (b->spoiled), which store.c then rolls back and applies again with a savepoint per write
 * (be_savepoints). */
static int be_apply(void *be, const lw_store_write_t *w, const uint8_t *key, size_t key_len,
                    lw_store_result_t *res, lw_arena_t *scratch)
{
    sqlite_be_t *b = be;
    conn_t *c = &b->writer;
    int rc;
    if (!b->savepoints) {
        sqlite3_int64 before = sqlite3_total_changes64(c->db);
        rc = apply_kind(b, w, key, key_len, res, scratch);
        if (rc) {
            *res = (lw_store_result_t){0};
            txc_clear(b); /* it may hold this write's register changes */
            if (sqlite3_total_changes64(c->db) != before) b->spoiled = true;
        }
        res->status = rc;
        return rc;
    }
    /* Heads dirtied by earlier writes go to journal_heads first: a write that fails and is
     * rolled back to its savepoint would take along the write-back of a head it evicted from
     * the cache (head_get), and the cache has let go of that head. */
    rc = heads_flush(b);
    if (!rc) rc = step_done(c, q(c, Q_SAVEPOINT));
    if (!rc) {
        rc = apply_kind(b, w, key, key_len, res, scratch);
        if (rc) {
            step_done(c, q(c, Q_ROLLBACK_TO));
            *res = (lw_store_result_t){0};
            txc_clear(b); /* it may hold this write's register changes */
        }
        int r2 = step_done(c, q(c, Q_RELEASE));
        if (!rc) rc = r2;
    }
    res->status = rc;
    return rc;
}

/* ---- reads ------------------------------------------------------------------------------------
 */

static void row_station(sqlite3_stmt *st, lw_station_rec_t *r, uint8_t *salt, uint8_t *hash)
{
    memset(r, 0, sizeof *r);
    col_cpy(st, 0, r->id, sizeof r->id);
    r->security_profile = sqlite3_column_int(st, 1);
    r->has_password = sqlite3_column_bytes(st, 2) == 16 && sqlite3_column_bytes(st, 3) == 32;
    if (r->has_password && salt && hash) {
        memcpy(salt, sqlite3_column_blob(st, 2), 16);
        memcpy(hash, sqlite3_column_blob(st, 3), 32);
    }
    char reg[16];
    col_cpy(st, 4, reg, sizeof reg);
    if (lw_reg_status_parse(reg, &r->reg_status)) r->reg_status = LW_REG_REJECTED;
    col_cpy(st, 5, r->ocpp_version, sizeof r->ocpp_version);
    col_cpy(st, 6, r->vendor, sizeof r->vendor);
    col_cpy(st, 7, r->model, sizeof r->model);
    col_cpy(st, 8, r->serial, sizeof r->serial);
    col_cpy(st, 9, r->firmware, sizeof r->firmware);
    col_cpy(st, 10, r->iccid, sizeof r->iccid);
    col_cpy(st, 11, r->imsi, sizeof r->imsi);
    col_cpy(st, 12, r->meter_type, sizeof r->meter_type);
    col_cpy(st, 13, r->meter_serial, sizeof r->meter_serial);
    r->created_ms = sqlite3_column_int64(st, 14);
    r->last_boot_ms = sqlite3_column_int64(st, 15);
    r->last_seen_ms = sqlite3_column_int64(st, 16);
    r->online = sqlite3_column_int(st, 17) != 0;
}

static void row_tx(sqlite3_stmt *st, lw_tx_rec_t *r)
{
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    col_cpy(st, 1, r->tx_uid, sizeof r->tx_uid);
    col_cpy(st, 2, r->station_id, sizeof r->station_id);
    r->evse_id = sqlite3_column_int(st, 3);
    r->connector_id = sqlite3_column_int(st, 4);
    col_cpy(st, 5, r->id_token, sizeof r->id_token);
    r->state = sqlite3_column_int(st, 6) ? LW_TX_ENDED : LW_TX_ACTIVE;
    r->start_ms = sqlite3_column_int64(st, 7);
    r->stop_ms = sqlite3_column_int64(st, 8);
    r->meter_start_wh = sqlite3_column_int64(st, 9);
    r->meter_stop_wh = sqlite3_column_int64(st, 10);
    r->energy_wh = sqlite3_column_int64(st, 11);
    col_cpy(st, 12, r->stop_reason, sizeof r->stop_reason);
    r->last_seq_no = sqlite3_column_int(st, 13);
    r->offline = sqlite3_column_int(st, 14) != 0;
    r->meter_backwards = sqlite3_column_int(st, 15) != 0;
    r->reservation_id = sqlite3_column_int(st, 16);
    r->remote_start_id = sqlite3_column_int(st, 17);
    col_cpy(st, 18, r->last_trigger, sizeof r->last_trigger);
}

/* Steps a one-row query: 0 (row ready), LW_ENOTFOUND, or an error. */
static int one_row(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) return 0;
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? LW_ENOTFOUND : map_rc(rc);
}

#define READER(b, c)                                                                               \
    conn_t *c = reader(b);                                                                         \
    if (!c) return LW_ESTORE

/* A deferred BEGIN: the snapshot starts with the first read that follows. */
static int be_read_begin(void *be)
{
    READER(be, c);
    return step_done(c, q(c, Q_R_BEGIN));
}

static void be_read_end(void *be)
{
    conn_t *c = reader(be);
    if (!c || sqlite3_get_autocommit(c->db)) return; /* no snapshot open */
    if (step_done(c, q(c, Q_R_END))) sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

static int be_station_get(void *be, lw_str_t id, lw_station_rec_t *out, uint8_t salt[16],
                          uint8_t hash[32])
{
    READER(be, c);
    sqlite3_stmt *st = q(c, Q_R_STATION);
    if (!st) return LW_ESTORE;
    b_str(st, 1, id);
    int rc = one_row(st);
    if (rc) return rc;
    row_station(st, out, salt, hash);
    sqlite3_reset(st);
    return 0;
}

static int be_station_list(void *be, lw_str_t after, size_t limit,
                           int (*each)(void *, const lw_station_rec_t *), void *ud)
{
    READER(be, c);
    sqlite3_stmt *st = q(c, Q_R_STATIONS);
    if (!st) return LW_ESTORE;
    b_str(st, 1, after);
    b_i64(st, 2, (int64_t)limit);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        lw_station_rec_t r;
        row_station(st, &r, NULL, NULL);
        if (each(ud, &r)) break;
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : map_rc(rc);
}

static int be_id_token_get(void *be, lw_str_t id_token, lw_id_token_rec_t *out)
{
    READER(be, c);
    sqlite3_stmt *st = q(c, Q_R_TOKEN);
    if (!st) return LW_ESTORE;
    b_str(st, 1, id_token);
    int rc = one_row(st);
    if (rc) return rc;
    memset(out, 0, sizeof *out);
    col_cpy(st, 0, out->id_token, sizeof out->id_token);
    col_cpy(st, 1, out->type, sizeof out->type);
    char s[16];
    col_cpy(st, 2, s, sizeof s);
    if (lw_token_status_parse(s, &out->status)) out->status = LW_TOKEN_INVALID;
    out->expiry_ms = sqlite3_column_int64(st, 3);
    col_cpy(st, 4, out->group_id, sizeof out->group_id);
    sqlite3_reset(st);
    return 0;
}

static int be_tx_get(void *be, int64_t id, lw_str_t station, lw_str_t uid, lw_tx_rec_t *out)
{
    READER(be, c);
    sqlite3_stmt *st = q(c, uid.len ? Q_R_TX_UID : Q_R_TX);
    if (!st) return LW_ESTORE;
    if (uid.len) {
        b_str(st, 1, station);
        b_str(st, 2, uid);
    } else {
        b_i64(st, 1, id);
    }
    int rc = one_row(st);
    if (rc) return rc;
    row_tx(st, out);
    sqlite3_reset(st);
    return 0;
}

static int be_tx_list(void *be, const lw_tx_filter_t *f, int (*each)(void *, const lw_tx_rec_t *),
                      void *ud)
{
    READER(be, c);
    sqlite3_stmt *st = q(c, f->oldest_first ? Q_R_TXS_ASC : Q_R_TXS2);
    if (!st) return LW_ESTORE;
    b_str(st, 1, f->station_id);
    sqlite3_bind_int(st, 2, f->state);
    b_i64(st, 3, f->oldest_first ? f->after_id : f->before_id);
    b_i64(st, 4, (int64_t)f->limit);
    b_str(st, 5, f->id_token);
    b_i64(st, 6, f->from_ms);
    b_i64(st, 7, f->to_ms);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        lw_tx_rec_t r;
        row_tx(st, &r);
        if (each(ud, &r)) break;
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : map_rc(rc);
}

/* A transaction's values in arrival order (schema 006): its meter rows are a chain from
 * tx_meter.last_meter_id (transactions.last_meter_id before schema 014) back through
 * meter_rows.prev_id. The walk keeps the ids of the oldest limit rows it passes (every row
 * holds at least one value), then reads those rows oldest first. The walk reads one integer
 * per row of the transaction. */
static int be_meter_list(void *be, int64_t tx_id, size_t limit,
                         int (*each)(void *, const lw_meter_value_t *), void *ud)
{
    READER(be, c);
    sqlite3_stmt *st = q(c, Q_R_METER_HEAD);
    if (!st) return LW_ESTORE;
    b_i64(st, 1, tx_id);
    int64_t id, ring[LW_STORE_PAGE_MAX];
    int rc = one_i64(st, &id);
    if (limit > LW_STORE_PAGE_MAX) limit = LW_STORE_PAGE_MAX;
    size_t n = 0;
    while (!rc && id > 0) {
        ring[n++ % limit] = id;
        if (!(st = q(c, Q_R_METER_PREV))) return LW_ESTORE;
        b_i64(st, 1, id);
        rc = one_i64(st, &id);
    }
    if (rc) return rc;
    size_t rows = n < limit ? n : limit, sent = 0;
    for (size_t k = 0; k < rows && sent < limit; k++) {
        /* the oldest row is the last one the walk put in the ring */
        if (!(st = q(c, Q_R_METER_ROW))) return LW_ESTORE;
        b_i64(st, 1, ring[(n - 1 - k) % limit]);
        while (sent < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            lw_meter_value_t v = {.timestamp_ms = sqlite3_column_int64(st, 0)};
            v.value = col_str(st, 1), v.measurand = col_str(st, 2), v.phase = col_str(st, 3);
            v.unit = col_str(st, 4), v.context = col_str(st, 5), v.location = col_str(st, 6);
            v.format = col_str(st, 7), v.signed_data = col_str(st, 8);
            sent++;
            if (each(ud, &v)) {
                sqlite3_reset(st);
                return 0;
            }
        }
        sqlite3_reset(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return map_rc(rc);
    }
    return 0;
}

/* One journal row read by id (R_JROW or R_JREPLY columns 0..6). */
static void row_journal(sqlite3_stmt *st, int i, lw_journal_rec_t *r)
{
    r->seq = sqlite3_column_int64(st, i);
    r->inbound = sqlite3_column_int(st, i + 1) != 0;
    r->msg_type = sqlite3_column_int(st, i + 2);
    r->msg_id = col_str(st, i + 3), r->action = col_str(st, i + 4);
    r->payload = col_str(st, i + 5);
    r->at_ms = sqlite3_column_int64(st, i + 6);
}

/* The first row of station's journal chain (schema 006) with id < before (0 = the newest):
 * the head, or the previous row of before when before is one of the station's rows, else
 * (a cursor that was pruned or is not the station's) a walk from the head. 0 = none. */
static int journal_start(conn_t *c, lw_str_t station, int64_t before, int64_t *out)
{
    sqlite3_stmt *st;
    int rc;
    *out = 0;
    if (before > 0) {
        if (!(st = q(c, Q_R_JROW))) return LW_ESTORE;
        b_i64(st, 1, before);
        rc = sqlite3_step(st);
        bool mine = rc == SQLITE_ROW && lw_str_eq(col_str(st, 8), station);
        int64_t prev = mine ? sqlite3_column_int64(st, 7) : 0;
        sqlite3_reset(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return map_rc(rc);
        if (mine) {
            *out = prev;
            return 0;
        }
    }
    if (!(st = q(c, Q_R_JHEAD))) return LW_ESTORE;
    b_str(st, 1, station);
    int64_t id;
    if ((rc = one_i64(st, &id))) return rc;
    while (before > 0 && id >= before) {
        if (!(st = q(c, Q_R_JROW))) return LW_ESTORE;
        b_i64(st, 1, id);
        rc = sqlite3_step(st);
        id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 7) : 0;
        sqlite3_reset(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return map_rc(rc);
    }
    *out = id;
    return 0;
}

/* Walks station's journal chain newest first from the row before `before`, calling row() for
 * each row with R_JROW stepped on it; row() returns 1 when the page is full or each() asked
 * to stop, 0 to go on, < 0 on error. Rows whose chain was cut by pruning end the walk. */
static int journal_walk(conn_t *c, lw_str_t station, int64_t before,
                        int (*row)(conn_t *, sqlite3_stmt *, void *), void *arg)
{
    int64_t id;
    int rc = journal_start(c, station, before, &id);
    while (!rc && id > 0) {
        sqlite3_stmt *st = q(c, Q_R_JROW);
        if (!st) return LW_ESTORE;
        b_i64(st, 1, id);
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW) {
            sqlite3_reset(st);
            return rc == SQLITE_DONE ? 0 : map_rc(rc);
        }
        id = sqlite3_column_int64(st, 7);
        rc = row(c, st, arg);
        sqlite3_reset(st);
        if (rc > 0) return 0;
    }
    return rc;
}

typedef struct {
    size_t left;
    int (*each)(void *, const lw_journal_rec_t *);
    int (*each_pair)(void *, const lw_journal_rec_t *, const lw_journal_rec_t *);
    void *ud;
} jwalk_t;

/* The answer held in an R_JROW row with the CALL it answers (schema 008): false when the row
 * holds one frame. */
static bool row_journal_reply(sqlite3_stmt *st, const lw_journal_rec_t *call, lw_journal_rec_t *r)
{
    int type = sqlite3_column_int(st, 9);
    if (!type) return false;
    *r = *call;
    r->inbound = !call->inbound;
    r->msg_type = type;
    r->payload = col_str(st, 10);
    r->at_ms = sqlite3_column_int64(st, 11);
    return true;
}

static int journal_row(conn_t *c, sqlite3_stmt *st, void *arg)
{
    (void)c;
    jwalk_t *j = arg;
    lw_journal_rec_t r, reply;
    row_journal(st, 0, &r);
    if (row_journal_reply(st, &r, &reply) && j->each(j->ud, &reply)) return 1; /* newer */
    return j->each(j->ud, &r) || --j->left == 0;
}

static int be_journal_list(void *be, lw_str_t station, int64_t before, size_t limit,
                           int (*each)(void *, const lw_journal_rec_t *), void *ud)
{
    READER(be, c);
    jwalk_t j = {.left = limit, .each = each, .ud = ud};
    return limit ? journal_walk(c, station, before, journal_row, &j) : 0;
}

static void row_api(sqlite3_stmt *st, lw_api_token_rec_t *r)
{
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    char role[16];
    col_cpy(st, 1, role, sizeof role);
    if (lw_role_parse(role, &r->role)) r->role = LW_ROLE_VIEWER;
    col_cpy(st, 2, r->name, sizeof r->name);
    r->created_ms = sqlite3_column_int64(st, 3);
    r->revoked_ms = sqlite3_column_int64(st, 4);
}

static int be_api_token_find(void *be, const uint8_t hash[32], lw_api_token_rec_t *out)
{
    READER(be, c);
    sqlite3_stmt *st = q(c, Q_R_API_FIND);
    if (!st) return LW_ESTORE;
    sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
    int rc = one_row(st);
    if (rc) return rc;
    row_api(st, out);
    sqlite3_reset(st);
    return 0;
}

static int be_api_token_list(void *be, int (*each)(void *, const lw_api_token_rec_t *), void *ud)
{
    READER(be, c);
    sqlite3_stmt *st = q(c, Q_R_API_LIST);
    if (!st) return LW_ESTORE;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        lw_api_token_rec_t r;
        row_api(st, &r);
        if (each(ud, &r)) break;
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : map_rc(rc);
}

/* ---- schema 002 reads ------------------------------------------------------------------------ */

/* Steps st running the block for each row (the block breaks when each() asks to stop),
 * resets st and returns 0 or the step error. */
#define EACH_ROW(st, ...)                                                                          \
    do {                                                                                           \
        int rc_;                                                                                   \
        while ((rc_ = sqlite3_step(st)) == SQLITE_ROW) {                                           \
            __VA_ARGS__                                                                            \
        }                                                                                          \
        sqlite3_reset(st);                                                                         \
        return rc_ == SQLITE_ROW || rc_ == SQLITE_DONE ? 0 : map_rc(rc_);                          \
    } while (0)

static int be_station_find(void *be, const lw_station_filter_t *f,
                           int (*each)(void *, const lw_station_rec_t *), void *ud)
{
    READER(be, c);
    sqlite3_stmt *st = q(c, Q_R_STATIONS_F);
    if (!st) return LW_ESTORE;
    b_str(st, 1, f->after);
    sqlite3_bind_int(st, 2, (int)f->online);
    if (f->by_reg_status)
        sqlite3_bind_text(st, 3, lw_reg_status_name(f->reg_status), -1, SQLITE_STATIC);
    else
        b_str(st, 3, LW_STR_NULL);
    b_str(st, 4, f->search);
    b_i64(st, 5, (int64_t)f->limit);
    EACH_ROW(st, {
        lw_station_rec_t r;
        row_station(st, &r, NULL, NULL);
        if (each(ud, &r)) break;
    });
}

static int be_connector_status_list(void *be, lw_str_t station, bool history, int64_t before,
                                    size_t limit,
                                    int (*each)(void *, const lw_connector_status_rec_t *),
                                    void *ud)
{
    READER(be, c);
    sqlite3_stmt *st = q(c, history ? Q_R_CS_HIST : Q_R_CS);
    if (!st) return LW_ESTORE;
    b_str(st, 1, station);
    b_i64(st, 2, before);
    b_i64(st, 3, (int64_t)limit);
    EACH_ROW(st, {
        lw_connector_status_rec_t r;
        memset(&r, 0, sizeof r);
        r.seq = sqlite3_column_int64(st, 0);
        r.evse_id = sqlite3_column_int(st, 1);
        r.connector_id = sqlite3_column_int(st, 2);
        col_cpy(st, 3, r.status, sizeof r.status);
        col_cpy(st, 4, r.error_code, sizeof r.error_code);
        col_cpy(st, 5, r.info, sizeof r.info);
        col_cpy(st, 6, r.vendor_id, sizeof r.vendor_id);
        col_cpy(st, 7, r.vendor_error_code, sizeof r.vendor_error_code);
        r.at_ms = sqlite3_column_int64(st, 8);
        if (each(ud, &r)) break;
    });
}

/* A CALL (2) or 2.1 SEND (6, never answered) row and the reply the writer linked to it
 * (journal.call_id). */
static int pair_row(conn_t *c, sqlite3_stmt *st, void *arg)
{
    jwalk_t *j = arg;
    int type = sqlite3_column_int(st, 2);
    if (type != 2 && type != 6) return 0;
    lw_journal_rec_t call, reply;
    row_journal(st, 0, &call);
    if (row_journal_reply(st, &call, &reply))
        return j->each_pair(j->ud, &call, &reply) || --j->left == 0;
    sqlite3_stmt *r = q(c, Q_R_JREPLY);
    if (!r) return LW_ESTORE;
    b_i64(r, 1, call.seq);
    int rc = sqlite3_step(r);
    if (rc == SQLITE_ROW) row_journal(r, 0, &reply);
    int stop = rc == SQLITE_ROW || rc == SQLITE_DONE
                   ? j->each_pair(j->ud, &call, rc == SQLITE_ROW ? &reply : NULL) || --j->left == 0
                   : map_rc(rc);
    sqlite3_reset(r);
    return stop;
}

static int be_journal_pairs(void *be, lw_str_t station, int64_t before, size_t limit,
                            int (*each)(void *, const lw_journal_rec_t *, const lw_journal_rec_t *),
                            void *ud)
{
    READER(be, c);
    jwalk_t j = {.left = limit, .each_pair = each, .ud = ud};
    return limit ? journal_walk(c, station, before, pair_row, &j) : 0;
}

static int be_device_model_list(void *be, lw_str_t station, lw_str_t component, lw_str_t variable,
                                size_t offset, size_t limit,
                                int (*each)(void *, const lw_dm_rec_t *), void *ud)
{
    READER(be, c);
    sqlite3_stmt *st = q(c, Q_R_DM);
    if (!st) return LW_ESTORE;
    b_str(st, 1, station);
    b_str(st, 2, component);
    b_str(st, 3, variable);
    b_i64(st, 4, (int64_t)offset);
    b_i64(st, 5, (int64_t)limit);
    EACH_ROW(st, {
        lw_dm_rec_t r = {.updated_ms = sqlite3_column_int64(st, 10)};
        r.a.component = col_str(st, 0), r.a.component_inst = col_str(st, 1);
        r.a.evse_id = sqlite3_column_int(st, 2), r.a.connector_id = sqlite3_column_int(st, 3);
        r.a.variable = col_str(st, 4), r.a.variable_inst = col_str(st, 5);
        r.a.attr_type = col_str(st, 6), r.a.value = col_str(st, 7);
        r.a.mutability = col_str(st, 8), r.a.characteristics = col_str(st, 9);
        if (each(ud, &r)) break;
    });
}

static int be_device_event_list(void *be, lw_str_t station, int64_t before, size_t limit,
                                int (*each)(void *, const lw_dm_event_rec_t *), void *ud)
{
    READER(be, c);
    sqlite3_stmt *st = bind_page(q(c, Q_R_DEV), station, before, limit);
    if (!st) return LW_ESTORE;
    EACH_ROW(st, {
        lw_dm_event_rec_t r = {.seq = sqlite3_column_int64(st, 0)};
        r.e.event_id = sqlite3_column_int(st, 1);
        r.e.at_ms = sqlite3_column_int64(st, 2);
        r.e.trigger = col_str(st, 3), r.e.component = col_str(st, 4);
        r.e.variable = col_str(st, 5), r.e.actual = col_str(st, 6);
        r.e.payload = col_str(st, 7);
        if (each(ud, &r)) break;
    });
}

static int be_config_key_list(void *be, lw_str_t station,
                              int (*each)(void *, const lw_config_key_rec_t *), void *ud)
{
    READER(be, c);
    sqlite3_stmt *st = q(c, Q_R_CK);
    if (!st) return LW_ESTORE;
    b_str(st, 1, station);
    EACH_ROW(st, {
        lw_config_key_rec_t r = {.updated_ms = sqlite3_column_int64(st, 3)};
        r.k.key = col_str(st, 0);
        r.k.no_value = sqlite3_column_type(st, 1) == SQLITE_NULL;
        r.k.value = col_str(st, 1);
        r.k.readonly = sqlite3_column_int(st, 2) != 0;
        if (each(ud, &r)) break;
    });
}

static int be_reservation_list(void *be, lw_str_t station, int id, bool active_only, int64_t now_ms,
                               int (*each)(void *, const lw_reservation_rec_t *), void *ud)
{
    READER(be, c);
    sqlite3_stmt *st = q(c, Q_R_RSV);
    if (!st) return LW_ESTORE;
    b_str(st, 1, station);
    sqlite3_bind_int(st, 2, id);
    sqlite3_bind_int(st, 3, active_only);
    b_i64(st, 4, now_ms);
    EACH_ROW(st, {
        lw_reservation_rec_t r;
        memset(&r, 0, sizeof r);
        r.id = sqlite3_column_int(st, 0);
        col_cpy(st, 1, r.station_id, sizeof r.station_id);
        r.evse_id = sqlite3_column_int(st, 2);
        r.connector_id = sqlite3_column_int(st, 3);
        col_cpy(st, 4, r.id_token, sizeof r.id_token);
        col_cpy(st, 5, r.group_id, sizeof r.group_id);
        r.expiry_ms = sqlite3_column_int64(st, 6);
        col_cpy(st, 7, r.status, sizeof r.status);
        r.created_ms = sqlite3_column_int64(st, 8);
        if (each(ud, &r)) break;
    });
}

static int be_profile_list(void *be, lw_str_t station, int evse_id,
                           int (*each)(void *, const lw_profile_rec_t *), void *ud)
{
    READER(be, c);
    sqlite3_stmt *st = q(c, Q_R_PF);
    if (!st) return LW_ESTORE;
    b_str(st, 1, station);
    sqlite3_bind_int(st, 2, evse_id);
    EACH_ROW(st, {
        lw_profile_rec_t r;
        memset(&r, 0, sizeof r);
        col_cpy(st, 0, r.station_id, sizeof r.station_id);
        r.profile_id = sqlite3_column_int(st, 1);
        r.evse_id = sqlite3_column_int(st, 2);
        r.connector_id = sqlite3_column_int(st, 3);
        r.stack_level = sqlite3_column_int(st, 4);
        col_cpy(st, 5, r.purpose, sizeof r.purpose);
        col_cpy(st, 6, r.kind, sizeof r.kind);
        col_cpy(st, 7, r.status, sizeof r.status);
        r.tx_id = sqlite3_column_int64(st, 8);
        r.valid_from_ms = sqlite3_column_int64(st, 9);
        r.valid_to_ms = sqlite3_column_int64(st, 10);
        r.updated_ms = sqlite3_column_int64(st, 11);
        r.profile = col_str(st, 12);
        if (each(ud, &r)) break;
    });
}

static int be_cert_list(void *be, lw_str_t station, int64_t before, size_t limit,
                        int (*each)(void *, const lw_cert_rec_t *), void *ud)
{
    READER(be, c);
    sqlite3_stmt *st = bind_page(q(c, Q_R_CERT), station, before, limit);
    if (!st) return LW_ESTORE;
    EACH_ROW(st, {
        lw_cert_rec_t r;
        memset(&r, 0, sizeof r);
        r.id = sqlite3_column_int64(st, 0);
        col_cpy(st, 1, r.station_id, sizeof r.station_id);
        col_cpy(st, 2, r.cert_type, sizeof r.cert_type);
        col_cpy(st, 3, r.serial, sizeof r.serial);
        r.subject = col_str(st, 4), r.csr = col_str(st, 5), r.pem = col_str(st, 6);
        r.not_before_ms = sqlite3_column_int64(st, 7);
        r.not_after_ms = sqlite3_column_int64(st, 8);
        r.issued_ms = sqlite3_column_int64(st, 9);
        r.revoked_ms = sqlite3_column_int64(st, 10);
        if (each(ud, &r)) break;
    });
}

static int be_cmd_list(void *be, int mode, lw_str_t station, int64_t id, int64_t now_ms,
                       size_t limit, int (*each)(void *, const lw_cmd_rec_t *), void *ud)
{
    READER(be, c);
    sqlite3_stmt *st = q(c, mode == 0 ? Q_R_CMD_ID : mode == 1 ? Q_R_CMD_PENDING : Q_R_CMD_LIST);
    if (!st) return LW_ESTORE;
    b_str(st, 1, station);
    b_i64(st, 2, id);
    b_i64(st, 3, now_ms);
    b_i64(st, 4, (int64_t)limit);
    EACH_ROW(st, {
        lw_cmd_rec_t r;
        memset(&r, 0, sizeof r);
        r.id = sqlite3_column_int64(st, 0);
        col_cpy(st, 1, r.station_id, sizeof r.station_id);
        col_cpy(st, 2, r.action, sizeof r.action);
        if (lw_cmd_status_parse((const char *)sqlite3_column_text(st, 3), &r.status))
            r.status = LW_CMD_FAILED;
        r.payload = col_str(st, 4), r.response = col_str(st, 5), r.error_desc = col_str(st, 6);
        col_cpy(st, 7, r.error_code, sizeof r.error_code);
        col_cpy(st, 8, r.idempotency_key, sizeof r.idempotency_key);
        col_cpy(st, 9, r.msg_id, sizeof r.msg_id);
        r.created_ms = sqlite3_column_int64(st, 10);
        r.expires_ms = sqlite3_column_int64(st, 11);
        r.sent_ms = sqlite3_column_int64(st, 12);
        r.updated_ms = sqlite3_column_int64(st, 13);
        if (each(ud, &r)) break;
    });
}

/* ---- added with schema 005: id-token list and delete, firmware status history, command
 * via / fingerprint. Kept apart from the hot paths above; these run for operator requests
 * only, so their statements are prepared per call rather than cached per connection. */

static sqlite3_stmt *prep(conn_t *c, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
        lw_log(LW_LOG_ERROR, "store", "event=prepare_failed sql=\"%.40s\" err=\"%s\"", sql,
               sqlite3_errmsg(c->db));
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

/* Runs a prepared-per-call statement that returns no rows, then finalizes it. */
static int run_once(conn_t *c, sqlite3_stmt *st)
{
    int rc = step_done(c, st);
    sqlite3_finalize(st);
    return rc;
}

static int apply_004(sqlite_be_t *b, const lw_store_write_t *w, lw_store_result_t *res)
{
    conn_t *c = &b->writer;
    sqlite3_stmt *st;
    int rc;
    switch (w->kind) {
    case LW_W_ID_TOKEN_DELETE:
        if (!w->u.id_token.id_token.len) return LW_EINVAL;
        if (!(st = prep(c, "DELETE FROM id_tokens WHERE id_token = ?1"))) return LW_ESTORE;
        b_str(st, 1, w->u.id_token.id_token);
        if ((rc = run_once(c, st))) return rc;
        res->row_id = sqlite3_changes(c->db);
        return res->row_id ? 0 : LW_ENOTFOUND;
    case LW_W_CMD_META:
        if (w->u.cmd_meta.id <= 0) return LW_EINVAL;
        if (!(st = prep(c, "UPDATE commands SET via = ?3, fingerprint = ?4 "
                           "WHERE id = ?1 AND station_id = ?2")))
            return LW_ESTORE;
        b_i64(st, 1, w->u.cmd_meta.id);
        b_str(st, 2, w->station_id);
        b_str(st, 3, w->u.cmd_meta.via), b_str(st, 4, w->u.cmd_meta.fingerprint);
        if ((rc = run_once(c, st))) return rc;
        res->row_id = w->u.cmd_meta.id;
        return sqlite3_changes(c->db) ? 0 : LW_ENOTFOUND;
    default:
        return LW_EINVAL;
    }
}

/* Steps st, calling row(st) for each row until it returns nonzero; finalizes st. */
#define EACH_ROW_ONCE(st, ...)                                                                     \
    do {                                                                                           \
        int rc_;                                                                                   \
        while ((rc_ = sqlite3_step(st)) == SQLITE_ROW) {                                           \
            __VA_ARGS__                                                                            \
        }                                                                                          \
        sqlite3_finalize(st);                                                                      \
        return rc_ == SQLITE_ROW || rc_ == SQLITE_DONE ? 0 : map_rc(rc_);                          \
    } while (0)

static int be_id_token_list(void *be, lw_str_t after, size_t limit,
                            int (*each)(void *, const lw_id_token_rec_t *), void *ud)
{
    READER(be, c);
    sqlite3_stmt *st = prep(c, "SELECT id_token, type, status, expiry, group_id FROM id_tokens "
                               "WHERE id_token > ?1 ORDER BY id_token, type LIMIT ?2");
    if (!st) return LW_ESTORE;
    b_str(st, 1, after);
    b_i64(st, 2, (int64_t)limit);
    EACH_ROW_ONCE(st, {
        lw_id_token_rec_t r;
        memset(&r, 0, sizeof r);
        col_cpy(st, 0, r.id_token, sizeof r.id_token);
        col_cpy(st, 1, r.type, sizeof r.type);
        char s[16];
        col_cpy(st, 2, s, sizeof s);
        if (lw_token_status_parse(s, &r.status)) r.status = LW_TOKEN_INVALID;
        r.expiry_ms = sqlite3_column_int64(st, 3);
        col_cpy(st, 4, r.group_id, sizeof r.group_id);
        if (each(ud, &r)) break;
    });
}

static int be_fw_status_list(void *be, lw_str_t station, int64_t before, size_t limit,
                             int (*each)(void *, const lw_fw_status_rec_t *), void *ud)
{
    READER(be, c);
    sqlite3_stmt *st =
        bind_page(prep(c, "SELECT id, what, status, request_id, at FROM fw_status_history "
                          "WHERE station_id = ?1 AND (?2 <= 0 OR id < ?2) "
                          "ORDER BY id DESC LIMIT ?3"),
                  station, before, limit);
    if (!st) return LW_ESTORE;
    EACH_ROW_ONCE(st, {
        lw_fw_status_rec_t r;
        memset(&r, 0, sizeof r);
        r.seq = sqlite3_column_int64(st, 0);
        col_cpy(st, 1, r.what, sizeof r.what);
        col_cpy(st, 2, r.status, sizeof r.status);
        r.request_id = sqlite3_column_int(st, 3);
        r.at_ms = sqlite3_column_int64(st, 4);
        if (each(ud, &r)) break;
    });
}

static int be_cmd_meta_list(void *be, lw_str_t station, int64_t before, size_t limit,
                            int (*each)(void *, int64_t, lw_str_t, lw_str_t), void *ud)
{
    READER(be, c);
    sqlite3_stmt *st =
        bind_page(prep(c, "SELECT id, via, fingerprint FROM commands "
                          "WHERE (?1 = '' OR station_id = ?1) AND (?2 <= 0 OR id < ?2) "
                          "ORDER BY id DESC LIMIT ?3"),
                  station, before, limit);
    if (!st) return LW_ESTORE;
    EACH_ROW_ONCE(st, {
        if (each(ud, sqlite3_column_int64(st, 0), col_str(st, 1), col_str(st, 2))) break;
    });
}

const lw_store_backend_t lw_store_sqlite_backend = {
    .scheme = "sqlite",
    .open = be_open,
    .close = be_close,
    .schema_version = be_schema_version,
    .durability = be_durability,
    .begin = be_begin,
    .apply = be_apply,
    .commit = be_commit,
    .rollback = be_rollback,
    .spoiled = be_spoiled,
    .savepoints = be_savepoints,
    .read_begin = be_read_begin,
    .read_end = be_read_end,
    .station_get = be_station_get,
    .station_list = be_station_list,
    .id_token_get = be_id_token_get,
    .tx_get = be_tx_get,
    .tx_list = be_tx_list,
    .meter_list = be_meter_list,
    .journal_list = be_journal_list,
    .api_token_find = be_api_token_find,
    .api_token_list = be_api_token_list,
    .station_find = be_station_find,
    .connector_status_list = be_connector_status_list,
    .journal_pairs = be_journal_pairs,
    .device_model_list = be_device_model_list,
    .device_event_list = be_device_event_list,
    .config_key_list = be_config_key_list,
    .reservation_list = be_reservation_list,
    .profile_list = be_profile_list,
    .cert_list = be_cert_list,
    .cmd_list = be_cmd_list,
    .id_token_list = be_id_token_list,
    .fw_status_list = be_fw_status_list,
    .cmd_meta_list = be_cmd_meta_list,
    .release_memory = be_release_memory,
    .cache_bytes = be_cache_bytes,
};
