//! The machine the tests run on: this process's open-file limit and the
//! server process's resident memory.

/// The resident memory of process `pid` in KiB (`VmRSS` in
/// `/proc/PID/status`).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Raises this process's open-file limit to at least `want` (up to the
/// hard limit); returns the soft limit in force afterwards.
pub fn raise_nofile_limit(want: u64) -> u64 {
    rlimit::increase_nofile_limit(want).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_processs_memory_and_file_limit() {
        let rss = rss_kib(std::process::id());
        assert!(rss.is_some_and(|kib| kib > 0), "{rss:?}");
        assert_eq!(rss_kib(u32::MAX), None);
        assert!(raise_nofile_limit(64) >= 64);
    }
}
