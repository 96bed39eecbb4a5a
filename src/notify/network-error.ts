/**
 * A failed connection as one line a user can act on, in the words the health checks use
 * ("connection refused (127.0.0.1:8080)", "host not found"), and whether another attempt
 * could go differently: a refused certificate or a blocked port fails the same way every time.
 */
import { CERTIFICATE_CODE, connectionFailure, type ConnectionFailure } from '../core/connection-failure.js';

/** Where a socket error happened: "127.0.0.1:8080", "[::1]:8080"; '' when the error does not say. */
export function socketAddress(err: { address?: unknown; port?: unknown } | undefined): string {
  if (typeof err?.address !== 'string' || !err.address) return '';
  const host = err.address.includes(':') ? `[${err.address}]` : err.address;
  return typeof err.port === 'number' ? `${host}:${err.port}` : host;
}

// A private CA is the usual cause of a refused certificate, and NODE_EXTRA_CA_CERTS its fix.
const TRUST_HINT = '(set NODE_EXTRA_CA_CERTS to trust it)';

/** A certificate code as one line, or null when `code` is no certificate code. */
function certificateReason(code: string, detail: string): string | null {
  if (!CERTIFICATE_CODE.test(code)) return null;
  switch (code) {
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      return `the TLS certificate is self-signed ${TRUST_HINT}`;
    case 'SELF_SIGNED_CERT_IN_CHAIN':
      return `the TLS certificate's chain ends in a CA Node does not trust ${TRUST_HINT}`;
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
      return `the TLS certificate's issuer is not trusted ${TRUST_HINT}`;
    case 'CERT_HAS_EXPIRED':
      return 'the TLS certificate has expired';
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return 'the TLS certificate is not for this host name';
  }
  return `the TLS certificate was rejected: ${detail} [${code}]; a private CA is trusted through NODE_EXTRA_CA_CERTS`;
}

/**
 * A system or TLS error code as one line, with `where` (the socket's address, never the URL)
 * when known; null for a code this does not know.
 */
export function networkReason(code: string | undefined, detail: string, where = ''): ConnectionFailure | null {
  if (code === undefined) return null;
  const failure = connectionFailure(code, where);
  if (failure) return failure;
  const certificate = certificateReason(code, detail);
  return certificate ? { message: certificate, retryable: false } : null;
}

/** The first line of `text`, without trailing blanks: OpenSSL's messages run over several. */
export function firstLine(text: string): string {
  return text.split('\n')[0].trim();
}
