/**
 * A file sent to the browser as a download (a backup, a received file): `Content-Disposition: attachment` so it
 * is saved, never shown; a generic type and nosniff so no browser reads it as a page or a script; the non-page
 * CSP in case it is opened anyway; never cached. The name in the header is made safe for any browser: printable
 * ASCII without quotes or backslashes in `filename`, the exact name (UTF-8, percent-encoded) in `filename*`.
 */
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { NON_PAGE_HEADERS } from './security-headers.ts';

export function downloadHeaders(fileName: string, bytes: number): Record<string, string | number> {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\%;]/g, '_');
  return {
    ...NON_PAGE_HEADERS,
    'content-type': 'application/octet-stream',
    'content-disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`,
    'content-length': bytes,
    'cache-control': 'no-store',
  };
}

export function sendDownload(res: ServerResponse, fileName: string, bytes: Uint8Array): void {
  res.writeHead(200, downloadHeaders(fileName, bytes.length));
  res.end(bytes);
}

/** Streams a file of known size; a read error mid-way cuts the connection (the browser sees a failed download). */
export function streamDownload(res: ServerResponse, fileName: string, bytes: number, source: Readable): void {
  res.writeHead(200, downloadHeaders(fileName, bytes));
  source.on('error', () => res.destroy());
  res.on('close', () => source.destroy());
  source.pipe(res);
}
