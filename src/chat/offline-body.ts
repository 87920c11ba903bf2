/**
 * One chat message inside a sealed offline bundle (offline-seal.ts carries it as an opaque body next to its id):
 * bencode { t: UTF-8 text, c: created ms, s: the sender's conversation seq }. The seq lets the receiver store a
 * batch in the order it was written. Remote input on decode: a value or undefined, never a throw.
 */
import { type BDict, decodeBencode, encodeBencode } from '../wire/index.ts';
import type { StoredMessage } from './store/messages.ts';

export function encodeOfflineBody(m: Pick<StoredMessage, 'text' | 'createdMs' | 'seq'>): Buffer {
  const dict: BDict = Object.create(null);
  dict['t'] = Buffer.from(m.text, 'utf8');
  dict['c'] = m.createdMs;
  dict['s'] = m.seq;
  return encodeBencode(dict);
}

export function decodeOfflineBody(
  body: Buffer,
): { text: string; createdMs: number; senderSeq: number } | undefined {
  const decoded = decodeBencode(body, { maxDepth: 2, maxItems: 8 });
  if (!decoded.ok) return undefined;
  const d = decoded.value;
  if (typeof d !== 'object' || Array.isArray(d) || Buffer.isBuffer(d)) return undefined;
  const { t, c, s } = d;
  if (!Buffer.isBuffer(t) || typeof c !== 'number' || typeof s !== 'number' || c < 0 || s < 0)
    return undefined;
  const text = new TextDecoder('utf-8', { fatal: true });
  try {
    return { text: text.decode(t), createdMs: c, senderSeq: s };
  } catch {
    return undefined;
  }
}
