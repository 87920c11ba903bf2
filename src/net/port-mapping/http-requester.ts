/**
 * HTTP as a seam for the UPnP client: one request, one bounded answer. The app supplies the real one (node:http,
 * no redirects, capped body, timeout); tests supply a fake gateway. It never throws: a refused connection, a
 * timeout or an answer over `maxResponseBytes` is `{ ok: false }` with the reason.
 */

export interface HttpRequest {
  method: 'GET' | 'POST';
  url: URL;
  headers: Record<string, string>;
  body?: string;
  /** The answer's body is refused past this many bytes. */
  maxResponseBytes: number;
  timeoutMs: number;
}

export type HttpResult = { ok: true; status: number; body: string } | { ok: false; reason: string };

export type HttpRequester = (request: HttpRequest) => Promise<HttpResult>;
