/**
 * A failed connection in the words every part of Slipway uses ("connection refused
 * (127.0.0.1:8080)", "host not found"), and whether another attempt could go differently.
 */

/** What to say about a failed connection, and whether to try again. */
export interface ConnectionFailure {
  message: string;
  retryable: boolean;
}

/** Node's certificate codes: another attempt meets the same certificate. */
export const CERTIFICATE_CODE = /^(CERT_|ERR_TLS_CERT|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED|SELF_SIGNED_CERT|ERR_SSL_)/;

/**
 * A system error code as one line, with `where` (an address, never a URL) when known; null
 * for a code that is no connection failure (a certificate's among them).
 */
export function connectionFailure(code: string | undefined, where = ''): ConnectionFailure | null {
  const at = where ? ` (${where})` : '';
  switch (code) {
    case 'ECONNREFUSED':
      return { message: `connection refused${at}`, retryable: true };
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return { message: `connection reset${at}`, retryable: true };
    // EAI_AGAIN is a resolver that did not answer: worth another try, as a name not found may be.
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { message: `host not found${at}`, retryable: true };
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return { message: `connection timed out${at}`, retryable: true };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return { message: `host unreachable${at}`, retryable: true };
  }
  return null;
}
