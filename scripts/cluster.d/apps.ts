import { join } from "node:path";
import { type ClusterSpec, clusterPaths, ports, type WantedProcess } from "./state.ts";

export type Say = (msg: string) => void;

/** The wanted entries for the app processes, by kind; ws-node replicas by index. */
export const want = {
  api: (base: number): WantedProcess => ({ name: "http-api", kind: "http-api", port: ports.api(base) }),
  presence: (base: number): WantedProcess => ({
    name: "presence-node",
    kind: "presence-node",
    port: ports.presence(base),
  }),
  ws: (base: number, index: number): WantedProcess => ({
    name: `ws-node-${index}`,
    kind: "ws-node",
    port: ports.ws(base, index),
    index,
  }),
  nginx: (base: number): WantedProcess => ({ name: "nginx", kind: "nginx", port: ports.nginx(base) }),
};

/** Command line and environment of one app process of the cluster, on its own port. */
export function appCommand(spec: ClusterSpec, w: WantedProcess) {
  const paths = clusterPaths(spec.dir);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/root",
    ...spec.env,
    HOST: "127.0.0.1",
    PORT: String(w.port),
    NODE_ID: `c${spec.basePort}-${w.name}`,
    DATA_DIR: join(paths.data, w.name),
  };
  return { cmd: [process.execPath, `apps/${w.kind}/main.ts`], env };
}
