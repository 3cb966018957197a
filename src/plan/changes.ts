import { promises as fs, type Stats } from 'node:fs';
import type { IOStreams } from '../console/streams.js';
import { escapeText, shown, usageError } from '../errors.js';
import { openConfigStore, type ConfigStore } from '../out/config-store.js';
import { dayOf, type DayRange } from '../out/db/changes-queries.js';
import { isPostgresTarget } from '../out/db/open.js';
import { parsePostgresUrl } from '../out/db/postgres-target.js';
import type { FormatName } from '../out/formats.js';
import { outputWrites, refuseWritesOverDatabase } from './database-outputs.js';
import { chooseDatabase, refuseHardLinked, refuseMistypedTarget, refuseUriName } from './database-target.js';
import { planOutputOrStdout, type OutputPlan } from './export-files.js';
import { checkBom, parseAppid, parseFormat } from './options.js';
import { selectedProfile, type ProfileFlags } from './profiles.js';
import { refuseClosedStdout } from './stdout.js';

export interface ChangesFlags extends ProfileFlags {
  db?: string;
  appid?: string;
  since?: string;
  from?: string;
  to?: string;
  utc?: boolean;
  list?: boolean;
  format?: string;
  bom?: boolean;
  output?: string;
  quiet?: boolean;
}

/** Where the database is: a SQLite file, or a PostgreSQL server's URL. */
export interface DatabaseTarget {
  engine: 'sqlite' | 'postgres';
  /** The path or the URL, as given: openDatabase takes it. */
  target: string;
  /** Where it came from: --db, WX_DB, the profile's db, or the default. */
  origin: string;
  /** The PostgreSQL password (from the URL or PGPASSWORD): a secret no message may show. */
  password: string | undefined;
}

/** Which account: the one named, or (undefined) the database's only one. */
export interface AccountChoice {
  appid: string | undefined;
  /** Where the AppID came from, for a message about it. */
  origin: string;
}

/** One checked `changes`: the run opens the database read-only and works from this alone. */
export interface ChangesPlan {
  target: DatabaseTarget;
  account: AccountChoice;
  range: DayRange;
  /** The changes themselves (at, kind, openid) instead of the counts a day. */
  list: boolean;
  format: FormatName;
  bom: boolean;
  output: OutputPlan;
  /** The net change a day as bars under the table: only for a person at a terminal. */
  chart: boolean;
  quiet: boolean;
}

/** When no period is given: the last week, today included. */
const DEFAULT_DAYS = 7;
/** A hundred years of days: past that a date was mistyped. */
const MAX_DAYS = 36_600;

/** Checks the flags, the database's target and the output; opens, creates and locks nothing. */
export async function planChanges(flags: ChangesFlags, io: IOStreams, now = new Date(), storeRead?: ConfigStore): Promise<ChangesPlan> {
  const format = parseFormat(flags.format ?? 'text');
  checkBom(flags.bom, format);
  const store = storeRead ?? (await openConfigStore(io.env));
  const profile = selectedProfile(flags, io.env, store);
  const utcOffsetSeconds = flags.utc === true ? 0 : -now.getTimezoneOffset() * 60;
  const range = parsePeriod(flags, dayOf(Math.floor(now.getTime() / 1000), utcOffsetSeconds), utcOffsetSeconds);
  const account = chooseAccount(flags, io.env, profile === undefined ? undefined : store.settings(profile).get('appid'), profile);
  const target = await planTarget(chooseDatabase(flags.db, io.env, store.settings(profile)), io.env);
  const output = await planOutputOrStdout(flags.output, false);
  await refuseWritesOverDatabase(target, outputWrites(output, '-o'));
  if (output.kind === 'stdout') refuseClosedStdout(io, 'the changes');
  const list = flags.list === true;
  return {
    target,
    account,
    range,
    list,
    format,
    bom: flags.bom === true,
    output,
    chart: !list && format === 'text' && output.kind === 'stdout' && io.stdoutIsTTY,
    quiet: flags.quiet === true,
  };
}

/** --appid, WX_APPID, the profile's appid; else the run takes the database's only account. */
function chooseAccount(
  flags: ChangesFlags,
  env: NodeJS.ProcessEnv,
  profileAppid: string | undefined,
  profile: string | undefined,
): AccountChoice {
  const given = flags.appid?.trim();
  if (given !== undefined && given !== '') return { appid: parseAppid(given, '--appid'), origin: '--appid' };
  const fromEnv = env['WX_APPID']?.trim();
  if (fromEnv !== undefined && fromEnv !== '') return { appid: parseAppid(fromEnv, 'WX_APPID'), origin: 'WX_APPID' };
  if (profileAppid !== undefined && profile !== undefined) {
    const origin = `the appid of profile ${profile}`;
    return { appid: parseAppid(profileAppid, origin), origin };
  }
  return { appid: undefined, origin: 'the database' };
}

/** --db, else WX_DB, else the profile's db, else wx-followers.db in the working directory (as sync chooses). */
async function planTarget(chosen: { target: string; origin: string }, env: NodeJS.ProcessEnv): Promise<DatabaseTarget> {
  const { target, origin } = chosen;
  if (target.trim() === '') throw usageError(`${origin} is empty: give a file path (SQLite) or a postgres:// URL.`);
  refuseMistypedTarget(target, origin);
  if (isPostgresTarget(target)) {
    // Checked now (a malformed URL is exit 2 before anything is opened); connected to by the run.
    return { engine: 'postgres', target, origin, password: parsePostgresUrl(target, origin, env).password };
  }
  refuseUriName(target, origin);
  await checkDatabaseFile(target, origin);
  return { engine: 'sqlite', target, origin, password: undefined };
}

/** A file must be there: `changes` reads what `sync` wrote and never creates a database. */
async function checkDatabaseFile(path: string, origin: string): Promise<void> {
  let stats: Stats;
  try {
    stats = await fs.stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw usageError(
        `There is no database at ${escapeText(path)} (${origin}): run \`wx-followers sync\` first, or name the database with --db FILE (or a postgres:// URL).`,
      );
    }
    throw usageError(`Could not look at the database ${escapeText(path)}: ${escapeText((error as Error).message)}.`);
  }
  if (!stats.isFile()) {
    throw usageError(`The database ${escapeText(path)} (${origin}) is not a file: give --db the file \`wx-followers sync\` wrote.`);
  }
  refuseHardLinked(stats, `${escapeText(path)} (${origin})`);
}

/** --since Nd | Nw, or --from and --to (inclusive days); the last week when none is given. */
function parsePeriod(flags: ChangesFlags, today: number, utcOffsetSeconds: number): DayRange {
  if (flags.since !== undefined && (flags.from !== undefined || flags.to !== undefined)) {
    throw usageError('--since and --from/--to do not go together: give a length back from today, or the days themselves.');
  }
  let fromDay: number;
  let toDay: number;
  if (flags.since !== undefined) {
    toDay = today;
    fromDay = today - parseSince(flags.since) + 1;
  } else {
    toDay = flags.to === undefined ? today : parseDay('--to', flags.to);
    fromDay = flags.from === undefined ? toDay - DEFAULT_DAYS + 1 : parseDay('--from', flags.from);
  }
  if (fromDay > toDay) {
    const end = flags.to === undefined ? `today (${dateOfDay(toDay)}; the period ends today without --to)` : `--to ${dateOfDay(toDay)}`;
    throw usageError(`--from ${dateOfDay(fromDay)} is after ${end}: the period would have no day.`);
  }
  if (toDay - fromDay + 1 > MAX_DAYS) throw usageError(`The period is longer than ${MAX_DAYS} days: check --from and --to.`);
  if (fromDay < 0) throw usageError(beforeEpoch(flags, fromDay, today));
  return { fromDay, toDay, utcOffsetSeconds };
}

/**
 * A period that --since or --to alone would start before 1970, where --from may not: no day of
 * the database is that old, and the days before it have no date the queries can hold.
 */
function beforeEpoch(flags: ChangesFlags, fromDay: number, today: number): string {
  const start = `${dateOfDay(fromDay)}, before 1970`;
  if (flags.since !== undefined) {
    return `--since ${shown(flags.since.trim())} would start the period on ${start}: give at most --since ${today + 1}d (from 1970-01-01), or --from.`;
  }
  return `--to ${shown(flags.to?.trim() ?? '')} alone is the ${DEFAULT_DAYS} days up to it, from ${start}: give --from too (1970-01-01 or later).`;
}

/** Days back from today, today included: 7d, 2w. */
function parseSince(value: string): number {
  const match = /^([1-9][0-9]*)([dw])$/.exec(value.trim());
  if (match === null) {
    throw usageError(`--since takes a number of days or weeks, such as 7d or 2w; got '${shown(value)}'.`);
  }
  // One bound for days and weeks alike, however many digits: a number this large is no typo of a length.
  const days = Number(match[1]) * (match[2] === 'w' ? 7 : 1);
  if (days > MAX_DAYS) throw usageError(`--since is at most ${MAX_DAYS} days (${Math.floor(MAX_DAYS / 7)}w); got '${shown(value)}'.`);
  return days;
}

/** YYYY-MM-DD, a day that exists, 1970 or later; as days since 1970-01-01. */
function parseDay(flag: string, value: string): number {
  const match = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(value.trim());
  const day = match === null ? Number.NaN : Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) / 86_400_000;
  if (match === null || !Number.isInteger(day) || day < 0 || dateOfDay(day) !== value.trim()) {
    throw usageError(`${flag} takes a day as YYYY-MM-DD (1970 or later), such as 2024-05-01; got '${shown(value)}'.`);
  }
  return day;
}

/** Days since 1970-01-01 as YYYY-MM-DD. */
export function dateOfDay(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}
