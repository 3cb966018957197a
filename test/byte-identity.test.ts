import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportFrom, tempDir } from './helpers/cli.js';
import { useFakes } from './helpers/fakes.js';

const fake = useFakes();

/**
 * SHA-256 of each format's bytes for the fake's 100,000 followers (20,000 with their details, two
 * pages and 200 batchget calls, which every kind of detail row the fake makes recurs in many
 * times over: 100,000 would take seconds a run), recorded from the code before the speed work of
 * issue 21: whatever is made faster, a user's export must stay byte for byte what it was. A change
 * that is meant to change the bytes records new ones, and says so in its commit.
 */
const RECORDED: Record<string, string> = {
  text: 'b945be85131be235202d3a5183f6e0a60eacc96b8280cce5c8875fd4f3dd13eb',
  csv: '941fef5729fdc3ec81dc8b78583de5c689d6f20eafe292aa525a4df557c56237',
  ndjson: 'afb96b73c2a28a40291eb0d2ba75afc9de409b2a85255337ee1ace97c5e50d74',
  'csv --bom': '6e140b3233ab40afc1dbee2e89d2e47e5ab2473c6525d0a2ec33725d60e0fc0c',
  '--with-info csv': 'eea75fe0557be8689271e6fe40467797107e631e33e0f86326158f11f3992129',
  '--with-info ndjson': '09566e2c795f2e58e9df1120a28d46cd0c8c843b9f0fc0f85926f27a126ce7b6',
  '--with-info csv --bom': 'cec882598aea7defcc79afff615f9cdfd77edf74371993f7febdd6aa4de87dd8',
};

const ARGS: Record<string, string[]> = {
  text: ['--format', 'text'],
  csv: ['--format', 'csv'],
  ndjson: ['--format', 'ndjson'],
  'csv --bom': ['--format', 'csv', '--bom'],
  '--with-info csv': ['--with-info', '--format', 'csv'],
  '--with-info ndjson': ['--with-info', '--format', 'ndjson'],
  '--with-info csv --bom': ['--with-info', '--format', 'csv', '--bom'],
};

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

describe('the bytes of every format, as recorded before the speed work', () => {
  it.each(Object.keys(ARGS))('%s, on stdout and in an -o file', async (name) => {
    const args = ARGS[name] ?? [];
    const api = await fake({ followers: args.includes('--with-info') ? 20_000 : 100_000 });
    const piped = await exportFrom(api, args);
    expect(piped.code, piped.stderr).toBe(0);
    const file = join(await tempDir(), 'followers.out');
    const written = await exportFrom(api, [...args, '-o', file]);
    expect(written.code, written.stderr).toBe(0);
    expect({ stdout: sha256(piped.stdout), file: sha256(await readFile(file)) }).toEqual({
      stdout: RECORDED[name],
      file: RECORDED[name],
    });
  });
});
