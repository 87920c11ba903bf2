/**
 * The local API's wall in front of the token: it refuses what a web page in the user's browser can send it.
 *
 * - DNS rebinding: a page at attacker.example whose name is re-pointed to 127.0.0.1 reaches the API as if it were
 *   its own origin, but its requests say `Host: attacker.example:<port>`. Only `127.0.0.1:<port>`,
 *   `localhost:<port>` and `[::1]:<port>` (the API's own port) pass; a request without Host is refused too.
 * - Cross-site requests (CSRF): a foreign page's fetch or form post carries its `Origin`, or `Origin: null` from a
 *   sandboxed frame or a file: page. Only the API's own origins (`http://` + an accepted Host) pass; the CLI and
 *   curl send no Origin. Browsers that send `Sec-Fetch-Site` say `cross-site`, or `same-site` for another port of
 *   localhost (another local web app), even where no Origin is sent (a plain GET): both are refused.
 *
 * The token alone already stops these (a page cannot read api.json); this wall keeps a page away from the routes
 * should the token ever leak into one, and it is the only wall for what comes before the token check.
 */
import type { IncomingHttpHeaders } from 'node:http';

export const ForbiddenCode = {
  host: 'APP_API_FORBIDDEN_HOST',
  origin: 'APP_API_FORBIDDEN_ORIGIN',
} as const;

export interface Forbidden {
  readonly code: (typeof ForbiddenCode)[keyof typeof ForbiddenCode];
  readonly message: string;
}

/** What Sec-Fetch-Site may say: the API's own page, or the user typing the address. */
const ALLOWED_FETCH_SITES: ReadonlySet<string> = new Set(['same-origin', 'none']);

/** Why a request must be refused with 403 before anything else is looked at, or undefined when it may go on. */
export function forbiddenRequest(headers: IncomingHttpHeaders, port: number): Forbidden | undefined {
  const hosts = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
  const host = headers.host?.toLowerCase();
  if (host === undefined || !hosts.includes(host)) {
    return { code: ForbiddenCode.host, message: `the API answers only to Host ${hosts.join(', ')}` };
  }
  const origin = headers.origin?.toLowerCase();
  if (origin !== undefined && !hosts.some((h) => origin === `http://${h}`)) {
    return { code: ForbiddenCode.origin, message: 'the API does not answer requests from other origins' };
  }
  const site = headers['sec-fetch-site'];
  if (typeof site === 'string' && !ALLOWED_FETCH_SITES.has(site.toLowerCase())) {
    return { code: ForbiddenCode.origin, message: `the API does not answer ${site} requests` };
  }
  return undefined;
}
