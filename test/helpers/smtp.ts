/**
 * A real SMTP server on 127.0.0.1 (the smtp-server package) that keeps every message it
 * receives, parsed with mailparser, and whether the session had upgraded to TLS.
 * With `tls`, it offers STARTTLS with that key and certificate and refuses mail on a plain
 * session, so a test proves the client upgraded.
 */
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A received mail. */
interface ReceivedMail {
  mail: ParsedMail;
  secure: boolean;
  user?: string;
  rcptTo: string[];
}

/** The running server. */
export interface SmtpServer {
  port: number;
  received: ReceivedMail[];
  stop(): Promise<void>;
}

/** Start the server; `auth` requires that user and password. */
export async function startSmtp(options: {
  auth?: { user: string; password: string };
  tls?: { key: Buffer | string; cert: Buffer | string };
}): Promise<SmtpServer> {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    secure: false,
    hideSTARTTLS: !options.tls,
    ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}),
    authOptional: !options.auth,
    allowInsecureAuth: !options.tls,
    logger: false,
    onAuth(auth, _session, cb) {
      if (options.auth && auth.username === options.auth.user && auth.password === options.auth.password)
        cb(null, { user: auth.username });
      else cb(new Error('Invalid username or password'));
    },
    onMailFrom(_address, session, cb) {
      if (options.tls && !session.secure)
        cb(Object.assign(new Error('Must issue STARTTLS first'), { responseCode: 530 }));
      else cb();
    },
    onData(stream, session, cb) {
      simpleParser(stream)
        .then((mail) => {
          received.push({
            mail,
            secure: session.secure,
            user: session.user as string | undefined,
            rcptTo: session.envelope.rcptTo.map((r) => r.address),
          });
          cb();
        })
        .catch(cb);
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.server.address() as { port: number }).port;
  return { port, received, stop: () => new Promise<void>((r) => server.close(() => r())) };
}
