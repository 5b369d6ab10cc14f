//! The ticket contract every support tool shares: the ticket and its
//! analysed text, the record, the error record, every tool's typed result,
//! the [`Tool`] trait and the configuration files.
//!
//! A tool is a [`Tool`]: a plain function from a [`Ticket`] and a [`Context`]
//! to a result stored under the tool's own key. `support-runner` streams
//! records through it; `support-cli` wires it to a command line.

pub mod analysis;
pub mod config;
mod decimal;
pub mod error;
pub mod json_out;
pub mod json_text;
pub mod record;
pub mod results;
pub mod schema;
pub mod short_copy;
pub mod status;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod ticket;
pub mod tool;

pub use analysis::TextAnalysis;
pub use decimal::Decimal;
pub use error::{ErrorKind, RecordError};
pub use record::Record;
pub use results::ToolResult;
pub use ticket::{FieldName, Role, TextField, Ticket};
pub use tool::{apply_to_record, apply_to_records, Context, Pipeline, Stage, Tool};

/// `format!` for the reasons and other texts a tool writes for every ticket:
/// the text starts with room for a sentence (128 bytes), where `format!`
/// starts from its template's length and then grows, copying, once or twice
/// for nearly every reason. In support-triage this was 4% of instructions.
///
/// ```
/// use support_core::text;
/// let (score, level) = (61.5, "high");
/// assert_eq!(text!("score {score} of 100 is {level}"), "score 61.5 of 100 is high");
/// assert_eq!(text!("no trigger fired"), "no trigger fired");
/// ```
#[macro_export]
macro_rules! text {
    ($($arg:tt)*) => {{
        let args = ::std::format_args!($($arg)*);
        match args.as_str() {
            ::std::option::Option::Some(plain) => ::std::borrow::ToOwned::to_owned(plain),
            ::std::option::Option::None => {
                let mut text = ::std::string::String::with_capacity(128);
                ::std::fmt::Write::write_fmt(&mut $crate::short_copy::TextWriter(&mut text), args)
                    .expect("a Display implementation returned an error");
                text
            }
        }
    }};
}

/// Appends `items` to a text, `separator` between each two, each written by
/// `write`: a list inside a reason, with no string of its own for each item
/// and none for the list.
pub fn write_joined<T>(
    out: &mut String,
    items: impl IntoIterator<Item = T>,
    separator: &str,
    mut write: impl FnMut(&mut String, T) -> std::fmt::Result,
) {
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push_str(separator);
        }
        write(out, item).expect("a Display implementation returned an error");
    }
}

/// Upper-cases a text's first letter when it is ASCII: a reason that starts
/// with a cause or a detail, which start with a lower-case word.
pub fn capitalize(mut text: String) -> String {
    if let Some(first) = text.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    text
}

/// `text` lower-cased, borrowed when it already is: the labels and names
/// tools read from earlier results nearly always are.
pub fn lowercase(text: &str) -> std::borrow::Cow<'_, str> {
    if text
        .bytes()
        .all(|b| b.is_ascii() && !b.is_ascii_uppercase())
    {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(text.to_lowercase())
    }
}

/// Rounds a score for output: three decimals are what a person reads, and
/// stable digits keep outputs comparable across runs.
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Where the suite keeps what it can make again (embedding models, cached
/// embeddings, models fetched from the store): `$XDG_CACHE_HOME/support-suite`,
/// else `~/.cache/support-suite`.
pub fn suite_cache_dir() -> std::path::PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| std::path::Path::new(&home).join(".cache")))
        .unwrap_or_else(|| std::path::PathBuf::from(".cache"))
        .join("support-suite")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;

    #[test]
    fn lists_are_written_with_a_separator_between_items() {
        let mut out = String::from("steps: ");
        write_joined(&mut out, [1, 2, 3], ", ", |out, n| write!(out, "#{n}"));
        assert_eq!(out, "steps: #1, #2, #3");
        write_joined(&mut out, Vec::<u8>::new(), ", ", |out, n| {
            write!(out, "{n}")
        });
        write_joined(&mut out, ["x"], ", ", |out, s| out.write_str(s));
        assert_eq!(out, "steps: #1, #2, #3x");
    }

    #[test]
    fn capitalize_touches_only_an_ascii_first_letter() {
        assert_eq!(
            capitalize("negative sentiment".into()),
            "Negative sentiment"
        );
        assert_eq!(capitalize("énfasis".into()), "énfasis");
        assert_eq!(capitalize(String::new()), "");
    }

    #[test]
    fn lowercase_borrows_only_what_is_already_lower_case() {
        use std::borrow::Cow;
        assert!(matches!(lowercase("negative"), Cow::Borrowed("negative")));
        assert!(matches!(lowercase("High"), Cow::Owned(ref s) if s == "high"));
        assert_eq!(lowercase("ÉXITO"), "éxito");
        assert_eq!(lowercase("éxito"), "éxito");
    }

    #[test]
    fn text_writes_what_format_writes_at_any_length() {
        let word = "reembolso";
        for repeat in [0, 1, 14, 15, 40] {
            let long = word.repeat(repeat);
            assert_eq!(
                text!("'{long}' ({:+}), {:.2}", -2.5, 1.0 / 3.0),
                format!("'{long}' ({:+}), {:.2}", -2.5, 1.0 / 3.0)
            );
        }
    }
}
