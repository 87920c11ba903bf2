/**
 * Holds a lab open until killed, for topology.test.ts: run as root as
 *   node --import tsx test/lab/lab-holder.ts
 * prints {"namespaces":[…]} once the lab is built (a port-restricted site with one user), then waits.
 *
 *   nlab<this pid>-0-inet ── nlab<this pid>-0-r1 (port-restricted) ── nlab<this pid>-0-held
 */
import { spawnSync } from 'node:child_process';
import { createLab } from './topology.ts';

const lab = createLab({ sites: [{ kind: 'port-restricted', users: ['held'] }], internetNodes: 1 });
const listed = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
const ours = listed
  .split('\n')
  .map((l) => l.split(' ')[0] ?? '')
  .filter((name) => name.startsWith(lab.internetNs.slice(0, lab.internetNs.lastIndexOf('-') + 1)));
process.stdout.write(`${JSON.stringify({ namespaces: ours })}\n`);
setInterval(() => {}, 1000);
