/**
 * The daemon's web client, wired to its parts (daemon.ts calls this once the chat node runs): session hashes and
 * the API port kept in the chat store, the network panel from the DHT and the chat node, unread counts from the
 * store, the passphrase from the data dir's identity file.
 *
 * The API port is remembered for the browser's sake: the client's origin is `http://127.0.0.1:<port>`, so a
 * daemon restarted on another port would strand an open tab (and its session cookie's origin).
 */
import type { ChatNode, ChatStore, Identity } from '../../chat/index.ts';
import { type FileTransferView, encodeBackupStore, encodeFriendCode } from '../../chat/index.ts';
import type { DhtNode } from '../../dht/index.ts';
import type { Clock, Logger, Random } from '../../runtime/index.ts';
import { backupDownload } from './backup-download.ts';
import type { WebFiles } from './file-routes.ts';
import { networkView } from './network-view.ts';
import { changePassphrase, passphraseState } from './passphrase-change.ts';
import { UploadStaging } from './upload-staging.ts';
import { WebClient } from './web-client.ts';

const SESSIONS_KV_KEY = 'app-web-sessions';
const API_PORT_KV_KEY = 'app-daemon-api-port';

export interface DaemonParts {
  readonly dataDir: string;
  readonly identity: Identity;
  readonly store: ChatStore;
  readonly chat: ChatNode;
  readonly dht: DhtNode;
  readonly udpPort: number;
  readonly random: Random;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The daemon's file size limit: also the largest upload from the browser. */
  readonly maxFileBytes: number;
}

/** A transfer in one of these states serves its file no more: an uploaded one is deleted. */
const ENDED_STATES: ReadonlySet<string> = new Set(['complete', 'canceled', 'declined', 'failed']);

export function daemonWebClient(parts: DaemonParts): WebClient {
  const { store } = parts;
  const web = new WebClient({
    files: webFiles(parts),
    identityTag: parts.chat.code,
    sessions: {
      load: () => store.kv.getJson(SESSIONS_KV_KEY),
      save: (value) => store.kv.setJson(SESSIONS_KV_KEY, value),
    },
    network: () => networkView({ chat: parts.chat, dht: parts.dht, udpPort: parts.udpPort }),
    unread: () => {
      const out: Record<string, number> = {};
      for (const [hex, n] of store.messages.unreadCounts())
        out[encodeFriendCode(Buffer.from(hex, 'hex'))] = n;
      return out;
    },
    passphrase: {
      state: () => passphraseState(parts.dataDir),
      change: (current, next) =>
        changePassphrase({
          dataDir: parts.dataDir,
          identity: parts.identity,
          random: parts.random,
          current,
          next,
        }),
    },
    backup: (passphrase, current) =>
      backupDownload(
        {
          dataDir: parts.dataDir,
          identity: parts.identity,
          storeSection: () =>
            encodeBackupStore({ owner: parts.identity.publicKey, rows: store.backupRows() }),
          now: () => parts.clock.wallMs(),
        },
        { passphrase, current },
      ),
  });
  if (!web.ui.isBuilt()) {
    parts.logger.warn({ event: 'web_client_missing', dir: web.ui.dir, hint: 'run npm run build' });
  }
  return web;
}

/**
 * Uploads staged in the data dir, each deleted once its transfer ends (and, at start, those whose transfer ended
 * while the daemon was down).
 */
function webFiles(parts: DaemonParts): WebFiles {
  const { chat, logger } = parts;
  const staging = new UploadStaging({ dataDir: parts.dataDir, maxFileBytes: parts.maxFileBytes });
  const isLive = (t: FileTransferView): boolean => t.direction === 'outgoing' && !ENDED_STATES.has(t.state);
  const live = new Set(chat.files().flatMap((t) => (isLive(t) && t.path !== null ? [t.path] : [])));
  const onError = (error: unknown): void =>
    logger.warn({
      event: 'upload_cleanup_failed',
      error: error instanceof Error ? error.message : String(error),
    });
  void staging.sweep(live).catch(onError);
  chat.on('file', (view) => {
    if (!isLive(view) && staging.holds(view.path)) void staging.release(view.path).catch(onError);
  });
  return {
    staging,
    list: () => chat.files(),
    send: async (to, path) => {
      const before = new Map(chat.files().map((t) => [t.id, t.path]));
      const view = await chat.sendFile(to, path);
      // The same content offered again to the same friend goes on from the new copy: the older one goes.
      const older = before.get(view.id) ?? null;
      if (older !== view.path && staging.holds(older)) await staging.release(older);
      return view;
    },
    isFriend: (to) =>
      chat.contacts().some((c) => (c.code === to || c.name === to) && c.request === undefined),
    sendToGroup: (group, path) => chat.sendFileToGroup(group, path),
    isGroup: (group) =>
      chat.groups.list().some((g) => (g.id === group || g.name === group) && g.state === 'member'),
  };
}

/** The API port used last time, if any (then any free port if it is taken now). */
export function rememberedApiPort(store: ChatStore): number | undefined {
  const port = store.kv.getJson(API_PORT_KV_KEY);
  return typeof port === 'number' && Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
}

export function rememberApiPort(store: ChatStore, port: number): void {
  store.kv.setJson(API_PORT_KV_KEY, port);
}
