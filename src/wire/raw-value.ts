/**
 * The exact bytes of a nested dict value, without re-encoding. BEP 44 hashes and signs `v` as it appeared on
 * the wire; since the decoder accepts only canonical bencode these bytes equal encodeBencode(decoded v), but
 * taking the span keeps the check independent of the encoder.
 */
import { decodeBencode } from './bencode-decode.ts';
import type { DecodeLimits } from './bencode-types.ts';

const CH_D = 0x64;
const CH_E = 0x65;
const CH_I = 0x69;
const CH_L = 0x6c;
const CH_COLON = 0x3a;

/** [start, end) of a `<length>:` string's payload; the input is known to be valid. */
function stringPayload(bytes: Uint8Array, pos: number): [number, number] {
  let length = 0;
  let p = pos;
  while (bytes[p] !== CH_COLON) length = length * 10 + (bytes[p++]! - 0x30);
  return [p + 1, p + 1 + length];
}

/** The end offset of the (valid) value starting at pos. */
function skipValue(bytes: Uint8Array, pos: number): number {
  const c = bytes[pos];
  if (c === CH_I) return bytes.indexOf(CH_E, pos) + 1;
  if (c === CH_L || c === CH_D) {
    let p = pos + 1;
    while (bytes[p] !== CH_E) p = skipValue(bytes, p);
    return p + 1;
  }
  return stringPayload(bytes, pos)[1];
}

function isKeyEqual(bytes: Uint8Array, start: number, end: number, key: string): boolean {
  if (end - start !== key.length) return false;
  for (let i = 0; i < key.length; i++) {
    if (bytes[start + i] !== key.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * A copy of the exact byte span of the value at `path` (dict keys, latin1, outermost first), or undefined when
 * the input is not valid bencode (under `limits`), a step is not a dict, or a key is missing. An empty path
 * gives the whole input.
 */
export function rawValueAt(
  bytes: Uint8Array,
  path: readonly string[],
  limits?: DecodeLimits,
): Buffer | undefined {
  if (!decodeBencode(bytes, limits).ok) return undefined;
  let start = 0;
  for (const key of path) {
    if (bytes[start] !== CH_D) return undefined;
    let p = start + 1;
    let found = -1;
    while (bytes[p] !== CH_E) {
      const [keyStart, keyEnd] = stringPayload(bytes, p);
      if (isKeyEqual(bytes, keyStart, keyEnd, key)) {
        found = keyEnd;
        break;
      }
      p = skipValue(bytes, keyEnd);
    }
    if (found < 0) return undefined;
    start = found;
  }
  return Buffer.from(bytes.subarray(start, skipValue(bytes, start)));
}
