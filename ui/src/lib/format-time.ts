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
  const isSameYear = new Date(ms).getFullYear() === new Date(nowMs).getFullYear();
  return (isSameYear ? DATE : DATE_WITH_YEAR).format(ms);
}

// Formatters are made once: building one per call (as toLocaleTimeString does) costs more than drawing a row.
const CLOCK = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const DATE = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long' });
const DATE_WITH_YEAR = new Intl.DateTimeFormat(undefined, {
  weekday: 'long',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
});

export function clockTime(ms: number): string {
  return CLOCK.format(ms);
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
