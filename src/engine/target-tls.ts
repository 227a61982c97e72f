/**
 * The plan's TLS configuration as every request path needs it: the pre-load checks (connect and
 * readiness), adapters' prepare requests (readiness, metadata) and the load clients (http-pool.ts,
 * which takes the same `TlsOptions`). One meaning everywhere: verified by default, `tls.caFile` an
 * *extra* CA beside the well-known ones, `tls.insecure` no verification.
 */
import { isIP } from 'node:net';
import { rootCertificates, type ConnectionOptions } from 'node:tls';
import { Agent } from 'undici';
import { PreflightError } from '../core/errors.js';
import type { TlsOptions } from '../plan/types.js';

/** Options for `tls.connect` (and undici's `connect`) to `hostname`. */
export function tlsConnectOptions(tls: TlsOptions, hostname?: string): ConnectionOptions {
  return {
    rejectUnauthorized: !tls.insecure,
    // `ca` replaces Node's trusted CAs; caFile adds to them.
    ...(tls.ca ? { ca: [...rootCertificates, tls.ca] } : {}),
    ...(hostname !== undefined && hostname !== '' && isIP(hostname) === 0 ? { servername: hostname } : {}),
  };
}

/** An undici dispatcher for plain requests to the target (not the load) with the plan's TLS options. Close it when done. */
export function targetAgent(tls: TlsOptions): Agent {
  return new Agent({ connect: tlsConnectOptions(tls), keepAliveTimeout: 1000 });
}

/** Certificate errors that retrying cannot fix (OpenSSL verify codes and Node's hostname check). */
const UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
  'CERT_SIGNATURE_FAILURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
]);
const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_REVOKED']);
const HOSTNAME = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH']);
/** An https:// URL to a server that speaks plain HTTP. */
const NOT_TLS = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'EPROTO']);

/** The TLS error in `err` or its causes (undici may wrap socket errors), with its code. */
function tlsErrorIn(err: unknown): { code: string; message: string } | undefined {
  for (let e = err, i = 0; e && typeof e === 'object' && i < 4; e = (e as { cause?: unknown }).cause, i++) {
    const code = (e as { code?: unknown }).code;
    if (
      typeof code === 'string' &&
      (UNTRUSTED.has(code) || EXPIRED.has(code) || HOSTNAME.has(code) || NOT_TLS.has(code))
    )
      return { code, message: String((e as { message?: unknown }).message ?? code) };
  }
  return undefined;
}

/**
 * A permanent TLS failure talking to `origin` as an abort-the-command error (exit 5) with a hint;
 * undefined when `err` is not one (it may be transient: retry).
 */
export function tlsFailure(origin: string, err: unknown, tls: TlsOptions): PreflightError | undefined {
  const found = tlsErrorIn(err);
  if (found === undefined) return undefined;
  const code = found.code;
  let detail = found.message.split('\n')[0].trim();
  // OpenSSL's own text (`…:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:…`): its reason.
  const openssl = /:error:[0-9A-F]+:[^:]*:[^:]*:([^:]+)/.exec(detail);
  if (openssl) detail = openssl[1];
  let what: string;
  let hint: string;
  if (HOSTNAME.has(code)) {
    what = `its certificate is not for this host name (${code})`;
    hint = "use the host name the certificate was issued for in target.url (see the certificate's subjectAltName)";
  } else if (EXPIRED.has(code)) {
    what = `its certificate is not valid now (${code})`;
    hint = 'renew the server certificate (check the clocks); tls.insecure: true skips verification';
  } else if (NOT_TLS.has(code) && (code !== 'EPROTO' || /wrong version number|packet length too long/i.test(detail))) {
    what = `it does not speak TLS (${code})`;
    hint = 'use http:// if the server serves plain HTTP';
  } else if (code === 'EPROTO') {
    what = `the TLS handshake failed (${code})`;
    hint = 'check that the target serves HTTPS on this port (does it require a client certificate?)';
  } else {
    what = `its certificate is not trusted (${code})`;
    hint = tls.ca
      ? 'the CA in tls.caFile did not sign the server certificate: give the CA that did (PEM), or tls.insecure: true to skip verification'
      : 'give the CA that signed the server certificate as tls.caFile (PEM), or tls.insecure: true to skip verification';
  }
  const message = `cannot talk to ${origin} over TLS: ${what}. Nothing was sent.`;
  return new PreflightError('E_TARGET_UNREACHABLE', message, {
    cause: err,
    problems: [{ path: 'target.tls', message: detail, hint }],
  });
}
