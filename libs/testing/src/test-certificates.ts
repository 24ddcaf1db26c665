import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCertificates {
  caFile: string;
  certFile: string;
  keyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

/**
 * A throwaway CA, a server certificate for 127.0.0.1/localhost and a client certificate,
 * made with the openssl command line in `dir`. For TLS tests only.
 */
export function makeTestCertificates(dir: string): TestCertificates {
  const run = (args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
  };
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Rigwarden Test CA']);
  for (const [name, cn, ext] of [['server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], ['client', 'test-agent', 'extendedKeyUsage=clientAuth']] as const) {
    run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
    writeFileSync(join(dir, `${name}.ext`), `${ext}\n`);
    run(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`]);
  }
  const path = (f: string): string => join(dir, f);
  return {
    caFile: path('ca.pem'), certFile: path('server.pem'), keyFile: path('server.key'),
    clientCertFile: path('client.pem'), clientKeyFile: path('client.key'),
    ca: readFileSync(path('ca.pem')), cert: readFileSync(path('server.pem')), key: readFileSync(path('server.key')),
  };
}
