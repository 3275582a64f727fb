//! The one way pages write a time and a date: in the viewer's time zone
//! (X6: its own, else its account's), with one format.

use leadteam_domain::Timestamp;

fn zoned(t: Timestamp, zone: &str) -> Option<jiff::Zoned> {
    let tz = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
    Some(jiff::Timestamp::from_millisecond(t.0).ok()?.to_zoned(tz))
}

/// A time as people read it: "12 Mar 2026, 14:05 UTC", in `zone` (an IANA
/// name; the abbreviation of the zone ends it: "IST", "CET").
pub(crate) fn when(t: Timestamp, zone: &str) -> String {
    zoned(t, zone)
        .map(|z| z.strftime("%-d %b %Y, %H:%M %Z").to_string())
        .unwrap_or_default()
}

/// A date: "14 Mar 2025", in `zone`.
pub(crate) fn day(t: Timestamp, zone: &str) -> String {
    zoned(t, zone)
        .map(|z| z.strftime("%-d %b %Y").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x6_one_format_for_times_and_dates_in_the_viewers_zone() {
        assert_eq!(when(Timestamp(0), "UTC"), "1 Jan 1970, 00:00 UTC");
        assert_eq!(day(Timestamp(86_400_000 * 31), "UTC"), "1 Feb 1970");
        // 8 Dec 2026 10:00 UTC is 15:30 in Kolkata and 11:00 in Paris.
        let t = Timestamp(1_796_724_000_000);
        assert_eq!(when(t, "Asia/Kolkata"), "8 Dec 2026, 15:30 IST");
        assert_eq!(when(t, "Europe/Paris"), "8 Dec 2026, 11:00 CET");
        // An unknown zone reads as UTC rather than failing the page.
        assert_eq!(when(t, "Mars/Olympus"), "8 Dec 2026, 10:00 UTC");
    }
}
