import type { IOStreams } from '../console/streams.js';
import { ExitCode, usageError, WxError } from '../errors.js';
import { describeList, type FollowerList } from '../openid.js';
import type { FormatName } from '../out/formats.js';
import { planState, type StatePlan } from '../out/state.js';
import { openConfigStore, type ConfigStore } from '../out/config-store.js';
import { dateIn, DEFAULT_TIME_ZONE, expandTemplate, parseTimeZone, selectedProfile, type TemplateValues } from './profiles.js';
import { planConnection, type ConnectionFlags, type ConnectionPlan } from './connection.js';
import { checkResume, checkStateAgainstFile, checkStatePath, planOutputOrStdout, type OutputPlan } from './export-files.js';
import type { DetailsLanguage } from '../openid.js';
import { checkBom, parseCount, parseFormat, parseLanguage, parsePositiveInteger, parseResume } from './options.js';

/** The export command's flags, as commander hands them over. */
export interface ExportFlags extends ConnectionFlags {
  /** Undefined when not given: a --state run then keeps the format it started with. */
  format?: string;
  output?: string;
  resume?: string;
  limit?: string;
  maxCalls?: string;
  state?: string;
  /** The followers carrying this tag instead of all of them. */
  tag?: string;
  blacklist?: boolean;
  withInfo?: boolean;
  lang?: string;
  concurrency?: string;
  /** A UTF-8 BOM at the top of a CSV, for Excel. */
  bom?: boolean;
  progress: boolean;
}

/** With --with-info: how the details are asked for. */
export interface DetailsPlan {
  lang: DetailsLanguage;
  /** batchget calls in flight at once. */
  concurrency: number;
}

/** One checked export: the run works from this alone. */
export interface ExportPlan {
  list: FollowerList;
  format: FormatName;
  bom: boolean;
  details: DetailsPlan | undefined;
  /** The OpenID to go on after: from --resume, or from the state file. */
  resume: string | undefined;
  limit: number | undefined;
  /** API calls the run may make, of any kind (--max-calls); it stops cleanly before the next. */
  maxCalls: number | undefined;
  output: OutputPlan;
  /** With --state: what the plan read of it; the run locks it and checks it again. */
  state: StatePlan | undefined;
  /** What the state file records as written before this run. */
  writtenBefore: number;
  connection: ConnectionPlan;
  progress: boolean;
  quiet: boolean;
}

const DEFAULT_CONCURRENCY = 8;
/** More calls at once would only meet the API's per-minute limit (45011) sooner. */
export const MAX_CONCURRENCY = 32;

/**
 * Turns the flags, the environment and the config into one plan, checking every value, every
 * path and the state file before anything is created, locked or requested: a mistake costs no
 * quota and leaves nothing behind.
 */
export async function planExport(
  given: ExportFlags,
  io: IOStreams,
  storeRead?: ConfigStore,
  presetConnection?: ConnectionPlan,
): Promise<ExportPlan> {
  const store = storeRead ?? (await openConfigStore(io.env));
  // A preset connection (an account of --authorized) comes with its paths filled in already.
  const profile = presetConnection === undefined ? selectedProfile(given, io.env, store) : undefined;
  // Only with a profile: a path of a run without one keeps any braces it has, as before.
  const flags = profile === undefined ? given : { ...given, ...profilePaths(given, io.env, store, profile, new Date()) };
  const { explicitFormat, limit, maxCalls, details, resume, list, format, defaultFormat } = parseExportValues(flags);
  const output = await planOutputOrStdout(flags.output, flags.state !== undefined);
  if (output.kind === 'stdout' && io.stdoutClosed()) {
    throw new WxError(
      'stdout is closed (`>&-`, or started with no stdout), so the followers would be lost: nothing was asked of the API. Give --output FILE, or send stdout somewhere (`> FILE`; `> /dev/null` if you really want nothing).',
      ExitCode.Failure,
    );
  }
  const plan: ExportPlan = {
    list,
    format,
    bom: flags.bom === true,
    details,
    resume,
    limit,
    maxCalls,
    output,
    state: undefined,
    writtenBefore: 0,
    connection: presetConnection ?? (await planConnection(flags, io, store)),
    progress: flags.progress,
    quiet: flags.quiet === true,
  };
  if (output.kind !== 'file') return plan;
  if (flags.state === undefined) {
    if (resume === undefined) return plan;
    await checkResume(output, resume, { format, withInfo: details !== undefined });
    return { ...plan, output: { ...output, opening: { kind: 'resume' } } };
  }
  return planWithState(plan, output, flags.state, explicitFormat, defaultFormat, flags.bom);
}

/** The values of an export's flags, parsed and checked against each other; no path is looked at. */
export function parseExportValues(flags: ExportFlags): {
  explicitFormat: FormatName | undefined;
  limit: number | undefined;
  maxCalls: number | undefined;
  details: DetailsPlan | undefined;
  resume: string | undefined;
  list: FollowerList;
  format: FormatName;
  defaultFormat: FormatName;
} {
  const explicitFormat = flags.format === undefined ? undefined : parseFormat(flags.format);
  const limit = parsePositiveInteger('--limit', flags.limit);
  const maxCalls = parsePositiveInteger('--max-calls', flags.maxCalls);
  const details = parseDetails(flags, explicitFormat);
  const resume = parseResume(flags.resume);
  if (flags.state !== undefined) {
    if (flags.output === undefined) throw usageError('--state needs --output: a continued run appends to the same file.');
    if (resume !== undefined) throw usageError('--state and --resume do not go together: the state file holds the cursor.');
  }
  const list = chooseList(flags);
  const defaultFormat: FormatName = details === undefined ? 'text' : 'csv';
  const format = explicitFormat ?? defaultFormat;
  // Before any path is looked at; with --state and no --format, the state's format is checked below.
  if (explicitFormat !== undefined || flags.state === undefined) checkBom(flags.bom, format);
  return { explicitFormat, limit, maxCalls, details, resume, list, format, defaultFormat };
}

/**
 * -o and --state, else the profile's output and state, with {profile}, {appid} and {date} filled
 * in. The AppID is the one the run uses: --appid, WX_APPID, or the profile's.
 */
export function profilePaths(
  flags: ExportFlags,
  env: NodeJS.ProcessEnv,
  store: ConfigStore,
  profile: string,
  now: Date,
): { output: string | undefined; state: string | undefined } {
  const settings = store.settings(profile);
  const givenAppid = flags.appid?.trim() === '-' ? undefined : flags.appid?.trim() || env['WX_APPID']?.trim();
  const zone = settings.get('time-zone');
  const values: TemplateValues = {
    profile,
    appid: givenAppid || settings.get('appid'),
    date: dateIn(zone === undefined ? DEFAULT_TIME_ZONE : parseTimeZone(zone, `config key time-zone of profile ${profile}`), now),
  };
  const expand = (template: string | undefined, origin: string): string | undefined =>
    template === undefined ? undefined : expandTemplate(template, values, origin);
  return {
    output: expand(flags.output, '--output') ?? expand(settings.get('output'), `config key output of profile ${profile}`),
    state: expand(flags.state, '--state') ?? expand(settings.get('state'), `config key state of profile ${profile}`),
  };
}

/** A --state run: the state file read (not locked) and checked against FILE.partial. */
async function planWithState(
  plan: ExportPlan,
  output: OutputPlan & { kind: 'file' },
  statePath: string,
  explicitFormat: FormatName | undefined,
  defaultFormat: FormatName,
  bom: boolean | undefined,
): Promise<ExportPlan> {
  await checkStatePath(statePath, output.path);
  const state = await planState(statePath, output.path, {
    format: explicitFormat,
    defaultFormat,
    list: describeList(plan.list),
    withInfo: plan.details !== undefined,
    // Before any call: another account's list would not know the state's cursor.
    account: await plan.connection.credentials.account(),
  });
  const { cursor, continueAtBytes, format, written } = state.start;
  // Again with the format the state file holds.
  checkBom(bom, format);
  if (cursor !== undefined && continueAtBytes !== undefined) {
    await checkStateAgainstFile(statePath, output, { format, cursor, continueAtBytes });
  }
  const opening = continueAtBytes === undefined ? { kind: 'new' as const } : { kind: 'continue' as const, bytes: continueAtBytes };
  return { ...plan, state, format, resume: cursor, writtenBefore: written, output: { ...output, opening } };
}

function chooseList(flags: ExportFlags): FollowerList {
  if (flags.tag !== undefined && flags.blacklist === true) {
    throw usageError('--tag and --blacklist do not go together: export one list at a time.');
  }
  if (flags.blacklist === true) return { kind: 'blacklist' };
  const tagid = parseCount('--tag', flags.tag);
  return tagid === undefined ? { kind: 'followers' } : { kind: 'tag', tagid };
}

function textWithInfo(): WxError {
  return usageError('--with-info writes --format csv or --format ndjson: text has one OpenID a line and no room for the details.');
}

/** Undefined without --with-info, whose options are then refused rather than ignored. */
/** --concurrency of --with-info: batchget calls in flight at once (8 unless given), within its bound. */
export function parseDetailsConcurrency(value: string | undefined): number {
  return (
    parsePositiveInteger('--concurrency', value, MAX_CONCURRENCY, "more calls at once only meet the API's per-minute limit sooner") ??
    DEFAULT_CONCURRENCY
  );
}

function parseDetails(flags: ExportFlags, format: FormatName | undefined): DetailsPlan | undefined {
  if (flags.withInfo !== true) {
    if (flags.lang !== undefined) throw usageError('--lang goes with --with-info.');
    if (flags.concurrency !== undefined) throw usageError('--concurrency goes with --with-info.');
    return undefined;
  }
  if (format === 'text') throw textWithInfo();
  return { lang: flags.lang === undefined ? 'zh_CN' : parseLanguage(flags.lang), concurrency: parseDetailsConcurrency(flags.concurrency) };
}
