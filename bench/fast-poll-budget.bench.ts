/**
 * Issue 11 §7: the DHT queries an idle daemon spends per friend that is alive but unreachable (both behind
 * randomising NATs: no session can form, the fast polls and heartbeats run), against the same daemon with no
 * friends (DHT upkeep alone) and with a friend gone offline (back-off polls). In the simulator
 * (test/chat/nat-world.ts: 12 DHT nodes, users behind simulated NATs, virtual time), away from midnight (one day
 * epoch read; near a boundary two are, doubling the record reads), after a 3-minute warm-up.
 *
 * Run: node --import tsx bench/fast-poll-budget.bench.ts [--minutes 10] [--friends 1,5]
 * Prints a table (queries a minute: total, minus the no-friend baseline, per friend) and one JSON object.
 */
import { NAT_KINDS } from '../sim/nat.ts';
import { DAY_EPOCH_MS } from '../src/chat/epoch.ts';
import { NatWorld, type NatUser } from '../test/chat/nat-world.ts';
import { intOption, stringOption } from './chat-bench-stats.ts';

const minutes = intOption('minutes', 10);
const friendCounts = (stringOption('friends') ?? '1,5').split(',').map(Number);
const WARMUP_MS = 3 * 60_000;

interface Row {
  scenario: string;
  friends: number;
  queriesPerMin: number;
  aboveBaselinePerMin: number;
  perFriendPerMin: number;
}

/** Queries per minute `me` sends over the measured window. */
async function measure(world: NatWorld, me: NatUser): Promise<number> {
  await world.sim.settle(WARMUP_MS, 50);
  const before = me.dht.stats().rpc.sent;
  await world.sim.settle(minutes * 60_000, 50);
  return (me.dht.stats().rpc.sent - before) / minutes;
}

async function scenario(name: string, friends: number, kind: 'alive' | 'offline' | 'none'): Promise<number> {
  const world = await NatWorld.create(`fast-poll-budget/${name}`);
  try {
    const { clock } = world.sim;
    clock.advance(DAY_EPOCH_MS / 2 - (clock.wallMs() % DAY_EPOCH_MS) + DAY_EPOCH_MS);
    const me = await world.addUser('me', world.nat(NAT_KINDS.symmetric));
    const others: NatUser[] = [];
    for (let i = 0; i < (kind === 'none' ? 0 : friends); i++) {
      const friend = await world.addUser(`friend${i}`, world.nat(NAT_KINDS.symmetric));
      world.befriend(me, friend);
      others.push(friend);
    }
    await world.start(me, ...others);
    if (kind === 'offline') {
      await world.sim.settle(30_000, 50);
      for (const f of others) f.close();
    }
    return await measure(world, me);
  } finally {
    world.close();
  }
}

const rows: Row[] = [];
const baseline = await scenario('baseline', 0, 'none');
rows.push({
  scenario: 'no friends (DHT upkeep)',
  friends: 0,
  queriesPerMin: baseline,
  aboveBaselinePerMin: 0,
  perFriendPerMin: 0,
});
for (const n of friendCounts) {
  for (const kind of ['alive', 'offline'] as const) {
    const total = await scenario(`${kind}-${n}`, n, kind);
    rows.push({
      scenario: kind === 'alive' ? 'alive, unreachable (DHT only)' : 'gone offline (back-off)',
      friends: n,
      queriesPerMin: total,
      aboveBaselinePerMin: total - baseline,
      perFriendPerMin: (total - baseline) / n,
    });
  }
}
const fmt = (x: number) => x.toFixed(1).padStart(8);
process.stdout.write('scenario                          friends  q/min  above baseline  per friend\n');
for (const r of rows) {
  process.stdout.write(
    `${r.scenario.padEnd(34)}${String(r.friends).padStart(3)}${fmt(r.queriesPerMin)}${fmt(r.aboveBaselinePerMin)}${fmt(r.perFriendPerMin)}\n`,
  );
}
process.stdout.write(
  `${JSON.stringify({ bench: 'fast-poll-budget', minutes, warmupMs: WARMUP_MS, rows })}\n`,
);
