/** The reporter's last guard: a secret quoted in a message is blanked, whole or cut by `shown`. */
import { describe, expect, it } from 'vitest';
import { Reporter } from '../src/console/report.js';
import { errcodeDetail, shown } from '../src/errors.js';
import { testStreams } from './helpers/io.js';

const SECRET = 'ACCESS_TOKEN_0123456789abcdefghij';

describe('Reporter.redact', () => {
  it('blanks a secret quoted whole, and the piece of it left on either side of a cut', () => {
    const reporter = new Reporter(testStreams({}));
    reporter.addSecret(SECRET);
    expect(reporter.redact(`invalid credential, access_token is ${SECRET}, rid: 1`)).toBe(
      'invalid credential, access_token is [redacted], rid: 1',
    );
    // `shown` cuts at 200 characters: the secret's head is left before the "...".
    const headCut = shown(`${'x'.repeat(190)} ${SECRET} tail`);
    expect(headCut).toContain(' ACCESS_TO...');
    expect(reporter.redact(headCut)).toMatch(/ \[redacted\]\.\.\.$/);
    // errcodeDetail keeps an errmsg's end: the cut in the middle may leave a secret's tail after it.
    const middleCut = errcodeDetail(40001, `${'a'.repeat(95)} ${SECRET}${'b'.repeat(150)}`);
    const tailCut = errcodeDetail(40001, `${'a'.repeat(150)}${SECRET} ${'b'.repeat(95)}`);
    expect(middleCut + tailCut).toContain('...');
    for (const cut of [middleCut, tailCut]) {
      const redacted = reporter.redact(cut);
      for (let start = 0; start + 6 <= SECRET.length; start += 1) expect(redacted).not.toContain(SECRET.slice(start, start + 6));
    }
    expect(reporter.redact('nothing here... at all')).toBe('nothing here... at all');
  });
});
