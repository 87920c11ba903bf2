/**
 * The client side of the daemon's local API (chat-api-server.ts): finds the daemon through api.json in the data
 * dir and calls it with the token. No api.json, a refused connection or a token that no longer matches all mean
 * the same to the user: no daemon is running for this data dir (APP_NO_DAEMON, one line, exit 1).
 */
import { DhtchatError } from '../runtime/index.ts';
import { ChatAppErrorCode, readApiFile } from './chat-data-dir.ts';

/** Long enough for an add or send that waits on the DHT; a hung daemon still ends the command. */
const REQUEST_TIMEOUT_MS = 60_000;

export async function callDaemon(
  dataDir: string,
  method: 'GET' | 'POST',
  path: string,
  body?: Record<string, unknown>,
): Promise<unknown> {
  const noDaemon = (detail = ''): DhtchatError =>
    new DhtchatError(ChatAppErrorCode.noDaemon, `no daemon running for data dir ${dataDir}${detail}`);
  const api = await readApiFile(dataDir);
  if (api === undefined) throw noDaemon();
  let response: Response;
  try {
    response = await fetch(`http://127.0.0.1:${api.port}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${api.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (cause) {
    if (isTimeout(cause)) {
      throw new DhtchatError('APP_TIMEOUT', `the daemon did not answer in ${REQUEST_TIMEOUT_MS / 1000} s`, {
        cause,
      });
    }
    // Connection refused: the daemon died without removing api.json (kill -9, crash).
    throw noDaemon(' (stale api.json)');
  }
  const text = await response.text();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw noDaemon(` (port ${api.port} is not a dhtchat daemon)`);
  }
  if (response.status === 401) throw noDaemon(' (api.json belongs to an older daemon)');
  if (!response.ok) {
    const error = (value as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    const code = typeof error?.code === 'string' ? error.code : 'APP_API_ERROR';
    const message = typeof error?.message === 'string' ? error.message : `daemon answered ${response.status}`;
    throw new DhtchatError(code, message);
  }
  return value;
}

/** Why followDaemonEvents returned: the caller stopped it, or the daemon went away mid-stream. */
export type EventStreamEnd = 'stopped' | 'daemon-gone';

/** An event longer than this is not one of ours (a message is at most 16 KiB of text, ~100 KiB as JSON). */
const MAX_EVENT_CHARS = 1024 * 1024;

/**
 * Follows the daemon's event stream (GET /v1/events), calling onEvent with each event object in order (awaiting
 * it), until signal aborts ('stopped') or the stream ends or breaks ('daemon-gone': the daemon stopped or died).
 * No daemon to connect to at all is APP_NO_DAEMON, as for every other client call.
 */
export async function followDaemonEvents(
  dataDir: string,
  onEvent: (event: Record<string, unknown>) => void | Promise<void>,
  signal: AbortSignal,
): Promise<EventStreamEnd> {
  const api = await readApiFile(dataDir);
  const gone = (detail = ''): DhtchatError =>
    new DhtchatError(ChatAppErrorCode.noDaemon, `no daemon running for data dir ${dataDir}${detail}`);
  if (api === undefined) throw gone();
  let response: Response;
  try {
    response = await fetch(`http://127.0.0.1:${api.port}/v1/events`, {
      headers: { authorization: `Bearer ${api.token}` },
      signal,
    });
  } catch (cause) {
    if (signal.aborted) return 'stopped';
    throw new DhtchatError(ChatAppErrorCode.noDaemon, `no daemon running for data dir ${dataDir}`, { cause });
  }
  if (response.status === 401) throw gone(' (api.json belongs to an older daemon)');
  if (!response.ok || response.body === null) throw gone(` (the daemon answered ${response.status})`);
  const decoder = new TextDecoder();
  let pending = '';
  const reader = response.body[Symbol.asyncIterator]();
  for (;;) {
    let chunk: IteratorResult<Uint8Array>;
    try {
      chunk = await reader.next();
    } catch {
      // A reset connection: the daemon was killed, or we aborted.
      return signal.aborted ? 'stopped' : 'daemon-gone';
    }
    if (chunk.done === true) return signal.aborted ? 'stopped' : 'daemon-gone';
    pending += decoder.decode(chunk.value, { stream: true });
    let end = pending.indexOf('\n\n');
    while (end >= 0) {
      const block = pending.slice(0, end);
      pending = pending.slice(end + 2);
      for (const line of block.split('\n')) {
        if (line.startsWith('data: ')) await onEvent(parseEvent(line.slice(6)));
      }
      end = pending.indexOf('\n\n');
    }
    if (pending.length > MAX_EVENT_CHARS) {
      throw new DhtchatError(
        'APP_API_BAD_EVENT',
        `the daemon sent an event over ${MAX_EVENT_CHARS} characters`,
      );
    }
  }
}

function parseEvent(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  } catch {
    // Reported below.
  }
  throw new DhtchatError('APP_API_BAD_EVENT', 'the daemon sent an event that is not a JSON object');
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}
