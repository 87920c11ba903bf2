/**
 * Message text split into plain text and web addresses. Only `http://` and `https://` addresses become links
 * (anything else — `javascript:`, `data:`, `file:` — stays text), and even those open only after the user saw
 * the whole address and confirmed (components/link-dialog.tsx), with `rel="noopener noreferrer"`.
 */

export type TextPart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'url'; readonly url: string };

/** A web address: scheme, then no white space; trailing punctuation that usually ends a sentence is left out. */
const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING = /[.,;:!?)\]}]+$/;
/** Longer messages are shown as text only: scanning them is not worth it. */
const MAX_SCANNED_CHARS = 16_384;

export function splitLinks(text: string): TextPart[] {
  if (text.length > MAX_SCANNED_CHARS || !/https?:\/\//i.test(text)) return [{ kind: 'text', text }];
  const parts: TextPart[] = [];
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const raw = match[0];
    const url = raw.replace(TRAILING, '');
    const start = match.index;
    if (!isWebUrl(url)) continue;
    if (start > last) parts.push({ kind: 'text', text: text.slice(last, start) });
    parts.push({ kind: 'url', url });
    last = start + url.length;
  }
  if (last < text.length) parts.push({ kind: 'text', text: text.slice(last) });
  return parts;
}

/** True only for a well-formed http(s) URL (the URL parser decides, not the pattern). */
export function isWebUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
