/**
 * Sending one notification email over SMTP with nodemailer: the server's URL comes from an
 * environment variable (`smtp://user:password@host:587`, or `smtps://` for TLS from the
 * start); on `smtp://`, STARTTLS is used whenever the server offers it.
 */
import nodemailer from 'nodemailer';
import { DeliveryError } from './http-post.js';
import { firstLine, networkReason, socketAddress } from './network-error.js';
import type { EmailMessage } from './channels/email.js';

/** Where and to whom. */
export interface EmailEnvelope {
  smtpUrl: string;
  from: string;
  to: string[];
}

/** What nodemailer throws: its own code (ESOCKET, EDNS, …) over the system's, kept as originalCode. */
interface MailError extends Error {
  code?: string;
  originalCode?: string;
  responseCode?: number;
  response?: string;
  /** OpenSSL's reason, shorter than its message. */
  reason?: string;
  address?: string;
  port?: number;
}

/** Mail errors worth another try: the connection, a timeout, or a 4xx (transient) answer. */
function retryable(err: MailError): boolean {
  if (err.responseCode) return err.responseCode >= 400 && err.responseCode < 500;
  return ['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ECONNREFUSED'].includes(err.code ?? '');
}

/**
 * A failed send as a DeliveryError: the server's answer, else the connection's failure in the
 * system's terms ("connection refused (127.0.0.1:25)"), not nodemailer's ESOCKET that hides it.
 */
function mailFailure(e: MailError): DeliveryError {
  if (e.responseCode)
    return new DeliveryError(`SMTP ${e.responseCode}: ${(e.response ?? '').slice(0, 200)}`, retryable(e));
  const detail = firstLine(e.reason ?? e.message);
  const reason = networkReason(e.originalCode, detail, socketAddress(e));
  if (reason) return new DeliveryError(reason.message, reason.retryable);
  return new DeliveryError(`${detail || 'no answer'}${e.code ? ` [${e.code}]` : ''}`, retryable(e));
}

/** Send `message`; throws a DeliveryError that never contains the URL or the password. */
export async function sendEmail(envelope: EmailEnvelope, message: EmailMessage, timeoutMs: number): Promise<void> {
  let url: URL;
  try {
    url = new URL(envelope.smtpUrl);
  } catch {
    throw new DeliveryError('the SMTP URL is not a URL (expected smtp://user:password@host:587)', false);
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:')
    throw new DeliveryError(`the SMTP URL's scheme is ${url.protocol} (expected smtp: or smtps:)`, false);
  const transport = nodemailer.createTransport({
    url: envelope.smtpUrl,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  try {
    await transport.sendMail({ from: envelope.from, to: envelope.to, subject: message.subject, text: message.text });
  } catch (err) {
    throw mailFailure(err as MailError);
  } finally {
    transport.close();
  }
}
