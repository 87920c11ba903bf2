/**
 * Incoming `sample_infohashes` (BEP 51): a random sample of the info-hashes we hold peers for, how many we hold
 * (`num`), how long before asking again is useful (`interval`), and the closest nodes to `target` so indexers
 * can walk the keyspace with one query per node. `samples` is always present, even empty (BEP 51: it tells
 * indexers we support the extension). Trimmed to fit 1024 bytes beside the nodes.
 * https://www.bittorrent.org/beps/bep_0051.html
 */
import type { UdpAddress } from '../../runtime/index.ts';
import { MAX_OUTGOING_PACKET_BYTES } from '../constants.ts';
import type { SampleInfohashesQuery } from '../krpc-message.ts';
import { NODE_ID_BYTES } from '../node-id.ts';
import { closestNodesFields, wantedFamilies } from './closest-nodes.ts';
import {
  type HandlerContext,
  type HandlerReply,
  type ReplyBody,
  reject,
  respond,
} from './handler-context.ts';
import { replyBytes } from './reply-size.ts';

export function handleSampleInfohashes(
  query: SampleInfohashesQuery,
  from: UdpAddress,
  ctx: HandlerContext,
): HandlerReply {
  if (query.target.length !== NODE_ID_BYTES) return reject('BAD_TARGET');

  const sample = ctx.peers.sampleInfoHashes(ctx.nowMs, ctx.random);
  const body: ReplyBody = {
    ...closestNodesFields(query.target, wantedFamilies(query.want, from), ctx),
    interval: sample.intervalSec,
    num: sample.num,
    samples: [],
  };
  // Every sample is 20 bytes, but the length prefix grows with the count: drop one at a time until it fits.
  let samples = sample.samples;
  while (samples.length > 0 && replyBytes({ ...body, samples }) > MAX_OUTGOING_PACKET_BYTES) {
    samples = samples.slice(0, -1);
  }
  return respond({ ...body, samples });
}
