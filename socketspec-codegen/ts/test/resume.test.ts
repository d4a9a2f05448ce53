// Resuming a session after a connection lost without a closing handshake:
// `seq` tracking and deduplication, the resume query, requests kept across
// a resume or rejected by a fresh session, the resumed/fresh signal, and the
// closes after which the client does not resume. Fake timers, fixed jitter.

import { strict as assert } from "node:assert";
import { describe, it, type TestContext } from "node:test";

import { ClientOptions, StateChange } from "../options";
import { ConnectPayload } from "../protocol";
import { FakeNetwork, FakeSocket, TestClient, URL, settle } from "./fake_socket";

const TOKEN_1 = "resume-token-0001-aaaaaaaa";
const TOKEN_2 = "resume-token-0002-bbbbbbbb";
const TOKEN_3 = "resume-token-0003-cccccccc";

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

/**
 * A client connected to a server with resumption on (its `__connect__`
 * carries `resume_token` and `resumed: false`), reconnecting after 100 ms
 * (75 ms with the jitter fixed), with held messages released. Needs
 * {@link fakeTime}.
 */
async function resumable(
  t: TestContext,
  options: ClientOptions = {},
): Promise<{ client: TestClient; network: FakeNetwork; socket: FakeSocket; changes: StateChange[] }> {
  const network = new FakeNetwork();
  const connecting = TestClient.connect(URL, {
    reconnect: { enabled: true, initialDelayMs: 100 },
    ...options,
    WebSocket: network.WebSocket,
  });
  const socket = network.last;
  socket.acceptConnection("conn-1", { resume_token: TOKEN_1, resumed: false });
  const client = await connecting;
  await advance(t, 0);
  const changes: StateChange[] = [];
  client.onStateChange((change) => changes.push(change));
  return { client, network, socket, changes };
}

/** A `greeting` frame with `seq`. */
function greeting(seq: number): Record<string, unknown> {
  return { event: "greeting", payload: { text: `g${seq}` }, seq };
}

/** What the `greeting` listeners of `client` receive, by text. */
function greetings(client: TestClient): string[] {
  const seen: string[] = [];
  client.on("greeting", (payload) => seen.push(payload.text));
  return seen;
}

describe("resume", () => {
  it("tracks the last seq processed and drops frames at or below it", async (t) => {
    fakeTime(t);
    const { client, socket } = await resumable(t);
    const seen = greetings(client);
    assert.equal(client.lastSeq, 0);
    socket.receive(greeting(1));
    socket.receive(greeting(2));
    socket.receive(greeting(2));
    socket.receive(greeting(1));
    socket.receive({ event: "__ping__", payload: {} });
    socket.receive(greeting(3));
    assert.deepEqual(seen, ["g1", "g2", "g3"]);
    assert.equal(client.lastSeq, 3);
    assert.deepEqual(
      socket.sentEnvelopes().map((frame) => frame["event"]),
      ["__pong__"],
      "a __ping__ (no seq) is still answered",
    );
  });

  it("counts a frame held behind __connect__ as processed when it arrives", async (t) => {
    fakeTime(t);
    const network = new FakeNetwork();
    const connecting = TestClient.connect(URL, {
      reconnect: { enabled: true, initialDelayMs: 100 },
      WebSocket: network.WebSocket,
    });
    network.last.acceptConnection("conn-1", { resume_token: TOKEN_1, resumed: false });
    network.last.receive(greeting(1));
    const client = await connecting;
    const seen = greetings(client);
    assert.equal(client.lastSeq, 1);
    network.last.drop(1006);
    await advance(t, 0);
    assert.deepEqual(seen, ["g1"], "the held frame is delivered once");
    await advance(t, 75);
    assert.equal(network.last.query["last_seq"], "1");
  });

  it("reconnects after an abnormal close with resume and last_seq, keeping the credentials", async (t) => {
    fakeTime(t);
    const { network, socket, changes } = await resumable(t, { token: "jwt" });
    socket.receive(greeting(1));
    socket.receive(greeting(2));
    socket.drop(1006);
    assert.deepEqual(changes, [{ state: "reconnecting", code: 1006, reason: "" }]);
    await advance(t, 75);
    assert.equal(network.sockets.length, 2);
    assert.deepEqual(network.last.query, { token: "jwt", resume: TOKEN_1, last_seq: "2" });
    assert.equal(network.last.url, `${URL}?token=jwt&resume=${TOKEN_1}&last_seq=2`);
  });

  it("keeps a pending request across a resume; the replayed reply settles it once", async (t) => {
    fakeTime(t);
    const { client, network, socket, changes } = await resumable(t);
    const seen = greetings(client);
    const connects: ConnectPayload[] = [];
    client.on("__connect__", (info) => connects.push(info));
    socket.receive(greeting(1));
    let settled = false;
    const pending = client.call("ask", {}, ["reply_a"], 0).finally(() => {
      settled = true;
    });
    const id = socket.sentEnvelopes()[0]?.["id"];
    socket.drop(1006);
    await advance(t, 75);
    assert.equal(settled, false, "the request is still pending while reconnecting");
    assert.deepEqual(network.last.query, { resume: TOKEN_1, last_seq: "1" });

    // The server resumes: same connection id, a new token, then the frames
    // after last_seq (here also one the client already had), then live ones.
    const resumedSocket = network.last;
    resumedSocket.acceptConnection("conn-1", { resume_token: TOKEN_2, resumed: true });
    resumedSocket.receive(greeting(1));
    resumedSocket.receive(greeting(2));
    resumedSocket.receive({ event: "reply_a", payload: { n: 7 }, id, seq: 3 });
    resumedSocket.receive({ event: "reply_a", payload: { n: 7 }, id, seq: 3 });
    await advance(t, 0);
    const reply = await pending;
    assert.deepEqual(reply, { event: "reply_a", payload: { n: 7 }, id, seq: 3 });
    assert.deepEqual(seen, ["g1", "g2"], "each greeting once, in order");
    assert.equal(client.lastSeq, 3);

    assert.equal(client.state, "open");
    assert.equal(client.resumed, true);
    assert.equal(client.connectionId, "conn-1");
    assert.deepEqual(changes, [
      { state: "reconnecting", code: 1006, reason: "" },
      { state: "open", resumed: true },
    ]);
    assert.deepEqual(
      connects.map((info) => [info.connection_id, info.resumed]),
      [["conn-1", true]],
    );

    // The next loss resumes with the new token, after the last seq.
    resumedSocket.drop(1006);
    await advance(t, 75);
    assert.deepEqual(network.last.query, { resume: TOKEN_2, last_seq: "3" });
  });

  it("a fresh session after a resume attempt rejects the kept requests and starts seq over", async (t) => {
    fakeTime(t);
    const { client, network, socket, changes } = await resumable(t);
    const seen = greetings(client);
    for (const seq of [1, 2, 3, 4, 5]) {
      socket.receive(greeting(seq));
    }
    const pending = client.call("ask", {}, ["reply_a"], 0);
    socket.drop(1006);
    await advance(t, 75);
    assert.equal(network.last.query["resume"], TOKEN_1);
    const connected = client.once("__connect__", { timeoutMs: 0 });
    network.last.acceptConnection("conn-2", { resume_token: TOKEN_3, resumed: false });
    await assert.rejects(pending, { code: "DISCONNECTED", event: "ask" });
    assert.equal((await connected).resumed, false);
    assert.equal(client.resumed, false);
    assert.equal(client.connectionId, "conn-2");
    assert.equal(client.lastSeq, 0);
    assert.deepEqual(changes[changes.length - 1], { state: "open", resumed: false });
    await advance(t, 0);
    network.last.receive(greeting(1));
    assert.deepEqual(seen, ["g1", "g2", "g3", "g4", "g5", "g1"], "the new session's seq 1 is not a duplicate");

    network.last.drop(1006);
    await advance(t, 75);
    assert.deepEqual(network.last.query, { resume: TOKEN_3, last_seq: "1" });
  });

  it("a failed resume attempt retries with the same token and last_seq", async (t) => {
    fakeTime(t);
    const { network, socket } = await resumable(t);
    socket.receive(greeting(1));
    socket.drop(1006);
    await advance(t, 75);
    network.last.drop(1006);
    await settle();
    await advance(t, 150);
    assert.equal(network.sockets.length, 3);
    assert.deepEqual(network.last.query, { resume: TOKEN_1, last_seq: "1" });
  });

  it("does not resume after a close frame from the server; pending requests are rejected", async (t) => {
    for (const code of [1000, 1001, 1011, 4008]) {
      fakeTime(t);
      const { client, network, socket } = await resumable(t);
      socket.receive(greeting(1));
      const pending = client.call("ask", {}, ["reply_a"], 0);
      socket.drop(code, "closed by the server");
      await assert.rejects(pending, { code: "DISCONNECTED" });
      await advance(t, 75);
      assert.equal(network.sockets.length, 2, `reconnects after ${code}`);
      assert.deepEqual(network.last.query, {}, `no resume after ${code}`);
      t.mock.timers.reset();
      t.mock.restoreAll();
    }
  });

  it("does not resume once the server sent __disconnect__, even if no close frame follows", async (t) => {
    fakeTime(t);
    const { client, network, socket } = await resumable(t);
    socket.receive(greeting(1));
    const pending = client.call("ask", {}, ["reply_a"], 0);
    socket.receive({ event: "__disconnect__", payload: { reason: "server_shutdown" } });
    socket.drop(1006);
    await assert.rejects(pending, { code: "DISCONNECTED" });
    await advance(t, 75);
    assert.deepEqual(network.last.query, {});
  });

  it("does not resume without reconnect enabled, nor after close()", async (t) => {
    fakeTime(t);
    const off = await resumable(t, { reconnect: { enabled: false } });
    const lost = off.client.call("ask", {}, ["reply_a"], 0);
    off.socket.drop(1006);
    await assert.rejects(lost, { code: "DISCONNECTED" });
    assert.equal(off.client.state, "closed");

    const { client, network, socket } = await resumable(t);
    const kept = client.call("ask", {}, ["reply_a"], 0);
    socket.drop(1006);
    assert.equal(client.state, "reconnecting");
    await client.close();
    await assert.rejects(kept, { code: "DISCONNECTED" });
    await advance(t, 60_000);
    assert.equal(network.sockets.length, 1);
    assert.equal(off.network.sockets.length, 1);
  });

  it("rejects the kept requests when reconnecting gives up", async (t) => {
    fakeTime(t);
    const { client, network, socket } = await resumable(t, {
      reconnect: { enabled: true, initialDelayMs: 100, maxAttempts: 1 },
    });
    let settled = false;
    const kept = client.call("ask", {}, ["reply_a"], 0).finally(() => {
      settled = true;
    });
    socket.drop(1006);
    await advance(t, 75);
    assert.equal(settled, false);
    network.last.drop(1006);
    await assert.rejects(kept, { code: "DISCONNECTED" });
    assert.equal(client.state, "closed");
  });

  it("a kept request still times out when no reply comes", async (t) => {
    fakeTime(t);
    const { client, socket } = await resumable(t);
    const kept = assert.rejects(client.call("ask", {}, ["reply_a"], 1000), { code: "TIMEOUT" });
    socket.drop(1006);
    await advance(t, 1000);
    await kept;
  });

  it("without resumption on the server, a drop rejects pending requests and reconnects plainly", async (t) => {
    fakeTime(t);
    const network = new FakeNetwork();
    const connecting = TestClient.connect(URL, {
      token: "jwt",
      reconnect: { enabled: true, initialDelayMs: 100 },
      WebSocket: network.WebSocket,
    });
    network.last.acceptConnection();
    const client = await connecting;
    await advance(t, 0);
    const seen = greetings(client);
    network.last.receive({ event: "greeting", payload: { text: "same" } });
    network.last.receive({ event: "greeting", payload: { text: "same" } });
    assert.deepEqual(seen, ["same", "same"], "frames without seq are never deduplicated");
    assert.equal(client.lastSeq, 0);
    const pending = client.call("ask", {}, ["reply_a"], 0);
    network.last.drop(1006);
    await assert.rejects(pending, { code: "DISCONNECTED" });
    await advance(t, 75);
    assert.equal(network.last.url, `${URL}?token=jwt`);
    network.last.acceptConnection("conn-2");
    await settle();
    assert.equal(client.resumed, false);
  });
});
