/**
 * Bounded load on 127.0.0.1 for the zero-downtime tests: `concurrency` clients sending GETs
 * one after another until `total` were sent and `until` (if given) has resolved, counting
 * statuses, connection errors and which version answered.
 */
import http from 'node:http';

/** What the load saw. */
export interface LoadResult {
  sent: number;
  statuses: Record<number, number>;
  /** Connection errors by code (ECONNRESET...). */
  errors: Record<string, number>;
  /** Body (the version that answered) → count, for 2xx answers. */
  versions: Record<string, number>;
  non2xx: number;
}

/** Run the load. */
export async function runLoad(o: {
  url: string;
  total: number;
  concurrency: number;
  keepAlive: boolean;
  until?: Promise<unknown>;
  path?: string;
  /** Headers of the n-th request (a split key, say). */
  headers?: (n: number) => Record<string, string>;
  /** Requests at most while `until` is pending (default five times `total`). */
  max?: number;
}): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: o.keepAlive, maxSockets: o.concurrency });
  const result: LoadResult = { sent: 0, statuses: {}, errors: {}, versions: {}, non2xx: 0 };
  let done = !o.until;
  void o.until?.finally(() => (done = true));
  const one = (n: number) =>
    new Promise<void>((resolve) => {
      // Without keep-alive, say so: Node's agent otherwise asks for keep-alive whenever
      // maxSockets is finite, and nginx keeps the connection open until the client closes it.
      const headers = { ...(o.keepAlive ? {} : { connection: 'close' }), ...o.headers?.(n) };
      const req = http.get(`${o.url}${o.path ?? '/'}`, { agent, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          const s = res.statusCode ?? 0;
          result.statuses[s] = (result.statuses[s] ?? 0) + 1;
          if (s >= 200 && s < 300) result.versions[body] = (result.versions[body] ?? 0) + 1;
          else result.non2xx++;
          resolve();
        });
        res.on('error', (e: NodeJS.ErrnoException) => {
          result.errors[e.code ?? 'error'] = (result.errors[e.code ?? 'error'] ?? 0) + 1;
          resolve();
        });
      });
      req.setTimeout(10_000, () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
      req.on('error', (e: NodeJS.ErrnoException) => {
        result.errors[e.code ?? 'error'] = (result.errors[e.code ?? 'error'] ?? 0) + 1;
        resolve();
      });
    });
  const worker = async () => {
    // Bounded: never more than five times the count (or max), however long the deploy takes.
    while ((result.sent < o.total || !done) && result.sent < (o.max ?? o.total * 5)) {
      await one(result.sent++);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  agent.destroy();
  return result;
}
