//! The one way pages write a time and a date. (Times are UTC until the
//! viewer's time zone comes: X6.)

use leadteam_domain::Timestamp;

fn utc(t: Timestamp) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(t.0) * 1_000_000).ok()
}

/// A time as people read it: "12 Mar 2026, 14:05 UTC".
pub(crate) fn when(t: Timestamp) -> String {
    let f = time::macros::format_description!(
        "[day padding:none] [month repr:short] [year], [hour]:[minute] UTC"
    );
    utc(t).and_then(|d| d.format(&f).ok()).unwrap_or_default()
}

/// A date: "14 Mar 2025".
pub(crate) fn day(t: Timestamp) -> String {
    let f = time::macros::format_description!("[day padding:none] [month repr:short] [year]");
    utc(t).and_then(|d| d.format(&f).ok()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_format_for_times_and_one_for_dates() {
        assert_eq!(when(Timestamp(0)), "1 Jan 1970, 00:00 UTC");
        assert_eq!(day(Timestamp(86_400_000 * 31)), "1 Feb 1970");
    }
}
