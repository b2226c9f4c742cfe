import { useLayoutEffect, useMemo, useRef } from "react";

/** This close to the end counts as "at the bottom". */
export const BOTTOM_SLACK_PX = 60;

/**
 * Watches the message list's scroller for two things Virtuoso does not get exactly right here.
 *
 * The row on top stays where it was when older messages are put above it: Virtuoso shifts the
 * scroll position by an estimate of the new rows' height and corrects it as they are measured — but
 * not when the list sits at scrollTop 0 or was last scrolled down, and rows here differ in height
 * (headers, separators). So the top row is remembered on every scroll and put back in place, to the
 * pixel, once the prepended rows are laid out.
 *
 * Whether the list is at the bottom, from the DOM: the last row rendered and its end on screen
 * (Virtuoso's own flag flickers to "at the bottom" while it lays out a list opened higher up).
 * A list at the bottom stays at the very end when its rows are measured: Virtuoso scrolls to the
 * end by its estimate of their height, and a taller last row (a join line) was left cut in half.
 */
export function usePrependAnchor(
  firstItemIndex: number,
  lastIndex: { current: number },
  onBottom: (atBottom: boolean) => void,
) {
  const previous = useRef(firstItemIndex);
  const tools = useMemo(() => {
    let el: HTMLElement | null = null;
    let anchor: { index: number; top: number } | null = null;
    let frame = 0;
    const remember = () => {
      if (!el) return;
      // At the bottom: the last row is rendered and its end is on screen (not merely a short
      // scroll height while the list is still being laid out).
      const box = el.getBoundingClientRect();
      const last = el.querySelector<HTMLElement>(`[data-item-index="${lastIndex.current}"]`);
      onBottom(last !== null && last.getBoundingClientRect().bottom <= box.bottom + BOTTOM_SLACK_PX);
      const top = box.top;
      for (const item of el.querySelectorAll<HTMLElement>("[data-item-index]")) {
        const r = item.getBoundingClientRect();
        if (r.bottom > top) {
          anchor = { index: Number(item.dataset.itemIndex), top: r.top - top };
          return;
        }
      }
    };
    // After a scroll, Virtuoso renders the rows for the new position in the next frame: look then.
    const soon = () => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(remember);
    };
    return {
      soon,
      anchor: () => anchor,
      /**
       * The rows were measured: a list at the bottom goes back to the very end. Near the end counts
       * too, since right after opening the last row may not be rendered yet when "at the bottom" is
       * decided. In the next frame, because Virtuoso sets its own scroll position after this call.
       */
      heightChanged(wasAtBottom: boolean) {
        if (!el) return;
        const gap = el.scrollHeight - el.clientHeight - el.scrollTop;
        if (gap < 1 || !(wasAtBottom || gap < BOTTOM_SLACK_PX)) return;
        requestAnimationFrame(() => {
          if (el) el.scrollTop = el.scrollHeight;
        });
      },
      restore(a: { index: number; top: number }) {
        const item = el?.querySelector<HTMLElement>(`[data-item-index="${a.index}"]`);
        if (!el || !item) return;
        const drift = item.getBoundingClientRect().top - el.getBoundingClientRect().top - a.top;
        if (Math.abs(drift) >= 1) el.scrollTop += drift;
        remember();
      },
      scroller(node: HTMLElement | Window | null) {
        el?.removeEventListener("scroll", soon);
        el = node instanceof HTMLElement ? node : null;
        el?.addEventListener("scroll", soon, { passive: true });
      },
    };
  }, [onBottom, lastIndex]);

  useLayoutEffect(() => {
    const grew = firstItemIndex < previous.current;
    previous.current = firstItemIndex;
    const a = tools.anchor();
    if (!grew || !a) return;
    let frame = requestAnimationFrame(() => {
      frame = requestAnimationFrame(() => tools.restore(a));
    });
    const late = setTimeout(() => tools.restore(a), 150);
    return () => {
      cancelAnimationFrame(frame);
      clearTimeout(late);
    };
  }, [firstItemIndex, tools]);

  return tools;
}
