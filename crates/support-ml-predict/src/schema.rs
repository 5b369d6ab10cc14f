//! The model's inputs: which features it reads, from which fields, and the
//! values one ticket gives them. Every feature is categorical: a text value,
//! or the hour and weekday the ticket was opened.

use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::fields::{self, FieldError, Fields};

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
        names
    }

    pub fn width(&self) -> usize {
        self.features.len() + if self.time_features { 2 } else { 0 }
    }

    /// Where feature `index` comes from, as explanations name it.
    pub fn field_of(&self, index: usize) -> String {
        match self.features.get(index) {
            Some(feature) => feature.from[0].clone(),
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

    /// Reads the inputs of a record. A field of the wrong type, or a record
    /// with none of the model's fields (data of another format), is an error
    /// naming the field.
    pub fn read(&self, record: &impl Fields) -> Result<Inputs, FieldError> {
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
