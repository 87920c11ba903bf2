import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isNodeIdValidForHost, nodeIdForHost } from '../../src/dht/bep42.ts';
import { NodeIdentity } from '../../src/dht/node-identity.ts';
import { nullLogger, SeededRandom } from '../../src/runtime/index.ts';

function identity(opts: { id?: Buffer; allowPrivate?: boolean; enforceBep42OnPrivate?: boolean } = {}) {
  const rekeys: string[] = [];
  const me = new NodeIdentity({
    random: new SeededRandom('identity'),
    logger: nullLogger,
    allowPrivate: opts.allowPrivate ?? false,
    enforceBep42OnPrivate: opts.enforceBep42OnPrivate ?? false,
    families: [4, 6],
    ...(opts.id === undefined ? {} : { id: opts.id }),
    onRekey: (_id, host) => rekeys.push(host),
  });
  return { me, rekeys };
}

describe('NodeIdentity (BEP 42)', () => {
  test('re-keys once 3 distinct public voters agree, and again on a confirmed change', () => {
    const { me, rekeys } = identity({ id: Buffer.alloc(20, 1) });
    const at = { host: '31.0.0.7', port: 6881 };
    me.vote('40.0.0.1', at, 0);
    me.vote('40.0.0.1', at, 1); // the same voter twice counts once
    me.vote('40.0.0.2', at, 2);
    assert.deepEqual(rekeys, []);
    me.vote('40.0.0.3', at, 3);
    assert.deepEqual(rekeys, ['31.0.0.7']);
    assert.ok(isNodeIdValidForHost(me.id, '31.0.0.7'));
    assert.deepEqual(me.externalAddress(), at);
    // The NAT moved us: once a majority of voters report the new address, a new id.
    const moved = { host: '32.0.0.8', port: 6881 };
    for (const voter of ['40.0.0.1', '40.0.0.2', '40.0.0.3', '40.0.0.4']) me.vote(voter, moved, 10);
    assert.deepEqual(rekeys, ['31.0.0.7', '32.0.0.8']);
    assert.ok(isNodeIdValidForHost(me.id, '32.0.0.8'));
  });

  test('an id already valid for the confirmed address is kept; private voters do not count', () => {
    const host = '31.0.0.9';
    const valid = nodeIdForHost(host, new SeededRandom('valid'));
    const { me, rekeys } = identity({ id: valid });
    for (const v of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) me.vote(v, { host, port: 1 }, 0);
    assert.equal(me.externalAddress(), undefined, 'private voters are not eligible');
    for (const v of ['40.0.0.1', '40.0.0.2', '40.0.0.3']) me.vote(v, { host, port: 1 }, 0);
    assert.deepEqual(me.id, valid);
    assert.deepEqual(rekeys, []);
  });

  test('with allowPrivate, lab voters on 198.18/15 count and the id follows a 198.18/15 address', () => {
    const at = { host: '198.19.1.1', port: 6881 };
    const strict = identity({ id: Buffer.alloc(20, 1) });
    for (const v of ['198.18.1.10', '198.18.2.10', '198.18.3.10']) strict.me.vote(v, at, 0);
    assert.equal(strict.me.externalAddress(), undefined, 'not eligible without allowPrivate');
    const lab = identity({ id: Buffer.alloc(20, 1), allowPrivate: true });
    for (const v of ['198.18.1.10', '198.18.2.10', '198.18.3.10']) lab.me.vote(v, at, 0);
    assert.deepEqual(lab.rekeys, ['198.19.1.1']);
    assert.ok(isNodeIdValidForHost(lab.me.id, '198.19.1.1'));
    // Not exempt from BEP 42, as a private host would be: a lab node must hold an id bound to its address.
    const node = { id: Buffer.alloc(20, 0xab), address: { host: '198.18.1.10', port: 1 } };
    assert.equal(lab.me.isCompliant(node), false);
  });

  test('compliance: exempt private hosts unless enforced on private', () => {
    const node = { id: Buffer.alloc(20, 0xab), address: { host: '10.0.0.5', port: 1 } };
    assert.equal(identity().me.isCompliant(node), true);
    assert.equal(identity({ enforceBep42OnPrivate: true }).me.isCompliant(node), false);
    const good = { id: nodeIdForHost('10.0.0.5', new SeededRandom('x')), address: node.address };
    assert.equal(identity({ enforceBep42OnPrivate: true }).me.isCompliant(good), true);
    const pub = { id: Buffer.alloc(20, 0xab), address: { host: '31.0.0.1', port: 1 } };
    assert.equal(identity().me.isCompliant(pub), false);
  });
});
