/**
 * Telling the other side(s) that the user types: `typed(text)` on every input sends "typing" at most every 3 s
 * and "stopped" after 5 s without a key or when the text is cleared; `stop()` ends it at once (telling so), `sent()` after a message forgets it silently, and a
 * change of `key` (another conversation) ends it for the one left. One hook for the friend and group composers.
 */
import { useEffect, useRef } from 'preact/hooks';

const TYPING_REPEAT_MS = 3000;
const TYPING_IDLE_MS = 5000;

export function useTypingSignal(
  key: string,
  tell: (isTyping: boolean) => void,
): { typed(text: string): void; stop(): void; sent(): void } {
  const typingSentMs = useRef(0);
  const idleTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const stop = (): void => {
    clearTimeout(idleTimer.current);
    if (typingSentMs.current !== 0) tell(false);
    typingSentMs.current = 0;
  };
  useEffect(() => stop, [key]);
  const typed = (text: string): void => {
    if (text.trim().length === 0) {
      stop();
      return;
    }
    const now = Date.now();
    if (now - typingSentMs.current > TYPING_REPEAT_MS) {
      typingSentMs.current = now;
      tell(true);
    }
    clearTimeout(idleTimer.current);
    idleTimer.current = setTimeout(stop, TYPING_IDLE_MS);
  };
  /** A message went out: the other side ends "typing" on it, so nothing is told; the next key starts afresh. */
  const sent = (): void => {
    clearTimeout(idleTimer.current);
    typingSentMs.current = 0;
  };
  return { typed, stop, sent };
}
