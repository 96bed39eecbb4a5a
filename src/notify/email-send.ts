/**
 * Sending one notification email over SMTP with nodemailer: the server's URL comes from an
 * environment variable (`smtp://user:password@host:587`, or `smtps://` for TLS from the
 * start); on `smtp://`, STARTTLS is used whenever the server offers it.
 */
import nodemailer from 'nodemailer';
import { DeliveryError } from './http-post.js';
import type { EmailMessage } from './channels/email.js';

/** Where and to whom. */
export interface EmailEnvelope {
  smtpUrl: string;
  from: string;
  to: string[];
}

/** Mail errors worth another try: the connection, a timeout, or a 4xx (transient) answer. */
function retryable(err: { code?: string; responseCode?: number }): boolean {
  if (err.responseCode) return err.responseCode >= 400 && err.responseCode < 500;
  return ['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ECONNREFUSED'].includes(err.code ?? '');
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
    const e = err as Error & { code?: string; responseCode?: number; response?: string };
    const why = e.responseCode ? `SMTP ${e.responseCode}: ${(e.response ?? '').slice(0, 200)}` : (e.code ?? e.message);
    throw new DeliveryError(why, retryable(e));
  } finally {
    transport.close();
  }
}
