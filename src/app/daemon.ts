/**
 * The chat daemon's wiring, usable in-process (tests, bots) as well as by `dhtchat daemon`:
 *
 *   UDP socket (UdpTransport) -> chat host (chat/chat-host.ts: PunchTransport -> DatagramDemux -> DhtNode (KRPC)
 *                                + UtpEndpoint (uTP) -> ChatNode) -> local HTTP API
 * (PunchTransport: the birthday technique's packets and its extra sockets' routes, chat/punch-transport.ts.)
 *
 * One socket carries both protocols, so the address the DHT learns for us is the one friends reach over uTP.
 * The routing table and the last UDP port are kept in the chat store, so a restarted daemon rejoins without its
 * bootstrap nodes and is found again at the endpoint its friends remember. Every piece opened is closed again
 * if a later one fails, so a refused start (locked store, busy port) leaves nothing behind. Before anything is
 * read, the data dir must be the user's own and private (data-dir-permissions.ts); this sets the process umask
 * to 0o077.
 */
import { randomBytes } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import {
  CHAT_DATABASE_FILE,
  type ChatNode,
  ChatStore,
  createChatHost,
  DEFAULT_MAX_FILE_BYTES,
  encodeBackupStore,
  encodeFriendCode,
} from '../chat/index.ts';
import { type BootstrapSource, type DhtNode, isPublicHost, type JoinEvent } from '../dht/index.ts';
import {
  type Clock,
  cryptoRandom,
  type Logger,
  type Random,
  systemClock,
  type UdpAddress,
  UdpTransport,
  messageOf,
} from '../runtime/index.ts';
import { bindFailure } from './bind-failure.ts';
import { type ChatApiServer, startChatApiServer } from './chat-api-server.ts';
import { CHAT_EVENT_NAMES } from './chat-api-types.ts';
import { loadIdentity, readProfile, removeApiFile, writeApiFile, writeProfile } from './chat-data-dir.ts';
import { ensureDataDir } from './data-dir.ts';
import { modeText, secureDataDir, tightenProcessUmask } from './data-dir-permissions.ts';
import { watchInterfaces } from './interface-watch.ts';
import { startLocalDiscovery } from './local-discovery-wiring.ts';
import { startPortMapping } from './port-mapping-wiring.ts';
import { daemonWebClient, rememberApiPort, rememberedApiPort } from './web-client/daemon-web-client.ts';

/** Where the daemon remembers its UDP port between runs (friends try the last known endpoint first). */
const PORT_KV_KEY = 'app-daemon-udp-port';
/** Accepted files go here, inside the data dir, unless --downloads-dir says otherwise. */
export const DOWNLOADS_DIR = 'downloads';
export interface DaemonOptions {
  dataDir: string;
  /** UDP port; undefined: the last port used (if still free), else any. */
  port?: number;
  host?: string;
  /** IP addresses, or a function re-resolving the router names at every join attempt (daemon-command.ts). */
  bootstrap: BootstrapSource;
  allowPrivate: boolean;
  apiPort?: number;
  /** Our display name, sent with friend requests; default: profile.json's (checked there, not here). */
  name?: string;
  /** How long to wait for the DHT to join before starting the chat services (default 10 s). */
  joinWaitMs?: number;
  /** Ask the gateway to map our UDP port (PCP, NAT-PMP, UPnP); default true (`--no-port-mapping`). */
  portMapping?: boolean;
  /** Friend requests on the LAN by BEP 14 multicast (default true; `--no-local-discovery`). */
  localDiscovery?: boolean;
  /** Where accepted files go (default <data dir>/downloads) and the largest one accepted (default 4 GiB). */
  downloadsDir?: string;
  maxFileBytes?: number;
  /** Go through relays to friends we cannot reach directly; default true (`--no-relay`). */
  isRelayEnabled?: boolean;
  /** Relays to use besides those found on the DHT (`--relays`). */
  relays?: readonly UdpAddress[];
  /**
   * The bootstrap hosts as given (names or addresses) when `bootstrap` is a resolver; all loopback means a local
   * testnet, where port mapping is skipped.
   */
  bootstrapHosts?: readonly string[];
  logger: Logger;
  clock?: Clock;
  random?: Random;
}

export interface Daemon {
  readonly code: string;
  readonly port: number;
  readonly apiPort: number;
  /** The API's bearer token (also in api.json). */
  readonly apiToken: string;
  /** A fresh one-time login link to the web client (web-client/login-links.ts). */
  loginUrl(): string;
  readonly chat: ChatNode;
  readonly dht: DhtNode;
  close(): Promise<void>;
}

export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { dataDir, logger } = options;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? cryptoRandom;
  const undo: Array<() => unknown> = [];
  const unwind = async (): Promise<void> => {
    for (const step of undo.reverse()) {
      try {
        await step();
      } catch (error) {
        logger.warn({ event: 'close_failed', error: messageOf(error) });
      }
    }
  };
  try {
    tightenProcessUmask();
    await ensureDataDir(dataDir);
    for (const { path, mode, isFixed } of await secureDataDir(dataDir)) {
      logger.warn({ event: 'loose_mode', path, mode: modeText(mode), isFixed });
    }
    const { identity, isPrivate } = await loadIdentity(dataDir);
    const onIgnoredName = (problem: string): void => logger.warn({ event: 'profile_name_ignored', problem });
    const name = options.name ?? (await readProfile(dataDir, onIgnoredName)).name;
    if (!isPrivate) logger.warn({ event: 'identity_file_readable_by_others', dataDir });
    const store = ChatStore.open({
      path: join(dataDir, CHAT_DATABASE_FILE),
      ownPublicKey: identity.publicKey,
      clock,
      random,
    });
    undo.push(() => store.close());

    const transport = await bindUdp(options, store);
    undo.push(() => transport.close());
    const families = dhtFamilies(transport.localAddress().host, options);
    const port = transport.localAddress().port;
    store.kv.setJson(PORT_KV_KEY, port);
    // The mapping may land before the chat exists; once it does, a change republishes our records.
    let onMappingChanged = (): void => {};
    // Both the router and the LAN are left alone on a loopback-only network (a local testnet).
    const bootstrapHosts =
      typeof options.bootstrap === 'function'
        ? (options.bootstrapHosts ?? [])
        : options.bootstrap.map((a) => a.host);
    const portMapping = await startPortMapping({
      isEnabled: options.portMapping ?? true,
      socket: transport.localAddress(),
      bootstrapHosts,
      logger,
      clock,
      random,
      onEndpointsChanged: () => onMappingChanged(),
    });
    undo.push(() => portMapping.close());
    const lan = await startLocalDiscovery({
      isEnabled: options.localDiscovery ?? true,
      socket: transport.localAddress(),
      bootstrapHosts,
      logger,
    });
    undo.push(() => lan.close());

    // The chat host (chat/chat-host.ts) wires the socket's layers and owns their teardown order; it also closes
    // the socket and the store (closing them again below, when unwinding, does nothing).
    const host = createChatHost({
      transport,
      store,
      identity,
      clock,
      random,
      logger,
      dht: {
        bootstrap: options.bootstrap,
        allowPrivate: options.allowPrivate,
        ...(families === undefined ? {} : { families }),
        onJoinEvent: (event) => logJoinEvent(logger, event),
        ...(options.joinWaitMs === undefined ? {} : { joinWaitMs: options.joinWaitMs }),
      },
      openSideSocket: () => openSideSocket(transport),
      ...(name === undefined ? {} : { name }),
      saveName: (newName) => writeProfile(dataDir, { name: newName }),
      localEndpoints: () => [...portMapping.endpoints(), ...localEndpoints(transport, options)],
      files: {
        downloadsDir: options.downloadsDir ?? join(dataDir, DOWNLOADS_DIR),
        ...(options.maxFileBytes === undefined ? {} : { maxBytes: options.maxFileBytes }),
      },
      isRelayEnabled: options.isRelayEnabled ?? true,
      allowPrivateRelays: options.allowPrivate,
      ...(options.relays === undefined ? {} : { relays: options.relays }),
      ...(lan.chat === undefined ? {} : { localDiscovery: lan.chat }),
    });
    undo.push(() => host.close());
    const { chat, dht } = host;
    lan.onMessage((message, from) => chat.handleLocalDiscovery(message, from));
    onMappingChanged = () => chat.endpointsChanged();
    const stopWatch = watchInterfaces((before, after) => {
      logger.info({ event: 'interfaces_changed', before, after });
      chat.networkChanged();
    });
    undo.push(stopWatch);
    const fileStates = new Map<string, string>();
    for (const name of CHAT_EVENT_NAMES)
      chat.on(name, (...args: unknown[]) => {
        // A transfer's progress (4 events a second) is the API's; the log gets its changes of state.
        if (name === 'file' && !isNewFileState(fileStates, args[0])) return;
        logger.info(eventFields(name, args));
      });
    // The DHT joins in the background; the chat's DHT services wait for it (at most joinWaitMs, 10 s).
    await host.start();

    const token = randomBytes(32).toString('hex');
    // Web client hook: the API server also serves the browser client, on the API port used last time.
    const web = daemonWebClient({
      dataDir,
      identity,
      store,
      chat,
      dht,
      udpPort: port,
      random,
      clock,
      logger,
      maxFileBytes: options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
    });
    const startApi = (apiPort: number): Promise<ChatApiServer> =>
      startChatApiServer({
        service: chat,
        token,
        port: apiPort,
        web,
        onError: (error) => logger.error({ event: 'api_error', error: messageOf(error) }),
        backup: () => ({
          owner: identity.publicKey.toString('hex'),
          store: encodeBackupStore({ owner: identity.publicKey, rows: store.backupRows() }).toString(
            'base64',
          ),
        }),
      });
    const lastApiPort = options.apiPort === undefined ? rememberedApiPort(store) : undefined;
    const apiPort = options.apiPort ?? 0;
    const api =
      lastApiPort === undefined
        ? await startApi(apiPort).catch((cause: unknown) => {
            const target = { label: 'API port', host: '127.0.0.1', port: apiPort, portOption: '--api-port' };
            throw bindFailure(cause, target);
          })
        : await startApi(lastApiPort).catch(() => startApi(0));
    undo.push(() => api.close());
    rememberApiPort(store, api.port);
    await writeApiFile(dataDir, { port: api.port, token, pid: process.pid });
    undo.push(() => removeApiFile(dataDir, token));

    let isClosed = false;
    return {
      code: encodeFriendCode(identity.publicKey),
      port,
      apiPort: api.port,
      apiToken: token,
      loginUrl: () => web.loginUrl(api.port),
      chat,
      dht,
      close: async () => {
        if (isClosed) return;
        isClosed = true;
        await unwind();
      },
    };
  } catch (error) {
    await unwind();
    throw error;
  }
}

/**
 * The port asked for; else the last one used (friends remember it), falling back to any free port. A failure
 * says which port, why and what to do (bind-failure.ts).
 */
async function bindUdp(options: DaemonOptions, store: ChatStore): Promise<UdpTransport> {
  // The default: '::' with IPv4 too (dual-stack: friends with IPv6 are reached over it, issue 11 §6), or
  // '0.0.0.0' where this machine cannot open an IPv6 socket (IPv6 disabled, a container without it).
  let host = options.host ?? '::';
  const bindOn = async (port: number): Promise<UdpTransport> => {
    try {
      return await UdpTransport.bind({ host, port });
    } catch (cause) {
      if (options.host !== undefined || host !== '::' || isPortProblem(cause)) throw cause;
      host = '0.0.0.0';
      return UdpTransport.bind({ host, port });
    }
  };
  const bind = async (port: number): Promise<UdpTransport> => {
    try {
      return await bindOn(port);
    } catch (cause) {
      throw bindFailure(cause, { label: 'UDP port', host, port, portOption: '--port' });
    }
  };
  if (options.port !== undefined) return bind(options.port);
  const last = store.kv.getJson(PORT_KV_KEY);
  if (typeof last === 'number' && Number.isInteger(last) && last > 0 && last < 65536) {
    try {
      return await bindOn(last);
    } catch {
      // Taken by someone else now: any port will do, the records announce the new one.
    }
  }
  return bind(0);
}

/**
 * A port in use or not ours to bind: the same on IPv4, so no reason to fall back. Anything else on '::' (no IPv6
 * in the kernel, the batched socket's DGRAM_BATCH_FAILED around it, no address) is one.
 */
function isPortProblem(cause: unknown): boolean {
  const code = (cause as { code?: unknown } | undefined)?.code;
  return code === 'EADDRINUSE' || code === 'EACCES';
}

/**
 * The DHT's address families on our socket: both on an explicit '::' (as asked), and on the default '::' only
 * when this machine has a public IPv6 address (else the IPv6 table could never fill, and trying costs queries).
 */
export function dhtFamilies(bound: string, options: DaemonOptions): readonly (4 | 6)[] | undefined {
  if (bound !== '::' || options.host !== undefined) return undefined;
  const hasPublicIpv6 = Object.values(networkInterfaces()).some((list) =>
    (list ?? []).some((a) => a.family === 'IPv6' && !a.internal && isPublicHost(a.address)),
  );
  return hasPublicIpv6 ? [4, 6] : [4];
}

/** A birthday punch's extra socket (chat/punch-birthday.ts): our chat address, any port, small buffers. */
async function openSideSocket(chatSocket: UdpTransport): Promise<UdpTransport | undefined> {
  try {
    // node:dgram, not the batched addon: its receive ring (64 slots of 64 KiB) would cost 4 MiB per socket.
    return await UdpTransport.bind({
      host: chatSocket.localAddress().host,
      port: 0,
      bufferBytes: 64 * 1024,
      isBatchingAllowed: false,
    });
  } catch {
    return undefined; // Out of ports or file descriptors: the technique tries with the sockets it got.
  }
}

/**
 * Where our socket listens: this machine's interface addresses (LAN friends), then loopback when private
 * addresses are allowed (a local testnet). Link-local IPv6 needs a scope id that a record cannot carry, so it is
 * left out. Not the public address DHT nodes report: the chat layer adds that itself (with the port they see,
 * which a NAT may change), and tells from this list whether that address is ours (no NAT) or a NAT's.
 */
export function localEndpoints(transport: UdpTransport, options: DaemonOptions): UdpAddress[] {
  const bound = transport.localAddress();
  const out: UdpAddress[] = [];
  const add = (host: string): void => {
    if (!out.some((a) => a.host === host)) out.push({ host, port: bound.port });
  };
  if (bound.host !== '0.0.0.0' && bound.host !== '::') {
    add(bound.host);
    return out;
  }
  const isV4Only = bound.host === '0.0.0.0';
  const loopback: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (isV4Only && a.family !== 'IPv4') continue;
      if (a.address.toLowerCase().startsWith('fe80:')) continue;
      if (a.internal) loopback.push(a.address);
      else add(a.address);
    }
  }
  if (options.allowPrivate) for (const host of loopback) add(host);
  return out;
}

/**
 * The DHT's join outcomes as log lines (docs/CLI.md): `bootstrapped` is logged when the first attempt ends (by
 * the caller of start()), so a first-try join adds nothing here; later ones are `rejoined`.
 */
function logJoinEvent(logger: Logger, event: JoinEvent): void {
  switch (event.kind) {
    case 'joined':
      if (event.isRejoin) logger.info({ event: 'rejoined', nodes: event.nodes });
      return;
    case 'join_failed':
      logger.warn({
        event: 'join_failed',
        reason: event.reason,
        retryInMs: event.retryInMs,
        attempt: event.attempt,
      });
      return;
    case 'rejoining':
      logger.warn({ event: 'rejoining', reason: event.reason });
  }
}

/** A chat event as a log line: ids, codes and states, never message text. */
function eventFields(name: string, args: readonly unknown[]): Record<string, unknown> {
  const fields: Record<string, unknown> = { event: name };
  const first = args[0];
  if (typeof first === 'object' && first !== null) {
    const record = first as Record<string, unknown>;
    for (const key of [
      'id',
      'from',
      'with',
      'code',
      'state',
      'presence',
      'lastSeen',
      'isTyping',
      'direction',
      'size',
      'reason',
      'path',
      'group',
      'change',
    ]) {
      const value = record[key];
      // A path of null (offline) is news; other nulls (a lastSeen never set) are left out.
      if (value !== undefined && (typeof value !== 'object' || (value === null && key === 'path')))
        fields[key] = value;
    }
    // A received message: its id, never its text.
    const message = record['message'];
    if (typeof message === 'object' && message !== null) fields['id'] = (message as { id?: unknown }).id;
  }
  return fields;
}

/** True when a file event changes its transfer's state (remembered per id, a bounded number of ids). */
function isNewFileState(states: Map<string, string>, event: unknown): boolean {
  const { id, state } = (event ?? {}) as { id?: unknown; state?: unknown };
  if (typeof id !== 'string' || typeof state !== 'string') return true;
  if (states.get(id) === state) return false;
  if (states.size >= 10_000) states.clear();
  states.set(id, state);
  return true;
}
