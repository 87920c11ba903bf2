/**
 * The few pages the daemon writes itself (no web client built, a used login link, not found): a title and one
 * paragraph, HTML-escaped, no script, no style (the CSP allows none inline); `color-scheme` lets the browser
 * draw it dark in dark mode.
 */

export function simplePage(title: string, text: string): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light dark">',
    `<title>${escapeHtml(title)}</title></head>`,
    `<body><main><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></main></body>`,
    '</html>',
  ].join('\n');
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
