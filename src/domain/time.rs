//! Shanghai time. China has used a fixed UTC+8 without daylight saving since 1991, so a fixed offset is
//! exact and needs no time-zone database.

use chrono::{DateTime, FixedOffset, NaiveDateTime, Offset, TimeZone, Utc};

pub fn shanghai() -> FixedOffset {
    // 8 hours is always a valid offset.
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| Utc.fix())
}

pub fn to_shanghai(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    t.with_timezone(&shanghai())
}

/// The last second of a day typed as `YYYY-MM-DD`, Shanghai time (a window "until 12月9日" includes
/// that whole day).
pub fn end_of_shanghai_day(day: &str) -> Option<DateTime<Utc>> {
    let d = chrono::NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d").ok()?;
    from_shanghai_local(d.and_hms_opt(23, 59, 59)?)
}

/// The first moment of a day typed as `YYYY-MM-DD`, Shanghai time.
pub fn start_of_shanghai_day(day: &str) -> Option<DateTime<Utc>> {
    let d = chrono::NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d").ok()?;
    from_shanghai_local(d.and_hms_opt(0, 0, 0)?)
}

/// Interprets a wall-clock time typed by an official as Shanghai time.
pub fn from_shanghai_local(t: NaiveDateTime) -> Option<DateTime<Utc>> {
    shanghai()
        .from_local_datetime(&t)
        .single()
        .map(|t| t.with_timezone(&Utc))
}
