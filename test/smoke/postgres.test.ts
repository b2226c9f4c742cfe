import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { serviceUrl, skipWithout } from "../../testkit/services.ts";

describe.skipIf(skipWithout("postgres"))("postgres smoke (postgres.js)", () => {
  let sql: postgres.Sql;

  beforeAll(() => {
    // One connection: a temporary table lives only in the session that created it.
    sql = postgres(serviceUrl("postgres")!, { max: 1, onnotice: () => {} });
  });

  afterAll(async () => {
    await sql?.end();
  });

  test("connects as chattalk to the chattalk database", async () => {
    const [who] = await sql`SELECT current_user AS "user", current_database() AS database`;
    expect(who).toEqual({ user: "chattalk", database: "chattalk" });
  });

  test("a temporary table takes rows and gives them back by a parameterised query", async () => {
    await sql`CREATE TEMP TABLE smoke_messages (id serial PRIMARY KEY, room text NOT NULL, body text NOT NULL)`;
    const inserted = await sql`
      INSERT INTO smoke_messages ${sql([
        { room: "lobby", body: "first" },
        { room: "lobby", body: "second" },
        { room: "other", body: "elsewhere" },
      ])}
      RETURNING id`;
    expect(inserted).toHaveLength(3);

    const rows = await sql<{ body: string }[]>`
      SELECT body FROM smoke_messages WHERE room = ${"lobby"} ORDER BY id`;
    expect(rows.map((row) => row.body)).toEqual(["first", "second"]);
  });
});
