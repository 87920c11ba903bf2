/**
 * --x-pollinate: while our ping queue is nearly empty, the server asks another bootstrap server for nodes
 * (a find_node with a SYN-cookie tid, written by ResponseWriter.writeFindNode). The nodes its reply lists are
 * not trusted: they go into the ping queue and enter the buffer only by answering our own ping, like any
 * requester. (The reference inserts them straight into its buffer.)
 */
import type { FamilyState } from './family-state.ts';
import { QueueAdmission } from './ping-queue.ts';
import type { ParsedMessage } from './request-parser.ts';
import { classifySource, SourceVerdict } from './source-filter.ts';

/** Queues the compact nodes of `nodes` / `nodes6` in the parsed reply; returns how many were queued. */
export function queueListedNodes(
  bytes: Uint8Array,
  parsed: ParsedMessage,
  families: readonly [FamilyState, FamilyState],
  context: { socketIndexFor(family: 4 | 6): number; isPrivateAllowed: boolean; nowMs: number },
): number {
  const lists = [
    { offset: parsed.nodesOffset, length: parsed.nodesLength, state: families[0], entry: 26, ip: 4 as const },
    {
      offset: parsed.nodes6Offset,
      length: parsed.nodes6Length,
      state: families[1],
      entry: 38,
      ip: 16 as const,
    },
  ];
  let queued = 0;
  for (const list of lists) {
    if (list.offset < 0 || list.length % list.entry !== 0) continue;
    const socketIndex = context.socketIndexFor(list.state.buffer.family);
    if (socketIndex < 0) continue;
    for (let o = list.offset; o < list.offset + list.length; o += list.entry) {
      const verdict = classifySource(bytes, o + 20, list.ip, context.isPrivateAllowed);
      if (verdict === SourceVerdict.rejected) continue;
      if (list.state.queue.insert(bytes, o + 20, socketIndex, context.nowMs) === QueueAdmission.inserted)
        queued++;
    }
  }
  return queued;
}
