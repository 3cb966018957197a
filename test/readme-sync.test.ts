import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, runProcess } from './helpers/cli.js';

const README_NAMES = ['README.md', 'README.zh-CN.md'] as const;

/** What `--help` shows a user: every command path, and every long option with the commands that list it. */
interface HelpSurface {
  commands: string[][];
  longOptions: Map<string, string[]>;
}

async function helpText(commandPath: readonly string[]): Promise<string> {
  // --help reads no config and calls no API: an environment with nothing of the developer's but PATH.
  const result = await runProcess(process.execPath, [BIN, ...commandPath, '--help'], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', NO_COLOR: '1' },
  });
  if (result.code !== 0) throw new Error(`wx-followers ${commandPath.join(' ')} --help: exit ${result.code}\n${result.stderr}`);
  return result.stdout.toString('utf8');
}

/**
 * The entries of one section of commander's help ("Options:", "Commands:"): the lines indented
 * by exactly two spaces up to the next blank line. A wrapped description is indented further, so
 * an option named inside a description ("csv with --with-info") is not taken for an entry.
 */
function sectionEntries(help: string, title: string): string[] {
  const lines = help.split('\n');
  const start = lines.indexOf(`${title}:`);
  if (start === -1) return [];
  const entries: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '') break;
    if (/^ {2}\S/.test(line)) entries.push(line.slice(2));
  }
  return entries;
}

/** Walks the built CLI's help, the program's, each command's and each subcommand's. */
async function helpSurface(): Promise<HelpSurface> {
  const surface: HelpSurface = { commands: [], longOptions: new Map() };
  const pending: string[][] = [[]];
  for (let commandPath = pending.shift(); commandPath !== undefined; commandPath = pending.shift()) {
    const help = await helpText(commandPath);
    const where = ['wx-followers', ...commandPath].join(' ');
    for (const entry of sectionEntries(help, 'Options')) {
      const option = /^(?:-\w, )?(--[a-z][a-z0-9-]*)/.exec(entry)?.[1];
      if (option === undefined) throw new Error(`${where} --help: an option entry without a long option: ${entry}`);
      surface.longOptions.set(option, [...(surface.longOptions.get(option) ?? []), where]);
    }
    for (const entry of sectionEntries(help, 'Commands')) {
      const name = /^([a-z][a-z0-9-]*)/.exec(entry)?.[1];
      if (name === undefined) throw new Error(`${where} --help: a command entry without a name: ${entry}`);
      if (name === 'help') continue; // commander's own `help [command]`, the same as --help
      surface.commands.push([...commandPath, name]);
      pending.push([...commandPath, name]);
    }
  }
  return surface;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A whole word of the README: `--state` is not found in `--state-dir`, nor `export` in `exports`. */
function mentions(readme: string, word: string): boolean {
  return new RegExp(`(?<![\\w-])${escapeRegExp(word)}(?![\\w-])`).test(readme);
}

describe('README.md and README.zh-CN.md stay in step with --help', () => {
  let surface: HelpSurface;
  const readmes = new Map<string, string>();

  beforeAll(async () => {
    surface = await helpSurface();
    for (const name of README_NAMES) {
      readmes.set(name, await readFile(new URL(`../${name}`, import.meta.url), 'utf8'));
    }
  });

  it('finds every level of the help: the program, its commands and the subcommands of config', () => {
    const commands = surface.commands.map((path) => path.join(' '));
    expect(commands).toEqual(expect.arrayContaining(['export', 'tags', 'diff', 'token', 'config', 'config set', 'config path']));
    expect(commands.length).toBeGreaterThanOrEqual(10);
    // One option from each level: the program's, export's own, the shared connection options, a subcommand's.
    expect([...surface.longOptions.keys()]).toEqual(
      expect.arrayContaining(['--version', '--with-info', '--no-progress', '--base-url', '--reveal']),
    );
    expect(surface.longOptions.size).toBeGreaterThanOrEqual(20);
  });

  it.each(README_NAMES)('%s names every command as `wx-followers <command>`', (name) => {
    const readme = readmes.get(name) ?? '';
    const missing = surface.commands.map((path) => ['wx-followers', ...path].join(' ')).filter((command) => !mentions(readme, command));
    expect(missing, `commands that --help lists and ${name} does not name`).toEqual([]);
  });

  it.each(README_NAMES)('%s names every long option that --help lists', (name) => {
    const readme = readmes.get(name) ?? '';
    const missing = [...surface.longOptions]
      .filter(([option]) => !mentions(readme, option))
      .map(([option, where]) => `${option} (${where.join(', ')})`);
    expect(missing, `long options that --help lists and ${name} does not name`).toEqual([]);
  });

  it('links each README to the other at its top', () => {
    const top = (name: string): string => (readmes.get(name) ?? '').split('\n').slice(0, 5).join('\n');
    expect(top('README.md')).toMatch(/\]\(README\.zh-CN\.md\)/);
    expect(top('README.zh-CN.md')).toMatch(/\]\(README\.md\)/);
  });

  it.each(README_NAMES)('%s closes every code block it opens, so that no section renders as code', (name) => {
    const fences = (readmes.get(name) ?? '').split('\n').filter((line) => line.startsWith('```'));
    const unclosed = fences.filter((_fence, index) => index % 2 === 0 && fences[index + 1] !== '```');
    expect(unclosed, `an opening fence in ${name} followed by another opening fence`).toEqual([]);
    expect(fences.length % 2).toBe(0);
  });
});
