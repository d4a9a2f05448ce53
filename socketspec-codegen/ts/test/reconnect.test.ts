// Reconnecting with exponential backoff, and the closes that end it, on fake
// timers and a fixed `Math.random`.

import { strict as assert } from "node:assert";
import { describe, it, type TestContext } from "node:test";

import { StateChange, reconnectDelayMs } from "../options";
import { FINAL_CLOSE_CODES } from "../protocol";
import { connected, settle } from "./fake_socket";

/** Fake timers, and jitter fixed at its lowest (75 % of each delay). */
function fakeTime(t: TestContext): void {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  t.mock.method(Math, "random", () => 0);
}

/** Advances the fake clock by `ms` and lets promise callbacks run. */
async function advance(t: TestContext, ms: number): Promise<void> {
  t.mock.timers.tick(ms);
  await settle();
}

describe("reconnect", () => {
  it("computes delays that double from the initial one, capped, with 75-100 % jitter", () => {
    const options = { initialDelayMs: 100, maxDelayMs: 1000 };
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5].map((attempt) => reconnectDelayMs(options, attempt, 1)),
      [100, 200, 400, 800, 1000, 1000],
    );
    assert.equal(reconnectDelayMs(options, 1, 0), 150);
    assert.equal(reconnectDelayMs({}, 0, 1), 500);
    assert.equal(reconnectDelayMs({}, 10, 1), 10000);
  });

  it("reconnects after a drop, after the backoff delay, and reopens with the same URL", async (t) => {
    fakeTime(t);
    const { client, network, socket } = await connected({
      token: "jwt",
      reconnect: { enabled: true, initialDelayMs: 100 },
    });
    const changes: StateChange[] = [];
    client.onStateChange((change) => changes.push(change));
    let connects = 0;
    client.on("__connect__", () => {
      connects += 1;
    });
    const pending = client.call("ask", {}, ["reply_a"]);
    socket.drop(1006, "gone");
    await assert.rejects(pending, { code: "DISCONNECTED" });
    assert.deepEqual(changes, [{ state: "reconnecting", code: 1006, reason: "gone" }]);
    await advance(t, 74);
    assert.equal(network.sockets.length, 1);
    await advance(t, 1);
    assert.equal(network.sockets.length, 2);
    assert.equal(network.last.url, socket.url);
    network.last.acceptConnection("conn-2");
    await settle();
    assert.equal(client.state, "open");
    assert.equal(client.connectionId, "conn-2");
    assert.equal(connects, 1);
    assert.deepEqual(changes[1], { state: "open", resumed: false });
    assert.equal(client.resumed, false);
  });

  it("backs off further after each failed attempt and starts over once connected", async (t) => {
    fakeTime(t);
    const { network, socket } = await connected({
      reconnect: { enabled: true, initialDelayMs: 100, maxDelayMs: 250 },
    });
    socket.drop(1006);
    // 75 % of 100, 200, then 250 (the cap), 250.
    for (const delay of [75, 150, 187.5, 187.5]) {
      const before = network.sockets.length;
      await advance(t, delay - 0.5);
      assert.equal(network.sockets.length, before, `no attempt before ${delay} ms`);
      await advance(t, 0.5);
      assert.equal(network.sockets.length, before + 1, `an attempt after ${delay} ms`);
      network.last.drop(1006);
      await settle();
    }
    // A successful attempt resets the backoff: the next drop waits 75 ms again.
    await advance(t, 187.5);
    network.last.acceptConnection();
    await settle();
    const opened = network.sockets.length;
    network.last.drop(1006);
    await advance(t, 74.5);
    assert.equal(network.sockets.length, opened);
    await advance(t, 0.5);
    assert.equal(network.sockets.length, opened + 1, "the first delay again");
  });

  it("gives up after maxAttempts failed attempts", async (t) => {
    fakeTime(t);
    const { client, network, socket } = await connected({
      reconnect: { enabled: true, initialDelayMs: 10, maxAttempts: 2 },
    });
    socket.drop(1006);
    await advance(t, 7.5);
    network.last.drop(1006);
    await settle();
    await advance(t, 15);
    network.last.drop(1011, "still down");
    await settle();
    assert.equal(client.state, "closed");
    await advance(t, 60_000);
    assert.equal(network.sockets.length, 3);
  });

  it("does not reconnect after a final close code", async (t) => {
    assert.deepEqual(FINAL_CLOSE_CODES, [4001, 4002]);
    for (const code of FINAL_CLOSE_CODES) {
      fakeTime(t);
      const { client, network, socket } = await connected({ reconnect: { enabled: true } });
      const changes: StateChange[] = [];
      client.onStateChange((change) => changes.push(change));
      socket.drop(code, "final");
      assert.deepEqual(changes, [{ state: "closed", code, reason: "final" }]);
      await advance(t, 60_000);
      assert.equal(network.sockets.length, 1, `reconnected after ${code}`);
      t.mock.timers.reset();
      t.mock.restoreAll();
    }
  });

  it("stops when a reconnect attempt is refused with 4001", async (t) => {
    fakeTime(t);
    const { client, network, socket } = await connected({
      reconnect: { enabled: true, initialDelayMs: 100 },
    });
    socket.drop(1001, "restarting");
    await advance(t, 75);
    network.last.drop(4001, "token expired");
    await settle();
    assert.equal(client.state, "closed");
    await advance(t, 60_000);
    assert.equal(network.sockets.length, 2);
  });

  it("does not reconnect unless enabled, nor after close()", async (t) => {
    fakeTime(t);
    const plain = await connected();
    plain.socket.drop(1006);
    assert.equal(plain.client.state, "closed");

    const { client, network, socket } = await connected({ reconnect: { enabled: true } });
    socket.drop(1006);
    assert.equal(client.state, "reconnecting");
    await client.close();
    assert.equal(client.state, "closed");
    await advance(t, 60_000);
    assert.equal(network.sockets.length, 1);
    assert.equal(plain.network.sockets.length, 1);
  });

  it("reconnects with the token refreshAuth set", async (t) => {
    fakeTime(t);
    const { client, network, socket } = await connected({
      token: "old",
      reconnect: { enabled: true, initialDelayMs: 100 },
    });
    await advance(t, 0);
    const refreshed = client.refreshAuth("new");
    const id = socket.sentEnvelopes()[0]?.["id"];
    socket.receive({ event: "__refresh_auth__", payload: { expires_in: null }, id });
    await refreshed;
    socket.drop(1006);
    await advance(t, 75);
    assert.equal(network.last.url, "ws://example.test/ws?token=new");
  });
});
