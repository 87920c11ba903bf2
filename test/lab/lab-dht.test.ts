/**
 * The lab's DHT works from behind every router kind: a dhtchat node joins the Internet's DHT, gets its external
 * address voted and re-keys to a BEP 42 id for it, finds the Internet's node ids valid for their addresses, and
 * puts a BEP 44 item that a second node reads back.
 *
 *   libtorrent Internet (default): 12 libtorrent sessions 198.18.i.10  ◄── dht-client.ts behind each kind: the
 *                                                                          public host first, then every NAT at
 *                                                                          once (an item can only be stored on
 *                                                                          libtorrent nodes either way)
 *   dhtchat Internet (variant):    `dhtchat testnet --host 198.18.i.20,…`  ◄── one client behind a NAT
 *
 * Needs root, nftables and python3-libtorrent (skipped with the reason otherwise).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type InternetDht, startInternetDht } from './internet.ts';
import { labUnavailable, libtorrentUnavailable } from './netns.ts';
import { runNodeInNs } from './processes.ts';
import { SITE_KINDS } from './routers.ts';
import { createLab, type Lab } from './topology.ts';

const NODES = 12;
const CLIENT_TIMEOUT_MS = 90_000;
const unavailable = labUnavailable() ?? libtorrentUnavailable();

interface ClientReport {
  tableSize: number;
  externalAddress: string | null;
  isIdValid: boolean;
  contactsValid: number;
  contacts: number;
  stored: number;
  isFound: boolean;
  isSameValue: boolean;
  isKnownToInternet: boolean;
}

async function runClient(lab: Lab, user: string, bootstrap: string): Promise<ClientReport> {
  const out = await runNodeInNs(
    lab.host(user).ns,
    ['--import', 'tsx', 'test/lab/dht-client.ts', bootstrap, user],
    CLIENT_TIMEOUT_MS,
  );
  return JSON.parse(out.trim()) as ClientReport;
}

describe('the lab DHT from behind each router kind (network namespaces)', {
  skip: unavailable ?? false,
}, () => {
  let lab: Lab | undefined;
  let internet: InternetDht | undefined;
  const users = [...SITE_KINDS.map((kind) => `dht-${kind}`), 'dht-same-nat'];

  before(async () => {
    lab = createLab({
      sites: [
        ...SITE_KINDS.map((kind) => ({ kind, users: [`dht-${kind}`] })),
        { kind: 'same-nat', users: ['dht-same-nat', 'dht-same-nat-2'] },
      ],
      internetNodes: NODES,
    });
    internet = await startInternetDht(lab, 'libtorrent', NODES);
  });
  after(async () => {
    await lab?.close();
  });

  const clientTest = (user: string): void => {
    test(`${user.slice(4)}: joins libtorrent nodes, re-keys for its public address, BEP 44 put and get`, {
      timeout: CLIENT_TIMEOUT_MS + 10_000,
    }, async () => {
      const l = lab!;
      // Every libtorrent node is a contact: the check of their ids covers all of them.
      const report = await runClient(l, user, internet!.nodes.join(','));
      assert.equal(report.externalAddress, l.siteOf(user).publicAddress, JSON.stringify(report));
      assert.equal(
        report.isIdValid,
        true,
        `our id is BEP 42-valid for our public address: ${JSON.stringify(report)}`,
      );
      assert.equal(
        report.contactsValid,
        NODES,
        `libtorrent ids valid for their addresses: ${JSON.stringify(report)}`,
      );
      assert.ok(report.tableSize >= NODES / 2, `table: ${report.tableSize}`);
      assert.ok(report.stored >= 1, `stored on libtorrent nodes: ${JSON.stringify(report)}`);
      assert.equal(report.isSameValue, true, `read back: ${JSON.stringify(report)}`);
      // libtorrent taking our re-keyed id into its tables: seen from a public host; from behind a NAT, not within
      // this test's seconds (reported, not asserted: a finding for issue 11, see docs/LAB.md).
      if (l.siteOf(user).kind === 'public') {
        assert.equal(
          report.isKnownToInternet,
          true,
          `libtorrent tables hold our id: ${JSON.stringify(report)}`,
        );
      } else console.log(`# ${user}: in libtorrent's tables: ${report.isKnownToInternet}`);
    });
  };
  // The public host first, alone: it is the one client the others could reach unasked (and so store their items
  // on). The clients behind NATs then run at once: their NATs drop what they did not ask for, so their items can
  // only land on libtorrent nodes, as when they ran one after the other (~6 × 14 s; at once ~20 s).
  describe('on a public host', () => clientTest('dht-public'));
  describe('behind each NAT kind, at once', { concurrency: true }, () => {
    for (const user of users.filter((u) => u !== 'dht-public')) clientTest(user);
  });
});

describe('the lab DHT, dhtchat testnet variant (network namespaces)', {
  skip: labUnavailable() ?? false,
}, () => {
  let lab: Lab | undefined;
  after(async () => {
    await lab?.close();
  });

  test('a node behind a port-restricted NAT joins a dhtchat testnet on 198.18/15, BEP 44 put and get', {
    timeout: CLIENT_TIMEOUT_MS + 60_000,
  }, async () => {
    lab = createLab({ sites: [{ kind: 'port-restricted', users: ['dht-testnet'] }], internetNodes: 8 });
    const testnet = await startInternetDht(lab, 'dhtchat', 8);
    const report = await runClient(lab, 'dht-testnet', testnet.bootstrap);
    assert.equal(report.externalAddress, lab.siteOf('dht-testnet').publicAddress, JSON.stringify(report));
    assert.equal(report.isIdValid, true, JSON.stringify(report));
    assert.equal(report.contactsValid, 1, 'the testnet bootstrap node holds a BEP 42 id for its address');
    assert.ok(report.stored >= 1, JSON.stringify(report));
    assert.equal(report.isSameValue, true, JSON.stringify(report));
  });
});
