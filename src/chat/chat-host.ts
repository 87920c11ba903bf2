/**
 * The composition root of one chat host: the one place that wires
 *
 *   socket ─ PunchTransport ─ DatagramDemux ─ DhtNode (KRPC) + UtpEndpoint (uTP) ─ ChatNode
 *
 * (the PunchTransport only when the birthday technique may open extra sockets). The daemon (app/daemon.ts), the
 * in-process test harnesses, the benches and the simulator all build a host here, so they run the same wiring in
 * the same order. What is the app's alone (HTTP API, interface watch, port mapping, LAN discovery, console) hooks
 * in through the returned parts, as the daemon does.
 *
 * The host owns what it is given: close() closes the socket and the store too (last, see close()).
 */
import { DhtNode, type DhtNodeOptions } from '../dht/index.ts';
import { DatagramDemux, UtpEndpoint } from '../net/index.ts';
import { type DatagramTransport, type Logger, nullLogger, type Timer, messageOf } from '../runtime/index.ts';
import { ChatNode, type ChatNodeOptions } from './chat-node.ts';
import { PunchTransport } from './punch-transport.ts';
import { KvKey } from './store/kv.ts';

/** The longest start() lets the chat's DHT services wait for the join before starting them anyway. */
export const JOIN_WAIT_MS = 10_000;
/** How often the routing table is saved to the store (and once more at close). */
export const ROUTING_TABLE_SAVE_INTERVAL_MS = 60_000;

/** The DHT node's options, less what the host wires itself (socket, clock, random, logger, saved state). */
export interface ChatHostDhtOptions
  extends Omit<DhtNodeOptions, 'transport' | 'transport6' | 'clock' | 'random' | 'logger' | 'savedState'> {
  /**
   * Keep the routing table in the store: loaded at creation, saved every minute and at close, so a restarted
   * host rejoins without its bootstrap nodes. Default true (the daemon); tests that want a fresh node each time
   * turn it off.
   */
  isRoutingTableKept?: boolean;
  /** How long start() lets the chat's DHT services wait for the join (default JOIN_WAIT_MS). */
  joinWaitMs?: number;
}

export interface ChatHostOptions extends Omit<ChatNodeOptions, 'dht' | 'utp' | 'birthday'> {
  /** The chat socket: one port for KRPC and uTP, so the address the DHT learns is the one friends reach. */
  transport: DatagramTransport;
  /** The DHT node's options, or false for none (only the online path runs: sessions to known endpoints). */
  dht: ChatHostDhtOptions | false;
  /**
   * Opens an extra socket on our chat address for the birthday technique (punch-birthday.ts); given, the socket
   * is wrapped in a PunchTransport and the technique is tried. Without: neither.
   */
  openSideSocket?: () => Promise<DatagramTransport | undefined>;
}

export interface ChatHost<D extends DhtNode | undefined = DhtNode | undefined> {
  readonly dht: D;
  readonly utp: UtpEndpoint;
  readonly demux: DatagramDemux;
  readonly chat: ChatNode;
  /**
   * Starts the DHT join (once; later calls return the same promise). Resolves when the first attempt ends,
   * either way (logged as `bootstrapped` or `bootstrap_failed`); at once without a DHT.
   */
  join(): Promise<void>;
  /**
   * Starts the join (unless join() did) and the chat, once. Sessions to friends' last known endpoints start at once;
   * the chat's DHT services wait for the join, at most joinWaitMs. Resolves once the chat is started.
   */
  start(): Promise<void>;
  /** Closes everything in order (see the body); idempotent. */
  close(): Promise<void>;
  /**
   * Stops at once, as a killed process would: the socket and the store close now, so nothing more reaches the
   * peers (the chat's close runs on, finding both closed). For tests of crashes and restarts.
   */
  drop(): void;
}

export function createChatHost(options: ChatHostOptions & { dht: ChatHostDhtOptions }): ChatHost<DhtNode>;
export function createChatHost(options: ChatHostOptions & { dht: false }): ChatHost<undefined>;
export function createChatHost(options: ChatHostOptions): ChatHost;
export function createChatHost(options: ChatHostOptions): ChatHost {
  const { transport, store, clock, random, dht: dhtOptions, openSideSocket, ...chatOptions } = options;
  const logger = options.logger ?? nullLogger;
  const built: Array<{ close(): void }> = [];
  try {
    // Construction order: the socket's layers from the bottom up, each handed to the one above.
    const birthday =
      openSideSocket === undefined
        ? undefined
        : { transport: new PunchTransport(transport, clock), openSocket: openSideSocket };
    const demux = new DatagramDemux(birthday?.transport ?? transport);
    built.push(demux);
    const dht = dhtOptions === false ? undefined : createDht(options, dhtOptions, demux, logger);
    if (dht !== undefined) built.push(dht);
    const utp = new UtpEndpoint({
      transport: demux.utp,
      clock,
      random,
      logger: logger.child({ part: 'utp' }),
    });
    built.push(utp);
    const chat = new ChatNode({
      ...chatOptions,
      store,
      clock,
      random,
      logger: logger.child({ part: 'chat' }),
      ...(dht === undefined ? {} : { dht }),
      utp,
      ...(birthday === undefined ? {} : { birthday }),
    });
    return hostOf(options, { dht, utp, demux, chat }, logger);
  } catch (error) {
    for (const part of built.reverse()) part.close();
    transport.close();
    store.close();
    throw error;
  }
}

function createDht(
  options: ChatHostOptions,
  dhtOptions: ChatHostDhtOptions,
  demux: DatagramDemux,
  logger: Logger,
): DhtNode {
  const { isRoutingTableKept, joinWaitMs, ...nodeOptions } = dhtOptions;
  const savedState = isRoutingTableKept === false ? undefined : options.store.kv.get(KvKey.routingTable);
  return new DhtNode({
    ...nodeOptions,
    transport: demux.krpc,
    clock: options.clock,
    random: options.random,
    logger: logger.child({ part: 'dht' }),
    ...(savedState === undefined ? {} : { savedState }),
  });
}

interface HostParts {
  dht: DhtNode | undefined;
  utp: UtpEndpoint;
  demux: DatagramDemux;
  chat: ChatNode;
}

function hostOf(options: ChatHostOptions, parts: HostParts, logger: Logger): ChatHost {
  const { dht, utp, demux, chat } = parts;
  const { store, clock } = options;
  const dhtOptions = options.dht === false ? undefined : options.dht;
  const isTableKept = dht !== undefined && dhtOptions?.isRoutingTableKept !== false;
  let joined: Promise<void> | undefined;
  let isJoinDone = dht === undefined;
  let joinWait: Timer | undefined;
  let saveTimer: Timer | undefined;
  let isClosed = false;

  const saveTable = (): void => {
    if (!isTableKept || dht === undefined) return;
    try {
      store.kv.set(KvKey.routingTable, dht.exportState());
    } catch (error) {
      logger.warn({ event: 'save_failed', error: messageOf(error) });
    }
  };
  const armSave = (): void => {
    saveTimer = clock.setTimer(ROUTING_TABLE_SAVE_INTERVAL_MS, () => {
      saveTable();
      if (!isClosed) armSave();
    });
  };

  const join = (): Promise<void> => {
    if (joined !== undefined) return joined;
    if (dht === undefined) {
      joined = Promise.resolve();
      return joined;
    }
    joined = dht
      .start()
      .then(
        () => logger.info({ event: 'bootstrapped', nodes: dht.routingTableSize() }),
        (error: unknown) => logger.warn({ event: 'bootstrap_failed', error: messageOf(error) }),
      )
      .finally(() => {
        isJoinDone = true;
      });
    if (isTableKept) armSave();
    return joined;
  };

  let started: Promise<void> | undefined;
  const startChat = async (): Promise<void> => {
    const joining = join();
    // A slow or unreachable bootstrap must not hold the DHT services back for long (they retry on their own).
    const dhtReady = isJoinDone
      ? Promise.resolve()
      : Promise.race([
          joining,
          new Promise<void>((resolve) => {
            joinWait = clock.setTimer(dhtOptions?.joinWaitMs ?? JOIN_WAIT_MS, resolve);
          }),
        ]).finally(() => joinWait?.cancel());
    await chat.start(dhtReady);
  };

  return {
    dht,
    utp,
    demux,
    chat,
    join,
    start: () => {
      started ??= startChat();
      return started;
    },
    close: async () => {
      if (isClosed) return;
      isClosed = true;
      joinWait?.cancel();
      saveTimer?.cancel();
      // Teardown order, top down, each part closed while what it still uses is open. A step that throws does
      // not keep the later ones from running (the socket and the store must close); the first error is rethrown.
      const steps: Array<() => unknown> = [
        // 1. the chat: its sessions end and its last writes land, over uTP, the DHT and the store;
        () => chat.close(),
        // 2. uTP, now that no session needs it (its resets still go out: the socket is open);
        () => utp.close(),
        // 3. the routing table saved while the DHT node still has it, then the node (its lookups end);
        saveTable,
        () => dht?.close(),
        // 4. the socket (through the demux and the PunchTransport, which also closes the birthday's side sockets);
        () => demux.close(),
        // 5. the store last: every part above may write to it until it is closed.
        () => store.close(),
      ];
      let failure: { error: unknown } | undefined;
      for (const step of steps) {
        try {
          await step();
        } catch (error) {
          failure ??= { error };
        }
      }
      if (failure !== undefined) throw failure.error;
    },
    drop: () => {
      if (isClosed) return;
      isClosed = true;
      joinWait?.cancel();
      saveTimer?.cancel();
      void chat.close();
      utp.close();
      dht?.close();
      demux.close();
      store.close();
    },
  };
}
