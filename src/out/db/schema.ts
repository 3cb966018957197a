/**
 * The follower database's schema: a contract with the users who query it (README, "The
 * database"). Every change is a new version with its migration; never edit a version that shipped.
 * Times are unix seconds (BIGINT); a day is `(at + offset) / 86400` in both engines.
 */
import type { DatabaseEngine } from './database.js';

/** The version this tool writes. A database of a newer version is refused (exit 2), never touched. */
export const SCHEMA_VERSION = 1;

/** Version 1, as statements run in one transaction on an empty database. */
export function schemaV1(engine: DatabaseEngine): string[] {
  const runId = engine === 'postgres' ? 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT';
  // wx_followers in SQLite is one b-tree on its key (WITHOUT ROWID), not a table and an index of
  // it: half the file and half the writes of a sync, which updates every row it sees. No index on
  // walk_id: the end of a walk reads all of an account's rows anyway, and every page would rewrite it.
  return [
    // Exactly one row: the schema's version.
    'CREATE TABLE wx_schema (version INTEGER NOT NULL)',
    `CREATE TABLE wx_runs (
      id ${runId},
      appid TEXT NOT NULL,
      walk_id BIGINT NOT NULL,
      started_at BIGINT NOT NULL,
      ended_at BIGINT,
      complete INTEGER NOT NULL DEFAULT 0,
      followers BIGINT NOT NULL DEFAULT 0,
      joined BIGINT NOT NULL DEFAULT 0,
      left_count BIGINT NOT NULL DEFAULT 0,
      cursor TEXT,
      total BIGINT,
      stop_reason TEXT
    )`,
    'CREATE INDEX wx_runs_appid ON wx_runs (appid, id)',
    `CREATE TABLE wx_followers (
      appid TEXT NOT NULL,
      openid TEXT NOT NULL,
      first_seen BIGINT NOT NULL,
      joined_at BIGINT NOT NULL,
      last_seen BIGINT NOT NULL,
      left_at BIGINT,
      walk_id BIGINT NOT NULL,
      subscribe_time BIGINT,
      subscribe_scene TEXT,
      qr_scene BIGINT,
      qr_scene_str TEXT,
      unionid TEXT,
      language TEXT,
      tagid_list TEXT,
      remark TEXT,
      details_at BIGINT,
      PRIMARY KEY (appid, openid)
    )${engine === 'sqlite' ? ' WITHOUT ROWID' : ''}`,
    `CREATE TABLE wx_changes (
      run_id BIGINT NOT NULL,
      appid TEXT NOT NULL,
      openid TEXT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('joined', 'left')),
      at BIGINT NOT NULL
    )`,
    'CREATE INDEX wx_changes_appid_at ON wx_changes (appid, at)',
    `INSERT INTO wx_schema (version) VALUES (${SCHEMA_VERSION})`,
  ];
}
