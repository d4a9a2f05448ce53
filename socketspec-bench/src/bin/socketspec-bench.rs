//! `socketspec-bench`: the load generator (issue 7).
//!
//! ```text
//! cargo build --release -p chat-example -p socketspec-bench
//! target/release/socketspec-bench suite              # chat server vs raw floor
//! target/release/socketspec-bench rtt --server-cmd "target/release/raw-floor --bind 127.0.0.1:0"
//! target/release/socketspec-bench idle --url ws://127.0.0.1:8080/ws --server-pid 1234
//! target/release/socketspec-bench detached --server-cmd "target/release/chat-server --bind 127.0.0.1:0 --resume-window 60"
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use serde::Serialize;
use socketspec_bench::modes::Target;
use socketspec_bench::modes::churn::{self, ChurnOptions};
use socketspec_bench::modes::detached::{self, DetachedOptions};
use socketspec_bench::modes::fanout::{self, FanoutOptions};
use socketspec_bench::modes::idle::{self, IdleOptions};
use socketspec_bench::modes::rtt::{self, RttOptions};
use socketspec_bench::process::ServerProcess;
use socketspec_bench::suite::{self, Mode, SuiteOptions, Variant};

/// Load generator for socketspec servers (docs/protocol.md, docs/chat-example.md).
#[derive(Debug, Parser)]
#[command(name = "socketspec-bench", version, about)]
struct Cli {
    #[command(subcommand)]
    mode: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// N connections × W `echo` in flight: events/s and round-trip percentiles.
    Rtt {
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        opts: RttArgs,
    },
    /// M members of one room and a sender: time to the last member, deliveries/s.
    Fanout {
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        opts: FanoutArgs,
    },
    /// K connections held: the server's RSS per connection.
    Idle {
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        opts: IdleArgs,
    },
    /// Connect + join + message + disconnect cycles, then a check that rooms emptied.
    Churn {
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        opts: ChurnArgs,
    },
    /// K members of one room lose their sockets without a close frame, M
    /// messages follow: the server's RSS per session kept for a resume.
    Detached {
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        opts: DetachedArgs,
    },
    /// Every mode against the chat server and the raw floor, alternately;
    /// prints a side-by-side table with ratios and targets.
    Suite(Box<SuiteArgs>),
}

#[derive(Debug, Args)]
struct TargetArgs {
    /// Start the server with this command line (run through `sh -c exec`),
    /// read its `listening on ws://…` line, stop it at the end.
    #[arg(long, value_name = "CMD", conflicts_with = "url")]
    server_cmd: Option<String>,
    /// Connect to an already running server instead.
    #[arg(long)]
    url: Option<String>,
    /// The process id of the server behind --url, for memory figures.
    #[arg(long, value_name = "PID", requires = "url")]
    server_pid: Option<u32>,
    /// Also report this process's CPU time in `fanout` (e.g. redis-server's).
    #[arg(long, value_name = "PID")]
    observe_pid: Option<u32>,
    /// Also write the report as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct RttArgs {
    /// Connections.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// `echo` events in flight per connection.
    #[arg(long, default_value_t = 8)]
    window: usize,
    /// Seconds to measure.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Seconds of load before measuring.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Send exactly this many `echo`s per connection (no warm-up; for smoke runs).
    #[arg(long)]
    messages: Option<u64>,
    /// Bytes of `data` per `echo`.
    #[arg(long, default_value_t = 16)]
    data_bytes: usize,
}

impl RttArgs {
    fn options(&self) -> Result<RttOptions> {
        Ok(RttOptions {
            connections: self.connections,
            window: self.window,
            duration: seconds("duration", self.duration)?,
            warmup: seconds("warmup", self.warmup)?,
            messages: self.messages,
            data_bytes: self.data_bytes,
        })
    }
}

#[derive(Debug, Args)]
struct FanoutArgs {
    /// Room members.
    #[arg(long, default_value_t = 1000)]
    members: usize,
    /// Messages to send.
    #[arg(long, default_value_t = 100)]
    messages: usize,
    /// Broadcasts in flight at once.
    #[arg(long, default_value_t = 1)]
    window: usize,
    /// Bytes of text per message.
    #[arg(long, default_value_t = 32)]
    text_bytes: usize,
    /// Seconds the `user_joined` flood of the set-up may take to drain.
    #[arg(long, default_value_t = 600.0)]
    setup_timeout: f64,
}

impl FanoutArgs {
    fn options(&self) -> Result<FanoutOptions> {
        Ok(FanoutOptions {
            members: self.members,
            messages: self.messages,
            window: self.window,
            room: "fanout".to_owned(),
            text_bytes: self.text_bytes,
            setup_timeout: seconds("setup-timeout", self.setup_timeout)?,
        })
    }
}

#[derive(Debug, Args)]
struct IdleArgs {
    /// Connections to hold.
    #[arg(long, default_value_t = 10_000)]
    connections: usize,
    /// Seconds to hold them before reading the server's RSS.
    #[arg(long, default_value_t = 2.0)]
    settle: f64,
}

impl IdleArgs {
    fn options(&self) -> Result<IdleOptions> {
        Ok(IdleOptions {
            connections: self.connections,
            settle: seconds("settle", self.settle)?,
        })
    }
}

#[derive(Debug, Args)]
struct ChurnArgs {
    /// Cycles in all.
    #[arg(long, default_value_t = 1000)]
    cycles: usize,
    /// Cycles running at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
}

impl ChurnArgs {
    fn options(&self) -> ChurnOptions {
        ChurnOptions {
            cycles: self.cycles,
            concurrency: self.concurrency,
            room: "churn".to_owned(),
        }
    }
}

#[derive(Debug, Args)]
struct DetachedArgs {
    /// Room members whose sockets are dropped.
    #[arg(long, default_value_t = 2000)]
    connections: usize,
    /// Messages sent to the room after the drop.
    #[arg(long, default_value_t = 100)]
    messages: usize,
    /// Messages every member reads before the drop (more than the server's
    /// `--resume-buffer`: the steady state of a busy room).
    #[arg(long, default_value_t = 0)]
    preload: usize,
    /// Bytes of text per message.
    #[arg(long, default_value_t = 32)]
    text_bytes: usize,
    /// Keep the members connected and reading (the baseline) instead.
    #[arg(long)]
    keep: bool,
    /// Seconds to wait before each RSS reading.
    #[arg(long, default_value_t = 2.0)]
    settle: f64,
    /// Afterwards, wait this many seconds (past the server's resume window)
    /// and check that the sessions ended and their memory came back.
    #[arg(long, value_name = "S")]
    expiry_wait: Option<f64>,
    /// Seconds the `user_joined` flood of the set-up may take to drain.
    #[arg(long, default_value_t = 600.0)]
    setup_timeout: f64,
}

impl DetachedArgs {
    fn options(&self) -> Result<DetachedOptions> {
        Ok(DetachedOptions {
            connections: self.connections,
            messages: self.messages,
            preload: self.preload,
            room: "detached".to_owned(),
            text_bytes: self.text_bytes,
            keep: self.keep,
            settle: seconds("settle", self.settle)?,
            expiry_wait: self
                .expiry_wait
                .map(|s| seconds("expiry-wait", s))
                .transpose()?,
            setup_timeout: seconds("setup-timeout", self.setup_timeout)?,
        })
    }
}

#[derive(Debug, Args)]
struct SuiteArgs {
    /// The chat server's command line [default: chat-server next to this
    /// binary, port 0, heartbeat, idle timeout and max duration off].
    #[arg(long, value_name = "CMD")]
    chat_cmd: Option<String>,
    /// Another chat server in the alternation: the chat command plus FLAGS,
    /// shown in a column NAME (repeatable), e.g. `resume=--resume-window 30`.
    /// `{unique}` in any command becomes a string unique to each start
    /// (for `--redis-prefix bench-{unique}`).
    #[arg(long = "variant", value_name = "NAME=FLAGS")]
    variants: Vec<String>,
    /// Another server in the alternation with a command line of its own
    /// (another build of the chat server, say), shown in a column NAME
    /// after the `--variant`s (repeatable).
    #[arg(long = "variant-cmd", value_name = "NAME=CMD")]
    variant_cmds: Vec<String>,
    /// The raw floor's command line [default: raw-floor next to this binary, port 0].
    #[arg(long, value_name = "CMD")]
    floor_cmd: Option<String>,
    /// Modes to run, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "rtt,fanout,idle,churn")]
    modes: Vec<Mode>,
    /// Rounds of alternation; the table shows medians.
    #[arg(long, default_value_t = 1)]
    rounds: usize,
    /// Also report this process's CPU time in `fanout` (e.g. redis-server's).
    #[arg(long, value_name = "PID")]
    observe_pid: Option<u32>,
    /// Also write every report as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// rtt: connections.
    #[arg(long, default_value_t = 64)]
    rtt_connections: usize,
    /// rtt: `echo` events in flight per connection.
    #[arg(long, default_value_t = 8)]
    rtt_window: usize,
    /// rtt: seconds to measure.
    #[arg(long, default_value_t = 10.0)]
    rtt_duration: f64,
    /// rtt: seconds of load before measuring.
    #[arg(long, default_value_t = 2.0)]
    rtt_warmup: f64,
    /// rtt: exactly this many `echo`s per connection instead of a duration.
    #[arg(long)]
    rtt_messages: Option<u64>,
    /// fanout: room members.
    #[arg(long, default_value_t = 1000)]
    fanout_members: usize,
    /// fanout: messages to send.
    #[arg(long, default_value_t = 100)]
    fanout_messages: usize,
    /// fanout: broadcasts in flight at once.
    #[arg(long, default_value_t = 1)]
    fanout_window: usize,
    /// idle: connections to hold.
    #[arg(long, default_value_t = 10_000)]
    idle_connections: usize,
    /// idle: seconds to hold them before reading the server's RSS.
    #[arg(long, default_value_t = 2.0)]
    idle_settle: f64,
    /// churn: cycles.
    #[arg(long, default_value_t = 1000)]
    churn_cycles: usize,
    /// churn: cycles running at once.
    #[arg(long, default_value_t = 8)]
    churn_concurrency: usize,
}

impl SuiteArgs {
    fn options(&self) -> Result<SuiteOptions> {
        let dir = std::env::current_exe()
            .context("locating this binary")?
            .parent()
            .map(PathBuf::from)
            .unwrap_or_default();
        let next_to_me = |name: &str| dir.join(name).display().to_string();
        let chat_cmd = self.chat_cmd.clone().unwrap_or_else(|| {
            format!(
                "{} --bind 127.0.0.1:0 --heartbeat-interval 0 --idle-timeout 0 --max-duration 0 --shutdown-grace 1",
                next_to_me("chat-server")
            )
        });
        let variants = self
            .variants
            .iter()
            .map(|spec| Variant::parse(spec, &chat_cmd))
            .chain(
                self.variant_cmds
                    .iter()
                    .map(|spec| Variant::parse_cmd(spec)),
            )
            .collect::<Result<Vec<_>>>()?;
        Ok(SuiteOptions {
            chat_cmd,
            variants,
            floor_cmd: self
                .floor_cmd
                .clone()
                .unwrap_or_else(|| format!("{} --bind 127.0.0.1:0", next_to_me("raw-floor"))),
            observe_pid: self.observe_pid,
            modes: self.modes.clone(),
            rounds: self.rounds,
            rtt: RttOptions {
                connections: self.rtt_connections,
                window: self.rtt_window,
                duration: seconds("rtt-duration", self.rtt_duration)?,
                warmup: seconds("rtt-warmup", self.rtt_warmup)?,
                messages: self.rtt_messages,
                data_bytes: 16,
            },
            fanout: FanoutOptions {
                members: self.fanout_members,
                messages: self.fanout_messages,
                window: self.fanout_window,
                room: "fanout".to_owned(),
                text_bytes: 32,
                setup_timeout: Duration::from_secs(600),
            },
            idle: IdleOptions {
                connections: self.idle_connections,
                settle: seconds("idle-settle", self.idle_settle)?,
            },
            churn: ChurnOptions {
                cycles: self.churn_cycles,
                concurrency: self.churn_concurrency,
                room: "churn".to_owned(),
            },
        })
    }
}

fn seconds(name: &str, value: f64) -> Result<Duration> {
    Duration::try_from_secs_f64(value)
        .with_context(|| format!("--{name} must be a non-negative number of seconds"))
}

/// The server a single mode runs against: started here, or given by URL.
struct Server {
    target: Target,
    process: Option<ServerProcess>,
}

impl Server {
    fn open(args: &TargetArgs) -> Result<Server> {
        match (&args.server_cmd, &args.url) {
            (Some(cmd), None) => {
                let process = ServerProcess::start(cmd)?;
                Ok(Server {
                    target: Target {
                        url: process.url().to_owned(),
                        pid: Some(process.pid()),
                        observed_pid: args.observe_pid,
                    },
                    process: Some(process),
                })
            }
            (None, Some(url)) => Ok(Server {
                target: Target {
                    url: url.clone(),
                    pid: args.server_pid,
                    observed_pid: args.observe_pid,
                },
                process: None,
            }),
            _ => bail!("give either --server-cmd CMD or --url ws://HOST:PORT/ws"),
        }
    }

    fn close(self) {
        if let Some(process) = self.process {
            process.stop();
        }
    }
}

fn emit<T: Serialize>(report: &T, json: Option<&PathBuf>) -> Result<()> {
    let text = serde_json::to_string_pretty(report)?;
    println!("{text}");
    if let Some(path) = json {
        std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

async fn single<T: Serialize>(
    target: &TargetArgs,
    run: impl AsyncFnOnce(&Target) -> Result<T>,
) -> Result<()> {
    let server = Server::open(target)?;
    // A node of a cluster may print its `listening on` line before it has
    // reached its backend: broadcasts fail until it has.
    if !socketspec_bench::client::wait_until_healthy(&server.target.url, Duration::from_secs(10))
        .await
    {
        eprintln!("socketspec-bench: the server is not healthy after 10s; running anyway");
    }
    let outcome = run(&server.target).await;
    let tail = server
        .process
        .as_ref()
        .map(ServerProcess::stderr_tail)
        .unwrap_or_default();
    server.close();
    match outcome {
        Ok(report) => emit(&report, target.json.as_ref()),
        Err(e) if tail.is_empty() => Err(e),
        Err(e) => Err(e.context(format!("server stderr:\n{tail}"))),
    }
}

async fn run(cli: Cli) -> Result<()> {
    let limit = socketspec_bench::raise_fd_limit()?;
    if limit < 10_240 {
        eprintln!("socketspec-bench: note: only {limit} file descriptors are allowed");
    }
    match cli.mode {
        Command::Rtt { target, opts } => {
            let opts = opts.options()?;
            single(&target, async |t| rtt::run(t, &opts).await).await
        }
        Command::Fanout { target, opts } => {
            let opts = opts.options()?;
            single(&target, async |t| fanout::run(t, &opts).await).await
        }
        Command::Idle { target, opts } => {
            let opts = opts.options()?;
            single(&target, async |t| idle::run(t, &opts).await).await
        }
        Command::Churn { target, opts } => {
            let opts = opts.options();
            single(&target, async |t| churn::run(t, &opts).await).await
        }
        Command::Detached { target, opts } => {
            let opts = opts.options()?;
            single(&target, async |t| detached::run(t, &opts).await).await
        }
        Command::Suite(args) => {
            let opts = args.options()?;
            eprintln!("suite: chat  = {}", opts.chat_cmd);
            for variant in &opts.variants {
                eprintln!("suite: {} = {}", variant.name, variant.cmd);
            }
            eprintln!("suite: floor = {}", opts.floor_cmd);
            let report = suite::run(&opts).await?;
            if let Some(path) = &args.json {
                let text = serde_json::to_string_pretty(&report)?;
                std::fs::write(path, text)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            println!("machine: {}\n", report.machine.describe());
            let names: Vec<&str> = opts.variants.iter().map(|v| v.name.as_str()).collect();
            print!("{}", suite::render_table(&report.rows, &names));
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("socketspec-bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("socketspec-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}
