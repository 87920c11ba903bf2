/** How one-shot commands print results: one JSON object with --json, short readable lines otherwise. */
import type { StoreResult } from '../dht/index.ts';
import type { BValue } from '../wire/index.ts';
import { terminalSafe } from './terminal-text.ts';

export function printResult(
  isJson: boolean | undefined,
  json: Record<string, unknown>,
  human: string[],
): void {
  process.stdout.write(isJson ? `${JSON.stringify(json)}\n` : `${human.join('\n')}\n`);
}

/**
 * A bencoded value as JSON: byte strings become UTF-8 strings (what `dht get` prints for v), integers numbers,
 * lists arrays, dictionaries objects.
 */
export function bvalueToJson(value: BValue): unknown {
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'number') return value;
  if (Array.isArray(value)) return value.map(bvalueToJson);
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) out[key] = bvalueToJson(inner);
  return out;
}

/** v for human output: a byte string as its text, anything else as JSON; terminal-safe (anyone can put an item). */
export function bvalueToText(value: BValue): string {
  const json = bvalueToJson(value);
  return terminalSafe(typeof json === 'string' ? json : JSON.stringify(json));
}

/** BEP 44 refusals by code, e.g. " (refused: 302 seq lower than stored ×3)". */
export function refusals(result: StoreResult): string {
  const names: Record<number, string> = {
    203: 'bad token',
    205: 'value too big',
    206: 'invalid signature',
    207: 'salt too big',
    301: 'cas mismatch',
    302: 'seq lower than stored',
  };
  const parts = Object.entries(result.errorCodes).map(
    ([code, n]) => `${code} ${names[Number(code)] ?? 'error'} ×${n}`,
  );
  return parts.length === 0 ? '' : ` (refused: ${parts.join(', ')})`;
}
