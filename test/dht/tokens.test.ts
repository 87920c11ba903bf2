import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TOKEN_BYTES, TOKEN_ROTATE_MS } from '../../src/dht/constants.ts';
import { TokenIssuer } from '../../src/dht/tokens.ts';
import { ManualClock, SeededRandom } from '../../src/runtime/index.ts';

const target = Buffer.alloc(20, 7);
const other = Buffer.alloc(20, 8);

function setup() {
  const clock = new ManualClock();
  return { clock, tokens: new TokenIssuer(clock, new SeededRandom('tokens')) };
}

test('a token is 8 bytes, valid for the same IP and target only', () => {
  const { tokens } = setup();
  const token = tokens.issue('1.2.3.4', target);
  assert.equal(token.length, TOKEN_BYTES);
  assert.equal(tokens.isValid(token, '1.2.3.4', target), true);
  assert.equal(tokens.isValid(token, '1.2.3.5', target), false);
  assert.equal(tokens.isValid(token, '1.2.3.4', other), false);
  assert.equal(tokens.isValid(token.subarray(0, 7), '1.2.3.4', target), false);
  assert.equal(tokens.isValid(Buffer.alloc(8), '1.2.3.4', target), false);
  // The IP's bytes are what count: the mapped form of the same address is the same requester.
  assert.equal(tokens.isValid(token, '::ffff:1.2.3.4', target), true);
});

test('tokens survive one rotation (5-10 minutes) and not two', () => {
  const { clock, tokens } = setup();
  const token = tokens.issue('2001:db8::1', target);
  clock.advance(TOKEN_ROTATE_MS - 1);
  assert.equal(tokens.isValid(token, '2001:db8::1', target), true, 'same period');
  clock.advance(1);
  assert.equal(tokens.isValid(token, '2001:db8::1', target), true, 'previous secret');
  assert.notDeepEqual(tokens.issue('2001:db8::1', target), token, 'a new secret issues new tokens');
  clock.advance(TOKEN_ROTATE_MS);
  assert.equal(tokens.isValid(token, '2001:db8::1', target), false, 'two rotations later');
});

test('a long silence retires both secrets at once', () => {
  const { clock, tokens } = setup();
  const token = tokens.issue('1.2.3.4', target);
  clock.advance(3 * TOKEN_ROTATE_MS);
  assert.equal(tokens.isValid(token, '1.2.3.4', target), false);
  const fresh = tokens.issue('1.2.3.4', target);
  assert.equal(tokens.isValid(fresh, '1.2.3.4', target), true);
});

test('different issuers (different secrets) do not accept each other’s tokens', () => {
  const clock = new ManualClock();
  const a = new TokenIssuer(clock, new SeededRandom('a'));
  const b = new TokenIssuer(clock, new SeededRandom('b'));
  assert.equal(b.isValid(a.issue('1.2.3.4', target), '1.2.3.4', target), false);
});
