/**
 * Preloaded into every measured child (`node --import`): on exit it writes the child's own
 * process.resourceUsage() to the file in WX_BENCH_RUSAGE, so that CPU time and peak RSS are
 * the child's and nothing else's.
 */
import { writeFileSync } from 'node:fs';

const target = process.env['WX_BENCH_RUSAGE'];
if (target !== undefined) {
  process.on('exit', () => {
    const usage = process.resourceUsage();
    writeFileSync(target, JSON.stringify({ userCPUTime: usage.userCPUTime, systemCPUTime: usage.systemCPUTime, maxRSS: usage.maxRSS }));
  });
}
