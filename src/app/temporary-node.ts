/**
 * The one-shot commands' node: binds a random UDP port, joins the DHT through the bootstrap list (default: the
 * Mainline routers), runs one action, and closes. An overall deadline turns a hung network into an error.
 */
import type { DhtNode } from '../dht/index.ts';
import {
  cryptoRandom,
  DhtchatError,
  jsonLinesLogger,
  type Logger,
  nullLogger,
  systemClock,
  type UdpAddress,
  UdpTransport,
  messageOf,
} from '../runtime/index.ts';
import { DEFAULT_BOOTSTRAP_ROUTERS } from './default-routers.ts';
import type { OneShotFlags } from './dht-options.ts';
import { type HostPort, resolveHostPorts } from './parse-args.ts';

export interface TemporaryNodeOptions {
  bootstrap?: readonly HostPort[];
  allowPrivate?: boolean;
  /** Skip joining the DHT (ping talks to one named address only). */
  isStandalone?: boolean;
  timeoutMs: number;
}

/** Set DHTCHAT_DEBUG=1 to see the temporary node's logs on stderr. */
function debugLogger(): Logger {
  return process.env['DHTCHAT_DEBUG']
    ? jsonLinesLogger((line) => process.stderr.write(line), 'debug')
    : nullLogger;
}

/** The family to bind: IPv4 unless every bootstrap address is IPv6. */
function bindHostFor(addresses: readonly UdpAddress[]): string {
  return addresses.length > 0 && addresses.every((a) => a.host.includes(':')) ? '::' : '0.0.0.0';
}

export async function withTemporaryNode<T>(
  options: TemporaryNodeOptions,
  action: (node: DhtNode) => Promise<T>,
): Promise<T> {
  const bootstrap = options.isStandalone
    ? []
    : await resolveHostPorts(options.bootstrap ?? DEFAULT_BOOTSTRAP_ROUTERS);
  // Loaded on demand so that --help and usage errors stay fast.
  const { DhtNode } = await import('../dht/index.ts');
  const transport = await UdpTransport.bind({ host: bindHostFor(bootstrap), port: 0 });
  const node = new DhtNode({
    transport,
    clock: systemClock,
    random: cryptoRandom,
    logger: debugLogger(),
    bootstrap,
    allowPrivate: options.allowPrivate ?? false,
    // BEP 43: a node that lives for one command must not enter others' routing tables (they would keep
    // querying a closed port and wait out its timeouts).
    readOnly: true,
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new DhtchatError('APP_TIMEOUT', `gave up after ${Math.round(options.timeoutMs / 1000)} s`));
    }, options.timeoutMs);
  });
  try {
    return await Promise.race([deadline, run(node, bootstrap, options, action)]);
  } finally {
    clearTimeout(timer);
    node.close();
    transport.close();
  }
}

async function run<T>(
  node: DhtNode,
  bootstrap: readonly UdpAddress[],
  options: TemporaryNodeOptions,
  action: (node: DhtNode) => Promise<T>,
): Promise<T> {
  if (!options.isStandalone) {
    try {
      await node.start();
    } catch (cause) {
      throw new DhtchatError('APP_BOOTSTRAP_FAILED', `could not join the DHT: ${messageOf(cause)}`, {
        cause,
      });
    }
    if (node.routingTableSize() === 0) {
      const tried = bootstrap.map((a) => `${a.host}:${a.port}`).join(', ');
      const hint = options.allowPrivate ? '' : ' (loopback/private addresses need --allow-private)';
      throw new DhtchatError(
        'APP_BOOTSTRAP_FAILED',
        `could not join the DHT: no node answered (${tried})${hint}`,
      );
    }
  }
  return action(node);
}

/** The temporary node's options from the shared one-shot flags. */
export function oneShot(flags: OneShotFlags): TemporaryNodeOptions {
  return {
    ...(flags.bootstrap === undefined ? {} : { bootstrap: flags.bootstrap }),
    allowPrivate: flags.allowPrivate ?? false,
    timeoutMs: flags.timeout,
  };
}
