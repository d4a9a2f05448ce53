// Deliberate type errors: tests/tests/typescript_client.rs checks that
// `tsc --strict` rejects this file with exactly these diagnostics.
import { Client } from "./chat";

export async function wrongPayloads(client: Client): Promise<void> {
  // TS2322: `room` is a string.
  await client.sendMessage({ room: 1, text: "hi" });
  // TS2345: there is no server event `new_mesage`.
  client.on("new_mesage", () => {});
  // TS2322: the reply's `status` is the literal "ok", not a number.
  const status: number = (await client.sendMessage({ room: "general", text: "hi" })).status;
  void status;
}
