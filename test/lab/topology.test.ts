/**
 * The lab cleans up after itself: close() deletes every namespace it made; a run interrupted by SIGINT or
 * SIGTERM deletes its own on the way out; namespaces left by a run that died (SIGKILL: no handler runs) are
 * deleted by the next lab. Root only (skipped with the reason otherwise).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { labUnavailable, NAMESPACE_PREFIX } from './netns.ts';
import { spawnInNs } from './processes.ts';
import { createLab } from './topology.ts';

function namespaces(): string[] {
  const listed = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 10_000 }).stdout ?? '';
  return listed
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter(Boolean);
}

/** Starts lab-holder.ts (a process that builds a lab and waits) and reads the namespaces it made. */
async function holdLab(): Promise<{ names: string[]; kill(signal: NodeJS.Signals): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/lab/lab-holder.ts'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!);
    });
    child.on('exit', () => reject(new Error('lab-holder exited early')));
    setTimeout(() => reject(new Error('lab-holder: no namespaces line in 30 s')), 30_000).unref();
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    names: (JSON.parse(line) as { namespaces: string[] }).namespaces,
    async kill(signal) {
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

describe('lab cleanup (network namespaces)', { skip: labUnavailable() ?? false }, () => {
  test('close() stops what runs inside and deletes every namespace', { timeout: 60_000 }, async () => {
    const lab = createLab({ sites: [{ kind: 'cgnat', users: ['closer'] }], internetNodes: 1 });
    const made = namespaces().filter((n) => n.startsWith(lab.internetNs.slice(0, -'inet'.length)));
    assert.equal(made.length, 4, `inet, carrier, home router, host: ${made.join(' ')}`);
    const sleeper = lab.spawn('sleeper', lab.host('closer').ns, 'sleep', ['600']);
    await lab.close();
    assert.equal(sleeper.isRunning(), false);
    assert.deepEqual(
      namespaces().filter((n) => made.includes(n)),
      [],
    );
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    test(`a run stopped by ${signal} deletes its namespaces`, { timeout: 60_000 }, async () => {
      const held = await holdLab();
      assert.ok(held.names.length >= 3, held.names.join(' '));
      await held.kill(signal);
      assert.deepEqual(
        namespaces().filter((n) => held.names.includes(n)),
        [],
      );
    });
  }

  test("a dead run's namespaces (SIGKILL) are deleted by the next lab", { timeout: 60_000 }, async () => {
    const held = await holdLab();
    await held.kill('SIGKILL');
    assert.ok(
      held.names.every((n) => namespaces().includes(n)),
      'SIGKILL runs no handler: the namespaces are still there',
    );
    // A process left running inside one of them is killed too.
    const orphan = spawnInNs('orphan', held.names[0]!, 'sleep', ['600']);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const next = createLab({ sites: [], internetNodes: 1 });
    try {
      assert.deepEqual(
        namespaces().filter((n) => held.names.includes(n)),
        [],
      );
      await orphan.waitFor(() => false, 5_000, 'exit').catch(() => undefined);
      assert.equal(orphan.isRunning(), false);
    } finally {
      await next.close();
    }
  });

  test('names carry the prefix and the pid', async () => {
    const lab = createLab({ sites: [], internetNodes: 1 });
    try {
      assert.ok(lab.internetNs.startsWith(`${NAMESPACE_PREFIX}${process.pid}-`), lab.internetNs);
    } finally {
      await lab.close();
    }
  });
});
