import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A throwaway certificate authority and one server certificate it signed, made with openssl. */
export interface TestCertificates {
  /** The CA's certificate on disk, for NODE_EXTRA_CA_CERTS. */
  readonly caPath: string;
  readonly key: string;
  readonly cert: string;
  /** Removes the directory with the CA and the keys. */
  remove(): Promise<void>;
}

/**
 * A CA made for one test file and a certificate for `hosts` signed by it, so that the CLI speaks
 * real HTTPS to the default origin and trusts it only through NODE_EXTRA_CA_CERTS.
 */
export async function makeCertificates(hosts: readonly string[]): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'wx-followers-tls-'));
  try {
    const path = (name: string): string => join(dir, name);
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    await run('openssl', [
      'req',
      '-x509',
      ...ec,
      '-keyout',
      path('ca.key'),
      '-out',
      path('ca.crt'),
      '-days',
      '2',
      '-subj',
      '/CN=wx-followers test CA',
    ]);
    await run('openssl', [
      'req',
      ...ec,
      '-keyout',
      path('server.key'),
      '-out',
      path('server.csr'),
      '-subj',
      `/CN=${hosts[0] ?? 'localhost'}`,
    ]);
    await writeFile(
      path('san.ext'),
      `subjectAltName=${hosts.map((host) => (isIP(host) === 0 ? `DNS:${host}` : `IP:${host}`)).join(',')}\n`,
    );
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      path('server.csr'),
      '-CA',
      path('ca.crt'),
      '-CAkey',
      path('ca.key'),
      '-set_serial',
      '1',
      '-days',
      '2',
      '-extfile',
      path('san.ext'),
      '-out',
      path('server.crt'),
    ]);
    const [key, cert] = await Promise.all([readFile(path('server.key'), 'utf8'), readFile(path('server.crt'), 'utf8')]);
    // Only the CA's certificate has to stay on disk, for the CLI's NODE_EXTRA_CA_CERTS.
    await Promise.all(['ca.key', 'server.key', 'server.csr', 'server.crt', 'san.ext'].map((name) => rm(path(name))));
    return { caPath: path('ca.crt'), key, cert, remove: () => rm(dir, { recursive: true, force: true }) };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
