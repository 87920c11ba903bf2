/**
 * The web client's files (dist/ui/, built by `vite build` from ui/) served as they are: a known content type
 * for each, the brotli or gzip twin the build wrote next to it when the browser takes it, and cache headers —
 * files under /assets/ have a content hash in their name and never change (cached for a year), everything else
 * is revalidated on every load (so a rebuilt client shows at the next reload).
 *
 * Only names made of [A-Za-z0-9._-] segments, without a leading dot, under the build directory are served:
 * no path from a request can leave it. Without a build, the page says to run `npm run build`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PAGE_HEADERS } from './security-headers.ts';
import { simplePage } from './simple-page.ts';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

export interface UiFiles {
  /** Where the build is (or would be). */
  readonly dir: string;
  /** True when dist/ui/index.html exists. */
  isBuilt(): boolean;
  /** Answers a GET or HEAD for a path outside /v1/ (404 when there is no such file). */
  serve(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void>;
}

export function uiFiles(dir: string = defaultUiDir()): UiFiles {
  const isBuilt = (): boolean => existsSync(join(dir, 'index.html'));
  return {
    dir,
    isBuilt,
    serve: async (req, res, pathname) => {
      const name = pathname === '/' ? 'index.html' : pathname.slice(1);
      if (name === 'index.html' && !isBuilt()) {
        sendPage(res, 503, notBuiltPage(dir));
        return;
      }
      const file = safeFile(dir, name);
      const type = file === undefined ? undefined : CONTENT_TYPES[extensionOf(file)];
      const info = file === undefined ? undefined : await stat(file).catch(() => undefined);
      if (file === undefined || type === undefined || info === undefined || !info.isFile()) {
        sendPage(res, 404, simplePage('Not found', 'There is no such page here.'));
        return;
      }
      const encoding = await pickEncoding(file, req.headers['accept-encoding']);
      const body = await readFile(encoding === undefined ? file : `${file}.${encoding.suffix}`);
      res.writeHead(200, {
        ...PAGE_HEADERS,
        'content-type': type,
        'content-length': body.length,
        'cache-control': name.startsWith('assets/') ? IMMUTABLE : REVALIDATE,
        vary: 'accept-encoding',
        ...(encoding === undefined ? {} : { 'content-encoding': encoding.name }),
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    },
  };
}

/** An HTML page answer with the page headers (used for the not-built, not-found and login pages). */
export function sendPage(
  res: ServerResponse,
  status: number,
  html: string,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...PAGE_HEADERS,
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'cache-control': 'no-store',
    ...extra,
  });
  res.end(html);
}

/** dist/ui/ of the package this code runs from: from src/app/web-client/ or from the dist/ bundle alike. */
export function defaultUiDir(): string {
  return join(packageRoot(dirname(fileURLToPath(import.meta.url))), 'dist', 'ui');
}

function packageRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown };
      if (pkg.name === 'dhtchat') return dir;
    } catch {
      // No package.json here: keep climbing.
    }
    if (dirname(dir) === dir) return resolve(start, '..', '..', '..');
  }
}

/** The file for a request path, or undefined when the name is not a plain relative path inside dir. */
function safeFile(dir: string, name: string): string | undefined {
  const segments = name.split('/');
  if (segments.some((s) => !/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/.test(s))) return undefined;
  const root = resolve(dir);
  const file = resolve(root, ...segments);
  return file.startsWith(root + sep) ? file : undefined;
}

function extensionOf(file: string): string {
  const dot = file.lastIndexOf('.');
  return dot < 0 ? '' : file.slice(dot);
}

interface Encoding {
  readonly name: 'br' | 'gzip';
  readonly suffix: 'br' | 'gz';
}

async function pickEncoding(file: string, accepted: string | undefined): Promise<Encoding | undefined> {
  const wanted = (accepted ?? '').toLowerCase();
  const candidates: Encoding[] = [
    { name: 'br', suffix: 'br' },
    { name: 'gzip', suffix: 'gz' },
  ];
  for (const encoding of candidates) {
    if (!wanted.includes(encoding.name)) continue;
    if ((await stat(`${file}.${encoding.suffix}`).catch(() => undefined))?.isFile() === true) return encoding;
  }
  return undefined;
}

function notBuiltPage(dir: string): string {
  return simplePage(
    'dhtchat: the web client is not built',
    `The daemon runs, but there is no web client in ${dir}. In the dhtchat folder, run: npm run build — then reload this page.`,
  );
}
