/**
 * The encoded size of a reply before it is encoded, so handlers can pick how many values, samples or nodes fit
 * BEP 32's 1024-byte limit (https://www.bittorrent.org/beps/bep_0032.html §Maximum packet size).
 *
 * Sizes are exact for the body and a worst case for the envelope the node adds around it (the longest
 * transaction id we answer, an IPv6 `ip`, our version). The numbers below are the byte lengths of the keys of
 * BEP 5/32/33/44/51 replies; the names themselves stay in krpc-codec.ts.
 */
import { CLIENT_VERSION, COMPACT_NODE_V4_BYTES, COMPACT_NODE_V6_BYTES, MAX_TID_BYTES } from '../constants.ts';
import { NODE_ID_BYTES } from '../node-id.ts';
import type { ReplyBody } from './handler-context.ts';

/** Bytes of a bencoded byte string of n bytes: "<n>:" + the bytes. */
export function stringBytes(n: number): number {
  return String(n).length + 1 + n;
}

/** Bytes of a bencoded integer. */
export function integerBytes(n: number): number {
  return String(n).length + 2;
}

const KEY = {
  t: 1,
  y: 1,
  r: 1,
  ip: 2,
  v: 1,
  id: 2,
  nodes: 5,
  nodes6: 6,
  token: 5,
  values: 6,
  bf: 4,
  k: 1,
  sig: 3,
};
const KEY_MORE = { seq: 3, interval: 8, num: 3, samples: 7 };

/** `d` 1:t <tid> 1:y 1:r 1:r d 2:id <id> … e 2:ip <18> 1:v <version> `e`, with the longest tid we answer. */
export const REPLY_ENVELOPE_BYTES =
  1 +
  stringBytes(KEY.t) +
  stringBytes(MAX_TID_BYTES) +
  stringBytes(KEY.y) +
  stringBytes(1) +
  stringBytes(KEY.r) +
  2 +
  stringBytes(KEY.id) +
  stringBytes(NODE_ID_BYTES) +
  stringBytes(KEY.ip) +
  stringBytes(18) +
  stringBytes(KEY.v) +
  stringBytes(CLIENT_VERSION.length) +
  1;

/** Bytes of the `values` list entry holding n compact peers of a family (key included). */
export function valuesBytes(n: number, family: 4 | 6): number {
  return stringBytes(KEY.values) + 2 + n * stringBytes(family === 4 ? 6 : 18);
}

/** Bytes of one more compact peer in a `values` list. */
export function valueEntryBytes(family: 4 | 6): number {
  return stringBytes(family === 4 ? 6 : 18);
}

/** The worst-case encoded size of the whole reply carrying this body. */
export function replyBytes(body: ReplyBody): number {
  let n = REPLY_ENVELOPE_BYTES;
  if (body.nodes !== undefined)
    n += stringBytes(KEY.nodes) + stringBytes(body.nodes.length * COMPACT_NODE_V4_BYTES);
  if (body.nodes6 !== undefined) {
    n += stringBytes(KEY.nodes6) + stringBytes(body.nodes6.length * COMPACT_NODE_V6_BYTES);
  }
  if (body.token !== undefined) n += stringBytes(KEY.token) + stringBytes(body.token.length);
  if (body.values !== undefined) {
    for (const family of [4, 6] as const) {
      const count = body.values.filter((p) => p.host.includes(':') === (family === 6)).length;
      n += count * valueEntryBytes(family);
    }
    n += stringBytes(KEY.values) + 2;
  }
  if (body.bfsd !== undefined) n += stringBytes(KEY.bf) + stringBytes(body.bfsd.length);
  if (body.bfpe !== undefined) n += stringBytes(KEY.bf) + stringBytes(body.bfpe.length);
  if (body.vBytes !== undefined) n += stringBytes(KEY.v) + body.vBytes.length;
  if (body.k !== undefined) n += stringBytes(KEY.k) + stringBytes(body.k.length);
  if (body.sig !== undefined) n += stringBytes(KEY.sig) + stringBytes(body.sig.length);
  if (body.seq !== undefined) n += stringBytes(KEY_MORE.seq) + integerBytes(body.seq);
  if (body.interval !== undefined) n += stringBytes(KEY_MORE.interval) + integerBytes(body.interval);
  if (body.num !== undefined) n += stringBytes(KEY_MORE.num) + integerBytes(body.num);
  if (body.samples !== undefined) n += stringBytes(KEY_MORE.samples) + stringBytes(body.samples.length * 20);
  return n;
}
