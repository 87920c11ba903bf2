/**
 * The conversation as a windowed list (lib/row-layout.ts): only the rows near the viewport are in the DOM, each
 * measured once drawn. Day separators are rows too. The view sticks to the bottom while the user is there (new
 * messages scroll in); otherwise the row at the top of the viewport stays put when rows are added above it (an
 * older page) or change height. Scrolling near the top loads the previous page.
 *
 * The list is a focusable `log` region (arrow keys and Page Up/Down scroll it); it does not announce itself as
 * rows come and go while scrolling — new messages are announced once through the live region instead.
 */
import { useLayoutEffect, useMemo, useReducer, useRef, useState } from 'preact/hooks';
import { dayKey, dayLabel } from '../lib/format-time.ts';
import { RowLayout } from '../lib/row-layout.ts';
import type { ChatLine, Conversation } from '../state/conversation.ts';
import { ownCode } from '../state/session.ts';
import { MessageRowItem } from './message-row.tsx';

type Row =
  | { readonly kind: 'day'; readonly key: string; readonly label: string }
  | { readonly kind: 'message'; readonly key: string; readonly line: ChatLine };

const OVERSCAN_PX = 600;
/** Closer than this to the top, the previous page loads. */
const LOAD_OLDER_PX = 800;
/** Closer than this to the bottom counts as "at the bottom". */
const BOTTOM_SLACK_PX = 48;

export function MessageList({
  conversation,
  label,
  highlightId,
}: {
  conversation: Conversation;
  label: string;
  highlightId: string | undefined;
}) {
  const lines = conversation.lines.value;
  const rows = useMemo(() => rowsOf(lines), [lines]);
  const layout = useRef(new RowLayout()).current;
  useMemo(
    () =>
      layout.setRows(
        rows.map((r) => r.key),
        (i) => estimateHeight(rows[i]),
      ),
    [rows],
  );
  const scroller = useRef<HTMLDivElement>(null);
  const spacer = useRef<HTMLUListElement>(null);
  const [viewport, setViewport] = useState({ top: 0, height: 800 });
  const [, redraw] = useReducer((n: number) => n + 1, 0);
  const isAtBottom = useRef(true);
  /** The row at the top of the viewport and how far into it we are: kept in place across changes. */
  const anchor = useRef<{ key: string; into: number } | undefined>(undefined);
  const scrolledTo = useRef<string | undefined>(undefined);
  // Our own message just sent: show it, wherever the view was.
  const newest = lines.at(-1);
  const lastSentId = useRef<string | undefined>(undefined);
  if (newest?.isSending === true && newest.id !== lastSentId.current) {
    lastSentId.current = newest.id;
    isAtBottom.current = true;
  }

  const noteAnchor = (el: HTMLDivElement): void => {
    // A message row, not a day separator: the day's separator moves up when older messages of that day arrive.
    let { start: index } = layout.range(el.scrollTop, 0, 0);
    while (layout.keyAt(index)?.startsWith('day-') === true) index++;
    const key = layout.keyAt(index);
    anchor.current = key === undefined ? undefined : { key, into: el.scrollTop - layout.offsetOf(index) };
  };
  const loadOlderNearTop = (el: HTMLDivElement): void => {
    if (el.scrollTop < LOAD_OLDER_PX && conversation.hasOlder.value && !conversation.isLoadingOlder.value) {
      void conversation.loadOlder();
    }
  };

  const onScroll = (): void => {
    const el = scroller.current;
    if (el === null) return;
    isAtBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < BOTTOM_SLACK_PX;
    noteAnchor(el);
    if (Math.abs(el.scrollTop - viewport.top) > 1 || el.clientHeight !== viewport.height) {
      setViewport({ top: el.scrollTop, height: el.clientHeight });
    }
    loadOlderNearTop(el);
  };

  // After each draw: measure the rows drawn, then put the scroll position where it belongs.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el === null) return;
    let isChanged = false;
    for (const node of el.querySelectorAll<HTMLElement>('[data-row-key]')) {
      isChanged = layout.measure(node.dataset['rowKey'] ?? '', node.offsetHeight) || isChanged;
    }
    const total = layout.totalHeight();
    if (spacer.current !== null) spacer.current.style.height = `${total}px`;
    const target = highlightId !== undefined && scrolledTo.current !== highlightId ? highlightId : undefined;
    if (target !== undefined && layout.indexOf(target) >= 0) {
      scrolledTo.current = target;
      isAtBottom.current = false;
      el.scrollTop = Math.max(0, layout.offsetOf(layout.indexOf(target)) - el.clientHeight / 3);
      noteAnchor(el);
    } else if (isAtBottom.current) {
      el.scrollTop = total;
    } else if (anchor.current !== undefined) {
      const index = layout.indexOf(anchor.current.key);
      const desired = index < 0 ? el.scrollTop : layout.offsetOf(index) + anchor.current.into;
      if (Math.abs(el.scrollTop - desired) > 1) el.scrollTop = desired;
    }
    if (Math.abs(el.scrollTop - viewport.top) > 1 || el.clientHeight !== viewport.height) {
      setViewport({ top: el.scrollTop, height: el.clientHeight });
    } else if (isChanged) {
      redraw(0);
    }
    // Still at the top after a page arrived (no scroll event will come): the next page.
    if (!isAtBottom.current) loadOlderNearTop(el);
  });

  const { start, end } = layout.range(viewport.top, viewport.height, OVERSCAN_PX);
  const mine = ownCode.value;
  const drawn: Row[] = rows.slice(start, end);
  return (
    <div
      ref={scroller}
      class="message-scroller"
      role="log"
      aria-live="off"
      aria-label={label}
      // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must take the focus to scroll by keys
      tabIndex={0}
      onScroll={onScroll}
    >
      {conversation.isLoadingOlder.value && (
        <p class="loading-older" role="status">
          Loading older messages…
        </p>
      )}
      <ul ref={spacer} class="message-spacer" style={{ height: `${layout.totalHeight()}px` }}>
        {drawn.map((row, i) => (
          <li
            key={row.key}
            class={`row ${row.kind}`}
            data-row-key={row.key}
            style={{ top: `${layout.offsetOf(start + i)}px` }}
          >
            {row.kind === 'day' ? (
              <p class="day-separator">
                <span>{row.label}</span>
              </p>
            ) : (
              <MessageRowItem
                line={row.line}
                isMine={row.line.from === mine}
                isHighlighted={row.key === highlightId}
                onDiscard={(id) => conversation.discard(id)}
              />
            )}
          </li>
        ))}
      </ul>
      {lines.length === 0 && conversation.isLoaded.value && (
        <p class="hint empty-chat">No messages yet. Say hello!</p>
      )}
    </div>
  );
}

function rowsOf(lines: readonly ChatLine[]): Row[] {
  const rows: Row[] = [];
  const days = new Set<string>();
  let lastDay = '';
  for (const line of lines) {
    const day = dayKey(line.ts);
    if (day !== lastDay) {
      // A day's key stays the same when older pages arrive above it; a day seen twice (a sender's clock off)
      // gets a second key.
      const key = days.has(day) ? `day-${day}-${line.id}` : `day-${day}`;
      days.add(day);
      rows.push({ kind: 'day', key, label: dayLabel(line.ts) });
      lastDay = day;
    }
    rows.push({ kind: 'message', key: line.id, line });
  }
  return rows;
}

function estimateHeight(row: Row | undefined): number {
  if (row === undefined) return 0;
  if (row.kind === 'day') return 40;
  return 56 + 20 * Math.min(40, Math.floor(row.line.text.length / 48));
}
