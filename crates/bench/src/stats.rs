//! Load generation and latency summaries.

use crate::Res;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One operation of a load: `op(worker, n)` does the `n`th operation of
/// `worker` and fails when the answer is not the expected one.
pub type OpFuture = Pin<Box<dyn Future<Output = Res<()>> + Send>>;
pub type Op = Arc<dyn Fn(usize, u64) -> OpFuture + Send + Sync>;

/// What a load measured.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// Operations completed inside the measured window.
    pub ops: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub elapsed: Duration,
    /// Latencies of the successful operations of the window, sorted.
    pub lat: Vec<Duration>,
}

impl Sample {
    pub fn rate(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 { self.ops as f64 / s } else { 0.0 }
    }

    /// The `p`th percentile (0..=100) latency.
    pub fn pct(&self, p: f64) -> Duration {
        if self.lat.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * (self.lat.len() as f64)).ceil() as usize;
        self.lat[rank.clamp(1, self.lat.len()) - 1]
    }

    pub fn from_parts(parts: Vec<Part>, elapsed: Duration) -> Sample {
        let mut s = Sample {
            elapsed,
            ..Sample::default()
        };
        for p in parts {
            s.ops += p.ops;
            s.errors += p.errors;
            if s.first_error.is_none() {
                s.first_error = p.first_error;
            }
            s.lat.extend(p.lat);
        }
        s.lat.sort_unstable();
        s
    }

    /// Refuses a sample with failed operations (a benchmark of errors is no
    /// benchmark).
    pub fn ensure_clean(&self, what: &str) -> Res<()> {
        if self.errors > 0 {
            return Err(format!(
                "{what}: {} of {} operations failed; first: {}",
                self.errors,
                self.ops + self.errors,
                self.first_error.as_deref().unwrap_or("?")
            )
            .into());
        }
        if self.ops == 0 {
            return Err(format!("{what}: no operation completed").into());
        }
        Ok(())
    }
}

/// One worker's share of a sample.
#[derive(Debug, Default)]
pub struct Part {
    pub ops: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub lat: Vec<Duration>,
}

impl Part {
    pub fn record(&mut self, r: Res<()>, took: Duration) {
        match r {
            Ok(()) => {
                self.ops += 1;
                self.lat.push(took);
            }
            Err(e) => {
                self.errors += 1;
                if self.first_error.is_none() {
                    self.first_error = Some(e.to_string());
                }
            }
        }
    }
}

/// Runs `op` from `concurrency` workers, each one operation after another,
/// for `warmup` (not counted) then `measure`.
pub async fn run_load(
    concurrency: usize,
    warmup: Duration,
    measure: Duration,
    op: Op,
) -> Res<Sample> {
    let start = Instant::now();
    let from = start + warmup;
    let until = from + measure;
    let mut handles = Vec::new();
    for w in 0..concurrency {
        let op = op.clone();
        handles.push(tokio::spawn(async move {
            let mut part = Part::default();
            let mut n = 0u64;
            loop {
                let t0 = Instant::now();
                if t0 >= until {
                    break;
                }
                n += 1;
                let r = op(w, n).await;
                let t1 = Instant::now();
                if t1 >= from && t1 < until {
                    part.record(r, t1 - t0);
                } else if let Err(e) = r {
                    // Errors outside the window still count: they are errors.
                    part.record(Err(e), t1 - t0);
                }
            }
            part
        }));
    }
    let mut parts = Vec::new();
    for h in handles {
        parts.push(h.await?);
    }
    Ok(Sample::from_parts(parts, measure))
}

/// A duration in milliseconds with two decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// A small deterministic generator (SplitMix64): the same seed gives the
/// same book of clients and the same cursors on every run.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..hi` (hi > lo).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = (hi - lo).max(1) as u64;
        lo + (self.next_u64() % span) as i64
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let s = Sample::from_parts(
            vec![Part {
                ops: 100,
                lat: (1..=100).rev().map(Duration::from_millis).collect(),
                ..Part::default()
            }],
            Duration::from_secs(1),
        );
        assert_eq!(s.pct(50.0), Duration::from_millis(50));
        assert_eq!(s.pct(99.0), Duration::from_millis(99));
        assert_eq!(s.pct(100.0), Duration::from_millis(100));
        assert!((s.rate() - 100.0).abs() < 1e-9);
    }

    #[test]
    fn the_generator_is_deterministic_and_in_range() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        for _ in 0..1000 {
            let x = a.range(10, 20);
            assert_eq!(x, b.range(10, 20));
            assert!((10..20).contains(&x));
        }
    }
}
