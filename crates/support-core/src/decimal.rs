//! Numbers rounded to three decimals, written without a search for their
//! shortest digits.
//!
//! Most numbers a tool writes, in its reasons and in its result, went
//! through [`round3`](crate::round3). The shortest digits of such a number
//! are those of its thousandths, so it is written from them as an integer;
//! any other number is written by `Display` (reasons) or zmij (JSON), as
//! before. The text is the same either way; finding the shortest digits
//! (zmij, and `Display`'s Grisu) took 3.7% of support-triage's samples in
//! `perf record`, more than their share of instructions. A number shown
//! to a fixed number of decimals (`{:.2}`, a detected language's
//! confidence) is rounded here too, instead of by `Display`'s exact
//! decimal expansion.

use std::fmt;

/// `value` as a whole number of thousandths, when it is the `f64` nearest
/// to one and under 10^12. Its shortest digits are then those of the
/// thousandths: they read back as `value`, and any number with fewer digits
/// is at least a thousandth away, far beyond half the step between
/// neighbouring `f64`s of that size (under 10^-4). Negative zero is left
/// out: it keeps its sign.
pub(crate) fn thousandths(value: f64) -> Option<i64> {
    // Rounded by hand: `f64::round` is a call into libm on x86-64.
    let scaled = value * 1000.0;
    let nearest = (scaled + 0.5_f64.copysign(scaled)) as i64;
    let exact = nearest.unsigned_abs() < 1_000_000_000_000_000 && nearest as f64 / 1000.0 == value;
    (exact && !(value == 0.0 && value.is_sign_negative())).then_some(nearest)
}

/// ".000" to ".999", four bytes each: the point and digits of every
/// fraction of thousandths, sliced out as text ([`point_and_digits`])
/// without checking it is UTF-8 each time (that took 50 instructions a
/// number).
const POINT_DIGITS: &str = {
    const BYTES: [u8; 4000] = {
        let mut bytes = [0; 4000];
        let mut i = 0;
        while i < 1000 {
            bytes[4 * i] = b'.';
            bytes[4 * i + 1] = b'0' + (i / 100) as u8;
            bytes[4 * i + 2] = b'0' + (i / 10 % 10) as u8;
            bytes[4 * i + 3] = b'0' + (i % 10) as u8;
            i += 1;
        }
        bytes
    };
    match std::str::from_utf8(&BYTES) {
        Ok(text) => text,
        Err(_) => panic!("ASCII digits"),
    }
};

/// The first `len` bytes of ".ddd" for a fraction of `thousandths`
/// (0-999): `(50, 3)` → ".05", `(0, 0)` → "".
fn point_and_digits(thousandths: usize, len: usize) -> &'static str {
    &POINT_DIGITS[4 * thousandths..4 * thousandths + len]
}

/// A number as it is written, in pieces: `13.645` → `13` and `.645`,
/// `-0.5` → `-`, `0` and `.5`. Each writer takes the pieces as they come,
/// with no buffer.
struct Pieces {
    negative: bool,
    whole: u64,
    /// The point and the decimals, if any.
    fraction: &'static str,
}

impl Pieces {
    /// A number of thousandths, with its shortest decimals. A whole number
    /// ends in `.0` when `point_zero` (as JSON numbers do), else has no
    /// point (as `Display` writes it).
    fn of(thousandths: i64, point_zero: bool) -> Pieces {
        let magnitude = thousandths.unsigned_abs();
        let fraction = (magnitude % 1000) as usize;
        let kept = match fraction {
            0 if point_zero => 2,
            0 => 0,
            f if f % 100 == 0 => 2,
            f if f % 10 == 0 => 3,
            _ => 4,
        };
        Pieces {
            negative: thousandths < 0,
            whole: magnitude / 1000,
            fraction: point_and_digits(fraction, kept),
        }
    }

    /// `value` rounded to `precision` decimals (0 to 3), as `{:.2}` writes
    /// it, worked out from `value * 10^precision`. Under 10^6 that product
    /// is within 1.2e-7 of the exact one, so it rounds the same unless a half
    /// lies within 10^-6 of it: such a number is left to `Display`, which
    /// rounds the exact value.
    fn fixed(value: f64, precision: usize) -> Option<Pieces> {
        const SCALES: [u64; 4] = [1, 10, 100, 1000];
        let scale = *SCALES.get(precision)?;
        if value.is_nan() || value.abs() >= 1e6 {
            return None;
        }
        let scaled = value.abs() * scale as f64;
        let truncated = scaled as u64;
        let rest = scaled - truncated as f64;
        if (rest - 0.5).abs() < 1e-6 {
            return None;
        }
        let units = truncated + u64::from(rest > 0.5);
        // The decimals as thousandths: 5 hundredths are ".050", of which ".05" is kept.
        let decimals = (units % scale * (1000 / scale)) as usize;
        Some(Pieces {
            negative: value.is_sign_negative(),
            whole: units / scale,
            // No point at all for no decimals.
            fraction: point_and_digits(decimals, if precision == 0 { 0 } else { 1 + precision }),
        })
    }

    /// Writes the number into a reason, with a `+` when `f` asks for one.
    fn display(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negative {
            f.write_str("-")?;
        } else if f.sign_plus() {
            f.write_str("+")?;
        }
        f.write_str(itoa::Buffer::new().format(self.whole))?;
        f.write_str(self.fraction)
    }
}

/// The digits of a number of thousandths, for JSON: `13645` → `13.645`,
/// `-500` → `-0.5`, `2000` → `2.0` when `point_zero`.
pub(crate) fn write_thousandths(thousandths: i64, point_zero: bool, out: &mut Vec<u8>) {
    let pieces = Pieces::of(thousandths, point_zero);
    if pieces.negative {
        out.push(b'-');
    }
    crate::json_out::write_integer(pieces.whole, out);
    crate::short_copy::append(out, pieces.fraction.as_bytes());
}

/// An `f64` shown exactly as `Display` shows it (`{}`, `{:+}`, `{:.2}`;
/// with a width it is `Display` itself), for the numbers of reasons:
/// `text!("score {}", Decimal(score))`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decimal(pub f64);

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Written piece by piece into the reason: a buffer first was an
        // allocation and a copy for each number.
        let pieces = match (f.width(), f.precision()) {
            (None, None) => thousandths(self.0).map(|t| Pieces::of(t, false)),
            (None, Some(precision)) => Pieces::fixed(self.0, precision),
            _ => None,
        };
        match pieces {
            Some(pieces) => pieces.display(f),
            None => fmt::Display::fmt(&self.0, f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Numbers of thousandths near zero, all of them, and others up to the
    /// bound; then numbers that are not, which take the general path.
    fn numbers() -> impl Iterator<Item = f64> {
        let near_zero = (-100_000..=100_000).map(|k| k as f64 / 1000.0);
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let random = std::iter::repeat_with(move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let k = (state % 2_000_000_000_000_000) as i64 - 1_000_000_000_000_000;
            [
                k as f64 / 1000.0,
                (k % 1_000_000) as f64 / 1000.0,
                k as f64 / 1000.0 + 1e-9,
                f64::from_bits(state),
                // Uniform in [0, 1), every bit of the fraction used: a confidence.
                (state >> 11) as f64 / (1u64 << 53) as f64,
            ]
        })
        .take(100_000)
        .flatten();
        let edges = [
            0.0,
            -0.0,
            1e12,
            -1e12,
            999_999_999_999.999,
            0.001,
            -0.001,
            0.1 + 0.2,
            f64::NAN,
            f64::INFINITY,
        ];
        near_zero.chain(random).chain(edges)
    }

    #[test]
    fn decimals_show_as_display_shows_them() {
        for value in numbers() {
            assert_eq!(Decimal(value).to_string(), value.to_string(), "{value:e}");
            assert_eq!(format!("{:+}", Decimal(value)), format!("{value:+}"));
            assert_eq!(format!("{:.0}", Decimal(value)), format!("{value:.0}"));
            assert_eq!(format!("{:.1}", Decimal(value)), format!("{value:.1}"));
            assert_eq!(format!("{:.2}", Decimal(value)), format!("{value:.2}"));
            assert_eq!(format!("{:+.2}", Decimal(value)), format!("{value:+.2}"));
            assert_eq!(format!("{:.3}", Decimal(value)), format!("{value:.3}"));
            assert_eq!(format!("{:>9}", Decimal(value)), format!("{value:>9}"));
        }
    }

    #[test]
    fn json_numbers_are_written_as_serde_json_writes_them() {
        for value in numbers() {
            let mut ours = Vec::new();
            crate::json_out::write(&value, &mut ours).unwrap();
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(&value).unwrap(),
                "{value:e}"
            );
        }
    }
}
