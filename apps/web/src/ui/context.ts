import { createContext, useContext, useSyncExternalStore } from "react";
import type { ChatClient } from "../core/chat.ts";
import type { Router } from "../core/router.ts";
import type { Store } from "../core/store.ts";

export interface AppDeps {
  client: ChatClient;
  router: Router;
}

export const AppContext = createContext<AppDeps | null>(null);

export function useApp(): AppDeps {
  const deps = useContext(AppContext);
  if (!deps) throw new Error("AppContext is missing");
  return deps;
}

/** The current value of a store; re-renders when it changes. */
export function useStore<T>(store: Store<T>): T {
  return useSyncExternalStore(store.subscribe, store.get);
}

/** Whether the primary pointer is a finger: then focusing a text field would pop up the keyboard. */
export const coarsePointer = () => matchMedia("(pointer: coarse)").matches;
