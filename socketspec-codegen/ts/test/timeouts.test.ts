// Request, `once` and connect timeouts, on fake timers.

import { strict as assert } from "node:assert";
import { describe, it } from "node:test";

import { FakeNetwork, TestClient, URL, connected, rejection, settle } from "./fake_socket";

describe("timeouts", () => {
  it("a request without a reply rejects with TIMEOUT after requestTimeoutMs, not before", async (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const { client, socket } = await connected({ requestTimeoutMs: 1000 });
    let outcome: unknown = "pending";
    const reply = client.call("ask", {}, ["reply_a"]).then(
      () => "resolved",
      (error: unknown) => error,
    );
    void reply.then((value) => {
      outcome = value;
    });
    t.mock.timers.tick(999);
    await settle();
    assert.equal(outcome, "pending");
    t.mock.timers.tick(1);
    await settle();
    const error = await reply;
    assert.ok(error instanceof Error);
    assert.equal((error as { code?: string }).code, "TIMEOUT");
    assert.match(error.message, /no reply to `ask` within 1000 ms/);
    // A late reply is no one's: it reaches the listeners.
    const late: number[] = [];
    client.on("reply_a", (payload) => late.push(payload.n));
    t.mock.timers.tick(0);
    socket.receive({ event: "reply_a", payload: { n: 1 }, id: socket.sentEnvelopes()[0]?.["id"] });
    assert.deepEqual(late, [1]);
  });

  it("a request's own timeout overrides the client's; 0 waits forever", async (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const { client, socket } = await connected({ requestTimeoutMs: 1000 });
    const quick = client.call("ask", {}, ["reply_a"], 10);
    const patient = client.call("ask", {}, ["reply_a"], 0);
    t.mock.timers.tick(10);
    assert.equal(((await rejection(quick)) as { code?: string }).code, "TIMEOUT");
    t.mock.timers.tick(3_600_000);
    socket.receive({ event: "reply_a", payload: { n: 2 }, id: socket.sentEnvelopes()[1]?.["id"] });
    assert.deepEqual((await patient).payload, { n: 2 });
  });

  it("once() resolves with the next event, or rejects with TIMEOUT", async (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const { client, socket } = await connected();
    t.mock.timers.tick(0);
    const next = client.once("greeting", { timeoutMs: 50 });
    socket.receive({ event: "greeting", payload: { text: "hi" } });
    assert.deepEqual(await next, { text: "hi" });
    const never = client.once("greeting", { timeoutMs: 50 });
    t.mock.timers.tick(50);
    await assert.rejects(never, { code: "TIMEOUT", message: "no `greeting` within 50 ms" });
  });

  it("no __connect__ within connectTimeoutMs fails connect and closes the socket", async (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const network = new FakeNetwork();
    const connecting = TestClient.connect(URL, { WebSocket: network.WebSocket, connectTimeoutMs: 200 });
    t.mock.timers.tick(200);
    await assert.rejects(connecting, {
      code: "CONNECT_FAILED",
      message: `no \`__connect__\` from ${URL} within 200 ms`,
    });
    assert.notEqual(network.last.closedWith, null);
  });
});
