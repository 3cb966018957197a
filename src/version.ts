import { readFileSync } from 'node:fs';

/** Read from package.json at run time, so that the version is said in one place only. */
export function packageVersion(): string {
  const url = new URL('../package.json', import.meta.url);
  const { version } = JSON.parse(readFileSync(url, 'utf8')) as { version: string };
  return version;
}
