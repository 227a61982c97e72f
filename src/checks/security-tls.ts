/**
 * TLS of an https:// target, for the security check: one handshake that accepts anything (to read the
 * certificate and say what is wrong with it rather than just failing), one that verifies as a client
 * would (chain against the system CAs or the plan's CA, hostname), and one limited to versions below
 * the plan's minimum, which must be refused. Every handshake has a deadline.
 */
import tls from 'node:tls';
import type { CheckFinding } from '../core/checks.js';
import type { TlsVersion } from '../plan/security-check.js';

export interface TlsFacts {
  findings: CheckFinding[];
  figures: Record<string, number | null>;
}

const BELOW: Record<TlsVersion, tls.SecureVersion> = { 'TLSv1.1': 'TLSv1', 'TLSv1.2': 'TLSv1.1', 'TLSv1.3': 'TLSv1.2' };
const VERSION_NUMBER: Record<string, number> = { TLSv1: 1.0, 'TLSv1.1': 1.1, 'TLSv1.2': 1.2, 'TLSv1.3': 1.3 };
const DAY_MS = 86_400_000;

interface Handshake {
  ok: boolean;
  error?: string;
  protocol?: string;
  authorized?: boolean;
  authorizationError?: string;
  cert?: tls.PeerCertificate;
  ms: number;
}

function handshake(
  host: string,
  port: number,
  options: tls.ConnectionOptions,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<Handshake> {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const servername = /^[\d.]+$|:/.test(host) ? undefined : host;
    const s = tls.connect({ host, port, ...(servername ? { servername } : {}), ...options });
    const done = (h: Omit<Handshake, 'ms'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      s.destroy();
      resolve({ ...h, ms: performance.now() - started });
    };
    const timer = setTimeout(() => done({ ok: false, error: `no handshake within ${timeoutMs} ms` }), timeoutMs);
    const onAbort = () => done({ ok: false, error: 'aborted' });
    signal.addEventListener('abort', onAbort, { once: true });
    s.once('secureConnect', () => {
      const cert = s.getPeerCertificate(true);
      done({
        ok: true,
        protocol: s.getProtocol() ?? undefined,
        authorized: s.authorized,
        ...(s.authorizationError ? { authorizationError: String(s.authorizationError) } : {}),
        ...(cert && Object.keys(cert).length > 0 ? { cert } : {}),
      });
    });
    s.once('error', (e: NodeJS.ErrnoException) => done({ ok: false, error: e.code ?? e.message }));
  });
}

/** The TLS findings for `origin` (an https:// origin). */
export async function checkTls(
  origin: string,
  opts: { warnDays: number; minVersion: TlsVersion; ca?: string; timeoutMs: number; signal: AbortSignal },
): Promise<TlsFacts> {
  const u = new URL(origin);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port || 443);
  const findings: CheckFinding[] = [];
  const figures: Record<string, number | null> = {
    days_to_expiry: null,
    handshake_ms: null,
    max_version: null,
    old_version_accepted: null,
  };

  // 1. What the server presents, whatever it is.
  const open = await handshake(host, port, { rejectUnauthorized: false }, opts.timeoutMs, opts.signal);
  if (!open.ok) {
    findings.push({ status: 'error', what: `TLS handshake with ${host}:${port}`, evidence: open.error });
    return { findings, figures };
  }
  figures['handshake_ms'] = open.ms;
  figures['max_version'] = VERSION_NUMBER[open.protocol ?? ''] ?? null;
  findings.push({
    status: 'pass',
    what: `negotiated ${open.protocol ?? 'unknown protocol'} (the highest both sides offer)`,
  });
  const cert = open.cert;
  if (!cert) {
    findings.push({ status: 'fail', what: 'server presented no certificate' });
    return { findings, figures };
  }
  const subject = cert.subjectaltname ?? `CN=${String(cert.subject?.CN ?? '?')}`;

  // 2. Expiry (and not-yet-valid).
  const notAfter = Date.parse(cert.valid_to);
  const notBefore = Date.parse(cert.valid_from);
  if (Number.isFinite(notAfter)) {
    const days = (notAfter - Date.now()) / DAY_MS;
    figures['days_to_expiry'] = Math.round(days * 100) / 100;
    const iso = new Date(notAfter).toISOString();
    const when =
      days <= 0 ? `expired ${iso} (${(-days).toFixed(1)} days ago)` : `expires ${iso} (${days.toFixed(1)} days)`;
    if (days <= 0) findings.push({ status: 'fail', what: `certificate expired`, evidence: when });
    else if (days < opts.warnDays)
      findings.push({ status: 'warn', what: `certificate expires within ${opts.warnDays} days`, evidence: when });
    else findings.push({ status: 'pass', what: `certificate ${when}` });
  }
  if (Number.isFinite(notBefore) && notBefore > Date.now())
    findings.push({ status: 'fail', what: 'certificate not valid yet', evidence: `valid from ${cert.valid_from}` });

  // 3. Hostname.
  const idErr = tls.checkServerIdentity(host, cert);
  findings.push(
    idErr
      ? {
          status: 'fail',
          what: `certificate not valid for ${host}`,
          evidence: `${idErr.message.slice(0, 160)} (${subject})`,
        }
      : { status: 'pass', what: `certificate valid for ${host}`, evidence: subject },
  );

  // 4. Chain, as a client verifying it would (against the plan's CA when given).
  const verified = await handshake(
    host,
    port,
    { rejectUnauthorized: false, ...(opts.ca ? { ca: opts.ca } : {}) },
    opts.timeoutMs,
    opts.signal,
  );
  if (!verified.ok)
    findings.push({
      status: 'error',
      what: 'second TLS handshake (chain verification) failed',
      evidence: verified.error,
    });
  else {
    // A hostname mismatch is reported above; here only the chain.
    const chainErr =
      verified.authorizationError === 'ERR_TLS_CERT_ALTNAME_INVALID' ? undefined : verified.authorizationError;
    findings.push(
      chainErr
        ? {
            status: 'fail',
            what: `certificate chain does not verify${opts.ca ? ' against the plan’s CA' : ''}`,
            evidence: `${chainErr} (issuer ${String(cert.issuer?.CN ?? '?')})`,
          }
        : { status: 'pass', what: `certificate chain verifies${opts.ca ? ' against the plan’s CA' : ''}` },
    );
  }

  // 5. Minimum version: a handshake offering only older versions must be refused. The client allows
  // every cipher (security level 0) so that a refusal is the server's, not this client's.
  const below = BELOW[opts.minVersion];
  const old = await handshake(
    host,
    port,
    { rejectUnauthorized: false, minVersion: 'TLSv1', maxVersion: below, ciphers: 'DEFAULT:@SECLEVEL=0' },
    opts.timeoutMs,
    opts.signal,
  );
  figures['old_version_accepted'] = old.ok ? 1 : 0;
  findings.push(
    old.ok
      ? {
          status: 'fail',
          what: `a handshake offering at most ${below} was accepted (minimum ${opts.minVersion})`,
          evidence: `negotiated ${old.protocol ?? '?'}`,
        }
      : { status: 'pass', what: `a handshake offering at most ${below} was refused`, evidence: old.error },
  );
  return { findings, figures };
}
