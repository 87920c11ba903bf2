/** HTTP requests with exactly the headers a test gives (fetch always sends its own Host), for the local API. */
import { type IncomingHttpHeaders, request } from 'node:http';

export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  code: string | undefined;
}

/**
 * One request with exactly the headers given (fetch always sends its own Host): host undefined sends none.
 * Answers the status, the headers and the error code, if any.
 */
export function rawRequest(
  port: number,
  opts: { host?: string; headers?: Record<string, string>; method?: string; path?: string },
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: opts.method ?? 'GET',
        path: opts.path ?? '/v1/id',
        setHost: false,
        headers: { ...(opts.host === undefined ? {} : { host: opts.host }), ...opts.headers },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString();
        });
        res.on('end', () => {
          const body = JSON.parse(text) as { error?: { code?: string } };
          resolve({ status: res.statusCode ?? 0, headers: res.headers, code: body.error?.code });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('no answer in 10 s')));
    req.end();
  });
}
