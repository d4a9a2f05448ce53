// Requests and their replies, matched by `id`.

import { strict as assert } from "node:assert";
import { describe, it } from "node:test";

import { FakeSocket, connected, nextTask } from "./fake_socket";

/** The id of the `index`-th frame the client sent. */
function idOf(socket: FakeSocket, index: number): string {
  const id = socket.sentEnvelopes()[index]?.["id"];
  assert.equal(typeof id, "string");
  return id as string;
}

describe("request correlation", () => {
  it("resolves each request with the reply carrying its id, in any order", async () => {
    const { client, socket } = await connected();
    const first = client.call("ask", { n: 1 }, ["reply_a"]);
    const second = client.call("ask", { n: 2 }, ["reply_a"]);
    socket.receive({ event: "reply_a", payload: { n: 2 }, id: idOf(socket, 1) });
    socket.receive({ event: "reply_a", payload: { n: 1 }, id: idOf(socket, 0) });
    assert.deepEqual(await first, { event: "reply_a", payload: { n: 1 }, id: idOf(socket, 0) });
    assert.deepEqual((await second).payload, { n: 2 });
  });

  it("settles only on a declared reply event; others with the id go to listeners", async () => {
    const { client, socket } = await connected();
    await nextTask();
    const seen: number[] = [];
    client.on("reply_b", (payload) => seen.push(payload.n));
    let settled = false;
    const reply = client.call("ask", {}, ["reply_a"]).then((r) => {
      settled = true;
      return r;
    });
    const id = idOf(socket, 0);
    socket.receive({ event: "reply_b", payload: { n: 1 }, id });
    await nextTask();
    assert.equal(settled, false);
    assert.deepEqual(seen, [1]);
    socket.receive({ event: "reply_a", payload: { n: 2 }, id });
    assert.equal((await reply).event, "reply_a");
  });

  it("an untyped request resolves with any event carrying its id", async () => {
    const { client, socket } = await connected();
    const reply = client.request("anything", {});
    socket.receive({ event: "whatever", payload: { ok: true }, id: idOf(socket, 0) });
    assert.deepEqual((await reply).payload, { ok: true });
  });

  it("a reply settles its request once; a repeat goes to listeners", async () => {
    const { client, socket } = await connected();
    await nextTask();
    const seen: number[] = [];
    client.on("reply_a", (payload) => seen.push(payload.n));
    const reply = client.call("ask", {}, ["reply_a"]);
    const id = idOf(socket, 0);
    socket.receive({ event: "reply_a", payload: { n: 1 }, id });
    socket.receive({ event: "reply_a", payload: { n: 2 }, id });
    socket.receive({ event: "reply_a", payload: { n: 3 }, id: "unknown" });
    assert.deepEqual((await reply).payload, { n: 1 });
    assert.deepEqual(seen, [2, 3]);
  });

  it("ids are unique per client", async () => {
    const { client, socket } = await connected();
    for (let i = 0; i < 50; i += 1) {
      void client.request("ask", {}).catch(() => undefined);
    }
    const ids = new Set(socket.sentEnvelopes().map((e) => e["id"]));
    assert.equal(ids.size, 50);
    await client.close();
  });

  it("refreshAuth sends __refresh_auth__ and resolves with the new expiry", async () => {
    const { client, socket } = await connected({ token: "old" });
    const refreshed = client.refreshAuth("new");
    const [sent] = socket.sentEnvelopes();
    assert.equal(sent?.["event"], "__refresh_auth__");
    assert.deepEqual(sent?.["payload"], { token: "new" });
    socket.receive({ event: "__refresh_auth__", payload: { expires_in: 600 }, id: sent?.["id"] });
    assert.deepEqual(await refreshed, { expires_in: 600 });
  });

  it("close() rejects pending requests with DISCONNECTED", async () => {
    const { client, socket } = await connected();
    const pending = client.call("ask", {}, ["reply_a"]);
    const closing = client.close();
    await assert.rejects(pending, { code: "DISCONNECTED", event: "ask" });
    assert.deepEqual(socket.closedWith, { code: 1000, reason: "" });
    await closing;
    assert.equal(client.state, "closed");
  });
});
