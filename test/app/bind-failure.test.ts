/**
 * A daemon whose port is taken says which port, why, and what to do, in one line, exit 1 (issue 9 §4): real
 * `dhtchat daemon` processes against a UDP or TCP port this test holds; and the errno → words table.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { bindFailure } from '../../src/app/bind-failure.ts';
import { runCli } from '../helpers/cli-runner.ts';

function daemon(dir: string, ...more: string[]): Promise<Awaited<ReturnType<typeof runCli>>> {
  const args = [
    '--data-dir',
    dir,
    'daemon',
    '--init',
    '--bootstrap',
    '127.0.0.1:9',
    '--allow-private',
    ...more,
  ];
  return runCli(args, { timeoutMs: 60_000 });
}

const newDir = (): string => mkdtempSync(join(tmpdir(), 'dhtchat-bind-'));

describe('daemon: a port it cannot have', () => {
  test('UDP --port in use: names the port and host, says why and what to do; exit 1', async () => {
    const holder = createSocket('udp4');
    await new Promise<void>((resolve) => holder.bind(0, '127.0.0.1', resolve));
    const { port } = holder.address();
    try {
      const dir = newDir();
      const result = await daemon(dir, '--host', '127.0.0.1', '--port', String(port));
      assert.equal(result.code, 1, result.stderr);
      assert.equal(
        result.stderr,
        `error: UDP port ${port} on 127.0.0.1 is in use by another program (is another dhtchat daemon running? ` +
          'choose another with --port, or leave --port out to take any free port)\n',
      );
      assert.equal(result.stdout, '');
      assert.equal(existsSync(join(dir, 'api.json')), false);
    } finally {
      holder.close();
    }
  });

  test('--api-port in use: names the API port, says why and what to do; exit 1, no api.json left', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const address = holder.address();
    const apiPort = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const dir = newDir();
      const result = await daemon(dir, '--host', '127.0.0.1', '--api-port', String(apiPort));
      assert.equal(result.code, 1, result.stderr);
      assert.equal(
        result.stderr,
        `error: API port ${apiPort} on 127.0.0.1 is in use by another program (is another dhtchat daemon running? ` +
          'choose another with --api-port, or leave --api-port out to take any free port)\n',
      );
      assert.equal(existsSync(join(dir, 'api.json')), false);
    } finally {
      holder.close();
    }
  });

  test('--host that is not an address of this machine: says so and what to do; exit 1', async () => {
    const result = await daemon(newDir(), '--host', '192.0.2.1');
    assert.equal(result.code, 1, result.stderr);
    assert.equal(
      result.stderr,
      'error: cannot listen on 192.0.2.1: it is not an address of this machine (check --host, or leave --host out ' +
        'to listen on every address)\n',
    );
  });
});

describe('bindFailure', () => {
  const target = { label: 'UDP port', host: '0.0.0.0', port: 80, portOption: '--port' };
  const failure = (code: string): Error => Object.assign(new Error(`bind ${code} 0.0.0.0:80`), { code });

  test('each errno gets its code and its advice; the cause is kept', () => {
    const inUse = bindFailure(failure('EADDRINUSE'), target);
    assert.equal(inUse.code, 'APP_PORT_IN_USE');
    assert.match(inUse.message, /^UDP port 80 on 0\.0\.0\.0 is in use by another program/);
    assert.equal((inUse.cause as Error).message, 'bind EADDRINUSE 0.0.0.0:80');
    const denied = bindFailure(failure('EACCES'), target);
    assert.equal(denied.code, 'APP_PORT_DENIED');
    assert.equal(
      denied.message,
      'UDP port 80 on 0.0.0.0 is not allowed for this user (ports below 1024 need root: choose one from 1024 to ' +
        '65535 with --port, or leave --port out to take any free port)',
    );
    assert.equal(bindFailure(failure('EADDRNOTAVAIL'), target).code, 'APP_ADDRESS_NOT_LOCAL');
    const other = bindFailure(failure('EINVAL'), target);
    assert.equal(other.code, 'APP_BIND_FAILED');
    assert.equal(other.message, 'cannot bind UDP port 80 on 0.0.0.0: bind EINVAL 0.0.0.0:80');
  });
});
