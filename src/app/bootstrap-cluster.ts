/**
 * Every core busy: the primary forks node:cluster workers that serve the same UDP port, each with its own node
 * buffer, ping queue and recent-requester set (like the reference's threads). With the batched addon each worker
 * binds its own SO_REUSEPORT socket and the kernel spreads sources over them by their address hash; without it
 * (Node 20's dgram has no SO_REUSEPORT) the workers share one socket through cluster's handle passing
 * (exclusive: false) and the kernel hands each datagram to whichever worker reads first. Either way a pong may
 * reach another worker than the one that pinged: every worker gets the same master secret, so SYN cookies
 * verify everywhere.
 *
 * The primary prints the listening line once every worker is bound, sums the workers' stats every interval and
 * on SIGHUP, and on SIGINT/SIGTERM asks each worker to save its buffer and exit.
 */
import cluster, { type Worker } from 'node:cluster';
import dgram from 'node:dgram';
import type { BootstrapStatsSnapshot } from '../bootstrap/index.ts';
import { sumSnapshots } from '../bootstrap/index.ts';
import type { UdpAddress } from '../runtime/index.ts';
import type { BootstrapCliOptions, SharedWorkerSettings } from './bootstrap-command.ts';
import { emit, untilSignalled } from './bootstrap-output.ts';
import { type BootstrapWorkerConfig, startBootstrapWorker } from './bootstrap-worker.ts';

const WORKER_ENV = 'DHTCHAT_BOOTSTRAP_WORKER';
const STATS_REPLY_TIMEOUT_MS = 1_000;
const SHUTDOWN_TIMEOUT_MS = 15_000;

type ToWorker =
  | {
      type: 'config';
      workerIndex: number;
      masterSecret: string;
      ids: string[];
      port: number;
      crossPollinate?: UdpAddress;
    }
  | { type: 'stats'; seq: number }
  | { type: 'shutdown' };
type FromWorker =
  | { type: 'ready' }
  | { type: 'listening'; port: number }
  | { type: 'stats'; seq: number; snapshot: BootstrapStatsSnapshot & { sendErrors: number } };

export function isBootstrapWorkerProcess(): boolean {
  return process.env[WORKER_ENV] !== undefined;
}

export async function runBootstrapPrimary(
  options: BootstrapCliOptions,
  shared: Omit<SharedWorkerSettings, 'workerIndex'>,
): Promise<void> {
  // Port 0: pick one now so every worker binds the same port.
  const port = shared.port === 0 ? await freePort(options.host) : shared.port;
  const workers = new Map<number, Worker>();
  let isShuttingDown = false;
  let listening = 0;
  let onAllListening: () => void = () => {};
  const allListening = new Promise<void>((resolve) => {
    onAllListening = resolve;
  });
  const pendingStats = new Map<number, { replies: FromWorker[]; done: () => void }>();
  let statsSeq = 0;

  const sendConfig = (worker: Worker, workerIndex: number): void =>
    send(worker, {
      type: 'config',
      workerIndex,
      masterSecret: shared.masterSecret.toString('hex'),
      ids: shared.ids.map((id) => id.toString('hex')),
      port,
      crossPollinate: shared.crossPollinate,
    });
  const fork = (workerIndex: number): void => {
    const worker = cluster.fork({ [WORKER_ENV]: String(workerIndex) });
    workers.set(workerIndex, worker);
    worker.on('message', (message: FromWorker) => {
      // The worker asks for its config once its message listener is attached (earlier messages would be lost).
      if (message.type === 'ready') sendConfig(worker, workerIndex);
      if (message.type === 'listening' && ++listening === options.workers) onAllListening();
      if (message.type === 'stats') {
        const pending = pendingStats.get(message.seq);
        pending?.replies.push(message);
        if (pending !== undefined && pending.replies.length >= workers.size) pending.done();
      }
    });
    worker.on('exit', (code, signal) => {
      workers.delete(workerIndex);
      if (isShuttingDown) return;
      process.stderr.write(
        `${JSON.stringify({ level: 'warn', event: 'worker-exit', workerIndex, code, signal })}\n`,
      );
      if (code !== 0) fork(workerIndex);
    });
  };
  for (let i = 0; i < options.workers; i++) fork(i);
  await allListening;
  emit({
    event: 'listening',
    host: options.host,
    port,
    id: shared.ids[0]!.toString('hex'),
    workers: options.workers,
  });

  const printStats = (): void => {
    void collectStats().then((sum) => emit({ event: 'stats', workers: workers.size, ...sum }));
  };
  const collectStats = async (): Promise<BootstrapStatsSnapshot> => {
    const seq = ++statsSeq;
    const replies: FromWorker[] = [];
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, STATS_REPLY_TIMEOUT_MS);
      pendingStats.set(seq, {
        replies,
        done: () => {
          clearTimeout(timer);
          resolve();
        },
      });
      for (const worker of workers.values()) send(worker, { type: 'stats', seq });
    });
    pendingStats.delete(seq);
    return sumSnapshots(replies.flatMap((r) => (r.type === 'stats' ? [r.snapshot] : [])));
  };
  await untilSignalled(printStats, options.statsInterval);
  isShuttingDown = true;
  await Promise.all(
    [...workers.values()].map(
      (worker) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            worker.kill('SIGKILL');
            resolve();
          }, SHUTDOWN_TIMEOUT_MS);
          worker.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          send(worker, { type: 'shutdown' });
        }),
    ),
  );
}

/** The worker side: waits for its config from the primary, serves until told to stop (or signalled). */
export async function runBootstrapWorkerProcess(
  makeConfig: (shared: SharedWorkerSettings) => BootstrapWorkerConfig,
): Promise<void> {
  const config = await new Promise<Extract<ToWorker, { type: 'config' }>>((resolve) => {
    const onMessage = (message: ToWorker): void => {
      if (message.type !== 'config') return;
      process.off('message', onMessage);
      resolve(message);
    };
    process.on('message', onMessage);
    process.send?.({ type: 'ready' } satisfies FromWorker);
  });
  const worker = await startBootstrapWorker(
    makeConfig({
      workerIndex: config.workerIndex,
      masterSecret: Buffer.from(config.masterSecret, 'hex'),
      ids: config.ids.map((id) => Buffer.from(id, 'hex')),
      port: config.port,
      crossPollinate: config.crossPollinate,
    }),
  );
  process.send?.({ type: 'listening', port: worker.address.port } satisfies FromWorker);
  await new Promise<void>((resolve) => {
    const onMessage = (message: ToWorker): void => {
      if (message.type === 'stats') {
        process.send?.({ type: 'stats', seq: message.seq, snapshot: worker.snapshot() } satisfies FromWorker);
      } else if (message.type === 'shutdown') {
        resolve();
      }
    };
    process.on('message', onMessage);
    // A terminal's Ctrl-C reaches the whole process group: save and leave like on shutdown.
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    process.on('SIGHUP', () => {}); // the primary prints stats
  });
  worker.stop();
  process.exit(0);
}

function send(worker: Worker, message: ToWorker): void {
  try {
    worker.send(message);
  } catch {
    // The worker is gone; its exit handler deals with it.
  }
}

function freePort(host: string): Promise<number> {
  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, host, () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}
