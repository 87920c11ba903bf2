/**
 * Sends a burst of numbered messages through a daemon's local API, in order; run inside the daemon's namespace
 * (its API listens on that namespace's 127.0.0.1) as
 *   node --import tsx test/lab/send-burst.ts <data dir> <to: name|code> <count> <prefix>
 * and prints {"ids":[…],"states":[…]} (texts are "<prefix> 0", "<prefix> 1", …). One process for the whole burst:
 * a `dhtchat send` per message would cost a Node start-up each, longer than the delivery being measured.
 *
 *   alice's host ns: this script ──HTTP 127.0.0.1──► alice's daemon ──(session or DHT)──► bob's daemon
 */
import { callDaemon } from '../../src/app/chat-api-client.ts';

const [dir, to, countText, prefix] = process.argv.slice(2) as [string, string, string, string];
const ids: string[] = [];
const states: string[] = [];
for (let i = 0; i < Number(countText); i++) {
  const sent = (await callDaemon(dir, 'POST', '/v1/messages', { to, text: `${prefix} ${i}` })) as {
    id: string;
    state: string;
  };
  ids.push(sent.id);
  states.push(sent.state);
}
process.stdout.write(`${JSON.stringify({ ids, states })}\n`);
