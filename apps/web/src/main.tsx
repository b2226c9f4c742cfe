import { createRoot } from "react-dom/client";
import { ChatClient } from "./core/chat.ts";
import { Router } from "./core/router.ts";
import { App } from "./ui/App.tsx";
import { AppContext } from "./ui/context.ts";

const deps = { client: new ChatClient(), router: new Router() };
createRoot(document.getElementById("root")!).render(
  <AppContext.Provider value={deps}>
    <App />
  </AppContext.Provider>,
);
