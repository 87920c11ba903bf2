/** `dht put` and `dht get`: BEP 44 items (immutable, or mutable signed with a key from a seed file). */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { StoreResult } from '../dht/index.ts';
import { DhtchatError } from '../runtime/index.ts';
import { addNetworkOptions, type OneShotFlags, usageError } from './dht-options.ts';
import { bvalueToJson, bvalueToText, printResult, refusals } from './dht-output.ts';
import { parseId20, parseNonNegativeInt } from './parse-args.ts';
import { oneShot, withTemporaryNode } from './temporary-node.ts';

/** BEP 44: v is at most 1000 bytes bencoded; salt at most 64 bytes. */
const MAX_V_BYTES = 1000;
const MAX_SALT_BYTES = 64;
const SEED_BYTES = 32;

interface PutFlags extends OneShotFlags {
  immutable?: boolean;
  seedFile?: string;
  salt?: string;
  seq?: number;
}

interface GetFlags extends OneShotFlags {
  salt?: string;
}

export function registerDhtItemCommands(dht: Command): void {
  addNetworkOptions(
    dht
      .command('put')
      .description('store a value in the DHT (BEP 44): immutable, or mutable signed with --seed-file')
      .argument('<value>', 'stored as a bencoded byte string (UTF-8)')
      .option('--immutable', 'store an immutable item (the default without --seed-file)')
      .option('--seed-file <F>', 'mutable item signed with this 32-byte ed25519 seed (hex or raw)')
      .option('--salt <S>', 'mutable item salt (UTF-8)')
      .option('--seq <N>', 'mutable item sequence number (default: highest seen + 1)', parseNonNegativeInt),
  ).action(runPut);

  addNetworkOptions(
    dht
      .command('get')
      .description('read a BEP 44 item by target')
      .argument('<target-hex>', '40 hex characters', parseId20)
      .option('--salt <S>', 'salt of a mutable item (UTF-8)'),
  ).action(runGet);
}

async function runPut(value: string, flags: PutFlags, command: Command): Promise<void> {
  const v = Buffer.from(value, 'utf8');
  const vBytes = `${v.length}:`.length + v.length;
  if (vBytes > MAX_V_BYTES)
    usageError(command, `value is ${vBytes} bytes bencoded; BEP 44 allows ${MAX_V_BYTES}`);
  if (flags.immutable && flags.seedFile !== undefined)
    usageError(command, '--immutable and --seed-file conflict');
  if (flags.seedFile === undefined && (flags.salt !== undefined || flags.seq !== undefined)) {
    usageError(command, '--salt and --seq need --seed-file (they apply to mutable items)');
  }
  const salt = saltOf(flags.salt, command);

  if (flags.seedFile === undefined) {
    const result = await withTemporaryNode(oneShot(flags), (node) => node.putImmutable(v));
    printStored(flags, result);
    return;
  }
  const seed = await readSeed(flags.seedFile, command);
  // Loaded on demand, like the DHT layer, to keep start-up fast.
  const { ed25519FromSeed } = await import('../crypto/index.ts');
  const keyPair = ed25519FromSeed(seed);
  const result = await withTemporaryNode(oneShot(flags), (node) =>
    node.putMutable({
      keyPair,
      v,
      ...(salt === undefined ? {} : { salt }),
      ...(flags.seq === undefined ? {} : { seq: flags.seq }),
    }),
  );
  printStored(flags, result, result.seq);
}

function printStored(flags: PutFlags, result: StoreResult & { target: Buffer }, seq?: number): void {
  const { target, stored } = result;
  if (stored === 0) {
    throw new DhtchatError('APP_NOT_STORED', `put reached no node that stored the item${refusals(result)}`);
  }
  const hex = target.toString('hex');
  const human =
    seq === undefined ? `stored ${hex} on ${stored} nodes` : `stored ${hex} (seq ${seq}) on ${stored} nodes`;
  printResult(flags.json, { target: hex, stored }, [human]);
}

async function runGet(target: Buffer, flags: GetFlags, command: Command): Promise<void> {
  const salt = saltOf(flags.salt, command);
  const item = await withTemporaryNode(oneShot(flags), (node) =>
    node.get(target, salt === undefined ? undefined : { salt }),
  );
  if (item === undefined) {
    throw new DhtchatError('APP_NOT_FOUND', `no item found for ${target.toString('hex')}`);
  }
  const json: Record<string, unknown> = { v: bvalueToJson(item.v) };
  const human = [bvalueToText(item.v)];
  if (item.k !== undefined) {
    json['seq'] = item.seq ?? 0;
    json['k'] = item.k.toString('hex');
    human.push(`seq ${item.seq ?? 0}, key ${item.k.toString('hex')}`);
  }
  printResult(flags.json, json, human);
}

function saltOf(text: string | undefined, command: Command): Buffer | undefined {
  if (text === undefined) return undefined;
  const salt = Buffer.from(text, 'utf8');
  if (salt.length > MAX_SALT_BYTES)
    usageError(command, `salt is ${salt.length} bytes; BEP 44 allows ${MAX_SALT_BYTES}`);
  return salt.length === 0 ? undefined : salt;
}

/** A seed file holds 32 raw bytes, or 64 hex characters (surrounding whitespace allowed). */
async function readSeed(path: string, command: Command): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new DhtchatError('APP_SEED_FILE', `cannot read seed file ${path}`, { cause });
  }
  const text = bytes.toString('latin1').trim();
  if (/^[0-9a-f]{64}$/i.test(text)) return Buffer.from(text, 'hex');
  if (bytes.length === SEED_BYTES) return bytes;
  return usageError(command, `seed file ${path} must hold 32 raw bytes or 64 hex characters`);
}
