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
    ...followersTables(engine),
    `CREATE TABLE wx_changes (
      run_id BIGINT NOT NULL,
      appid TEXT NOT NULL,
      openid TEXT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('joined', 'left')),
      at BIGINT NOT NULL
    )`,
    'CREATE INDEX wx_changes_appid_at ON wx_changes (appid, at)',
    followersSeenView(engine),
    `INSERT INTO wx_schema (version) VALUES (${SCHEMA_VERSION})`,
  ];
}

function followersSeenView(engine: DatabaseEngine): string {
  // last_seen for every follower: a follower is written when it joins, leaves or comes back, not
  // each time a walk sees it, so that while it follows its last_seen is the end of the account's
  // last complete walk (which saw it, or it would have been marked as left), or when it joined,
  // if later; once it left, the stored last_seen.
  return `CREATE VIEW wx_followers_seen AS
      SELECT f.id, f.appid, f.openid, f.first_seen, f.joined_at,
        CASE WHEN f.left_at IS NOT NULL THEN f.last_seen
          ELSE ${engine === 'postgres' ? 'GREATEST' : 'MAX'}(f.joined_at, COALESCE(
            (SELECT MAX(r.ended_at) FROM wx_runs r WHERE r.appid = f.appid AND r.complete = 1), 0)) END AS last_seen,
        f.left_at, f.subscribe_time, f.subscribe_scene, f.qr_scene, f.qr_scene_str, f.unionid, f.language,
        f.tagid_list, f.remark, f.details_at
      FROM wx_followers f`;
}

function followersTables(engine: DatabaseEngine): string[] {
  // wx_followers.id: a number given in the order the walks first saw each follower (SQLite's
  // rowid), so that the next walk, which meets the list in the same order, reads the rows it
  // expects in one range instead of looking each OpenID up, and so that what a walk saw is a few
  // ranges of ids (wx_walk_seen) instead of a write to every row: a second sync writes only the rows
  // that changed. No AUTOINCREMENT: SQLite then gives a statement's new rows consecutive ids.
  const followerId = engine === 'postgres' ? 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY' : 'INTEGER PRIMARY KEY';
  return [
    `CREATE TABLE wx_followers (
      id ${followerId},
      appid TEXT NOT NULL,
      openid TEXT NOT NULL,
      first_seen BIGINT NOT NULL,
      joined_at BIGINT NOT NULL,
      last_seen BIGINT,
      left_at BIGINT,
      subscribe_time BIGINT,
      subscribe_scene TEXT,
      qr_scene BIGINT,
      qr_scene_str TEXT,
      unionid TEXT,
      language TEXT,
      tagid_list TEXT,
      remark TEXT,
      details_at BIGINT
    )`,
    'CREATE UNIQUE INDEX wx_followers_key ON wx_followers (appid, openid)',
    // What the walk under way has seen: ranges of wx_followers.id, a few rows a page; deleted when
    // the walk completes.
    `CREATE TABLE wx_walk_seen (
      appid TEXT NOT NULL,
      walk_id BIGINT NOT NULL,
      lo BIGINT NOT NULL,
      hi BIGINT NOT NULL
    )`,
    'CREATE INDEX wx_walk_seen_walk ON wx_walk_seen (walk_id, lo)',
  ];
}
