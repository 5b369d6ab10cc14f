//! The agents file: who can take tickets, in which languages, how loaded, and when.
//!
//! YAML (or JSON when the file name ends in `.json`), one object with an
//! `agents` list:
//!
//! ```yaml
//! agents:
//!   - id: lucia                  # unique
//!     name: Lucía Martín
//!     skills: [billing, refund]  # topics the agent handles (tag, category or queue names)
//!     languages: [es, en]
//!     capacity: 8                # tickets the agent can hold at once
//!     load: 3                    # tickets the agent holds now
//!     satisfaction: 4.6          # optional: average customer rating, 1 to 5
//!     queues: [billing]          # optional: queues served; without it, queues whose skills the agent has
//!     hours:
//!       time_zone: Europe/Madrid # IANA name; hours are local to it
//!       shifts:
//!         - {days: mon-fri, start: "09:00", end: "14:00"}
//!         - {days: [mon, tue, wed, thu], start: "16:00", end: "19:00"}
//! ```
//!
//! `days` is a day (`mon` ... `sun`, or the full English name), a range
//! (`mon-fri`), or a list of either. A shift whose `end` is not after its
//! `start` runs past midnight into the next day (`22:00` to `06:00`); `24:00`
//! is accepted as an end.

use std::collections::HashSet;
use std::path::Path;

use anyhow::{bail, Context as _};
use jiff::civil::{DateTime, Weekday};
use jiff::tz::{TimeZone, TimeZoneDatabase};
use jiff::Timestamp;
use serde::Deserialize;

/// The agents that can be recommended, as read from an agents file.
#[derive(Debug, Clone)]
pub struct Roster {
    /// Where the agents came from, for error messages.
    pub origin: String,
    pub agents: Vec<Agent>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct AgentsFile {
    agents: Vec<Agent>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agent {
    pub id: String,
    pub name: String,
    /// Lower-cased when loaded.
    pub skills: Vec<String>,
    /// Language codes, normalized when loaded (`es-ES` → `es`).
    pub languages: Vec<String>,
    pub capacity: u32,
    pub load: u32,
    #[serde(default)]
    pub satisfaction: Option<Satisfaction>,
    /// Queues served; empty: the queues whose skills the agent has.
    #[serde(default)]
    pub queues: Vec<String>,
    pub hours: WorkingHours,
}

/// An average customer rating in [1, 5].
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(try_from = "f64")]
pub struct Satisfaction(f64);

impl Satisfaction {
    pub fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for Satisfaction {
    type Error = String;

    fn try_from(x: f64) -> Result<Self, String> {
        if (1.0..=5.0).contains(&x) {
            Ok(Satisfaction(x))
        } else {
            Err(format!("satisfaction {x} is not between 1 and 5"))
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkingHours {
    pub time_zone: Zone,
    pub shifts: Vec<Shift>,
}

/// An IANA time zone, checked when the file is read.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct Zone {
    pub name: String,
    pub tz: TimeZone,
}

impl TryFrom<String> for Zone {
    type Error = String;

    fn try_from(name: String) -> Result<Self, String> {
        // The bundled database, not the system one: reading /usr/share/zoneinfo
        // costs a sixth of a short run's start, and the same file then gives
        // the same shifts on every machine.
        match TimeZoneDatabase::bundled().get(&name) {
            Ok(tz) => Ok(Zone { name, tz }),
            Err(e) => Err(format!(
                "unknown time zone `{name}` (give an IANA name such as Europe/Madrid): {e}"
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shift {
    pub days: Days,
    pub start: ClockTime,
    pub end: ClockTime,
}

/// A set of weekdays (bit `i` is Monday + i).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "DaysSpec")]
pub struct Days(u8);

#[derive(Deserialize)]
#[serde(untagged)]
enum DaysSpec {
    One(String),
    Many(Vec<String>),
}

impl Days {
    pub fn contains(self, day: Weekday) -> bool {
        self.0 & (1 << day.to_monday_zero_offset()) != 0
    }
}

impl TryFrom<DaysSpec> for Days {
    type Error = String;

    fn try_from(spec: DaysSpec) -> Result<Self, String> {
        let entries = match spec {
            DaysSpec::One(entry) => vec![entry],
            DaysSpec::Many(entries) => entries,
        };
        let mut bits = 0u8;
        for entry in &entries {
            let (first, last) = match entry.split_once('-') {
                Some((a, b)) => (parse_day(a)?, parse_day(b)?),
                None => {
                    let day = parse_day(entry)?;
                    (day, day)
                }
            };
            let mut day = first;
            loop {
                bits |= 1 << day;
                if day == last {
                    break;
                }
                day = (day + 1) % 7;
            }
        }
        if bits == 0 {
            return Err("no days given".to_string());
        }
        Ok(Days(bits))
    }
}

/// Monday-zero offset of a day name.
fn parse_day(name: &str) -> Result<u8, String> {
    const DAYS: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    let name = name.trim().to_lowercase();
    DAYS.iter()
        .position(|d| name.len() >= 3 && d.starts_with(name.as_str()))
        .map(|i| i as u8)
        .ok_or_else(|| {
            format!("unknown day `{name}` (use mon, tue, ... sun, or a range such as mon-fri)")
        })
}

/// A time of day as minutes since midnight, written `HH:MM` (`24:00` allowed as an end).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
pub struct ClockTime(u16);

const MINUTES_PER_DAY: u16 = 24 * 60;

impl TryFrom<String> for ClockTime {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        let parsed = text.split_once(':').and_then(|(h, m)| {
            let (h, m) = (number(h, 1..=2)?, number(m, 2..=2)?);
            (m < 60 && h * 60 + m <= MINUTES_PER_DAY).then_some(h * 60 + m)
        });
        parsed
            .map(ClockTime)
            .ok_or_else(|| format!("`{text}` is not a time of day HH:MM between 00:00 and 24:00"))
    }
}

/// A number of `digits` decimal digits, without sign or spaces.
fn number(text: &str, digits: std::ops::RangeInclusive<usize>) -> Option<u16> {
    if digits.contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse().ok()
    } else {
        None
    }
}

impl std::fmt::Display for ClockTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl Shift {
    /// Whether the shift covers `minute` of local `day`. A shift that runs
    /// past midnight belongs to the day it starts on.
    pub fn covers(&self, day: Weekday, minute: u16) -> bool {
        let (start, end) = (self.start.0, self.end.0);
        if start < end {
            self.days.contains(day) && (start..end).contains(&minute)
        } else {
            (self.days.contains(day) && minute >= start)
                || (self.days.contains(day.previous()) && minute < end)
        }
    }
}

impl WorkingHours {
    /// The agent's local time at `now`, and the index of the shift covering it if any.
    pub fn shift_at(&self, now: Timestamp) -> (DateTime, Option<usize>) {
        let local = self.time_zone.tz.to_datetime(now);
        let minute = local.hour() as u16 * 60 + local.minute() as u16;
        let shift = self
            .shifts
            .iter()
            .position(|s| s.covers(local.weekday(), minute));
        (local, shift)
    }
}

/// A language code as agents and tickets are compared: `es-ES`, `Spanish` → `es`.
pub fn normalize_language(code: &str) -> String {
    match support_text::Language::parse(code) {
        Some(language) => language.code().to_string(),
        None => code
            .trim()
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_lowercase(),
    }
}

/// The file's format, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentsFormat {
    Yaml,
    Json,
}

impl Roster {
    /// Reads and checks an agents file; every error names the file.
    pub fn load(path: &Path) -> anyhow::Result<Roster> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read agents file {}", path.display()))?;
        let format = match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("json") => AgentsFormat::Json,
            _ => AgentsFormat::Yaml,
        };
        Roster::parse(&format!("agents file {}", path.display()), &text, format)
    }

    /// Parses and checks agents; `origin` names the source in errors.
    pub fn parse(origin: &str, text: &str, format: AgentsFormat) -> anyhow::Result<Roster> {
        let file: AgentsFile = match format {
            AgentsFormat::Yaml => support_core::config::parse_yaml(origin, text)?,
            AgentsFormat::Json => {
                let mut deserializer = serde_json::Deserializer::from_str(text);
                serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
                    let path = e.path().to_string();
                    anyhow::anyhow!("{origin}: key `{path}`: {}", e.into_inner())
                })?
            }
        };
        let mut roster = Roster {
            origin: origin.to_string(),
            agents: file.agents,
        };
        roster.normalize_and_check()?;
        Ok(roster)
    }

    fn normalize_and_check(&mut self) -> anyhow::Result<()> {
        let origin = &self.origin;
        if self.agents.is_empty() {
            bail!("{origin}: `agents` is empty");
        }
        let mut ids = HashSet::new();
        for agent in &mut self.agents {
            let id = &agent.id;
            if id.trim().is_empty() {
                bail!("{origin}: an agent has an empty `id`");
            }
            if !ids.insert(id.clone()) {
                bail!("{origin}: agent id `{id}` appears more than once");
            }
            if agent.languages.is_empty() {
                bail!("{origin}: agent `{id}` has no `languages`");
            }
            if agent.hours.shifts.is_empty() {
                bail!("{origin}: agent `{id}` has no `hours.shifts`");
            }
            for (i, shift) in agent.hours.shifts.iter().enumerate() {
                if shift.start == shift.end || shift.start.0 == MINUTES_PER_DAY {
                    bail!(
                        "{origin}: agent `{id}`: hours.shifts[{i}] from {} to {} is empty",
                        shift.start,
                        shift.end
                    );
                }
            }
            agent.languages = agent
                .languages
                .iter()
                .map(|l| normalize_language(l))
                .collect();
            agent.skills = agent
                .skills
                .iter()
                .map(|s| s.trim().to_lowercase())
                .collect();
            agent.queues = agent
                .queues
                .iter()
                .map(|q| q.trim().to_lowercase())
                .collect();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shift(days: &str, start: &str, end: &str) -> Shift {
        Shift {
            days: Days::try_from(DaysSpec::One(days.to_string())).unwrap(),
            start: ClockTime::try_from(start.to_string()).unwrap(),
            end: ClockTime::try_from(end.to_string()).unwrap(),
        }
    }

    #[test]
    fn days_accept_names_ranges_and_wrapping_ranges() {
        let weekdays = Days::try_from(DaysSpec::One("mon-fri".into())).unwrap();
        assert!(weekdays.contains(Weekday::Friday) && !weekdays.contains(Weekday::Saturday));
        let weekend =
            Days::try_from(DaysSpec::Many(vec!["Saturday".into(), "sun".into()])).unwrap();
        assert!(weekend.contains(Weekday::Sunday) && !weekend.contains(Weekday::Monday));
        let wrapping = Days::try_from(DaysSpec::One("fri-mon".into())).unwrap();
        assert!(wrapping.contains(Weekday::Sunday) && !wrapping.contains(Weekday::Tuesday));
        assert!(Days::try_from(DaysSpec::One("lunes".into())).is_err());
        assert!(Days::try_from(DaysSpec::One("m".into())).is_err());
    }

    #[test]
    fn clock_times_are_checked() {
        assert_eq!(
            ClockTime::try_from("09:30".to_string())
                .unwrap()
                .to_string(),
            "09:30"
        );
        assert_eq!(
            ClockTime::try_from("9:05".to_string()).unwrap().to_string(),
            "09:05"
        );
        assert!(ClockTime::try_from("24:00".to_string()).is_ok());
        for bad in ["24:01", "9", "09:60", "nine", "09:5x", "9:5", "+9:00"] {
            assert!(ClockTime::try_from(bad.to_string()).is_err(), "{bad}");
        }
    }

    #[test]
    fn overnight_shift_belongs_to_its_start_day() {
        let night = shift("mon", "22:00", "06:00");
        assert!(night.covers(Weekday::Monday, 23 * 60));
        assert!(night.covers(Weekday::Tuesday, 5 * 60 + 59));
        assert!(!night.covers(Weekday::Tuesday, 6 * 60));
        assert!(
            !night.covers(Weekday::Monday, 5 * 60),
            "Sunday night is not listed"
        );
        let day = shift("mon-fri", "09:00", "17:00");
        assert!(day.covers(Weekday::Friday, 9 * 60) && !day.covers(Weekday::Friday, 17 * 60));
    }

    #[test]
    fn languages_are_normalized() {
        assert_eq!(normalize_language("es-MX"), "es");
        assert_eq!(normalize_language("Spanish"), "es");
        assert_eq!(normalize_language("pt_BR"), "pt");
    }
}
