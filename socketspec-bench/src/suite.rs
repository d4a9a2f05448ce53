//! `suite`: every mode against the chat server and the raw floor,
//! alternately, with the same parameters in one run; a side-by-side table
//! with ratios and the targets.
//!
//! Each (mode, server) run gets a freshly started server, so memory figures
//! and rooms start clean. With several rounds the order alternates (chat
//! first, then floor first) and the table shows each figure's median.
//!
//! [`Variant`]s add more servers to the alternation: the chat command with
//! extra flags (resumption on, a Redis backend) or another command (another
//! build), each with its own column and its ratio to the plain chat server. With variants the order
//! rotates each round (chat, variants…, floor; then starting one later).

use std::fmt::Write as _;

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::modes::Target;
use crate::modes::churn::{self, ChurnOptions, ChurnReport};
use crate::modes::fanout::{self, FanoutOptions, FanoutReport};
use crate::modes::idle::{self, IdleOptions, IdleReport};
use crate::modes::rtt::{self, RttOptions, RttReport};
use crate::process::ServerProcess;
use crate::stats::median;

/// One of the four load modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Round trips of `echo`.
    Rtt,
    /// One room, many members.
    Fanout,
    /// Memory per idle connection.
    Idle,
    /// Connect/join/message/disconnect cycles.
    Churn,
}

/// Another server run next to the plain chat server: the chat command with
/// extra flags ([`Variant::parse`]) or a command of its own
/// ([`Variant::parse_cmd`]), such as another build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Variant {
    /// Its column's name in the table.
    pub name: String,
    /// Its whole command line.
    pub cmd: String,
}

impl Variant {
    /// Parses `NAME=FLAGS` into a variant whose command is `chat_cmd FLAGS`
    /// (FLAGS may be empty: the same server again, which shows the noise).
    pub fn parse(spec: &str, chat_cmd: &str) -> Result<Variant> {
        let (name, flags) = split_spec(spec, "NAME=FLAGS")?;
        Ok(Variant {
            name,
            cmd: format!("{chat_cmd} {flags}").trim_end().to_owned(),
        })
    }

    /// Parses `NAME=CMD` into a variant with a command of its own (another
    /// build of the chat server, say).
    pub fn parse_cmd(spec: &str) -> Result<Variant> {
        let (name, cmd) = split_spec(spec, "NAME=CMD")?;
        if cmd.is_empty() {
            bail!("a variant's command is empty in `{spec}`");
        }
        Ok(Variant { name, cmd })
    }
}

fn split_spec(spec: &str, shape: &str) -> Result<(String, String)> {
    let (name, rest) = spec
        .split_once('=')
        .filter(|(name, _)| !name.trim().is_empty())
        .with_context(|| format!("a variant looks like {shape}, got `{spec}`"))?;
    Ok((name.trim().to_owned(), rest.trim().to_owned()))
}

/// Everything a suite run needs.
#[derive(Debug, Clone)]
pub struct SuiteOptions {
    /// The chat server's command line (must bind port 0 or a free port).
    pub chat_cmd: String,
    /// More chat servers run in the same alternation (may be empty).
    pub variants: Vec<Variant>,
    /// The raw floor's command line.
    pub floor_cmd: String,
    /// Another process whose CPU time `fanout` reports (e.g. redis-server).
    pub observe_pid: Option<u32>,
    /// The modes to run, in order.
    pub modes: Vec<Mode>,
    /// Rounds of (chat, floor) alternation.
    pub rounds: usize,
    /// `rtt` options.
    pub rtt: RttOptions,
    /// `fanout` options.
    pub fanout: FanoutOptions,
    /// `idle` options.
    pub idle: IdleOptions,
    /// `churn` options.
    pub churn: ChurnOptions,
}

/// Every report of one server, one entry per round.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ServerRuns {
    /// `rtt` reports.
    pub rtt: Vec<RttReport>,
    /// `fanout` reports.
    pub fanout: Vec<FanoutReport>,
    /// `idle` reports.
    pub idle: Vec<IdleReport>,
    /// `churn` reports.
    pub churn: Vec<ChurnReport>,
    /// Whether each started server exited on SIGTERM by itself.
    pub stopped_cleanly: Vec<bool>,
}

/// The reports of one variant.
#[derive(Debug, Clone, Serialize)]
pub struct VariantRuns {
    /// The variant.
    pub variant: Variant,
    /// Its reports, one entry per round.
    pub runs: ServerRuns,
}

/// One line of the side-by-side table.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// What is measured, with its unit.
    pub metric: String,
    /// The chat server's figure (median over rounds).
    pub chat: Option<f64>,
    /// Each variant's figure (median over rounds), in the variants' order.
    pub variants: Vec<Option<f64>>,
    /// The floor's figure (median over rounds).
    pub floor: Option<f64>,
    /// `chat / floor`.
    pub ratio: Option<f64>,
    /// The target, if this line has one.
    pub target: String,
    /// Whether the target is met.
    pub met: Option<bool>,
}

/// The machine a suite ran on, and how busy it was.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// Logical CPUs.
    pub cpus: usize,
    /// `model name` from /proc/cpuinfo.
    pub cpu_model: String,
    /// `MemTotal` from /proc/meminfo, KiB.
    pub mem_total_kib: u64,
    /// /proc/loadavg when the suite started.
    pub loadavg_start: String,
    /// /proc/loadavg when the suite ended (other work on the machine skews
    /// every figure: a 1-minute load well above the suite's own is a warning).
    pub loadavg_end: String,
}

impl Machine {
    fn read(loadavg_start: String) -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        Machine {
            cpus: std::thread::available_parallelism().map_or(0, usize::from),
            cpu_model: cpuinfo
                .lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
                .unwrap_or_default(),
            mem_total_kib: meminfo
                .lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or(0),
            loadavg_start,
            loadavg_end: loadavg(),
        }
    }

    /// One line for a person.
    pub fn describe(&self) -> String {
        format!(
            "{} CPUs ({}), {:.1} GiB; load average at start {}, at end {}",
            self.cpus,
            self.cpu_model,
            self.mem_total_kib as f64 / 1024.0 / 1024.0,
            self.loadavg_start,
            self.loadavg_end
        )
    }
}

/// The first three fields of /proc/loadavg.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A whole suite run.
#[derive(Debug, Clone, Serialize)]
pub struct SuiteReport {
    /// Where it ran.
    pub machine: Machine,
    /// The chat server's reports.
    pub chat: ServerRuns,
    /// Each variant's reports.
    pub variants: Vec<VariantRuns>,
    /// The floor's reports.
    pub floor: ServerRuns,
    /// The table.
    pub rows: Vec<Row>,
}

/// How long a started server may take to report itself healthy (a node of
/// a cluster reaching its backend).
const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The order of the servers in `round`: chat, variants…, floor, rotated
/// by the round (with no variants: chat first, then floor first).
fn order(servers: usize, round: usize) -> impl Iterator<Item = usize> {
    let n = servers.max(1);
    (0..n).map(move |i| (i + round) % n)
}

/// Runs the suite, printing progress to stderr.
pub async fn run(opts: &SuiteOptions) -> Result<SuiteReport> {
    let load_start = loadavg();
    // Index 0 is the chat server, the last one the floor, variants between.
    let mut servers: Vec<(String, String)> = vec![("chat".to_owned(), opts.chat_cmd.clone())];
    servers.extend(
        opts.variants
            .iter()
            .map(|v| (v.name.clone(), v.cmd.clone())),
    );
    servers.push(("floor".to_owned(), opts.floor_cmd.clone()));
    let mut runs = vec![ServerRuns::default(); servers.len()];
    for round in 0..opts.rounds.max(1) {
        for &mode in &opts.modes {
            for which in order(servers.len(), round) {
                let (name, cmd) = &servers[which];
                let runs = &mut runs[which];
                eprintln!(
                    "suite: round {} {mode:?} on {name} (load average {}) …",
                    round + 1,
                    loadavg()
                );
                let server = ServerProcess::start(cmd)?;
                let target = Target {
                    url: server.url().to_owned(),
                    pid: Some(server.pid()),
                    observed_pid: opts.observe_pid,
                };
                if !crate::client::wait_until_healthy(&target.url, READY_TIMEOUT).await {
                    eprintln!(
                        "suite: {name} is not healthy after {READY_TIMEOUT:?}; running anyway"
                    );
                }
                let outcome = run_mode(mode, &target, opts, runs)
                    .await
                    .with_context(|| format!("{mode:?} against {name} (`{cmd}`)"));
                if let Err(e) = outcome {
                    let tail = server.stderr_tail();
                    server.stop();
                    return Err(e.context(format!("server stderr:\n{tail}")));
                }
                runs.stopped_cleanly.push(server.stop());
            }
        }
    }
    let floor = runs.pop().unwrap_or_default();
    let mut runs = runs.into_iter();
    let chat = runs.next().unwrap_or_default();
    let variants: Vec<VariantRuns> = opts
        .variants
        .iter()
        .cloned()
        .zip(runs)
        .map(|(variant, runs)| VariantRuns { variant, runs })
        .collect();
    let others: Vec<&ServerRuns> = variants.iter().map(|v| &v.runs).collect();
    let rows = table_rows(&chat, &others, &floor);
    Ok(SuiteReport {
        machine: Machine::read(load_start),
        chat,
        variants,
        floor,
        rows,
    })
}

async fn run_mode(
    mode: Mode,
    target: &Target,
    opts: &SuiteOptions,
    runs: &mut ServerRuns,
) -> Result<()> {
    match mode {
        Mode::Rtt => runs.rtt.push(rtt::run(target, &opts.rtt).await?),
        Mode::Fanout => runs.fanout.push(fanout::run(target, &opts.fanout).await?),
        Mode::Idle => runs.idle.push(idle::run(target, &opts.idle).await?),
        Mode::Churn => runs.churn.push(churn::run(target, &opts.churn).await?),
    }
    Ok(())
}

fn med<T>(items: &[T], f: impl Fn(&T) -> Option<f64>) -> Option<f64> {
    let mut values: Vec<f64> = items.iter().filter_map(f).collect();
    (!values.is_empty()).then(|| median(&mut values))
}

/// A metric's median over one server's rounds.
type Pick<'a> = &'a dyn Fn(&ServerRuns) -> Option<f64>;
/// Whether a target is met, from (chat, floor, chat / floor).
type Met<'a> = &'a dyn Fn(Option<f64>, Option<f64>, Option<f64>) -> Option<bool>;

/// The side-by-side rows for whatever modes ran: the chat server, each
/// variant (`variants`, in order) and the floor.
pub fn table_rows(chat: &ServerRuns, variants: &[&ServerRuns], floor: &ServerRuns) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut row = |metric: &str, pick: Pick<'_>, target: &str, met: Met<'_>| {
        let c = pick(chat);
        let f = pick(floor);
        let ratio = match (c, f) {
            (Some(c), Some(f)) if f != 0.0 => Some(c / f),
            _ => None,
        };
        rows.push(Row {
            metric: metric.to_owned(),
            chat: c,
            variants: variants.iter().map(|v| pick(v)).collect(),
            floor: f,
            ratio,
            target: target.to_owned(),
            met: met(c, f, ratio),
        });
    };
    let none = |_: Option<f64>, _: Option<f64>, _: Option<f64>| None;
    let all = || {
        std::iter::once(chat)
            .chain(variants.iter().copied())
            .chain([floor])
    };
    if let Some(first) = all().find_map(|r| r.rtt.first()) {
        let shape = format!("{}×{}", first.connections, first.window);
        row(
            &format!("rtt {shape}: events/s"),
            &|s| med(&s.rtt, |r| Some(r.events_per_sec)),
            "≥ 0.90 × floor",
            &|_, _, ratio| ratio.map(|r| r >= 0.90),
        );
        row(
            &format!("rtt {shape}: server CPU per event, µs"),
            &|s| med(&s.rtt, |r| r.server_cpu_us_per_event),
            "",
            &none,
        );
        for (name, pick) in [
            (
                "p50",
                (|r: &RttReport| r.rtt.p50_us) as fn(&RttReport) -> f64,
            ),
            ("p99", |r: &RttReport| r.rtt.p99_us),
            ("p99.9", |r: &RttReport| r.rtt.p999_us),
        ] {
            row(
                &format!("rtt {shape}: {name} round trip, ms"),
                &|s| med(&s.rtt, |r| Some(pick(r) / 1000.0)),
                "",
                &none,
            );
        }
    }
    if let Some(first) = all().find_map(|r| r.fanout.first()) {
        let members = first.members;
        row(
            &format!("fanout {members}: p50 time to last member, ms"),
            &|s| med(&s.fanout, |r| Some(r.last_member.p50_us / 1000.0)),
            "",
            &none,
        );
        row(
            &format!("fanout {members}: p99 time to last member, ms"),
            &|s| med(&s.fanout, |r| Some(r.last_member.p99_us / 1000.0)),
            "≤ 1.20 × floor",
            &|_, _, ratio| ratio.map(|r| r <= 1.20),
        );
        row(
            &format!("fanout {members}: deliveries/s"),
            &|s| med(&s.fanout, |r| Some(r.deliveries_per_sec)),
            "",
            &none,
        );
        row(
            &format!("fanout {members}: server CPU per delivery, µs"),
            &|s| med(&s.fanout, |r| r.server_cpu_us_per_delivery),
            "",
            &none,
        );
        let observed = all().any(|s| s.fanout.iter().any(|r| r.observed_cpu_seconds.is_some()));
        if observed {
            row(
                &format!("fanout {members}: observed process's CPU per broadcast, µs"),
                &|s| {
                    med(&s.fanout, |r| {
                        r.observed_cpu_seconds
                            .map(|cpu| cpu * 1e6 / r.messages.max(1) as f64)
                    })
                },
                "",
                &none,
            );
        }
        row(
            &format!("fanout {members}: server CPU per broadcast, µs"),
            &|s| {
                med(&s.fanout, |r| {
                    r.server_cpu_seconds
                        .map(|cpu| cpu * 1e6 / r.messages.max(1) as f64)
                })
            },
            "",
            &none,
        );
    }
    if let Some(first) = all().find_map(|r| r.idle.first()) {
        let k = first.connections;
        row(
            &format!("idle {k}: server RSS per connection, KiB"),
            &|s| med(&s.idle, |r| Some(r.bytes_per_connection / 1024.0)),
            "≤ 12 KiB",
            &|c, _, _| c.map(|c| c <= 12.0),
        );
    }
    if let Some(first) = all().find_map(|r| r.churn.first()) {
        let n = first.cycles;
        row(
            &format!("churn {n}: cycles/s"),
            &|s| med(&s.churn, |r| Some(r.cycles_per_sec)),
            "",
            &none,
        );
        row(
            &format!("churn {n}: server CPU per cycle, µs"),
            &|s| med(&s.churn, |r| r.server_cpu_us_per_cycle),
            "",
            &none,
        );
        row(
            &format!("churn {n}: joins not undone"),
            &|s| med(&s.churn, |r| Some(r.leftover_members as f64)),
            "0",
            &|c, _, _| c.map(|c| c == 0.0),
        );
        row(
            &format!("churn {n}: open connections + rooms after (/socket-health)"),
            &|s| {
                med(&s.churn, |r| {
                    Some((r.health_connections_after? + r.health_rooms_after?) as f64)
                })
            },
            "0",
            &|c, _, _| c.map(|c| c == 0.0),
        );
        row(
            &format!("churn {n}: RSS growth over the second half, KiB"),
            &|s| med(&s.churn, |r| r.rss_growth_second_half_kib.map(|g| g as f64)),
            "≤ 1024 (noise)",
            &|c, _, _| c.map(|c| c <= 1024.0),
        );
    }
    rows
}

fn number(value: Option<f64>) -> String {
    let Some(v) = value else {
        return "n/a".to_owned();
    };
    if v.abs() >= 1000.0 {
        let whole = v.round() as i64;
        let digits = whole.unsigned_abs().to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        if whole < 0 {
            out.insert(0, '-');
        }
        out
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// Renders the rows as a Markdown table; `variants` names the variants'
/// columns (each followed by its ratio to the plain chat server).
pub fn render_table(rows: &[Row], variants: &[&str]) -> String {
    let mut out = String::from("| metric | socketspec chat |");
    for name in variants {
        let _ = write!(out, " {name} | {name} / chat |");
    }
    out.push_str(" raw floor | chat / floor | target | met |\n|---|---:|");
    out.push_str(&"---:|---:|".repeat(variants.len()));
    out.push_str("---:|---:|---|---|\n");
    let ratio = |r: Option<f64>| r.map_or_else(|| "n/a".to_owned(), |r| format!("{r:.2}"));
    for row in rows {
        let met = match row.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "",
        };
        let _ = write!(out, "| {} | {} |", row.metric, number(row.chat));
        for value in row.variants.iter().take(variants.len()) {
            let to_chat = match (*value, row.chat) {
                (Some(v), Some(c)) if c != 0.0 => Some(v / c),
                _ => None,
            };
            let _ = write!(out, " {} | {} |", number(*value), ratio(to_chat));
        }
        let _ = writeln!(
            out,
            " {} | {} | {} | {} |",
            number(row.floor),
            ratio(row.ratio),
            row.target,
            met
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers() {
        assert_eq!(number(Some(261_234.4)), "261,234");
        assert_eq!(number(Some(-2048.0)), "-2,048");
        assert_eq!(number(Some(1.234)), "1.23");
        assert_eq!(number(Some(0.0)), "0");
        assert_eq!(number(None), "n/a");
    }

    #[test]
    fn variants_add_the_chat_command_s_flags() {
        let v = Variant::parse("resume=--resume-window 30", "chat --bind x").ok();
        assert_eq!(
            v,
            Some(Variant {
                name: "resume".to_owned(),
                cmd: "chat --bind x --resume-window 30".to_owned(),
            })
        );
        assert_eq!(
            Variant::parse("again=", "chat --bind x")
                .ok()
                .map(|v| v.cmd),
            Some("chat --bind x".to_owned())
        );
        assert_eq!(
            Variant::parse_cmd("old=/tmp/old --bind x")
                .ok()
                .map(|v| v.cmd),
            Some("/tmp/old --bind x".to_owned())
        );
        assert!(Variant::parse_cmd("old=").is_err());
        assert!(Variant::parse("no flags", "chat").is_err());
        assert!(Variant::parse("=--x", "chat").is_err());
    }

    #[test]
    fn the_order_rotates_each_round() {
        let two: Vec<Vec<usize>> = (0..2).map(|r| order(2, r).collect()).collect();
        assert_eq!(two, [[0, 1], [1, 0]]);
        let three: Vec<Vec<usize>> = (0..3).map(|r| order(3, r).collect()).collect();
        assert_eq!(three, [[0, 1, 2], [1, 2, 0], [2, 0, 1]]);
    }

    #[test]
    fn the_table_has_a_column_pair_per_variant() {
        let rows = [Row {
            metric: "m".to_owned(),
            chat: Some(2.0),
            variants: vec![Some(1.0)],
            floor: Some(4.0),
            ratio: Some(0.5),
            target: String::new(),
            met: None,
        }];
        let table = render_table(&rows, &["on"]);
        assert!(table.starts_with("| metric | socketspec chat | on | on / chat | raw floor |"));
        assert!(
            table.contains("| m | 2 | 1 | 0.50 | 4 | 0.50 |  |  |"),
            "{table}"
        );
    }
}
