/**
 * Calls to the daemon's local API from the page: same origin, the HttpOnly session cookie goes along by itself
 * (the page never sees a token), bodies are JSON (the daemon refuses a cookie-borne POST that is not). An error
 * answer becomes an ApiError with the daemon's code and its message, worded as the CLI words it.
 */

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Called on a 401: the session cookie is gone or was never set (the page then asks to log in). */
let onSignedOut: () => void = () => {};

export function whenSignedOut(handler: () => void): void {
  onSignedOut = handler;
}

export function apiGet<T>(path: string): Promise<T> {
  return call<T>('GET', path);
}

export function apiPost<T>(path: string, body: Record<string, unknown> = {}): Promise<T> {
  return call<T>('POST', path, body);
}

async function call<T>(method: 'GET' | 'POST', path: string, body?: Record<string, unknown>): Promise<T> {
  const response = await send(method, path, body);
  const value: unknown = await response.json().catch(() => undefined);
  if (response.ok) return value as T;
  throw errorOf(response, value);
}

/** A POST answered with a file (an attachment): its bytes and the name the daemon gave it. */
export async function apiDownload(
  path: string,
  body: Record<string, unknown>,
): Promise<{ blob: Blob; fileName: string }> {
  const response = await send('POST', path, body);
  if (!response.ok) throw errorOf(response, await response.json().catch(() => undefined));
  const disposition = response.headers.get('content-disposition') ?? '';
  const fileName = /filename="([^"]+)"/.exec(disposition)?.[1] ?? 'download';
  return { blob: await response.blob(), fileName };
}

async function send(method: 'GET' | 'POST', path: string, body?: Record<string, unknown>): Promise<Response> {
  try {
    return await fetch(path, {
      method,
      credentials: 'same-origin',
      cache: 'no-store',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiError(0, 'NO_DAEMON', 'the dhtchat daemon does not answer (is it running?)');
  }
}

function errorOf(response: Response, value: unknown): ApiError {
  if (response.status === 401) onSignedOut();
  const error = (value as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  return new ApiError(
    response.status,
    typeof error?.code === 'string' ? error.code : `HTTP_${response.status}`,
    typeof error?.message === 'string' ? error.message : `the daemon answered ${response.status}`,
  );
}

/** True for "this daemon has no such call" (a route another version adds). */
export function isMissingRoute(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404 && error.code === 'APP_API_NOT_FOUND';
}
