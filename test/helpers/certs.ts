/**
 * Certificates for TLS tests, made once per call with the openssl command: a private CA and a
 * server certificate it signed for 127.0.0.1 (EC keys: quick). A client that does not trust the CA
 * rejects the server, as it would a self-signed one; given the CA (tls.caFile), it verifies it.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface TestCertificates {
  /** The CA certificate (PEM file) to trust. */
  caFile: string;
  /** The server's private key and certificate (PEM files). */
  keyFile: string;
  certFile: string;
  /** The same, read, for https.createServer({ key, cert }) and tls options. */
  ca: string;
  key: string;
  cert: string;
}

/** Writes ca.pem, server.key and server.pem into `dir`; null when openssl is not available (skip the test). */
export function makeCertificates(dir: string): TestCertificates | null {
  const openssl = (args: string[]) =>
    spawnSync('openssl', args, { cwd: dir, stdio: 'ignore', timeout: 30_000 }).status === 0;
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  fs.writeFileSync(path.join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n');
  const ok =
    openssl([
      'req',
      '-x509',
      ...ec,
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-subj',
      '/CN=Preflight test CA',
      '-days',
      '1',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]) &&
    openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']) &&
    openssl([
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.pem',
      '-days',
      '1',
      '-extfile',
      'ext.cnf',
    ]);
  if (!ok) return null;
  const caFile = path.join(dir, 'ca.pem');
  const keyFile = path.join(dir, 'server.key');
  const certFile = path.join(dir, 'server.pem');
  return {
    caFile,
    keyFile,
    certFile,
    ca: fs.readFileSync(caFile, 'utf8'),
    key: fs.readFileSync(keyFile, 'utf8'),
    cert: fs.readFileSync(certFile, 'utf8'),
  };
}
