/**
 * A daemon's local API as a long-lived client sees it (a bot, the web client): api.json read once, connections
 * kept alive and reused. The CLI's callDaemon reads api.json and goes through fetch on every call, which would
 * make the benchmark's own client the bottleneck at thousands of calls a second on this 2-core machine.
 */
import { Agent, request } from 'node:http';
import { readApiFile } from '../src/app/chat-data-dir.ts';

const CALL_TIMEOUT_MS = 60_000;

export interface ApiConnection {
  post(path: string, body: Record<string, unknown>): Promise<unknown>;
  close(): void;
}

export async function connectApi(dataDir: string, maxSockets: number): Promise<ApiConnection> {
  const api = await readApiFile(dataDir);
  if (api === undefined) throw new Error(`no api.json in ${dataDir}`);
  const agent = new Agent({ keepAlive: true, maxSockets });
  const authorization = `Bearer ${api.token}`;
  const post = (path: string, body: Record<string, unknown>): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const payload = JSON.stringify(body);
      const req = request(
        {
          agent,
          host: '127.0.0.1',
          port: api.port,
          method: 'POST',
          path,
          timeout: CALL_TIMEOUT_MS,
          headers: {
            authorization,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode !== 200) reject(new Error(`POST ${path}: ${res.statusCode} ${text}`));
            else resolve(JSON.parse(text));
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`POST ${path}: no answer in ${CALL_TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  return { post, close: () => agent.destroy() };
}
