/**
 * Email: the subject and plain-text body of a notification. Sending is in ../email-send.ts.
 */
import { cut, plainText, type Notification } from '../message.js';

/** The message a mail carries. */
export interface EmailMessage {
  subject: string;
  text: string;
}

/** Subject and body for `n`; the subject stays on one line. */
export function emailMessage(n: Notification): EmailMessage {
  return { subject: cut(`[Slipway] ${n.title}`.replace(/\s+/g, ' '), 200), text: plainText(n) };
}
