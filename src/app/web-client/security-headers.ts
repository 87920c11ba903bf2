/**
 * The headers every answer of the daemon's HTTP server carries, pages and JSON alike.
 *
 * - The page may load scripts, styles, images and connections from its own origin only: no inline script, no
 *   eval, no plug-ins, no <base> rewriting, and it may not be framed (clickjacking). Images also allow data:
 *   (none is used today; the QR code is SVG elements drawn by the page).
 * - JSON and other non-page answers get `default-src 'none'`: opened as a document, they can do nothing.
 * - nosniff: a browser never guesses a script or page out of a JSON answer or a file with the wrong type.
 * - no-referrer: a login link, or the page's address, never leaves in a Referer header (a link clicked in a
 *   message opens with nothing).
 */

export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const NON_PAGE_CSP = "default-src 'none'; frame-ancestors 'none'";

const COMMON = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
} as const;

export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  ...COMMON,
  'content-security-policy': PAGE_CSP,
  // Features the client never uses stay off, whatever a bug might try.
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
};

export const NON_PAGE_HEADERS: Readonly<Record<string, string>> = {
  ...COMMON,
  'content-security-policy': NON_PAGE_CSP,
};
