import { useEffect } from "react";
import { AuthScreen } from "./AuthScreen.tsx";
import { useApp, useStore } from "./context.ts";
import { Shell } from "./Shell.tsx";

export function App() {
  const { client } = useApp();
  const session = useStore(client.session.state);
  useViewportHeight();

  useEffect(() => {
    if (session.status === "in") client.start();
    else void client.stop();
  }, [client, session.status]);

  return session.status === "in" ? <Shell /> : <AuthScreen ended={session.ended} />;
}

/**
 * The visible height, for the app shell: on phones the on-screen keyboard shrinks the visual
 * viewport (and on some browsers only that), and the composer must stay above it.
 */
function useViewportHeight(): void {
  useEffect(() => {
    const vv = window.visualViewport;
    if (!vv) return;
    const root = document.documentElement;
    const update = () => {
      root.style.setProperty("--app-height", `${Math.round(vv.height * vv.scale)}px`);
      if (vv.scale === 1 && window.scrollY !== 0) window.scrollTo(0, 0);
    };
    update();
    vv.addEventListener("resize", update);
    return () => vv.removeEventListener("resize", update);
  }, []);
}
