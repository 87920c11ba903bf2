/** Times as people read them: a day heading, a message's clock time, "last seen" in words. */

const DAY_MS = 24 * 60 * 60_000;

/** The local day of a time, as a key (YYYY-MM-DD) for day separators. */
export function dayKey(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** "Today", "Yesterday", or the date. */
export function dayLabel(ms: number, nowMs: number = Date.now()): string {
  if (dayKey(ms) === dayKey(nowMs)) return 'Today';
  if (dayKey(ms) === dayKey(nowMs - DAY_MS)) return 'Yesterday';
  const sameYear = new Date(ms).getFullYear() === new Date(nowMs).getFullYear();
  return new Date(ms).toLocaleDateString(undefined, {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    ...(sameYear ? {} : { year: 'numeric' }),
  });
}

export function clockTime(ms: number): string {
  return new Date(ms).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

/** "just now", "5 min ago", "3 h ago", "2 days ago", or "never". */
export function lastSeenText(ms: number | null, nowMs: number = Date.now()): string {
  if (ms === null) return 'never';
  const ago = Math.max(0, nowMs - ms);
  if (ago < 60_000) return 'just now';
  if (ago < 60 * 60_000) return `${Math.floor(ago / 60_000)} min ago`;
  if (ago < DAY_MS) return `${Math.floor(ago / (60 * 60_000))} h ago`;
  const days = Math.floor(ago / DAY_MS);
  return days === 1 ? 'yesterday' : `${days} days ago`;
}
