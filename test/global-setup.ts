import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Gives the whole run a temporary root of its own (TMPDIR for the workers and every process they
 * start, the CLI's config folders with tokens in them among what lands there) and removes it at
 * the end, so that a run leaves $TMPDIR as it found it. Other runs on the machine have roots of
 * their own: nothing of theirs is looked at or removed.
 */
export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'wx-followers-suite-'));
  // Traversable (never listable) by other users: the PostgreSQL tests' server runs as `postgres`
  // when the tests run as root, in a folder of its own under this root (test/helpers/postgres.ts).
  chmodSync(root, 0o711);
  const saved = { TMPDIR: process.env['TMPDIR'], WX_FOLLOWERS_TEST_ROOT: process.env['WX_FOLLOWERS_TEST_ROOT'] };
  process.env['TMPDIR'] = root;
  process.env['WX_FOLLOWERS_TEST_ROOT'] = root;
  return () => {
    const left = processesStartedUnder(root);
    // Started by this run's tests (they carry its root), so they are ours to end.
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
    rmSync(root, { recursive: true, force: true });
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    if (left.length > 0) {
      process.exitCode = 1;
      throw new Error(`The tests left ${left.length} process(es) running (pids ${left.join(', ')}); they were ended.`);
    }
  };
}

/**
 * The processes whose environment names this run's root, other than vitest's own workers (its
 * children, which it ends itself). Linux only: elsewhere there is no /proc to read.
 */
function processesStartedUnder(root: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const marker = `WX_FOLLOWERS_TEST_ROOT=${root}`;
  const found: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(marker)) continue;
      const parent = Number(/^\d+ \(.*\) \S+ (\d+)/s.exec(readFileSync(`/proc/${entry}/stat`, 'latin1'))?.[1]);
      if (parent !== process.pid) found.push(pid);
    } catch {
      // Ended meanwhile, or not ours to read.
    }
  }
  return found;
}
