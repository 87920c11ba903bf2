/**
 * What runs in the lab's Internet namespace: the probe server, and the DHT everyone joins.
 *
 *   nlab…-inet
 *     probe-server.ts            198.18.0.1:3478/3479, 198.18.0.2:3478/3479
 *     DHT, one of:
 *       libtorrent (default)     N libtorrent sessions, 198.18.i.10:6881 (libtorrent_internet.py): what the
 *                                public DHT nearly is, so nothing of ours answers dhtchat's own KRPC extension
 *       dhtchat                  `dhtchat testnet --host 198.18.1.20,…,198.18.N.20`: N dhtchat DhtNodes
 *
 *     volunteer relay            `dhtchat relay --host 198.18.0.3` (startVolunteerRelay), announced on the DHT
 *
 * Daemons join through a few of the nodes (`bootstrap`), with --allow-private (which admits 198.18.0.0/15).
 */
import { CLI_PATH } from '../helpers/cli-runner.ts';
import { SYSTEM_PYTHON } from '../helpers/libtorrent-driver.ts';
import type { NsProcess } from './processes.ts';
import { INTERNET, type Lab } from './topology.ts';

export const INTERNET_DHT_KINDS = ['libtorrent', 'dhtchat'] as const;
export type InternetDhtKind = (typeof INTERNET_DHT_KINDS)[number];

export const LIBTORRENT_DHT_PORT = 6881;
const START_TIMEOUT_MS = 90_000;
/** Bootstrap contacts handed to daemons: a few, as a client ships a few routers. */
const BOOTSTRAP_CONTACTS = 3;

export interface InternetDht {
  readonly kind: InternetDhtKind;
  /** host:port of every node. */
  readonly nodes: readonly string[];
  /** host:port,… for --bootstrap. */
  readonly bootstrap: string;
  readonly process: NsProcess;
}

/**
 * A volunteer `dhtchat relay` (issue 11 §4) at 198.18.0.3 on the Internet, joined through `bootstrap`; resolves
 * once DHT nodes took its announce on the relay topic (daemons then find it there: nothing tells them where).
 */
export async function startVolunteerRelay(lab: Lab, bootstrap: string): Promise<NsProcess> {
  const proc = lab.spawn('relay', lab.internetNs, process.execPath, [
    CLI_PATH,
    'relay',
    '--host',
    INTERNET.relay,
    '--port',
    String(RELAY_PORT),
    '--bootstrap',
    bootstrap,
    '--allow-private',
  ]);
  await proc.waitFor(
    (l) => l['event'] === 'announced' && (l['stored'] as number) > 0,
    START_TIMEOUT_MS,
    'relay announced',
  );
  return proc;
}

export const RELAY_PORT = 6881;

export async function startProbeServer(lab: Lab): Promise<NsProcess> {
  const server = lab.spawn('probe-server', lab.internetNs, process.execPath, [
    '--import',
    'tsx',
    'test/lab/probe-server.ts',
  ]);
  await server.waitFor((l) => l['event'] === 'ready', 30_000, 'probe server ready');
  return server;
}

/** Starts `count` DHT nodes of the kind asked for and resolves once they know each other. */
export async function startInternetDht(lab: Lab, kind: InternetDhtKind, count: number): Promise<InternetDht> {
  return kind === 'libtorrent' ? startLibtorrent(lab, count) : startTestnet(lab, count);
}

async function startLibtorrent(lab: Lab, count: number): Promise<InternetDht> {
  const nodes = Array.from({ length: count }, (_, i) => `${INTERNET.dhtNode(i)}:${LIBTORRENT_DHT_PORT}`);
  const proc = lab.spawn(
    'libtorrent-internet',
    lab.internetNs,
    SYSTEM_PYTHON,
    ['-W', 'ignore', 'test/lab/libtorrent_internet.py', ...nodes],
    { hasStdin: true },
  );
  const ready = await proc.waitFor(
    (l) => l['event'] === 'ready' || l['event'] === 'import_error',
    START_TIMEOUT_MS,
    'libtorrent nodes ready',
  );
  if (ready['event'] === 'import_error') throw new Error(`python3-libtorrent: ${String(ready['error'])}`);
  return {
    kind: 'libtorrent',
    nodes,
    bootstrap: nodes.slice(0, BOOTSTRAP_CONTACTS).join(','),
    process: proc,
  };
}

async function startTestnet(lab: Lab, count: number): Promise<InternetDht> {
  const hosts = Array.from({ length: count }, (_, i) => INTERNET.testnetNode(i));
  const proc = lab.spawn('dhtchat-testnet', lab.internetNs, process.execPath, [
    CLI_PATH,
    'testnet',
    '--host',
    hosts.join(','),
    '--nodes',
    String(count - 1),
    '--json',
  ]);
  const ready = await proc.waitFor(
    (l) => typeof l['bootstrap'] === 'string',
    START_TIMEOUT_MS,
    'testnet ready',
  );
  const bootstrap = String(ready['bootstrap']);
  return { kind: 'dhtchat', nodes: [bootstrap], bootstrap, process: proc };
}
