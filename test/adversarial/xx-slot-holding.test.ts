/**
 * Issue 10 §2, against a real daemon: a stranger opens Noise XX sessions to Alice from one host as fast as it can
 * (125 a second for 10 s) and never sends a request, to hold every session she has. Meanwhile her friend Bob
 * restarts on a new port and must be back within 2 s, a real person's request must be listed as usual, and
 * Alice's memory must stay bounded. Before the fix each such session was held 30 s and 1,024 of them filled her
 * uTP table: Bob and every other peer were refused until they expired.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ChatSession } from '../../src/chat/session/session.ts';
import { strangerContext, strangerHost } from './stranger-sessions.ts';
import { startVictimScene, type VictimScene } from './victim.ts';

const FLOOD_PER_SEC = 125;
const FLOOD_MS = 10_000;

describe('adversarial: Noise XX slot holding', { timeout: 180_000 }, () => {
  let scene: VictimScene;
  before(async () => {
    scene = await startVictimScene();
  });
  after(async () => {
    await scene?.stop();
  });

  test('1,250 stranger handshakes from one host in 10 s: Bob reconnects within 2 s, a request is listed, few strangers are held and briefly', async (t) => {
    // The same questions without an attack first: the figures to compare with.
    const quietReconnectMs = await scene.friendReconnectMs();
    const quietRequestMs = await scene.legitRequestMs();
    const rssBeforeMb = scene.victimRssMb();
    const attacker = await strangerHost('127.0.66.1');
    t.after(() => attacker.close());
    const ctx = strangerContext();
    const target = { host: '127.0.0.1', port: scene.alice.port };
    const stats = { started: 0, established: 0, openEstablished: 0, maxOpenEstablished: 0, longestMs: 0 };
    const closedAll: Promise<unknown>[] = [];
    const launch = (): void => {
      stats.started++;
      let session: ChatSession;
      try {
        session = ChatSession.connectUnknown(ctx, attacker.utp, target);
      } catch {
        return; // our own uTP table: not the victim's
      }
      closedAll.push(session.closed);
      session.established.then(
        () => {
          const upMs = Date.now();
          stats.established++;
          stats.maxOpenEstablished = Math.max(stats.maxOpenEstablished, ++stats.openEstablished);
          void session.closed.then(() => {
            stats.openEstablished--;
            stats.longestMs = Math.max(stats.longestMs, Date.now() - upMs);
          });
        },
        () => {},
      );
      // The attack never lets go by itself; only the victim (or the end of the test) closes these.
      setTimeout(() => session.close(), 40_000).unref();
    };
    const floodStartMs = Date.now();
    // Timers are coarse under load: each tick catches up to the rate (bounded in count and in time).
    const total = (FLOOD_PER_SEC * FLOOD_MS) / 1000;
    const flood = setInterval(() => {
      const elapsedMs = Date.now() - floodStartMs;
      if (elapsedMs >= FLOOD_MS || stats.started >= total) {
        clearInterval(flood);
        return;
      }
      const due = Math.min(total, Math.ceil((elapsedMs * FLOOD_PER_SEC) / 1000));
      while (stats.started < due) launch();
    }, 10);
    t.after(() => clearInterval(flood));

    // Let the flood build up (before the fix, ~400 sessions held by now), then ask the questions during it.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const reconnectMs = await scene.friendReconnectMs();
    const requestMs = await scene.legitRequestMs();
    const duringMs = Date.now() - floodStartMs;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, FLOOD_MS - (Date.now() - floodStartMs))));
    const rssMb = scene.victimRssMb();
    // Every stranger session ends by the victim's deadlines: 5 s to finish a handshake, 5 s more for a request.
    const allClosed = Promise.allSettled(closedAll);
    await Promise.race([allClosed, new Promise((resolve) => setTimeout(resolve, 12_000))]);
    const figures = {
      quietReconnectMs,
      quietRequestMs,
      reconnectMs,
      requestMs,
      duringMs,
      rssBeforeMb,
      rssMb,
      ...stats,
    };
    t.diagnostic(JSON.stringify(figures));

    assert.ok(reconnectMs <= 2000, `Bob took ${reconnectMs} ms to reconnect during the flood`);
    // A direct request's usual time is its stamp (~1 s, exponential tail) plus a round trip.
    assert.ok(requestMs <= 10_000, `Carol's request took ${requestMs} ms to be listed`);
    assert.ok(duringMs < FLOOD_MS + 15_000);
    assert.ok(stats.started >= 1000, `the flood opened ${stats.started} sessions`);
    assert.ok(stats.maxOpenEstablished <= 8, `${stats.maxOpenEstablished} stranger sessions held at once`);
    assert.ok(stats.established <= 120, `${stats.established} of ${stats.started} handshakes completed`);
    assert.ok(stats.longestMs <= 7000, `a stranger session was held ${stats.longestMs} ms`);
    assert.equal(stats.openEstablished, 0);
    assert.ok(rssMb <= rssBeforeMb + 100, `RSS ${rssBeforeMb.toFixed(0)} → ${rssMb.toFixed(0)} MB`);
  });
});
