/**
 * The real HttpRequester for the UPnP client (src/net/port-mapping): one plain-HTTP request to the gateway, no
 * redirects, no keep-alive, the answer's body cut off past `maxResponseBytes`, the whole exchange bounded by
 * `timeoutMs`. Every failure is a value.
 */
import { request as httpRequest } from 'node:http';
import type { HttpRequester, HttpResult } from '../net/index.ts';

export const gatewayHttp: HttpRequester = (request) =>
  new Promise<HttpResult>((resolve) => {
    let isDone = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (result: HttpResult): void => {
      if (isDone) return;
      isDone = true;
      clearTimeout(timer);
      resolve(result);
    };
    const body = request.body === undefined ? undefined : Buffer.from(request.body, 'utf8');
    const req = httpRequest(
      request.url,
      {
        method: request.method,
        agent: false,
        headers: {
          ...request.headers,
          Connection: 'close',
          ...(body === undefined ? {} : { 'Content-Length': String(body.length) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > request.maxResponseBytes) {
            req.destroy();
            finish({ ok: false, reason: `answer over ${request.maxResponseBytes} bytes` });
          } else {
            chunks.push(chunk);
          }
        });
        res.on('end', () =>
          finish({ ok: true, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', (error) => finish({ ok: false, reason: error.message }));
      },
    );
    timer = setTimeout(() => {
      req.destroy();
      finish({ ok: false, reason: `no answer within ${request.timeoutMs} ms` });
    }, request.timeoutMs);
    timer.unref();
    req.on('error', (error) => finish({ ok: false, reason: error.message }));
    req.end(body);
  });
