// `on`, `off`, `onStateChange`, held messages and `close()`.

import { strict as assert } from "node:assert";
import { describe, it } from "node:test";

import { StateChange } from "../options";
import { FakeNetwork, TestClient, URL, connected, nextTask, settle } from "./fake_socket";

describe("listeners", () => {
  it("on() delivers payloads by event; off() and the returned remover stop it", async () => {
    const { client, socket } = await connected();
    await nextTask();
    const a: string[] = [];
    const b: string[] = [];
    const listenerA = (payload: { text: string }) => a.push(payload.text);
    client.on("greeting", listenerA);
    const removeB = client.on("greeting", (payload) => b.push(payload.text));
    socket.receive({ event: "greeting", payload: { text: "one" } });
    client.off("greeting", listenerA);
    socket.receive({ event: "greeting", payload: { text: "two" } });
    removeB();
    socket.receive({ event: "greeting", payload: { text: "three" } });
    assert.deepEqual(a, ["one"]);
    assert.deepEqual(b, ["one", "two"]);
  });

  it("a listener that throws does not stop the others; its error is rethrown later", async (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const { client, socket } = await connected();
    t.mock.timers.tick(0);
    const seen: string[] = [];
    client.on("greeting", () => {
      throw new Error("listener bug");
    });
    client.on("greeting", (payload) => seen.push(payload.text));
    socket.receive({ event: "greeting", payload: { text: "hi" } });
    assert.deepEqual(seen, ["hi"]);
    assert.throws(() => t.mock.timers.tick(0), /listener bug/);
  });

  it("messages right behind __connect__ wait until connect's caller could listen", async () => {
    const network = new FakeNetwork();
    const connecting = TestClient.connect(URL, { WebSocket: network.WebSocket });
    network.last.acceptConnection();
    network.last.receive({ event: "greeting", payload: { text: "early" } });
    const client = await connecting;
    const seen: string[] = [];
    client.on("greeting", (payload) => seen.push(payload.text));
    await nextTask();
    assert.deepEqual(seen, ["early"]);
  });

  it("__connect__ listeners get the connect info, which the client keeps", async () => {
    const network = new FakeNetwork();
    const connecting = TestClient.connect(URL, { WebSocket: network.WebSocket });
    network.last.acceptConnection("conn-9");
    const client = await connecting;
    assert.equal(client.connectionId, "conn-9");
    assert.equal(client.connectInfo?.max_payload_size, 65536);
    assert.equal(client.state, "open");
  });

  it("onStateChange reports open and closed, with the close code; its remover stops it", async () => {
    const network = new FakeNetwork();
    const changes: StateChange[] = [];
    const connecting = TestClient.connect(URL, { WebSocket: network.WebSocket });
    network.last.acceptConnection();
    const client = await connecting;
    const remove = client.onStateChange((change) => changes.push(change));
    await client.close(4000, "bye");
    assert.deepEqual(network.last.closedWith, { code: 4000, reason: "bye" });
    assert.deepEqual(changes, [{ state: "closed", code: 4000, reason: "bye" }]);
    remove();
    assert.equal(client.state, "closed");
  });

  it("close() resolves after 3 s when the server never completes the closing handshake", async (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const { client, socket } = await connected();
    socket.answersClose = false;
    let closed = false;
    const closing = client.close().then(() => {
      closed = true;
    });
    t.mock.timers.tick(2999);
    await settle();
    assert.equal(closed, false);
    t.mock.timers.tick(1);
    await closing;
    assert.equal(client.state, "closed");
  });
});
