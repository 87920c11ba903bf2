/**
 * The end of the event loop's current turn, as a seam. Work that arrives together — the datagrams read in one
 * poll, the API requests parsed in it — can be handled together when it is deferred to the end of the turn
 * (Node's check phase: every I/O callback of this poll has run by then). The chat store commits such a group of
 * writes with one fsync (src/chat/store/group-commit.ts). Tests pass their own and run the deferred work when
 * they choose, which opens a crash window on purpose.
 */

/** Calls fn once, after the I/O callbacks of the current turn (never synchronously). */
export type DeferToTurnEnd = (fn: () => void) => void;

export const atTurnEnd: DeferToTurnEnd = (fn) => {
  setImmediate(fn);
};
