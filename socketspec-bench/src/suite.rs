//! `suite`: every mode against the chat server and the raw floor,
//! alternately, with the same parameters in one run; a side-by-side table
//! with ratios and the targets.
//!
//! Each (mode, server) run gets a freshly started server, so memory figures
//! and rooms start clean. With several rounds the order alternates (chat
//! first, then floor first) and the table shows each figure's median.

use std::fmt::Write as _;

use anyhow::{Context, Result};
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

/// Everything a suite run needs.
#[derive(Debug, Clone)]
pub struct SuiteOptions {
    /// The chat server's command line (must bind port 0 or a free port).
    pub chat_cmd: String,
    /// The raw floor's command line.
    pub floor_cmd: String,
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

/// One line of the side-by-side table.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// What is measured, with its unit.
    pub metric: String,
    /// The chat server's figure (median over rounds).
    pub chat: Option<f64>,
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
    /// The floor's reports.
    pub floor: ServerRuns,
    /// The table.
    pub rows: Vec<Row>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Which {
    Chat,
    Floor,
}

/// Runs the suite, printing progress to stderr.
pub async fn run(opts: &SuiteOptions) -> Result<SuiteReport> {
    let load_start = loadavg();
    let mut chat = ServerRuns::default();
    let mut floor = ServerRuns::default();
    for round in 0..opts.rounds.max(1) {
        for &mode in &opts.modes {
            let order = if round % 2 == 0 {
                [Which::Chat, Which::Floor]
            } else {
                [Which::Floor, Which::Chat]
            };
            for which in order {
                let (cmd, runs, name) = match which {
                    Which::Chat => (&opts.chat_cmd, &mut chat, "chat"),
                    Which::Floor => (&opts.floor_cmd, &mut floor, "floor"),
                };
                eprintln!(
                    "suite: round {} {mode:?} on {name} (load average {}) …",
                    round + 1,
                    loadavg()
                );
                let server = ServerProcess::start(cmd)?;
                let target = Target {
                    url: server.url().to_owned(),
                    pid: Some(server.pid()),
                };
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
    let rows = table_rows(&chat, &floor);
    Ok(SuiteReport {
        machine: Machine::read(load_start),
        chat,
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

/// The side-by-side rows for whatever modes ran.
pub fn table_rows(chat: &ServerRuns, floor: &ServerRuns) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut row =
        |metric: &str,
         c: Option<f64>,
         f: Option<f64>,
         target: &str,
         met: &dyn Fn(Option<f64>, Option<f64>, Option<f64>) -> Option<bool>| {
            let ratio = match (c, f) {
                (Some(c), Some(f)) if f != 0.0 => Some(c / f),
                _ => None,
            };
            rows.push(Row {
                metric: metric.to_owned(),
                chat: c,
                floor: f,
                ratio,
                target: target.to_owned(),
                met: met(c, f, ratio),
            });
        };
    let none = |_: Option<f64>, _: Option<f64>, _: Option<f64>| None;
    if !chat.rtt.is_empty() || !floor.rtt.is_empty() {
        let shape = chat
            .rtt
            .first()
            .or(floor.rtt.first())
            .map(|r| format!("{}×{}", r.connections, r.window))
            .unwrap_or_default();
        row(
            &format!("rtt {shape}: events/s"),
            med(&chat.rtt, |r| Some(r.events_per_sec)),
            med(&floor.rtt, |r| Some(r.events_per_sec)),
            "≥ 0.90 × floor",
            &|_, _, ratio| ratio.map(|r| r >= 0.90),
        );
        row(
            &format!("rtt {shape}: server CPU per event, µs"),
            med(&chat.rtt, |r| r.server_cpu_us_per_event),
            med(&floor.rtt, |r| r.server_cpu_us_per_event),
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
                med(&chat.rtt, |r| Some(pick(r) / 1000.0)),
                med(&floor.rtt, |r| Some(pick(r) / 1000.0)),
                "",
                &none,
            );
        }
    }
    if !chat.fanout.is_empty() || !floor.fanout.is_empty() {
        let members = chat
            .fanout
            .first()
            .or(floor.fanout.first())
            .map_or(0, |r| r.members);
        row(
            &format!("fanout {members}: p50 time to last member, ms"),
            med(&chat.fanout, |r| Some(r.last_member.p50_us / 1000.0)),
            med(&floor.fanout, |r| Some(r.last_member.p50_us / 1000.0)),
            "",
            &none,
        );
        row(
            &format!("fanout {members}: p99 time to last member, ms"),
            med(&chat.fanout, |r| Some(r.last_member.p99_us / 1000.0)),
            med(&floor.fanout, |r| Some(r.last_member.p99_us / 1000.0)),
            "≤ 1.20 × floor",
            &|_, _, ratio| ratio.map(|r| r <= 1.20),
        );
        row(
            &format!("fanout {members}: deliveries/s"),
            med(&chat.fanout, |r| Some(r.deliveries_per_sec)),
            med(&floor.fanout, |r| Some(r.deliveries_per_sec)),
            "",
            &none,
        );
        row(
            &format!("fanout {members}: server CPU per delivery, µs"),
            med(&chat.fanout, |r| r.server_cpu_us_per_delivery),
            med(&floor.fanout, |r| r.server_cpu_us_per_delivery),
            "",
            &none,
        );
    }
    if !chat.idle.is_empty() || !floor.idle.is_empty() {
        let k = chat
            .idle
            .first()
            .or(floor.idle.first())
            .map_or(0, |r| r.connections);
        row(
            &format!("idle {k}: server RSS per connection, KiB"),
            med(&chat.idle, |r| Some(r.bytes_per_connection / 1024.0)),
            med(&floor.idle, |r| Some(r.bytes_per_connection / 1024.0)),
            "≤ 12 KiB",
            &|c, _, _| c.map(|c| c <= 12.0),
        );
    }
    if !chat.churn.is_empty() || !floor.churn.is_empty() {
        let n = chat
            .churn
            .first()
            .or(floor.churn.first())
            .map_or(0, |r| r.cycles);
        row(
            &format!("churn {n}: cycles/s"),
            med(&chat.churn, |r| Some(r.cycles_per_sec)),
            med(&floor.churn, |r| Some(r.cycles_per_sec)),
            "",
            &none,
        );
        row(
            &format!("churn {n}: server CPU per cycle, µs"),
            med(&chat.churn, |r| r.server_cpu_us_per_cycle),
            med(&floor.churn, |r| r.server_cpu_us_per_cycle),
            "",
            &none,
        );
        row(
            &format!("churn {n}: joins not undone"),
            med(&chat.churn, |r| Some(r.leftover_members as f64)),
            med(&floor.churn, |r| Some(r.leftover_members as f64)),
            "0",
            &|c, _, _| c.map(|c| c == 0.0),
        );
        row(
            &format!("churn {n}: open connections + rooms after (/socket-health)"),
            med(&chat.churn, |r| {
                Some((r.health_connections_after? + r.health_rooms_after?) as f64)
            }),
            med(&floor.churn, |r| {
                Some((r.health_connections_after? + r.health_rooms_after?) as f64)
            }),
            "0",
            &|c, _, _| c.map(|c| c == 0.0),
        );
        row(
            &format!("churn {n}: RSS growth over the second half, KiB"),
            med(&chat.churn, |r| {
                r.rss_growth_second_half_kib.map(|g| g as f64)
            }),
            med(&floor.churn, |r| {
                r.rss_growth_second_half_kib.map(|g| g as f64)
            }),
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

/// Renders the rows as a Markdown table.
pub fn render_table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| metric | socketspec chat | raw floor | chat / floor | target | met |\n|---|---:|---:|---:|---|---|\n",
    );
    for row in rows {
        let ratio = row
            .ratio
            .map_or_else(|| "n/a".to_owned(), |r| format!("{r:.2}"));
        let met = match row.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "",
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            row.metric,
            number(row.chat),
            number(row.floor),
            ratio,
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
}
