//! How big a run is: the book, the races, how long each load is measured.

use crate::Cli;
use std::time::Duration;

pub(crate) struct Sizes {
    pub(crate) book: usize,
    pub(crate) batch: usize,
    pub(crate) races: usize,
    pub(crate) warmup: Duration,
    pub(crate) measure: Duration,
    pub(crate) list_checks: usize,
}

impl Sizes {
    pub(crate) fn of(cli: &Cli) -> Sizes {
        let (book, races, secs, warm, checks) = if cli.quick {
            (20_000, 20, 1.5, 0.3, 10)
        } else {
            (1_000_000, 1_000, 10.0, 1.0, 40)
        };
        // The claim races claim fresh clients of their own: a book only
        // makes the run wait for its seeding (88 s for 1,000,000 clients on
        // PostgreSQL), so `--claims-only` seeds a small one unless told.
        let book = if cli.claims_only && !cli.quick {
            10_000
        } else {
            book
        };
        Sizes {
            book: cli.book.unwrap_or(book),
            batch: 2_000,
            races,
            warmup: Duration::from_secs_f64(warm),
            measure: Duration::from_secs_f64(cli.seconds.unwrap_or(secs)),
            list_checks: checks,
        }
    }
}
