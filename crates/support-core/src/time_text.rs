//! Timestamps written as jiff writes them, without jiff's general printer
//! for the common case of a whole second in years 0000-9999.
//!
//! A ticket's results and reasons hold half a dozen due times; jiff's
//! `Display` took about 400 instructions for each, this takes a tenth.

use std::fmt;

use jiff::tz::Offset;
use jiff::Timestamp;
use serde::Serializer;

/// A timestamp shown exactly as jiff's `Display` shows it (RFC 3339 in UTC,
/// `2026-11-25T09:00:00Z`): `text!("due {}", Rfc3339(due))`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rfc3339(pub Timestamp);

impl Rfc3339 {
    /// The text of a whole second in years 0000-9999; `None` for any other
    /// timestamp, which jiff writes with a fraction or a signed year.
    fn whole_second(self) -> Option<[u8; 20]> {
        if self.0.subsec_nanosecond() != 0 {
            return None;
        }
        let at = Offset::UTC.to_datetime(self.0);
        let year = u16::try_from(at.year()).ok().filter(|&y| y <= 9999)?;
        let mut text = *b"0000-00-00T00:00:00Z";
        let mut put = |at: usize, value: u16, digits: usize| {
            let mut value = value;
            for place in (at..at + digits).rev() {
                text[place] = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        put(0, year, 4);
        put(5, at.month() as u16, 2);
        put(8, at.day() as u16, 2);
        put(11, at.hour() as u16, 2);
        put(14, at.minute() as u16, 2);
        put(17, at.second() as u16, 2);
        Some(text)
    }
}

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.whole_second() {
            Some(text) if f.width().is_none() && f.precision().is_none() => {
                f.write_str(std::str::from_utf8(&text).expect("ASCII digits"))
            }
            _ => fmt::Display::fmt(&self.0, f),
        }
    }
}

/// Serializes a timestamp as jiff does, through [`Rfc3339`]; for a field's
/// `#[serde(serialize_with = "...")]`.
pub fn serialize<S: Serializer>(at: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&Rfc3339(*at))
}

/// [`serialize`] for an optional timestamp.
pub fn serialize_option<S: Serializer>(
    at: &Option<Timestamp>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => serialize(at, serializer),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_show_as_jiff_shows_them() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut seconds = std::iter::repeat_with(move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        });
        let (min, max) = (Timestamp::MIN.as_second(), Timestamp::MAX.as_second());
        let span = (max - min) as u64;
        for _ in 0..200_000 {
            let second = min + (seconds.next().unwrap() % span) as i64;
            // Around now, whole seconds and not, and anywhere jiff reaches.
            let near = 1_700_000_000 + (second % 400_000_000);
            for (second, nanos) in [(near, 0), (near, 500_000_000), (second, 0), (second, 7)] {
                let at = Timestamp::new(second, nanos).unwrap();
                assert_eq!(Rfc3339(at).to_string(), at.to_string(), "{second} {nanos}");
                assert_eq!(format!("{:>30}", Rfc3339(at)), format!("{at:>30}"));
            }
        }
        for at in [Timestamp::MIN, Timestamp::MAX, Timestamp::UNIX_EPOCH] {
            assert_eq!(Rfc3339(at).to_string(), at.to_string());
        }
        let year_zero = "0000-01-01T00:00:00Z".parse::<Timestamp>().unwrap();
        let last_whole_year = "9999-12-30T21:59:59Z".parse::<Timestamp>().unwrap();
        for at in [
            year_zero,
            last_whole_year,
            year_zero - jiff::SignedDuration::from_secs(1),
        ] {
            assert_eq!(Rfc3339(at).to_string(), at.to_string());
        }
    }

    #[test]
    fn serialized_timestamps_are_what_jiff_serializes() {
        #[derive(serde::Serialize)]
        struct Due {
            #[serde(serialize_with = "serialize")]
            at: Timestamp,
            #[serde(serialize_with = "serialize_option")]
            maybe: Option<Timestamp>,
            #[serde(serialize_with = "serialize_option")]
            none: Option<Timestamp>,
        }
        #[derive(serde::Serialize)]
        struct ByJiff {
            at: Timestamp,
            maybe: Option<Timestamp>,
            none: Option<Timestamp>,
        }
        let at: Timestamp = "2026-11-25T09:00:00Z".parse().unwrap();
        let maybe = Some(at + jiff::SignedDuration::from_millis(1500));
        let ours = serde_json::to_string(&Due {
            at,
            maybe,
            none: None,
        })
        .unwrap();
        let jiffs = serde_json::to_string(&ByJiff {
            at,
            maybe,
            none: None,
        })
        .unwrap();
        assert_eq!(ours, jiffs);
        let mut written = Vec::new();
        crate::json_out::write(
            &Due {
                at,
                maybe,
                none: None,
            },
            &mut written,
        )
        .unwrap();
        assert_eq!(String::from_utf8(written).unwrap(), jiffs);
    }
}
