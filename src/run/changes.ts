import { rmSync, promises as fs } from 'node:fs';
import { Reporter } from '../console/report.js';
import { signalExitCode, type IOStreams } from '../console/streams.js';
import { escapeText, ExitCode, grouped, WxError } from '../errors.js';
import { changeRows, dailyCounts, secondsOf, type DayRange, type WalkFacts, walkFactsOf } from '../out/db/changes-queries.js';
import type { Database } from '../out/db/database.js';
import { dayFormat, dayTable, listFormat, type DayRow, type ListedChange } from '../out/history-formats.js';
import { FileLock, lockHolder } from '../out/lock.js';
import { netChart } from '../out/net-chart.js';
import { FileOutput, outputLockPathOf, SpecialFileOutput, StreamOutput, type Output } from '../out/output.js';
import { Sink } from '../out/sink.js';
import { dateOfDay, type ChangesPlan } from '../plan/changes.js';
import { accountToRead, openForReading, readFailure } from './changes-database.js';

/** Changes written at once in --list: the same slice size as an export's. */
const BATCH = 2_048;

/** What the run holds: let go of however it ends. */
interface Held {
  lock?: FileLock;
  output?: Output;
  /** FILE.partial this run created: removed when the run fails (a part of a report is no report). */
  partialPath?: string;
}

/**
 * Reads the database (never writes it) and writes joined and left per day, or the changes
 * themselves, for one account and period. Says on stderr what the numbers do not: a baseline in
 * the period, a walk not finished.
 */
export async function runChanges(plan: ChangesPlan, io: IOStreams, reporter: Reporter = new Reporter(io)): Promise<ExitCode> {
  const held: Held = {};
  const interruption = new AbortController();
  const stopListening = io.onInterrupt(
    (signal) => interruption.abort(new WxError(`Interrupted (${signal}).`, signalExitCode(signal))),
    () => quitNow(held),
  );
  let db: Database | undefined;
  try {
    if (plan.target.password !== undefined) reporter.addSecret(plan.target.password);
    db = await openForReading(plan.target, io.env);
    const appid = await accountToRead(db, plan.account);
    const facts = await walkFactsOf(db, appid).catch(readFailure(db));
    if (!plan.quiet && facts !== undefined) for (const note of notesOn(facts, plan.range, appid)) reporter.line(note);
    const output = await openOutput(plan, held, io, reporter, interruption.signal);
    if (plan.list) await writeList(db, appid, plan, output, interruption.signal);
    else {
      const days = daysOf(plan.range, await dailyCounts(db, appid, plan.range).catch(readFailure(db)));
      await writeDays(days, plan, output);
      if (plan.format !== 'text' && io.stderrIsTTY && !plan.quiet) reporter.line(totalsLine(days, plan.range));
    }
    return ExitCode.Ok;
  } catch (error) {
    await held.output?.abandon();
    if (held.partialPath !== undefined) await fs.rm(held.partialPath, { force: true });
    return reporter.error(error);
  } finally {
    stopListening();
    await db?.close();
    await held.lock?.release();
  }
}

/** A second signal: the process ends now; what it leaves is its lock and FILE.partial, both removed. */
function quitNow(held: Held): void {
  if (held.partialPath !== undefined) rmSync(held.partialPath, { force: true });
  held.lock?.releaseNow();
}

/** Every day of the period, those without changes included. */
function daysOf(range: DayRange, counts: readonly { day: number; joined: number; left: number }[]): DayRow[] {
  const byDay = new Map(counts.map((count) => [count.day, count]));
  const days: DayRow[] = [];
  for (let day = range.fromDay; day <= range.toDay; day += 1) {
    const count = byDay.get(day);
    days.push({ date: dateOfDay(day), joined: count?.joined ?? 0, left: count?.left ?? 0 });
  }
  return days;
}

async function writeDays(days: readonly DayRow[], plan: ChangesPlan, output: Output): Promise<void> {
  if (plan.format === 'text') {
    await output.write([dayTable(days) + (plan.chart ? netChart(days) : '')]);
    await output.finish();
    return;
  }
  const sink = new Sink(await dayFormat(plan.format), output, { bom: plan.bom });
  await sink.writePage(days);
  await sink.finish();
}

/** Streamed: a batch in memory at a time, each written before the next is read. */
async function writeList(db: Database, appid: string, plan: ChangesPlan, output: Output, signal: AbortSignal): Promise<void> {
  const sink = new Sink(await listFormat(plan.format), output, { bom: plan.bom });
  const timeOf = isoTimes(plan.range.utcOffsetSeconds);
  let batch: ListedChange[] = [];
  try {
    for await (const row of changeRows(db, appid, plan.range)) {
      batch.push({ at: timeOf(row.at), kind: row.kind, openid: row.openid });
      if (batch.length < BATCH) continue;
      if (signal.aborted) throw signal.reason;
      await sink.writePage(batch);
      batch = [];
    }
  } catch (error) {
    if (error instanceof WxError) throw error;
    throw readFailure(db)(error);
  }
  await sink.writePage(batch);
  await sink.finish();
}

/** stdout, a device or FIFO, or FILE through FILE.partial under its lock, as export writes. */
async function openOutput(plan: ChangesPlan, held: Held, io: IOStreams, reporter: Reporter, signal: AbortSignal): Promise<Output> {
  const { output } = plan;
  if (output.kind === 'stdout') held.output = new StreamOutput(io.stdout, true);
  else if (output.kind === 'special') {
    held.output = await SpecialFileOutput.open(output.path, true, {
      signal,
      onWait: () => {
        if (!plan.quiet)
          reporter.line(`wx-followers: ${escapeText(output.path)} is a named pipe with no reader yet: waiting for one (Ctrl-C stops).`);
      },
    });
  } else {
    const lockPath = outputLockPathOf(output.partialPath);
    held.lock = await FileLock.take(
      lockPath,
      (owner) =>
        `Another run (${lockHolder(owner)}) is writing to ${escapeText(output.path)}; ${escapeText(lockPath)} is its lock. Let it finish, or give this run another --output.`,
    );
    const file = await FileOutput.open(output.path, output.opening, output.partial);
    held.partialPath = output.partialPath;
    held.output = file;
    if (file.setAside !== undefined) {
      reporter.line(
        `wx-followers: an earlier ${escapeText(output.partialPath)} was there; it is moved to ${escapeText(file.setAside.path)}.`,
      );
    }
  }
  return held.output;
}

/** What the counts do not say by themselves: the baseline in the period, a walk not finished. */
function notesOn(facts: WalkFacts, range: DayRange, appid: string): string[] {
  const { fromAt, toAt } = secondsOf(range);
  const offset = range.utcOffsetSeconds;
  const notes: string[] = [];
  const { baseline, incomplete, lastCompleteEndedAt } = facts;
  if (baseline === undefined) {
    if (facts.firstStartedAt < toAt) {
      notes.push(
        `wx-followers: ${appid} has no complete sync yet: its first walk (started ${shortTime(facts.firstStartedAt, offset)}) is its baseline, whose followers are recorded and not counted as joined, and nobody is counted as left until a sync reaches the end of the list. Run \`wx-followers sync\` to finish it.`,
      );
    }
    return notes;
  }
  if (baseline.startedAt < toAt && baseline.endedAt >= fromAt) {
    notes.push(
      `wx-followers: the baseline of ${appid} (its first complete walk, ${shortTime(baseline.startedAt, offset)} to ${shortTime(baseline.endedAt, offset)}) falls in this period: its ${grouped(baseline.followers)} followers were recorded then, not counted as joined.`,
    );
  }
  if (incomplete !== undefined && incomplete.startedAt < toAt && lastCompleteEndedAt !== undefined) {
    notes.push(
      `wx-followers: the last sync of ${appid} did not complete (its walk started ${shortTime(incomplete.startedAt, offset)}): who left is known up to ${shortTime(lastCompleteEndedAt, offset)}. Run \`wx-followers sync\` to finish the walk.`,
    );
  }
  return notes;
}

function totalsLine(days: readonly DayRow[], range: DayRange): string {
  const joined = days.reduce((sum, day) => sum + day.joined, 0);
  const left = days.reduce((sum, day) => sum + day.left, 0);
  const net = joined - left;
  return `wx-followers: ${grouped(joined)} joined, ${grouped(left)} left (net ${net > 0 ? '+' : ''}${grouped(net)}), ${dateOfDay(range.fromDay)} to ${dateOfDay(range.toDay)}.`;
}

/** Unix seconds as ISO 8601 in the period's offset: 2024-05-01T10:22:03+08:00 (Z for UTC). */
function isoTime(at: number, utcOffsetSeconds: number): string {
  const local = new Date((at + utcOffsetSeconds) * 1000).toISOString().slice(0, 19);
  return `${local}${offsetText(utcOffsetSeconds)}`;
}

/**
 * isoTime for rows in time order: a page's joins and a walk's leaves share their second, and a
 * day its date, so that a million rows do not cost a million Dates.
 */
function isoTimes(utcOffsetSeconds: number): (at: number) => string {
  let lastAt: number | undefined;
  let lastText = '';
  let dayStart = Number.NaN;
  let datePart = '';
  const offset = offsetText(utcOffsetSeconds);
  const two = (value: number): string => String(value).padStart(2, '0');
  return (at) => {
    if (at === lastAt) return lastText;
    const local = at + utcOffsetSeconds;
    const second = local - dayStart;
    if (!(second >= 0 && second < 86_400)) {
      dayStart = local - (((local % 86_400) + 86_400) % 86_400);
      datePart = new Date(dayStart * 1000).toISOString().slice(0, 11);
    }
    const inDay = local - dayStart;
    lastAt = at;
    lastText = `${datePart}${two(Math.floor(inDay / 3600))}:${two(Math.floor(inDay / 60) % 60)}:${two(inDay % 60)}${offset}`;
    return lastText;
  };
}

/** YYYY-MM-DD HH:MM in the period's offset, for messages. */
function shortTime(at: number, utcOffsetSeconds: number): string {
  return `${isoTime(at, utcOffsetSeconds).slice(0, 16).replace('T', ' ')}${utcOffsetSeconds === 0 ? ' UTC' : ''}`;
}

function offsetText(utcOffsetSeconds: number): string {
  if (utcOffsetSeconds === 0) return 'Z';
  const minutes = Math.abs(utcOffsetSeconds) / 60;
  const sign = utcOffsetSeconds < 0 ? '-' : '+';
  return `${sign}${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}
