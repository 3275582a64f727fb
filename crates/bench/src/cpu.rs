//! CPU time spent per operation, split between the server process, the
//! database's own processes (PostgreSQL backends; SQLite runs inside the
//! server) and this program (the client), from `/proc`.

use std::time::Duration;

/// Clock ticks per second of `/proc/*/stat` times (USER_HZ: 100 on Linux).
const TICKS: f64 = 100.0;

/// utime + stime of a process, in ticks.
fn ticks_of(stat: &str) -> Option<u64> {
    // The command name is in parentheses and may hold spaces: fields are
    // counted after its closing one (utime and stime are fields 14 and 15).
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// cutime + cstime of a process (its children waited for), in ticks.
fn children_ticks_of(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(13)?.parse::<u64>().ok()? + f.get(14)?.parse::<u64>().ok()?)
}

/// CPU seconds of this program's children that have ended and been waited
/// for (a `leadteam import` it ran, say).
pub fn children_secs() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| children_ticks_of(&s))
        .unwrap_or(0) as f64
        / TICKS
}

fn ticks_pid(pid: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| ticks_of(&s))
        .unwrap_or(0)
}

/// Bytes written and write calls of a process (`wchar`, `syscw` of
/// `/proc/PID/io`: every `write`/`pwrite`, to the page cache or not).
fn io_pid(pid: &str) -> (u64, u64) {
    let Ok(io) = std::fs::read_to_string(format!("/proc/{pid}/io")) else {
        return (0, 0);
    };
    let field = |name: &str| {
        io.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    (field("wchar:"), field("syscw:"))
}

/// The pids of every `postgres` process on the machine.
fn postgres_pids() -> Vec<String> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| {
            let pid = e.file_name().to_string_lossy().into_owned();
            pid.chars().all(|c| c.is_ascii_digit()).then_some(pid)
        })
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "postgres")
        })
        .collect()
}

/// What [`Cpu::per_op`] calls the database's share on each engine.
pub fn database(postgres: bool) -> &'static str {
    if postgres {
        "PostgreSQL"
    } else {
        "database (inside the server)"
    }
}

/// A reading of the three, with what the database wrote: the server's
/// writes on SQLite (its log frames and checkpoints), PostgreSQL's
/// processes' writes on PostgreSQL (bytes, calls).
#[derive(Debug, Clone, Copy)]
pub struct Cpu {
    server: u64,
    database: u64,
    client: u64,
    writes: (u64, u64),
}

impl Cpu {
    pub fn now(server_pid: u32, postgres: bool) -> Cpu {
        let server = server_pid.to_string();
        let (database, writes) = if postgres {
            postgres_pids()
                .iter()
                .fold((0, (0, 0)), |(t, (b, n)), pid| {
                    let (b1, n1) = io_pid(pid);
                    (t + ticks_pid(pid), (b + b1, n + n1))
                })
        } else {
            (0, io_pid(&server))
        };
        Cpu {
            server: ticks_pid(&server),
            database,
            client: ticks_pid("self"),
            writes,
        }
    }

    /// What the database wrote from `since` to `self`, per operation: "N
    /// KiB in M write calls" (a count, unlike a rate, the same in a fast
    /// hour and a slow one).
    pub fn writes_per_op(self, since: Cpu, ops: u64) -> String {
        let ops = ops.max(1) as f64;
        let bytes = self.writes.0.saturating_sub(since.writes.0) as f64;
        let calls = self.writes.1.saturating_sub(since.writes.1) as f64;
        format!(
            "{:.1} KiB in {:.1} write calls",
            bytes / 1024.0 / ops,
            calls / ops
        )
    }

    /// `since`..`self` per operation, as "server X ms, database Y ms,
    /// client Z ms".
    pub fn per_op(self, since: Cpu, ops: u64, database: &str) -> String {
        let per = |a: u64, b: u64| {
            Duration::from_secs_f64(a.saturating_sub(b) as f64 / TICKS / ops.max(1) as f64)
                .as_secs_f64()
                * 1000.0
        };
        let s = per(self.server, since.server);
        let d = per(self.database, since.database);
        let c = per(self.client, since.client);
        format!(
            "server {s:.3} ms, {database} {d:.3} ms, client {c:.3} ms (total {:.3} ms)",
            s + d + c
        )
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ticks_are_read_after_the_command_name() {
        let stat = "42 (my (odd) name) S 1 2 3 4 5 6 7 8 9 10 150 25 0 0";
        assert_eq!(super::ticks_of(stat), Some(175));
    }
}
