import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { runChatContract } from "../../testkit/contracts/chat.ts";
import { serviceUrl, skipWithout } from "../../testkit/services.ts";
import { createPostgresStores } from "../store/postgres/index.ts";
import { createSqliteStores } from "../store/sqlite/index.ts";

// The domain over the embedded store: a file, so a second client is a second connection (process).
runChatContract("sqlite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "chattalk-chat-"));
  const path = join(dir, "chattalk.db");
  const stores = createSqliteStores(path);
  return {
    stores,
    openAnother: async () => createSqliteStores(path),
    async dispose() {
      await stores.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

if (!skipWithout("postgres")) {
  const url = serviceUrl("postgres")!;
  runChatContract("postgres", async () => {
    const schema = `chattalk_chat_${Bun.randomUUIDv7().replace(/-/g, "").slice(-16)}`;
    const admin = postgres(url, { max: 1, onnotice: () => {} });
    await admin.unsafe(`CREATE SCHEMA ${schema}`);
    const stores = await createPostgresStores(url, { schema });
    return {
      stores,
      openAnother: () => createPostgresStores(url, { schema }),
      async dispose() {
        await stores.close();
        await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`);
        await admin.end();
      },
    };
  });
}
