// Drives the generated TypeScript chat client (`./chat`, written by
// socketspec-codegen) against real chat servers. tests/tests/typescript_client.rs
// generates the client, compiles this file with `tsc --strict`, starts the
// servers, passes their URLs and test tokens in SOCKETSPEC_TS_TEST (JSON) and
// runs it with `node --experimental-websocket` (the default WebSocket), and
// once with the `ws` package's.
//
// It prints one line per check, `ok - NAME` or `not ok - NAME: why`, and exits
// 1 when any check failed. For the reconnect check it prints `@@restart`, and
// waits for the line `restarted` on stdin once the Rust test has stopped that
// server and started a new one on the same address. For the resumption
// checks it prints `@@cut` (the Rust test cuts every connection through the
// proxy in front of the resumable server, then answers `cut`) and
// `@@kill-restart` (it kills the server behind the second proxy, with no
// closing handshake, starts a new one on the same address and answers
// `restarted`).

import * as readline from "node:readline";

import { WebSocket as WsWebSocket } from "ws";

import {
  Client,
  ClientErrorCode,
  ConnectPayload,
  EchoReply,
  ErrorCode,
  ErrorPayload,
  Fail,
  Identity,
  JoinRoom,
  MessageAck,
  NewMessage,
  RefreshAuthReply,
  RoomJoined,
  RoomLeft,
  ServerEvents,
  SocketspecError,
  StateChange,
  UserJoined,
  Welcome,
  Tick,
  DirectMessage,
} from "./chat";

interface Config {
  /** A server without auth. */
  chat: string;
  /** `--jwt-secret`. */
  auth: string;
  /** `--rate-limit 5/1`. */
  rate: string;
  /** `--heartbeat-interval 0.2 --heartbeat-timeout 0.3`. */
  heartbeat: string;
  /** Restarted on the same address during the reconnect check. */
  restart: string;
  /** `--welcome --tick-interval 50`. */
  push: string;
  /** `--resume-window 30 --tick-interval 50`, through a proxy the Rust test cuts. */
  resume: string;
  /** `--resume-window 30`, through a proxy; killed and restarted during the fresh-session check. */
  resumeRestart: string;
  tokens: {
    /** sub alice, 10 minutes. */
    alice: string;
    /** sub alice, another 10-minute token. */
    aliceAgain: string;
    /** sub alice, expires in about a minute (inside the refresh window). */
    aliceShort: string;
    /** sub bob. */
    bob: string;
    /** sub root, role admin. */
    admin: string;
    /** signed with another secret. */
    forged: string;
  };
}

// ---------------------------------------------------------------------------
// Compile-time checks: this file only compiles when the generated types are right.
// ---------------------------------------------------------------------------

type Equals<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

const typeChecks: [
  Equals<ReturnType<Client["sendMessage"]>, Promise<MessageAck>>,
  Equals<ReturnType<Client["joinRoom"]>, Promise<RoomJoined>>,
  Equals<ReturnType<Client["fail"]>, Promise<void>>,
  Equals<Parameters<Client["joinRoom"]>[0], JoinRoom>,
  Equals<Identity["user_id"], string | null>,
  Equals<Identity["rooms"], string[]>,
  Equals<Fail["mode"], "error" | "panic" | undefined>,
  Equals<MessageAck["status"], "ok">,
  Equals<SocketspecError["code"], ErrorCode | ClientErrorCode>,
  Equals<ServerEvents["new_message"], NewMessage>,
  Equals<ServerEvents["__error__"], ErrorPayload>,
] = [true, true, true, true, true, true, true, true, true, true, true];

/** Never called: each line must fail to compile, or tsc reports an unused @ts-expect-error. */
export function wrongUsesAreCompileErrors(client: Client): void {
  // @ts-expect-error `room` is a string
  void client.joinRoom({ room: 1 });
  // @ts-expect-error `text` is required
  void client.sendMessage({ room: "general" });
  // @ts-expect-error `mode` is "error" or "panic"
  void client.fail({ mode: "explode" });
  // @ts-expect-error no server event has this name
  client.on("new_mesage", () => {});
  // @ts-expect-error a `new_message` listener gets a NewMessage
  client.on("new_message", (payload: RoomJoined) => payload.members);
}

// ---------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------

const config = JSON.parse(process.env["SOCKETSPEC_TS_TEST"] ?? "null") as Config;
let passed = 0;
let failed = 0;

class CheckFailed extends Error {}

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) {
    throw new CheckFailed(message);
  }
}

/** JSON with object keys sorted, to compare values regardless of key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === "object" && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

function assertEqual<T>(actual: T, expected: T, what: string): void {
  const a = canonical(actual);
  const e = canonical(expected);
  assert(a === e, `${what}: expected ${e}, got ${a}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function check(name: string, body: () => Promise<void>, timeoutMs = 20000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckFailed(`did not finish within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([body(), timeout]);
    passed += 1;
    console.log(`ok - ${name}`);
  } catch (error) {
    failed += 1;
    const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    console.log(`not ok - ${name}: ${why}`);
  } finally {
    clearTimeout(timer);
  }
}

/** Awaits `promise`, which must reject with a SocketspecError of `code`. */
async function expectError(promise: Promise<unknown>, code: ErrorCode | ClientErrorCode): Promise<SocketspecError> {
  let outcome: unknown;
  try {
    outcome = await promise;
  } catch (error) {
    assert(error instanceof SocketspecError, `expected a SocketspecError ${code}, got ${String(error)}`);
    assert(error instanceof Error, "a SocketspecError is an Error");
    assertEqual(error.code, code, `error code (${error.message})`);
    return error;
  }
  throw new CheckFailed(`expected ${code}, but it resolved with ${JSON.stringify(outcome)}`);
}

/** `promise`, marked as handled so that a failure seen later (or never, when an
 * earlier step fails) does not crash the process as an unhandled rejection. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/** A promise of the next `event` on `client`, so a check can start listening before acting. */
function next<E extends keyof ServerEvents>(client: Client, event: E, timeoutMs = 5000): Promise<ServerEvents[E]> {
  return client.once(event, { timeoutMs });
}

const clients: Client[] = [];

async function connect(url: string, token?: string): Promise<Client> {
  const client = await Client.connect(url, token === undefined ? {} : { token });
  clients.push(client);
  return client;
}

/** Collects what listeners receive on `client` for `event`. */
function collect<E extends keyof ServerEvents>(client: Client, event: E): Array<ServerEvents[E]> {
  const seen: Array<ServerEvents[E]> = [];
  client.on(event, (payload) => seen.push(payload));
  return seen;
}

async function main(): Promise<void> {
  assert(config !== null, "SOCKETSPEC_TS_TEST is not set");
  assert(typeChecks.every((ok) => ok), "type checks");

  await check("connect resolves after __connect__", async () => {
    const client = await connect(config.chat);
    const info: ConnectPayload | null = client.connectInfo;
    assert(info !== null, "connectInfo is set");
    assert(typeof info.connection_id === "string" && info.connection_id.length > 0, "connection_id");
    assertEqual(client.connectionId, info.connection_id, "connectionId");
    assert(typeof info.heartbeat_interval === "number", "heartbeat_interval is a number");
    assert(typeof info.max_payload_size === "number", "max_payload_size is a number");
    assertEqual(client.state, "open", "state");
  });

  await check("join_room replies room_joined and broadcasts user_joined to the others", async () => {
    const a = await connect(config.chat);
    const b = await connect(config.chat);
    const joinedA: RoomJoined = await a.joinRoom({ room: "ts-join" });
    assertEqual(joinedA, { room: "ts-join", members: 1 }, "first join");
    const toA = handled(next(a, "user_joined"));
    const seenByB = collect(b, "user_joined");
    const joinedB = await b.joinRoom({ room: "ts-join" });
    assertEqual(joinedB, { room: "ts-join", members: 2 }, "second join");
    const broadcast: UserJoined = await toA;
    assertEqual(broadcast, { room: "ts-join", user: b.connectionId }, "user_joined");
    await sleep(200);
    assertEqual(seenByB.length, 0, "user_joined excludes the sender");
  });

  await check("send_message replies message_ack and broadcasts new_message", async () => {
    const a = await connect(config.chat);
    const b = await connect(config.chat);
    await a.joinRoom({ room: "ts-talk" });
    await b.joinRoom({ room: "ts-talk" });
    const toB = handled(next(b, "new_message"));
    const toA = handled(next(a, "new_message"));
    const ack: MessageAck = await a.sendMessage({ room: "ts-talk", text: "hello from a" });
    assertEqual(ack.status, "ok", "ack status");
    assert(typeof ack.message_id === "string" && ack.message_id.length > 0, "message_id");
    const expected: NewMessage = { room: "ts-talk", from: a.connectionId ?? "", text: "hello from a" };
    assertEqual(await toB, expected, "new_message at b");
    assertEqual(await toA, expected, "new_message at the sender");
  });

  await check("leave_room replies room_left and stops broadcasts", async () => {
    const a = await connect(config.chat);
    const b = await connect(config.chat);
    await a.joinRoom({ room: "ts-leave" });
    await b.joinRoom({ room: "ts-leave" });
    const left: RoomLeft = await b.leaveRoom({ room: "ts-leave" });
    assertEqual(left, { room: "ts-leave" }, "room_left");
    const seenByB = collect(b, "new_message");
    await a.sendMessage({ room: "ts-leave", text: "still there?" });
    await sleep(200);
    assertEqual(seenByB.length, 0, "no broadcast after leaving");
  });

  await check("echo replies echo_reply", async () => {
    const client = await connect(config.chat);
    const reply: EchoReply = await client.echo({ seq: 7, data: "seven" });
    assertEqual(reply, { seq: 7, data: "seven" }, "echo_reply");
  });

  await check("slow_echo replies echo_reply in request order", async () => {
    const client = await connect(config.chat);
    const order: number[] = [];
    const delays = [300, 100, 0];
    await Promise.all(
      delays.map((delay_ms, seq) =>
        client.slowEcho({ seq, delay_ms }).then((reply) => {
          assertEqual(reply, { seq, data: "" }, `slow_echo ${seq}`);
          order.push(reply.seq);
        }),
      ),
    );
    assertEqual(order, [0, 1, 2], "completion order of an ordered event");
  });

  await check("whoami replies identity", async () => {
    const client = await connect(config.chat);
    await client.joinRoom({ room: "ts-who" });
    const me: Identity = await client.whoami();
    assertEqual(me.connection_id, client.connectionId, "connection_id");
    assertEqual(me.user_id, null, "user_id without auth");
    assertEqual(me.role, null, "role without auth");
    assertEqual(me.rooms, ["chat:ts-who", "lobby"], "rooms, sorted");
  });

  await check("join_admin replies room_joined for role admin", async () => {
    const admin = await connect(config.auth, config.tokens.admin);
    const joined: RoomJoined = await admin.joinAdmin({ section: "ops" });
    assertEqual(joined, { room: "admin:ops", members: 1 }, "room_joined");
    const me = await admin.whoami();
    assertEqual([me.user_id, me.role], ["root", "admin"], "identity");
  });

  await check("fail resolves once sent; its HANDLER_ERROR reaches __error__ listeners", async () => {
    const client = await connect(config.chat);
    const error = handled(next(client, "__error__"));
    const sent: void = await client.fail({ mode: "error" });
    assertEqual(sent, undefined, "fail resolves with nothing");
    const payload: ErrorPayload = await error;
    assertEqual([payload.code, payload.event], ["HANDLER_ERROR", "fail"], "error");
    assert(payload.request_id.startsWith("ts-"), `request_id is the client's id: ${payload.request_id}`);
    await client.echo({ seq: 1, data: "still open" });
  });

  await check("100 requests in flight on one connection, each matched to its reply", async () => {
    const client = await connect(config.chat);
    const requests = Array.from({ length: 100 }, (_, seq) => ({ seq, data: `payload-${seq}-${"x".repeat(seq % 7)}` }));
    const late = collect(client, "echo_reply");
    // All 100 are sent before any reply is read.
    const replies = await Promise.all(requests.map((request) => client.echo(request)));
    replies.forEach((reply, i) => assertEqual(reply, requests[i], `reply ${i}`));
    assertEqual(late.length, 0, "replies claimed by their requests do not reach listeners");
  });

  await check("VALIDATION_ERROR rejects with SocketspecError", async () => {
    const client = await connect(config.chat);
    const error = await expectError(client.sendMessage({ room: "general", text: "" }), "VALIDATION_ERROR");
    assertEqual(error.event, "send_message", "event");
    assert(error.requestId !== null && error.requestId.startsWith("ts-"), `requestId: ${error.requestId}`);
    assert(error.fromServer, "fromServer");
    const errors = error.details["errors"];
    assert(Array.isArray(errors) && errors.length > 0, `details.errors: ${JSON.stringify(error.details)}`);
    const first = errors[0] as { path?: unknown; message?: unknown };
    assertEqual(first.path, "/text", "violation path");
    assert(typeof first.message === "string", "violation message");
    const bad = await expectError(client.joinRoom({ room: "no spaces allowed" }), "VALIDATION_ERROR");
    assertEqual(bad.event, "join_room", "event");
  });

  await check("UNKNOWN_EVENT rejects a raw request", async () => {
    const client = await connect(config.chat);
    const error = await expectError(client.request("no_such_event", {}), "UNKNOWN_EVENT");
    assertEqual(error.event, "no_such_event", "event");
    const reply = await client.request("echo", { seq: 3, data: "raw" });
    assertEqual(reply.event, "echo_reply", "raw request reply event");
    assertEqual(reply.payload, { seq: 3, data: "raw" }, "raw request reply payload");
  });

  await check("ROOM_NOT_FOUND rejects with details.room", async () => {
    const client = await connect(config.chat);
    const error = await expectError(client.sendMessage({ room: "ts-nobody", text: "anyone?" }), "ROOM_NOT_FOUND");
    assertEqual(error.details["room"], "chat:ts-nobody", "details.room");
  });

  await check("PERMISSION_ERROR rejects a guarded join", async () => {
    const anonymous = await connect(config.chat);
    const error = await expectError(anonymous.joinAdmin({ section: "ops" }), "PERMISSION_ERROR");
    assertEqual(error.details["room"], "admin:ops", "details.room");
    const bob = await connect(config.auth, config.tokens.bob);
    await expectError(bob.joinAdmin({ section: "ops" }), "PERMISSION_ERROR");
  });

  await check("HANDLER_ERROR rejects a raw request; the connection stays open", async () => {
    const client = await connect(config.chat);
    for (const mode of ["error", "panic"] as const) {
      const error = await expectError(client.request("fail", { mode }), "HANDLER_ERROR");
      assertEqual(error.event, "fail", "event");
      assert(!/panicked|backtrace/i.test(error.message), `no panic text leaks: ${error.message}`);
    }
    assertEqual(await client.echo({ seq: 2, data: "after" }), { seq: 2, data: "after" }, "still open");
  });

  await check("RATE_LIMIT_ERROR rejects requests past the limit", async () => {
    const client = await connect(config.rate);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 12 }, (_, seq) => client.echo({ seq, data: "burst" })),
    );
    const limited = outcomes.filter(
      (o): o is PromiseRejectedResult => o.status === "rejected" && o.reason instanceof SocketspecError && o.reason.code === "RATE_LIMIT_ERROR",
    );
    const served = outcomes.filter((o) => o.status === "fulfilled");
    assertEqual(served.length + limited.length, 12, "every request served or rate-limited");
    assert(served.length >= 1 && served.length <= 6, `${served.length} served of 12 with 5/1`);
    assert(limited.length >= 6, `${limited.length} rate-limited`);
    const error = limited[0]?.reason as SocketspecError;
    assert(typeof error.details["retry_after"] === "number", `retry_after: ${JSON.stringify(error.details)}`);
    await sleep(1200);
    assertEqual(await client.echo({ seq: 99, data: "later" }), { seq: 99, data: "later" }, "served after refill");
  });

  await check("AUTH_ERROR rejects connect with a bad or missing token", async () => {
    const forged = await expectError(Client.connect(config.auth, { token: config.tokens.forged }), "AUTH_ERROR");
    assert(forged.fromServer, "the server reported it");
    await expectError(Client.connect(config.auth, { token: "not-a-jwt" }), "AUTH_ERROR");
    await expectError(Client.connect(config.auth), "AUTH_ERROR");
    const alice = await connect(config.auth, config.tokens.alice);
    const me = await alice.whoami();
    assertEqual([me.user_id, me.role], ["alice", null], "identity with a valid token");
  });

  await check("refreshAuth resolves with expires_in; refusals reject with AUTH_ERROR", async () => {
    const alice = await connect(config.auth, config.tokens.aliceShort);
    const warning = await alice.once("__auth_expiring__", { timeoutMs: 5000 });
    assert(warning.expires_in > 0 && warning.expires_in <= 60, `__auth_expiring__ expires_in ${warning.expires_in}`);
    const refreshed: RefreshAuthReply = await alice.refreshAuth(config.tokens.aliceAgain);
    assert(
      refreshed.expires_in !== null && refreshed.expires_in > 500 && refreshed.expires_in <= 600,
      `expires_in ${refreshed.expires_in}`,
    );
    const forged = await expectError(alice.refreshAuth(config.tokens.forged), "AUTH_ERROR");
    assertEqual(forged.event, "__refresh_auth__", "event");
    await expectError(alice.refreshAuth(config.tokens.bob), "AUTH_ERROR");
    const anonymous = await connect(config.chat);
    await expectError(anonymous.refreshAuth(config.tokens.alice), "AUTH_ERROR");
    assertEqual((await alice.whoami()).user_id, "alice", "still open after refusals");
  });

  await check("a request without a reply in time rejects with TIMEOUT", async () => {
    const client = await connect(config.chat);
    const late = collect(client, "echo_reply");
    const error = await expectError(client.slowEcho({ seq: 5, delay_ms: 600 }, { timeoutMs: 100 }), "TIMEOUT");
    assertEqual(error.event, "slow_echo", "event");
    assert(!error.fromServer, "a client-side error");
    await sleep(800);
    assertEqual(late, [{ seq: 5, data: "" }], "the late reply reaches listeners");
    assertEqual(await client.echo({ seq: 6, data: "ok" }), { seq: 6, data: "ok" }, "still usable");
  });

  await check("__pong__ is sent automatically: the connection outlives the heartbeat timeout", async () => {
    const client = await connect(config.heartbeat);
    const pings = collect(client, "__ping__");
    const disconnects = collect(client, "__disconnect__");
    await sleep(1500);
    assert(pings.length >= 4, `${pings.length} pings in 1.5 s with a 0.2 s interval`);
    assertEqual(disconnects.length, 0, "__disconnect__ count");
    assertEqual(client.state, "open", "state");
    assertEqual(await client.echo({ seq: 1, data: "alive" }), { seq: 1, data: "alive" }, "echo");
  });

  await check("works with the ws package's WebSocket", async () => {
    const a = await Client.connect(config.chat, { WebSocket: WsWebSocket });
    const b = await Client.connect(config.chat, { WebSocket: WsWebSocket });
    clients.push(a, b);
    await a.joinRoom({ room: "ts-ws" });
    await b.joinRoom({ room: "ts-ws" });
    const toB = handled(next(b, "new_message"));
    const ack = await a.sendMessage({ room: "ts-ws", text: "via ws" });
    assertEqual(ack.status, "ok", "ack");
    assertEqual(await toB, { room: "ts-ws", from: a.connectionId ?? "", text: "via ws" }, "new_message");
    const burst = await Promise.all(Array.from({ length: 20 }, (_, seq) => a.echo({ seq, data: `ws-${seq}` })));
    burst.forEach((reply, seq) => assertEqual(reply, { seq, data: `ws-${seq}` }, `echo ${seq}`));
  });

  await check("close() rejects pending requests and closes for good", async () => {
    const client = await Client.connect(config.chat);
    const states: string[] = [];
    client.onStateChange((change) => states.push(change.state));
    const pending = handled(expectError(client.slowEcho({ seq: 1, delay_ms: 1000 }), "DISCONNECTED"));
    await client.close();
    await pending;
    assertEqual(client.state, "closed", "state");
    assertEqual(states, ["closed"], "state changes");
    await expectError(client.echo({ seq: 2, data: "x" }), "DISCONNECTED");
    let refused: unknown = null;
    try {
      client.emit("echo", { seq: 3, data: "x" });
    } catch (error) {
      refused = error;
    }
    assert(refused instanceof SocketspecError && refused.code === "DISCONNECTED", `emit after close: ${String(refused)}`);
  });

  await check("pushed events (welcome, tick, direct_message) arrive typed", async () => {
    const welcomed = Client.connect(config.push);
    const client = await welcomed;
    clients.push(client);
    const welcome: Welcome = await next(client, "welcome");
    assertEqual(welcome.connection_id, client.connectionId, "welcome.connection_id");
    await client.joinRoom({ room: "ticker" });
    const first: Tick = await next(client, "tick");
    const later: Tick = await next(client, "tick");
    assert(later.seq > first.seq, `ticks in order: ${first.seq} then ${later.seq}`);
    const other = await connect(config.push);
    const direct = handled(next(client, "direct_message"));
    await other.sendDirect({ to: client.connectionId ?? "", text: "psst" });
    const message: DirectMessage = await direct;
    assertEqual(message, { from: other.connectionId ?? "", text: "psst" }, "direct_message");
  });

  await check("reconnects after the server restarts", async () => {
    const client = await Client.connect(config.restart, {
      reconnect: { enabled: true, initialDelayMs: 100, maxDelayMs: 500 },
    });
    clients.push(client);
    const changes: StateChange[] = [];
    client.onStateChange((change) => changes.push(change));
    const disconnects = collect(client, "__disconnect__");
    const firstId = client.connectionId;
    await client.joinRoom({ room: "ts-restart" });
    const shutdown = handled(client.once("__server_shutdown__", { timeoutMs: 10000 }));
    const reconnected = handled(client.once("__connect__", { timeoutMs: 20000 }));
    // It outlives the shutdown's grace period: the server answers it with
    // HANDLER_ERROR before the close rather than leaving it unanswered.
    const pending = handled(expectError(client.slowEcho({ seq: 1, delay_ms: 4000 }), "HANDLER_ERROR"));
    await sleep(100);
    console.log("@@restart");
    const grace = await shutdown;
    assert(typeof grace.grace === "number", "__server_shutdown__ grace");
    const lost = await pending;
    assertEqual(lost.event, "slow_echo", "the pending request's event");
    assert(lost.message.includes("shutting down"), `the shutdown's error: ${lost.message}`);
    assertEqual(await nextLine(), "restarted", "control line");
    const info = await reconnected;
    assertEqual(client.state, "open", "state after reconnecting");
    assert(info.connection_id !== firstId, "a new connection");
    assertEqual(client.connectionId, info.connection_id, "connectionId follows the new connection");
    const states = changes.map((change) => change.state);
    assertEqual(states[0], "reconnecting", `first state change of ${canonical(changes)}`);
    assertEqual(changes[0]?.code, 1001, "the shutdown's close code");
    assertEqual(states[states.length - 1], "open", "last state change");
    assertEqual(disconnects.length, 1, "one __disconnect__ before the close");
    assert(typeof disconnects[0]?.reason === "string", "__disconnect__ reason");
    const joined = await client.joinRoom({ room: "ts-restart" });
    assertEqual(joined.members, 1, "a fresh server: rooms start empty");
    assertEqual(await client.echo({ seq: 8, data: "back" }), { seq: 8, data: "back" }, "echo after reconnecting");
  }, 40000);

  await check("resumes after a connection lost without a close frame: nothing lost, nothing twice, replies kept", async () => {
    // The first attempt waits about a second: the ticks and replies of the
    // gap are queued by the server and replayed on the resume.
    const client = await Client.connect(config.resume, {
      reconnect: { enabled: true, initialDelayMs: 1000, maxDelayMs: 2000 },
    });
    clients.push(client);
    const first = client.connectInfo;
    assert(first !== null, "connectInfo");
    assert(typeof first.resume_token === "string" && first.resume_token.length >= 16, `resume_token: ${first.resume_token}`);
    assertEqual(first.resumed, false, "a first connection is fresh");
    assertEqual(client.resumed, false, "client.resumed before the cut");
    const changes: StateChange[] = [];
    client.onStateChange((change) => changes.push(change));
    const ticks: number[] = [];
    client.on("tick", (tick) => ticks.push(tick.seq));
    await client.joinRoom({ room: "ticker" });
    while (ticks.length < 5) {
      await sleep(20);
    }
    // Ordered, so their replies keep this order; all of them reach the
    // server before the cut (the echo behind them comes back first), and
    // their replies come while the connection is gone.
    const slow = [700, 400, 100].map((delay_ms, seq) => handled(client.slowEcho({ seq, delay_ms }, { timeoutMs: 15000 })));
    assertEqual(await client.echo({ seq: 99, data: "before the cut" }), { seq: 99, data: "before the cut" }, "echo");
    const lastSeqAtCut = client.lastSeq;
    assert(lastSeqAtCut > 5, `seq tracked before the cut: ${lastSeqAtCut}`);
    const resumed = handled(client.once("__connect__", { timeoutMs: 15000 }));
    const ticksAtCut = ticks.length;
    console.log("@@cut");
    assertEqual(await nextLine(), "cut", "control line");
    const info = await resumed;
    assertEqual(info.resumed, true, "__connect__ says resumed");
    assertEqual(info.connection_id, first.connection_id, "the same connection_id");
    assert(info.resume_token !== first.resume_token, "a new resume token");
    assertEqual(client.resumed, true, "client.resumed");
    assertEqual(client.connectionId, first.connection_id, "connectionId");
    assertEqual(changes[0]?.state, "reconnecting", `first state change of ${canonical(changes)}`);
    assertEqual(changes[0]?.code, 1006, "lost without a close frame");
    assertEqual(changes[changes.length - 1], { state: "open", resumed: true }, "the open change says resumed");
    const replies = await Promise.all(slow);
    assertEqual(replies, [0, 1, 2].map((seq) => ({ seq, data: "" })), "the replies of the gap, in order");
    const target = ticks.length + 10;
    while (ticks.length < target) {
      await sleep(20);
    }
    assert(ticks.length > ticksAtCut + 10, `ticks went on: ${ticksAtCut} then ${ticks.length}`);
    const gaps = ticks.filter((n, i) => i > 0 && n !== (ticks[i - 1] ?? 0) + 1);
    assertEqual(gaps, [], `ticks ${ticks[0]}..${ticks[ticks.length - 1]} with none lost or twice`);
    assert(client.lastSeq > lastSeqAtCut, `seq goes on across the resume: ${lastSeqAtCut} then ${client.lastSeq}`);
    assertEqual(await client.echo({ seq: 100, data: "after" }), { seq: 100, data: "after" }, "echo after the resume");
  }, 40000);

  await check("a resume the server cannot honour (it restarted) gives a fresh session and rejects pending requests", async () => {
    const client = await Client.connect(config.resumeRestart, {
      reconnect: { enabled: true, initialDelayMs: 100, maxDelayMs: 300 },
    });
    clients.push(client);
    const firstId = client.connectionId;
    assert(typeof client.connectInfo?.resume_token === "string", "resumption is on");
    assertEqual((await client.joinRoom({ room: "ts-fresh" })).members, 1, "joined");
    const changes: StateChange[] = [];
    client.onStateChange((change) => changes.push(change));
    // Its reply would come after the kill: the request stays pending until
    // the new server answers the resume with a fresh session.
    const pending = { settled: false, atConnect: null as boolean | null };
    const lost = handled(expectError(client.slowEcho({ seq: 1, delay_ms: 4000 }, { timeoutMs: 30000 }), "DISCONNECTED"));
    const done = () => {
      pending.settled = true;
    };
    lost.then(done, done);
    await client.echo({ seq: 2, data: "the slow one reached the server" });
    const reconnected = handled(client.once("__connect__", { timeoutMs: 20000 }));
    client.on("__connect__", () => {
      pending.atConnect ??= pending.settled;
    });
    console.log("@@kill-restart");
    assertEqual(await nextLine(), "restarted", "control line");
    const info = await reconnected;
    assertEqual(info.resumed, false, "__connect__ says fresh");
    assert(info.connection_id !== firstId, "a new connection_id");
    assertEqual(client.resumed, false, "client.resumed");
    assertEqual(pending.atConnect, false, "the pending request was kept until the server answered");
    const error = await lost;
    assertEqual(error.event, "slow_echo", "the rejected request");
    assertEqual(changes[0]?.code, 1006, `lost without a close frame: ${canonical(changes)}`);
    assertEqual(changes[changes.length - 1], { state: "open", resumed: false }, "the open change says fresh");
    assertEqual((await client.joinRoom({ room: "ts-fresh" })).members, 1, "rejoined on the new server");
    assertEqual(await client.echo({ seq: 3, data: "fresh" }), { seq: 3, data: "fresh" }, "echo");
  }, 40000);

  await Promise.all(clients.map((client) => client.close()));
  console.log(`# checks: ${passed} ok, ${failed} failing`);
}

const stdinLines = readline.createInterface({ input: process.stdin });
const waiting: Array<(line: string) => void> = [];
const buffered: string[] = [];
stdinLines.on("line", (line) => {
  const waiter = waiting.shift();
  if (waiter) {
    waiter(line.trim());
  } else {
    buffered.push(line.trim());
  }
});

function nextLine(): Promise<string> {
  const line = buffered.shift();
  return line !== undefined ? Promise.resolve(line) : new Promise((resolve) => waiting.push(resolve));
}

main().then(
  () => process.exit(failed === 0 ? 0 : 1),
  (error: unknown) => {
    console.log(`not ok - the test program itself: ${String(error)}`);
    process.exit(1);
  },
);
