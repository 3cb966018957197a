import { stat } from 'node:fs/promises';
import type { Reporter } from '../console/report.js';
import type { InterruptSignal } from '../console/streams.js';
import { AUTHORIZATION_WITHDRAWN } from '../api/errcodes.js';
import { counted, escapeText, ExitCode, WxError } from '../errors.js';
import { readFileEnd } from '../out/file-end.js';
import type { ExportPlan } from '../plan/export.js';

/** How far the run got: what a stop message names. */
export interface Advance {
  written: number;
  /** The last OpenID written (or the --resume value before the first page). */
  cursor: string | undefined;
  /** The cursor the state file holds, when there is one. */
  recorded: string | undefined;
  total: number | undefined;
}

export function againToQuit(signal: InterruptSignal): string {
  return `A second ${signal === 'SIGINT' ? 'Ctrl-C' : signal}`;
}

/** What the second signal says: the process ends now, maybe in the middle of a page. */
export function quitMessage(signal: InterruptSignal, advance: Advance, where: { withState: boolean; keptIn: string | undefined }): string {
  const head = `wx-followers: quit at once (${againToQuit(signal).toLowerCase()})`;
  const { cursor } = advance;
  if (where.withState) {
    return `${head}. To continue, run the same command with the same --state again: it goes on from the last page it recorded.`;
  }
  if (cursor === undefined) return `${head}, before a page was written whole. Run again to export from the start.`;
  if (where.keptIn !== undefined) {
    return `${head}. ${counted(advance.written, 'OpenID')} written (kept in ${escapeText(where.keptIn)}). To continue, run again with --resume ${cursor}`;
  }
  return `${head}: the output may end in a cut line. The last OpenID written whole is ${cursor}: drop what follows its line. To continue, run again with --resume ${cursor}`;
}

/**
 * Whether running again goes on: `again` (a passing failure), `once-put-right` (a rerun meets the
 * same refusal until someone does what the message said: a credential, a whitelist, an account
 * authorizing the platform again), `never` (the account withdrew from the platform: it is to be
 * left out, not continued).
 */
export type GoingOn = 'again' | 'once-put-right' | 'never';

/** Refused credentials wait for someone to put them right; an account that withdrew from the platform is not to be continued. */
export function goingOnAfter(error: unknown): GoingOn {
  if (!(error instanceof WxError)) return 'again';
  if (error.errcode === AUTHORIZATION_WITHDRAWN) return 'never';
  return error.exitCode === ExitCode.Credentials ? 'once-put-right' : 'again';
}

/** How to go on after a stop: the cursor, and where the output so far is. */
export async function reportStop(
  reporter: Reporter,
  keptIn: string | undefined,
  advance: Advance,
  { withState, goingOn }: { withState: boolean; goingOn: GoingOn },
): Promise<void> {
  if (advance.cursor === undefined && !withState) return;
  // Only a file that is there: a run that stopped before its first page leaves none.
  const kept = keptIn !== undefined && (await stat(keptIn).catch(() => undefined)) !== undefined ? ` (kept in ${escapeText(keptIn)})` : '';
  const written = `${counted(advance.written, 'OpenID')} written${kept}`;
  if (goingOn === 'never') {
    reporter.line(`wx-followers: ${written}.`);
    return;
  }
  const putRight = goingOn === 'once-put-right';
  if (withState) {
    const resume = advance.recorded === undefined ? '' : ` (it holds --resume ${advance.recorded})`;
    const rerun = `run the same command with the same --state again${resume}`;
    reporter.line(`wx-followers: ${written}. ${putRight ? `Once that is put right, ${rerun} to continue` : `To continue, ${rerun}`}.`);
    return;
  }
  reporter.line(
    `wx-followers: ${written}. ${putRight ? 'Once that is put right, run again' : 'To continue, run again'} with --resume ${advance.cursor}`,
  );
}

/** After the API refused the OpenID the run was to go on after: unknown to it, or another account's (49003). */
export function unknownStartAdvice(plan: ExportPlan, keptIn: string | undefined, otherAccount: boolean): string {
  if (plan.state === undefined) {
    return otherAccount
      ? "wx-followers: continue that export with its own account's credentials, or leave --resume out to export this account's list from the beginning."
      : 'wx-followers: give --resume an OpenID that an earlier export of the same list and account printed or wrote, or leave it out to start from the beginning.';
  }
  const path = escapeText(plan.state.path);
  const output = escapeText(keptIn ?? 'the output so far');
  return otherAccount
    ? `wx-followers: the state file ${path} holds it, from an export of another account: run it with that account's credentials, or remove the state file (and ${output}) to start afresh.`
    : `wx-followers: the state file ${path} holds it: the account's list has changed under it. Remove the state file (and ${output}) to start afresh.`;
}

/** What a fresh run says when it moved an earlier FILE.partial aside: where, and how to continue that one instead. */
export async function setAsideMessage(
  plan: ExportPlan,
  partialPath: string,
  setAside: { path: string; replacedOlder: boolean },
): Promise<string> {
  const end = await readFileEnd(setAside.path).catch(() => undefined);
  const replaced = setAside.replacedOlder ? ` (replacing the older ${setAside.path})` : '';
  const head = `wx-followers: an earlier run left ${escapeText(partialPath)}; it is moved to ${escapeText(setAside.path)}${replaced}, and this run starts afresh.`;
  if (end?.kind === undefined || end.lastOpenid === undefined || plan.output.kind !== 'file') {
    return `${head} It ends with no whole record to continue from.`;
  }
  const args = [
    'wx-followers',
    'export',
    ...listFlags(plan),
    '-f',
    end.kind.format,
    ...(end.kind.withInfo ? ['--with-info'] : []),
    '-o',
    plan.output.path,
    '--resume',
    end.lastOpenid,
  ];
  return `${head} To continue it instead: ${escapeText(`mv ${shellQuote(setAside.path)} ${shellQuote(partialPath)} && ${args.map(shellQuote).join(' ')}`)}`;
}

function listFlags(plan: ExportPlan): string[] {
  if (plan.list.kind === 'blacklist') return ['--blacklist'];
  return plan.list.kind === 'tag' ? ['--tag', String(plan.list.tagid)] : [];
}

function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=+-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}
