/**
 * The scene every attack in test/adversarial/ runs against: a loopback testnet, Alice (the victim: a real
 * `dhtchat daemon` process on 127.0.0.1) and Bob (her friend, another real daemon), friends and online to each
 * other. While an attack runs, a test asks the three questions the tier is about:
 *
 *   friendReconnectMs()  Bob restarts on a new port: how long until both list each other online and one message
 *                        each way is delivered (the bound: 2 s)
 *   legitRequestMs()     a fresh user, Carol (in this process: a real daemon stack on its own UDP socket), sends
 *                        Alice a friend request by dialling her endpoint (Noise XX, request frame): how long until
 *                        Alice's API lists it
 *   victimRssMb()        Alice's resident memory, from /proc/<pid>/status
 *
 * Attackers should send from addresses outside 127.0.0.0/24 (any 127.x.y.z is local on Linux: bind to it), so
 * that per-source limits on the attacker do not also fall on Bob and Carol, who use 127.0.0.1 as users on one
 * machine would use their own addresses.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callDaemon } from '../../src/app/chat-api-client.ts';
import { createIdentity } from '../../src/app/chat-identity-commands.ts';
import { startDaemon } from '../../src/app/daemon.ts';
import { nullLogger } from '../../src/runtime/index.ts';
import {
  type ChatDaemon,
  eventually,
  type JsonLinesProcess,
  type Message,
  messagesWith,
  startChatDaemon,
  startFriendsOnTestnet,
  stopAll,
  type TestnetUser,
  waitBothOnline,
} from '../e2e/chat-processes.ts';

/** How long a question may take before the harness gives up (the tests assert the real bounds). */
const QUESTION_TIMEOUT_MS = 60_000;

export interface Victim extends TestnetUser {
  /** Alice's UDP port (DHT and uTP). */
  readonly port: number;
  readonly pid: number;
}

export interface VictimScene {
  /** host:port of the testnet's bootstrap node. */
  readonly bootstrap: string;
  readonly alice: Victim;
  /** Bob, as he is now (friendReconnectMs restarts him). */
  readonly bob: TestnetUser & { readonly daemon: ChatDaemon };
  friendReconnectMs(): Promise<number>;
  legitRequestMs(): Promise<number>;
  victimRssMb(): number;
  /** Every process's log lines, for a failure message. */
  logs(): string;
  stop(): Promise<void>;
}

export async function startVictimScene(): Promise<VictimScene> {
  const running: JsonLinesProcess[] = [];
  let friends: Awaited<ReturnType<typeof startFriendsOnTestnet>>;
  try {
    friends = await startFriendsOnTestnet(running);
  } catch (error) {
    await stopAll(running);
    throw error;
  }
  const { bootstrap, alice } = friends;
  let bob = friends.bob;
  const pid = alice.daemon.proc.child.pid;
  if (pid === undefined) throw new Error("Alice's daemon has no pid");
  const stoppers: Array<() => Promise<unknown>> = [];

  return {
    bootstrap,
    alice: { dir: alice.dir, code: alice.code, port: alice.daemon.port, pid },
    get bob() {
      return bob;
    },

    async friendReconnectMs() {
      await bob.daemon.proc.stop('SIGTERM');
      const daemon = await startChatDaemon(bob.dir, bootstrap, running, { port: 0 });
      const startMs = Date.now();
      bob = { ...bob, daemon };
      await waitBothOnline(alice, bob, QUESTION_TIMEOUT_MS);
      await Promise.all([deliver(alice, bob.code), deliver(bob, alice.code)]);
      return Date.now() - startMs;
    },

    async legitRequestMs() {
      const dir = mkdtempSync(join(tmpdir(), 'dhtchat-carol-'));
      const code = await createIdentity(dir, 'Carol');
      const carol = await startDaemon({
        dataDir: dir,
        host: '127.0.0.1',
        bootstrap: [],
        allowPrivate: true,
        joinWaitMs: 0,
        logger: nullLogger,
      });
      stoppers.push(() => carol.close());
      const startMs = Date.now();
      await carol.chat.addFriend(alice.code, {
        message: 'hello from Carol',
        endpoints: [{ host: '127.0.0.1', port: alice.daemon.port }],
      });
      await eventually(
        "Carol's request at Alice",
        async () => {
          const list = (await callDaemon(alice.dir, 'GET', '/v1/requests')) as { code: string }[];
          return list.some((r) => r.code === code) ? true : undefined;
        },
        QUESTION_TIMEOUT_MS,
        50,
      );
      return Date.now() - startMs;
    },

    victimRssMb() {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
      if (kb === undefined) throw new Error(`no VmRSS for pid ${pid}`);
      return Number(kb) / 1024;
    },

    logs() {
      return running
        .map(
          (p) =>
            `--- ${p.child.spawnargs.slice(2).join(' ')}\n${p.lines.map((l) => JSON.stringify(l)).join('\n')}\n${p.stderr()}`,
        )
        .join('\n');
    },

    async stop() {
      await Promise.all(stoppers.map((stop) => stop().catch(() => undefined)));
      await stopAll(running);
    },
  };
}

/** Sends one message from `from` to the contact `to` and waits until its state is delivered (or read). */
async function deliver(from: TestnetUser, to: string): Promise<void> {
  const sent = (await callDaemon(from.dir, 'POST', '/v1/messages', { to, text: 'still there?' })) as {
    id: string;
  };
  await eventually(
    `message ${sent.id} delivered`,
    async () => {
      const list: Message[] = await messagesWith(from.dir, to);
      const state = list.find((m) => m.id === sent.id)?.state;
      return state === 'delivered' || state === 'read' ? true : undefined;
    },
    QUESTION_TIMEOUT_MS,
    50,
  );
}
