//! The model's inputs: which features it reads, from which fields, and the
//! values one ticket gives them. Every feature is categorical: a text value,
//! the hour and weekday the ticket was opened, or how busy the team was then
//! (a band of the relative load).

use std::sync::LazyLock;

use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use support_core::{text, Decimal};

use crate::fields::{self, FieldError, Fields};
use crate::stats::{quantile, round_to};

/// The value of a feature the record does not give.
pub const MISSING: &str = "(missing)";

/// One input feature and the paths it is read from, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureSource {
    pub name: String,
    pub from: Vec<String>,
}

/// What a model reads: stored in the model file, so a model reads tickets
/// the way it read its training data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    /// The format of the training data (`ticket`, `itsm`, ...).
    pub format: String,
    pub features: Vec<FeatureSource>,
    /// Where the opening time is read from, for the time features.
    pub created_at: Vec<String>,
    /// Hour (UTC) and weekday of the opening time are features too.
    pub time_features: bool,
    /// The team's load when the ticket opened is a feature too (fitted on
    /// the training history).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<LoadScale>,
}

/// Names of the load features, after the time features; a ticket on the
/// stream gives them as raw counts in fields of these names.
pub const LOAD_FEATURES: [&str; 2] = ["open_tickets", "opened_last_day"];

/// How busy the team was when a ticket opened: the tickets open at that
/// moment, and those opened in the 24 hours before, each relative to the
/// training history's average. Relative, so that a sample of a history
/// (a dev split) reads on the scale of the whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadScale {
    /// The training history's average raw counts: a live count from the
    /// store divided by these is a relative load.
    pub average: [f64; 2],
    /// Per feature, the edges of the bands of relative load (quantiles of
    /// the training history).
    pub edges: [Vec<f64>; 2],
}

/// Bands of relative load a feature is cut into.
const LOAD_BANDS: usize = 16;

impl LoadScale {
    /// Fits the bands on the relative loads of a training history.
    pub fn fit(average: [f64; 2], relative: &[[f64; 2]]) -> LoadScale {
        let edges = [0, 1].map(|k| {
            let mut values: Vec<f64> = relative.iter().map(|r| r[k]).collect();
            values.sort_by(f64::total_cmp);
            let mut edges: Vec<f64> = (1..LOAD_BANDS)
                .map(|b| round_to(quantile(&values, b as f64 / LOAD_BANDS as f64), 3))
                .filter(|e| e.is_finite())
                .collect();
            edges.dedup();
            edges
        });
        LoadScale { average, edges }
    }

    /// The band labels of relative loads; an unknown load is taken as the
    /// usual one (1).
    pub fn bands(&self, relative: Option<[f64; 2]>) -> [String; 2] {
        [0, 1].map(|k| {
            let edges = &self.edges[k];
            let value = relative.map_or(1.0, |r| r[k]);
            let band = edges.partition_point(|&e| e <= value);
            match (band.checked_sub(1).map(|b| edges[b]), edges.get(band)) {
                (None, Some(high)) => text!("below {:.2}x usual", Decimal(*high)),
                (Some(low), Some(high)) => {
                    text!("{:.2}-{:.2}x usual", Decimal(low), Decimal(*high))
                }
                (Some(low), None) => text!("{:.2}x usual or more", Decimal(low)),
                (None, None) => "usual".to_string(),
            }
        })
    }

    /// The relative load of a ticket on the stream, from the raw counts it
    /// carries (`open_tickets`, `opened_last_day`); `None` without them.
    pub fn read(&self, record: &impl Fields) -> Result<Option<[f64; 2]>, FieldError> {
        static PATHS: LazyLock<[Vec<String>; 2]> =
            LazyLock::new(|| LOAD_FEATURES.map(|name| vec![name.to_string()]));
        let mut relative = [0.0; 2];
        for (k, paths) in PATHS.iter().enumerate() {
            match fields::number(record, paths)? {
                Some(count) => relative[k] = count / self.average[k].max(f64::MIN_POSITIVE),
                None => return Ok(None),
            }
        }
        Ok(Some(relative))
    }
}

/// The value of every feature for one record, in schema order; absent
/// values are [`MISSING`].
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs(pub Vec<String>);

impl Schema {
    /// Feature names in input order, time features last.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.features.iter().map(|f| f.name.as_str()).collect();
        if self.time_features {
            names.extend(["hour", "weekday"]);
        }
        if self.load.is_some() {
            names.extend(LOAD_FEATURES);
        }
        names
    }

    pub fn width(&self) -> usize {
        self.features.len()
            + if self.time_features { 2 } else { 0 }
            + if self.load.is_some() { 2 } else { 0 }
    }

    /// Where feature `index` comes from, as explanations name it.
    pub fn field_of(&self, index: usize) -> String {
        let time_width = if self.time_features { 2 } else { 0 };
        match self.features.get(index) {
            Some(feature) => feature.from[0].clone(),
            None if index >= self.features.len() + time_width => {
                LOAD_FEATURES[(index - self.features.len() - time_width).min(1)].to_string()
            }
            None => {
                let opened = self.created_at.first().map_or("created_at", String::as_str);
                let part = if index == self.features.len() {
                    "hour"
                } else {
                    "weekday"
                };
                format!("{opened} ({part})")
            }
        }
    }

    /// Reads the inputs of a ticket on the stream, its load from the counts
    /// it carries.
    pub fn read(&self, record: &impl Fields) -> Result<Inputs, FieldError> {
        let mut inputs = self.read_fields(record)?;
        if let Some(load) = &self.load {
            inputs.0.extend(load.bands(load.read(record)?));
        }
        Ok(inputs)
    }

    /// Reads the inputs of a record but its load. A field of the wrong type,
    /// or a record with none of the model's fields (data of another format),
    /// is an error naming the field.
    pub fn read_fields(&self, record: &impl Fields) -> Result<Inputs, FieldError> {
        let mut values = Vec::with_capacity(self.width());
        let mut present = 0;
        for feature in &self.features {
            let value = fields::text(record, &feature.from)?;
            present += usize::from(value.is_some());
            values.push(value.unwrap_or_else(|| MISSING.to_string()));
        }
        if self.time_features {
            match fields::time(record, &self.created_at)? {
                Some(opened) => {
                    let civil = opened.to_zoned_datetime(TimeZone::UTC);
                    values.push(format!("{:02}", civil.hour()));
                    values.push(weekday_name(civil.weekday()).to_string());
                }
                None => values.extend([MISSING.to_string(), MISSING.to_string()]),
            }
        }
        if present == 0 {
            if let Some(feature) = self.features.first() {
                let wanted: Vec<String> = self.features.iter().map(|f| f.from.join("|")).collect();
                return Err(FieldError::new(
                    &feature.from[0],
                    format!(
                        "the record has none of the fields the model reads ({}); the model was trained on `{}` data",
                        wanted.join(", "),
                        self.format
                    ),
                ));
            }
        }
        Ok(Inputs(values))
    }
}

fn weekday_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Monday => "mon",
        Weekday::Tuesday => "tue",
        Weekday::Wednesday => "wed",
        Weekday::Thursday => "thu",
        Weekday::Friday => "fri",
        Weekday::Saturday => "sat",
        Weekday::Sunday => "sun",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use support_core::testing::object as map;

    fn schema() -> Schema {
        Schema {
            format: "ticket".into(),
            features: vec![
                FeatureSource {
                    name: "category".into(),
                    from: vec!["category.name".into(), "category".into()],
                },
                FeatureSource {
                    name: "channel".into(),
                    from: vec!["channel".into()],
                },
            ],
            created_at: vec!["created_at".into()],
            time_features: true,
            load: None,
        }
    }

    #[test]
    fn reads_values_and_time_parts() {
        let s = schema();
        let inputs = s
            .read(&map(
                json!({"category": {"name": "billing"}, "created_at": "2026-11-24T09:30:00Z"}),
            ))
            .unwrap();
        assert_eq!(inputs.0, ["billing", MISSING, "09", "tue"]);
        assert_eq!(s.names(), ["category", "channel", "hour", "weekday"]);
        assert_eq!(s.field_of(0), "category.name");
        assert_eq!(s.field_of(2), "created_at (hour)");
        assert_eq!(s.field_of(3), "created_at (weekday)");
    }

    #[test]
    fn the_load_is_read_from_a_tickets_counts_on_the_training_scale() {
        let relative: Vec<[f64; 2]> = (0..100).map(|i| [i as f64 / 50.0, 1.0]).collect();
        let mut s = schema();
        s.load = Some(LoadScale::fit([40.0, 10.0], &relative));
        let read = |ticket: serde_json::Value| s.read(&map(ticket)).map(|i| i.0);
        let busy =
            read(json!({"category": "a", "open_tickets": 80, "opened_last_day": 10})).unwrap();
        assert_eq!(busy.len(), s.width());
        assert_eq!(
            busy[4], "1.86x usual or more",
            "80 open is twice the usual 40"
        );
        assert_eq!(
            busy[5], "1.00x usual or more",
            "every training day was the same: one band"
        );
        let quiet =
            read(json!({"category": "a", "open_tickets": 4, "opened_last_day": 10})).unwrap();
        assert_eq!(quiet[4], "below 0.12x usual");
        let unknown = read(json!({"category": "a"})).unwrap();
        assert_eq!(unknown[4], "0.99-1.11x usual", "no counts: the usual load");
        let err = read(json!({"category": "a", "open_tickets": "many", "opened_last_day": 1}))
            .unwrap_err();
        assert_eq!(err.field, "open_tickets");
    }

    #[test]
    fn a_record_of_another_format_is_refused_naming_a_field() {
        let err = schema()
            .read(&map(
                json!({"number": "INC1", "opened_at": "2016-02-29 01:16"}),
            ))
            .unwrap_err();
        assert_eq!(err.field, "category.name");
        assert!(err.message.contains("none of the fields"), "{err}");
    }
}
