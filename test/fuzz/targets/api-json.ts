/**
 * The local API's request body (src/app/chat-api-server.ts parseJsonBody, what readJsonBody runs on a complete
 * body). Properties: returns a plain JSON object (not null, not an array) or throws DhtchatError with code
 * APP_API_BAD_REQUEST — never any other error (the server would answer 500), however deep, long or malformed.
 */
import assert from 'node:assert/strict';
import { parseJsonBody } from '../../../src/app/chat-api-server.ts';
import { DhtchatError } from '../../../src/runtime/index.ts';
import type { FuzzRandom } from '../fuzz-random.ts';
import { type FuzzTarget, tokens } from '../fuzz-target.ts';

export const apiJsonTarget: FuzzTarget = {
  name: 'api-json',
  decoders: 'parseJsonBody (the chat API request body)',
  weight: 4,
  maxInputBytes: 140 * 1024,
  dictionary: tokens(
    '{',
    '}',
    '[',
    ']',
    '"',
    ':',
    ',',
    'null',
    'true',
    'false',
    '1e999',
    '-0',
    '"\\u0000"',
    '"\\ud800"',
    '__proto__',
    '"constructor"',
    '"who"',
    '"to"',
    '"text"',
    '"code"',
    '"isTyping"',
    '[[[[[[[[[[[[[[[[',
    '\ufeff',
    '\xff',
  ),
  seeds(random: FuzzRandom): Buffer[] {
    const bodies: unknown[] = [
      { to: 'alice', text: 'hello ✓' },
      { code: 'dhtchat:abc', name: 'Bob', message: 'hi' },
      { who: 'carol', isTyping: false },
      { __proto__: null, nested: { a: [1, 2.5, -3e10, null, true, 'x'] } },
      {},
    ];
    const deep = Buffer.from(`{"a":${'['.repeat(20_000)}${']'.repeat(20_000)}}`);
    return [...bodies.map((b) => Buffer.from(JSON.stringify(b))), deep, Buffer.alloc(0), random.bytes(16)];
  },
  run(input: Buffer): string {
    try {
      const body = parseJsonBody(input);
      assert.ok(typeof body === 'object' && body !== null && !Array.isArray(body), 'a JSON object');
      return `ok:${Object.keys(body).length > 0}`;
    } catch (error) {
      assert.ok(error instanceof DhtchatError, `only DhtchatError escapes, got ${String(error)}`);
      assert.equal(error.code, 'APP_API_BAD_REQUEST');
      // The kind of error, not its details (a position or a quoted excerpt would make every input new).
      return `bad:${error.message
        .split(/[\s:'"]+/)
        .slice(3, 5)
        .join(' ')}`;
    }
  },
};
