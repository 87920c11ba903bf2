/**
 * The daemon's event stream (GET /v1/events, server-sent events) kept open. EventSource reconnects by itself
 * after a break and sends the last event id it saw, so the daemon replays what was missed — or, after a daemon
 * restart, answers `reset` and the client reloads its state. When EventSource gives up (an answer that is not a
 * stream, e.g. 401), a new one is opened with back-off; a new EventSource has no last id, so that counts as a
 * reset too.
 */
import type { ChatEvent } from './api-types.ts';

export type StreamStatus = 'connecting' | 'live' | 'down';

export interface StreamHandlers {
  onEvent(event: ChatEvent): void;
  /** Missed events cannot be replayed: reload everything. */
  onReset(): void;
  onStatus(status: StreamStatus): void;
}

const RETRY_MS = [1000, 2000, 4000, 8000, 15_000];

export function followEvents(handlers: StreamHandlers): () => void {
  let source: EventSource | undefined;
  let attempts = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let isStopped = false;
  let needsReset = false;

  const open = (): void => {
    handlers.onStatus('connecting');
    const current = new EventSource('/v1/events');
    source = current;
    current.onopen = () => {
      attempts = 0;
      handlers.onStatus('live');
      if (needsReset) {
        needsReset = false;
        handlers.onReset();
      }
    };
    current.onmessage = (message: MessageEvent<string>) => {
      let event: ChatEvent;
      try {
        event = JSON.parse(message.data) as ChatEvent;
      } catch {
        return;
      }
      if (event.event === 'reset') handlers.onReset();
      else handlers.onEvent(event);
    };
    current.onerror = () => {
      handlers.onStatus('down');
      if (current.readyState !== EventSource.CLOSED || isStopped) return;
      // EventSource gave up: start over (without a last id, so whatever happened meanwhile must be reloaded).
      needsReset = true;
      const delayMs = RETRY_MS[Math.min(attempts, RETRY_MS.length - 1)] ?? 15_000;
      attempts++;
      timer = setTimeout(open, delayMs);
    };
  };

  open();
  return () => {
    isStopped = true;
    if (timer !== undefined) clearTimeout(timer);
    source?.close();
  };
}
