//! The Redis backend: rooms and broadcasts across nodes.
//!
//! Layout, under a configurable key prefix `P`:
//! - `P:node:<node id>`: a liveness key with a TTL, refreshed by the node;
//! - `P:room:<room>`: a hash `node id -> local member count`; counting skips
//!   (and removes) the entries of nodes whose liveness key expired, so a
//!   crashed node's members leave the counts within `key_ttl`;
//! - `P:broadcast`: one pub/sub channel for every broadcast; each node
//!   delivers to its own members and ignores what it published itself (it
//!   delivered those locally already), so every member gets a broadcast once.
//!
//! One command connection (redis' `ConnectionManager`, which reconnects by
//! itself) and one pub/sub connection per node, whatever the number of rooms
//! or clients; a node admits connections once subscribed. When Redis goes
//! away the node keeps serving local work, marks itself unhealthy,
//! reconnects with backoff, resubscribes and re-registers its memberships;
//! broadcasts that cannot be published fail with an error to their sender.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::{OnceCell, watch};

use super::{BackendAdapter, BackendError, Inbox, RelayMessage};
use crate::frame::Frame;

/// How to reach Redis and name the keys.
#[derive(Debug, Clone, PartialEq)]
pub struct RedisConfig {
    /// `redis://host:port/db`.
    pub url: String,
    /// Every key and channel starts with this prefix (several apps, or test
    /// runs, can share one Redis).
    pub key_prefix: String,
    /// How long one Redis command may take before it counts as failed.
    pub command_timeout: Duration,
    /// How long a crashed node's memberships survive (its liveness key's
    /// TTL; the node refreshes it every third of that).
    pub key_ttl: Duration,
}

impl RedisConfig {
    /// `url` with the prefix `socketspec`, a 2 s command timeout and a
    /// 30 s key TTL.
    pub fn new(url: impl Into<String>) -> Self {
        RedisConfig {
            url: url.into(),
            key_prefix: "socketspec".to_owned(),
            command_timeout: Duration::from_secs(2),
            key_ttl: Duration::from_secs(30),
        }
    }

    /// Sets the key prefix.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// Sets how long a crashed node's memberships survive.
    pub fn key_ttl(mut self, ttl: Duration) -> Self {
        self.key_ttl = ttl;
        self
    }
}

/// Sets this node's count for a room (0 removes it), then returns the count
/// over live nodes, dropping the entries of dead ones.
const COUNT_SCRIPT: &str = r#"
if ARGV[2] ~= '' then
  if ARGV[3] == '0' then
    redis.call('HDEL', KEYS[1], ARGV[2])
  else
    redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
  end
end
local fields = redis.call('HGETALL', KEYS[1])
local total = 0
for i = 1, #fields, 2 do
  if redis.call('EXISTS', ARGV[1] .. fields[i]) == 1 then
    total = total + tonumber(fields[i + 1])
  else
    redis.call('HDEL', KEYS[1], fields[i])
  end
end
return total
"#;

/// Sets the liveness key `KEYS[1]` with a TTL of `ARGV[1]` ms; returns 1
/// when it existed, 0 when it had expired (or never existed).
const LIVENESS_SCRIPT: &str = r#"
local existed = redis.call('EXISTS', KEYS[1])
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
return existed
"#;

/// The Redis backend adapter.
pub struct RedisBackend {
    config: RedisConfig,
    /// The liveness key's TTL.
    key_ttl: Duration,
    node_id: String,
    client: redis::Client,
    commands: OnceCell<ConnectionManager>,
    script: redis::Script,
    /// Sets the liveness key; says whether it still existed.
    liveness: redis::Script,
    /// This node's member count per room, re-registered after an outage.
    local: Mutex<HashMap<String, usize>>,
    /// Rooms this node left while Redis did not answer: their fields must
    /// go when it does.
    left_unshared: Mutex<HashSet<String>>,
    /// Whether Redis holds every local membership. False from the start,
    /// after any failed command and after a reconnect, until a
    /// re-registration completes; the node reports itself degraded
    /// meanwhile.
    registered: AtomicBool,
    /// A re-registration task is running.
    reregistering: AtomicBool,
    /// The first registration completed: from then on, a liveness key found
    /// gone means this node was out of the cluster.
    registered_once: AtomicBool,
    /// Where to report that this node may have missed broadcasts.
    inbox: std::sync::OnceLock<Inbox>,
    /// The Redis server's `run_id` at the last complete registration (a
    /// new one means Redis restarted, empty).
    redis_run_id: Mutex<Option<String>>,
    /// Nodes whose liveness key exists, as last counted (0: not yet).
    live_nodes: AtomicUsize,
    pubsub_up: Arc<AtomicBool>,
    commands_up: Arc<AtomicBool>,
    stop: watch::Sender<bool>,
}

impl RedisBackend {
    /// An adapter for `config`; nothing connects until the server starts it.
    pub fn new(config: RedisConfig) -> Result<Self, BackendError> {
        let key_ttl = config.key_ttl;
        let client = redis::Client::open(config.url.as_str())
            .map_err(|e| BackendError(format!("invalid Redis URL `{}`: {e}", config.url)))?;
        Ok(RedisBackend {
            config,
            key_ttl,
            node_id: uuid::Uuid::new_v4().to_string(),
            client,
            commands: OnceCell::new(),
            script: redis::Script::new(COUNT_SCRIPT),
            liveness: redis::Script::new(LIVENESS_SCRIPT),
            local: Mutex::new(HashMap::new()),
            left_unshared: Mutex::new(HashSet::new()),
            registered: AtomicBool::new(false),
            reregistering: AtomicBool::new(false),
            registered_once: AtomicBool::new(false),
            inbox: std::sync::OnceLock::new(),
            redis_run_id: Mutex::new(None),
            live_nodes: AtomicUsize::new(0),
            pubsub_up: Arc::new(AtomicBool::new(false)),
            commands_up: Arc::new(AtomicBool::new(false)),
            stop: watch::Sender::new(false),
        })
    }

    /// This node's id (a UUID).
    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    fn key(&self, kind: &str, name: &str) -> String {
        format!("{}:{kind}:{name}", self.config.key_prefix)
    }

    fn channel(&self) -> String {
        format!("{}:broadcast", self.config.key_prefix)
    }

    /// Where node `node` receives relay messages.
    fn relay_channel(&self, node: &str) -> String {
        format!("{}:relay:{node}", self.config.key_prefix)
    }

    async fn connection(&self) -> Result<ConnectionManager, BackendError> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.config.command_timeout))
            .set_response_timeout(Some(self.config.command_timeout))
            .set_number_of_retries(1);
        self.commands
            .get_or_try_init(|| async {
                let fut = self.client.get_connection_manager_with_config(config);
                match tokio::time::timeout(self.config.command_timeout, fut).await {
                    Ok(Ok(manager)) => Ok(manager),
                    Ok(Err(e)) => Err(BackendError(e.to_string())),
                    Err(_) => Err(BackendError("timed out connecting to Redis".to_owned())),
                }
            })
            .await
            .cloned()
    }

    /// Runs one command, keeping the health flag current.
    async fn run<T: redis::FromRedisValue + Send>(
        &self,
        cmd: RedisCall<'_>,
    ) -> Result<T, BackendError> {
        let mut conn = self
            .connection()
            .await
            .inspect_err(|_| self.commands_up.store(false, Ordering::Release))?;
        let fut = async {
            match cmd {
                RedisCall::Cmd(cmd) => cmd.query_async::<T>(&mut conn).await,
                RedisCall::Script(inv) => inv.invoke_async::<T>(&mut conn).await,
            }
        };
        let result = match tokio::time::timeout(self.config.command_timeout, fut).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(BackendError(e.to_string())),
            Err(_) => Err(BackendError("Redis did not answer in time".to_owned())),
        };
        self.commands_up.store(result.is_ok(), Ordering::Release);
        if result.is_err() {
            // What this command was to record may be missing in Redis.
            self.registered.store(false, Ordering::Release);
        }
        result
    }

    async fn count(&self, room: &str, set_local: Option<usize>) -> Result<usize, BackendError> {
        let key = self.key("room", room);
        let node_prefix = self.key("node", "");
        let mut invocation = self.script.key(key);
        invocation.arg(node_prefix);
        match set_local {
            Some(n) => invocation.arg(&self.node_id).arg(n),
            None => invocation.arg("").arg(0),
        };
        let total: i64 = self.run(RedisCall::Script(&invocation)).await?;
        Ok(usize::try_from(total).unwrap_or(0))
    }

    /// Sets this node's liveness key again. A key found gone after the
    /// first registration, with Redis up all along (the same `run_id`),
    /// means the other nodes stopped counting this one: their broadcasts
    /// were acknowledged without reaching it, and its members are told.
    async fn refresh_liveness(&self) -> Result<(), BackendError> {
        let ttl_ms = u64::try_from(self.key_ttl.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let mut invocation = self.liveness.key(self.key("node", &self.node_id));
        invocation.arg(ttl_ms);
        let existed: i64 = self.run(RedisCall::Script(&invocation)).await?;
        if existed == 0 && self.registered_once.load(Ordering::Acquire) {
            let run_id = self.redis_run_id().await?;
            let known = self
                .redis_run_id
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            if known.as_deref() == Some(run_id.as_str()) {
                tracing::warn!("this node's liveness key expired while it was cut off from Redis");
                if let Some(inbox) = self.inbox.get() {
                    inbox.report_gap();
                }
            }
        }
        Ok(())
    }

    /// The Redis server's `run_id` (new at every start of Redis).
    async fn redis_run_id(&self) -> Result<String, BackendError> {
        let mut cmd = redis::cmd("INFO");
        cmd.arg("server");
        let info: String = self.run(RedisCall::Cmd(&cmd)).await?;
        Ok(info
            .lines()
            .find_map(|line| line.strip_prefix("run_id:"))
            .unwrap_or_default()
            .trim()
            .to_owned())
    }

    /// Registers every local membership again (after an outage), and
    /// removes the rooms left meanwhile. Only a complete pass marks the
    /// node registered; any failure leaves it for the next try.
    async fn reregister(&self) -> Result<(), BackendError> {
        self.registered.store(true, Ordering::Release);
        let run_id = self.redis_run_id().await?;
        self.refresh_liveness().await?;
        let left: Vec<String> = self
            .left_unshared
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain()
            .collect();
        for (i, room) in left.iter().enumerate() {
            let still_left = !self
                .local
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .contains_key(room);
            if still_left && let Err(e) = self.count(room, Some(0)).await {
                self.left_unshared
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .extend(left[i..].iter().cloned());
                return Err(e);
            }
        }
        let rooms: Vec<(String, usize)> = self
            .local
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        for (room, count) in rooms {
            self.count(&room, Some(count)).await?;
        }
        // A command that failed meanwhile cleared the flag again.
        if self.registered.load(Ordering::Acquire) {
            self.registered_once.store(true, Ordering::Release);
            *self
                .redis_run_id
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(run_id);
            Ok(())
        } else {
            Err(BackendError(
                "a membership change failed during re-registration".to_owned(),
            ))
        }
    }

    /// Starts re-registering in the background unless the node is
    /// registered or a re-registration is already running.
    fn ensure_registered(self: &Arc<Self>) {
        if self.registered.load(Ordering::Acquire)
            || self.reregistering.swap(true, Ordering::AcqRel)
        {
            return;
        }
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let mut stop = this.stop.subscribe();
            this.reregister_until_done(&mut stop).await;
            this.reregistering.store(false, Ordering::Release);
        });
    }

    /// Re-registers until it completes (with backoff), unless stopped.
    async fn reregister_until_done(&self, stop: &mut watch::Receiver<bool>) {
        let mut backoff = Duration::from_millis(100);
        loop {
            match self.reregister().await {
                Ok(()) => {
                    self.count_live_nodes().await;
                    return;
                }
                Err(e) => tracing::warn!(
                    error = %e,
                    "re-registering memberships failed; retrying in {backoff:?}"
                ),
            }
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                _ = stop.changed() => return,
            }
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }

    /// Keeps the pub/sub subscription up, reconnecting with backoff.
    async fn subscriber(self: Arc<Self>, inbox: Inbox) {
        let mut stop = self.stop.subscribe();
        let mut backoff = Duration::from_millis(100);
        loop {
            if *stop.borrow() {
                return;
            }
            match self.client.get_async_pubsub().await {
                Ok(mut pubsub) => {
                    let relay_channel = self.relay_channel(&self.node_id);
                    let subscribed = pubsub.subscribe(self.channel()).await.is_ok()
                        && pubsub.subscribe(&relay_channel).await.is_ok();
                    if subscribed {
                        self.pubsub_up.store(true, Ordering::Release);
                        backoff = Duration::from_millis(100);
                        self.registered.store(false, Ordering::Release);
                        self.ensure_registered();
                        let mut messages = pubsub.on_message();
                        loop {
                            tokio::select! {
                                message = messages.next() => match message {
                                    Some(message) if message.get_channel_name() == relay_channel => {
                                        match wire::decode_relay(message.get_payload_bytes()) {
                                            Some(relay) => inbox.relay(relay),
                                            None => tracing::warn!("ignoring a malformed relay message from Redis"),
                                        }
                                    }
                                    Some(message) => self.receive(&inbox, message.get_payload_bytes()),
                                    None => break,
                                },
                                _ = stop.changed() => return,
                            }
                        }
                    }
                    self.pubsub_up.store(false, Ordering::Release);
                    tracing::warn!("Redis pub/sub connection lost; reconnecting");
                }
                Err(e) => {
                    self.pubsub_up.store(false, Ordering::Release);
                    tracing::warn!(error = %e, "cannot reach Redis; retrying in {backoff:?}");
                }
            }
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                _ = stop.changed() => return,
            }
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }

    /// Refreshes the liveness key every third of its TTL.
    async fn heartbeat(self: Arc<Self>) {
        let mut stop = self.stop.subscribe();
        let period = (self.key_ttl / 3).max(Duration::from_millis(50));
        loop {
            tokio::select! {
                () = tokio::time::sleep(period) => {}
                _ = stop.changed() => return,
            }
            // A failed command since the last pass (Redis restarted, or
            // this node was cut off from it) left memberships unrecorded.
            if !self.registered.load(Ordering::Acquire) {
                self.ensure_registered();
            } else if let Err(e) = self.refresh_liveness().await {
                tracing::warn!(error = %e, "refreshing the node's liveness key failed");
            }
            self.count_live_nodes().await;
        }
    }

    fn receive(&self, inbox: &Inbox, bytes: &[u8]) {
        let Some(message) = wire::decode(bytes) else {
            tracing::warn!("ignoring a malformed broadcast from Redis");
            return;
        };
        if message.node == self.node_id {
            return;
        }
        match std::str::from_utf8(message.frame) {
            Ok(text) => inbox.deliver(message.room, message.except, Frame::from(text.to_owned())),
            Err(_) => tracing::warn!("ignoring a broadcast that is not UTF-8"),
        }
    }
}

enum RedisCall<'a> {
    Cmd(&'a redis::Cmd),
    Script(&'a redis::ScriptInvocation<'a>),
}

impl BackendAdapter for Arc<RedisBackend> {
    fn name(&self) -> &'static str {
        "redis"
    }

    async fn start(&self, inbox: Inbox) -> Result<(), BackendError> {
        // Fail fast on a wrong URL or an unreachable Redis at start-up;
        // later outages are survived.
        self.refresh_liveness().await?;
        let _ = self.inbox.set(inbox.clone());
        tokio::spawn(Arc::clone(self).subscriber(inbox));
        tokio::spawn(Arc::clone(self).heartbeat());
        // Before the subscription, a broadcast or push sent here would miss
        // its members; past 5 s, serve degraded while the subscriber retries.
        let subscribing = async {
            while !self.pubsub_up.load(Ordering::Acquire) {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        };
        let waited = tokio::time::timeout(Duration::from_secs(5), subscribing);
        if waited.await.is_err() {
            tracing::warn!("the Redis subscription is not up yet; serving without it");
        }
        Ok(())
    }

    async fn set_local_members(
        &self,
        room: &str,
        local_members: usize,
    ) -> Result<usize, BackendError> {
        {
            let mut local = self.local.lock().unwrap_or_else(PoisonError::into_inner);
            if local_members == 0 {
                local.remove(room);
            } else {
                local.insert(room.to_owned(), local_members);
            }
        }
        let shared = self.count(room, Some(local_members)).await;
        if shared.is_err() && local_members == 0 {
            self.left_unshared
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(room.to_owned());
        }
        shared
    }

    async fn member_count(&self, room: &str) -> Result<usize, BackendError> {
        self.count(room, None).await
    }

    async fn publish(
        &self,
        room: &str,
        except: Option<&str>,
        frame: &Frame,
    ) -> Result<(), BackendError> {
        if !self.pubsub_up.load(Ordering::Acquire) {
            return Err(BackendError(
                "not connected to Redis; the broadcast was not sent".to_owned(),
            ));
        }
        let payload = wire::encode(&self.node_id, room, except, frame.as_bytes());
        let mut cmd = redis::cmd("PUBLISH");
        cmd.arg(self.channel()).arg(payload);
        let receivers: i64 = self.run(RedisCall::Cmd(&cmd)).await?;
        self.check_reach(usize::try_from(receivers).unwrap_or(0))
    }

    async fn rooms(&self, prefix: &str) -> Result<Vec<String>, BackendError> {
        let key_prefix = self.key("room", "");
        let keys = self
            .keys_with_prefix(&format!("{key_prefix}{prefix}"))
            .await?;
        Ok(keys
            .iter()
            .filter_map(|k| k.strip_prefix(&key_prefix))
            .filter_map(|k| k.strip_prefix(prefix))
            .map(str::to_owned)
            .collect())
    }

    fn node_id(&self) -> Option<&str> {
        Some(&self.node_id)
    }

    async fn node_alive(&self, node: &str) -> bool {
        let mut cmd = redis::cmd("EXISTS");
        cmd.arg(self.key("node", node));
        matches!(self.run::<i64>(RedisCall::Cmd(&cmd)).await, Ok(1))
    }

    async fn relay(&self, to_node: &str, message: RelayMessage) -> Result<(), BackendError> {
        let mut cmd = redis::cmd("PUBLISH");
        cmd.arg(self.relay_channel(to_node))
            .arg(wire::encode_relay(&message));
        let receivers: i64 = self.run(RedisCall::Cmd(&cmd)).await?;
        if receivers == 0 {
            return Err(BackendError(format!("node {to_node} is not listening")));
        }
        Ok(())
    }

    fn healthy(&self) -> bool {
        self.pubsub_up.load(Ordering::Acquire)
            && self.commands_up.load(Ordering::Acquire)
            && self.registered.load(Ordering::Acquire)
    }

    async fn shutdown(&self) {
        {
            self.stop.send_replace(true);
            let rooms: Vec<String> = self
                .local
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .drain()
                .map(|(k, _)| k)
                .collect();
            for room in rooms {
                let _ = self.count(&room, Some(0)).await;
            }
            let mut cmd = redis::cmd("DEL");
            cmd.arg(self.key("node", &self.node_id));
            let _ = self.run::<i64>(RedisCall::Cmd(&cmd)).await;
        }
    }
}

/// `text` with Redis glob characters escaped, for a `MATCH` pattern.
mod scan;
mod wire;
