import type { MouseEvent } from "react";
import type { Router } from "../core/router.ts";

/**
 * A click on an in-app link: handled by the router unless the user asked for a new tab or window
 * (modifier keys, middle button), which the browser then does from the real href.
 */
export function navigate(router: Router, path: string) {
  return (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    router.go(path);
  };
}
