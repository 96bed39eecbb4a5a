/** Credentials in an HTTP URL (a webhook's, a health check's), sent the way fetch accepts them. */

/**
 * The URL without `user:password@`, and those as a Basic Authorization header: fetch refuses
 * a URL that carries credentials, and a header also keeps them out of any redirect's URL.
 */
export function splitCredentials(url: string): { url: string; authorization?: string } {
  const u = new URL(url);
  if (!u.username && !u.password) return { url };
  const user = decodeURIComponent(u.username);
  const password = decodeURIComponent(u.password);
  u.username = '';
  u.password = '';
  return { url: u.toString(), authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}
