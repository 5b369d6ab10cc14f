//! Compact JSON of a `Serialize` value, byte for byte what
//! `serde_json::to_writer` writes, for the results tools add to every record.
//!
//! Strings are most of a result (keys, reasons, labels), and serde_json
//! checks them a byte at a time, each key and each `Display` fragment (a
//! timestamp) apart. This writer checks a word (8 bytes) at a time, writes the
//! punctuation straight into the buffer, and takes numbers from the same
//! crates serde_json does (itoa, zmij), so the text is the same.

use std::fmt::{self, Write as _};

use serde::ser::{self, Impossible, Serialize};

use crate::decimal;
use crate::short_copy::append;

type Result<T = ()> = std::result::Result<T, serde_json::Error>;

/// Appends the compact JSON of `value` to `out`.
pub fn write<T: ?Sized + Serialize>(value: &T, out: &mut Vec<u8>) -> Result {
    value.serialize(&mut Writer { out })
}

/// A JSON string of `text`, quoted and escaped as serde_json does.
pub fn write_str(text: &str, out: &mut Vec<u8>) {
    out.reserve(text.len() + 2);
    out.push(b'"');
    write_escaped(text.as_bytes(), out);
    out.push(b'"');
}

/// `"key":` for a struct's field. Field names are our result types' own
/// (Rust names, or `rename`s in their source), never a record's text, and
/// none has a byte to escape: they are written as they are, a hundred a
/// ticket, without the check a string of the record needs.
#[inline(always)]
fn write_field_name(key: &str, out: &mut Vec<u8>) {
    debug_assert!(
        first_to_escape(key.as_bytes()).is_none(),
        "field name {key:?}"
    );
    out.push(b'"');
    append(out, key.as_bytes());
    out.extend_from_slice(b"\":");
}

/// Whether serde_json escapes `byte` in a string: a control character, a
/// quote or a backslash (everything else, DEL and non-ASCII included, is
/// written as it is).
const fn needs_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

/// Where the first byte to escape is: most strings have nothing to escape.
/// On x86-64 a string is checked 16 bytes at a time with SSE2, which every
/// x86-64 processor has; a shorter one, or any on another processor, a
/// word (8 bytes) at a time. A string that is not a whole number of blocks
/// ends with a block overlapping the one before.
fn first_to_escape(bytes: &[u8]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if bytes.len() >= 16 {
        let last = bytes.len() - 16;
        let mut at = 0;
        loop {
            let block: &[u8; 16] = bytes[at..at + 16].try_into().expect("16 bytes");
            let mask = sse2::escape_mask(block);
            if mask != 0 {
                // Bytes before `at` are known clean, the overlap included.
                return Some(at + mask.trailing_zeros() as usize);
            }
            if at == last {
                return None;
            }
            at = (at + 16).min(last);
        }
    }
    first_to_escape_by_words(bytes)
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };

    /// A bit for each byte of `block` that [`super::needs_escape`]: a quote,
    /// a backslash, or a control character (a byte whose unsigned maximum
    /// with 0x1F is 0x1F).
    pub(super) fn escape_mask(block: &[u8; 16]) -> u32 {
        // SAFETY: SSE2 is part of every x86-64 target, so these instructions
        // exist; `block` is 16 readable bytes, and `loadu` needs no alignment.
        unsafe {
            let bytes = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
            let quote = _mm_cmpeq_epi8(bytes, _mm_set1_epi8(b'"' as i8));
            let backslash = _mm_cmpeq_epi8(bytes, _mm_set1_epi8(b'\\' as i8));
            let below = _mm_set1_epi8(0x1F);
            let control = _mm_cmpeq_epi8(_mm_max_epu8(bytes, below), below);
            _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control)) as u32
        }
    }
}

/// [`first_to_escape`] a word (8 bytes) at a time.
fn first_to_escape_by_words(bytes: &[u8]) -> Option<usize> {
    let word_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
    if bytes.len() < 8 {
        return first_byte_to_escape(bytes);
    }
    let last = bytes.len() - 8;
    let mut at = 0;
    loop {
        if word_needs_escape(word_at(at)) {
            // Bytes before `at` are known clean, the overlap included.
            return first_byte_to_escape(&bytes[at..]).map(|found| at + found);
        }
        if at == last {
            return None;
        }
        at = (at + 8).min(last);
    }
}

fn first_byte_to_escape(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| needs_escape(b))
}

/// Whether any byte of `word` is a control character, a quote or a
/// backslash. A byte under `n` (`n` <= 0x80) sets its high bit in
/// `(word - n per byte) & !word`; a byte equal to `c` is a zero byte of
/// `word ^ c per byte`. A borrow can only flag bytes after a true match, so
/// the answer for the word as a whole is exact.
fn word_needs_escape(word: u64) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let below = |w: u64, n: u8| w.wrapping_sub(ONES * u64::from(n)) & !w & HIGH;
    below(word, 0x20)
        | below(word ^ (ONES * u64::from(b'"')), 1)
        | below(word ^ (ONES * u64::from(b'\\')), 1)
        != 0
}

/// The contents of a JSON string: `bytes` (UTF-8) with what needs it escaped.
fn write_escaped(mut bytes: &[u8], out: &mut Vec<u8>) {
    while let Some(at) = first_to_escape(bytes) {
        append(out, &bytes[..at]);
        let byte = bytes[at];
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0C => out.extend_from_slice(b"\\f"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(byte >> 4)]);
                out.push(HEX[usize::from(byte & 0xF)]);
            }
        }
        bytes = &bytes[at + 1..];
    }
    append(out, bytes);
}

pub(crate) fn write_integer(value: impl itoa::Integer, out: &mut Vec<u8>) {
    append(out, itoa::Buffer::new().format(value).as_bytes());
}

/// A finite float as serde_json writes it; `null` for NaN and infinities.
fn write_float(value: impl zmij::Float, finite: bool, out: &mut Vec<u8>) {
    if finite {
        out.extend_from_slice(zmij::Buffer::new().format_finite(value).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

/// [`write_float`] for an `f64`, most of which a tool rounded to three
/// decimals (see [`crate::decimal`]).
fn write_f64(value: f64, out: &mut Vec<u8>) {
    match decimal::thousandths(value) {
        Some(thousandths) => decimal::write_thousandths(thousandths, true, out),
        None => write_float(value, value.is_finite(), out),
    }
}

/// `Display` output escaped into a JSON string as it is produced.
struct EscapeInto<'a>(&'a mut Vec<u8>);

impl fmt::Write for EscapeInto<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        write_escaped(s.as_bytes(), self.0);
        Ok(())
    }
}

fn write_display(value: &(impl fmt::Display + ?Sized), out: &mut Vec<u8>) -> Result {
    out.push(b'"');
    write!(EscapeInto(out), "{value}")
        .map_err(|_| ser::Error::custom("a Display implementation failed"))?;
    out.push(b'"');
    Ok(())
}

/// The integer methods of a serializer, each `$write(self, v)`.
macro_rules! integers {
    (|$serializer:ident, $v:ident| $write:expr) => {
        integers!(@each |$serializer, $v| $write;
            serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
            serialize_i128: i128, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
            serialize_u64: u64, serialize_u128: u128);
    };
    (@each |$serializer:ident, $v:ident| $write:expr; $($method:ident: $ty:ty),*) => {$(
        fn $method(self, $v: $ty) -> Result {
            let $serializer = self;
            $write
        }
    )*};
}

struct Writer<'a> {
    out: &'a mut Vec<u8>,
}

/// An array or object being written; `close` ends it (`]`, `}`, or `]}`
/// and `}}` for an enum variant wrapped in an object).
pub struct Compound<'w, 'a> {
    writer: &'w mut Writer<'a>,
    first: bool,
    close: &'static [u8],
    /// A `serde_json::value::RawValue`: its one field is JSON text to write as it is.
    raw: bool,
}

/// The struct name serde_json's `RawValue` serializes under (with one field
/// of that name holding its JSON text); serde_json's serializer writes that
/// text as it is, and so does this one (tested below against serde_json).
const RAW_VALUE: &str = "$serde_json::private::RawValue";

impl<'w, 'a> Compound<'w, 'a> {
    fn open(writer: &'w mut Writer<'a>, open: &[u8], close: &'static [u8]) -> Self {
        writer.out.extend_from_slice(open);
        Compound {
            writer,
            first: true,
            close,
            raw: false,
        }
    }

    /// A raw value's text, written as it is (`RawValue` holds valid JSON).
    fn raw_text<T: ?Sized + Serialize>(&mut self, text: &T) -> Result {
        match serde_json::to_value(text)? {
            serde_json::Value::String(json) => {
                self.writer.out.extend_from_slice(json.as_bytes());
                Ok(())
            }
            _ => Err(ser::Error::custom(
                "a raw JSON value's text must be a string",
            )),
        }
    }

    fn separate(&mut self) {
        if !std::mem::take(&mut self.first) {
            self.writer.out.push(b',');
        }
    }

    fn element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result {
        self.separate();
        value.serialize(&mut *self.writer)
    }

    fn field<T: ?Sized + Serialize>(&mut self, key: &str, value: &T) -> Result {
        if self.raw {
            return self.raw_text(value);
        }
        self.separate();
        write_field_name(key, self.writer.out);
        value.serialize(&mut *self.writer)
    }

    fn end(self) -> Result {
        self.writer.out.extend_from_slice(self.close);
        Ok(())
    }
}

/// `{"variant":` before a variant's content.
fn open_variant(out: &mut Vec<u8>, variant: &str) {
    out.push(b'{');
    write_str(variant, out);
    out.push(b':');
}

impl<'w, 'a> ser::Serializer for &'w mut Writer<'a> {
    type Ok = ();
    type Error = serde_json::Error;
    type SerializeSeq = Compound<'w, 'a>;
    type SerializeTuple = Compound<'w, 'a>;
    type SerializeTupleStruct = Compound<'w, 'a>;
    type SerializeTupleVariant = Compound<'w, 'a>;
    type SerializeMap = Compound<'w, 'a>;
    type SerializeStruct = Compound<'w, 'a>;
    type SerializeStructVariant = Compound<'w, 'a>;

    fn serialize_bool(self, v: bool) -> Result {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    integers!(|writer, v| {
        write_integer(v, writer.out);
        Ok(())
    });
    fn serialize_f32(self, v: f32) -> Result {
        write_float(v, v.is_finite(), self.out);
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> Result {
        write_f64(v, self.out);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result {
        write_str(v.encode_utf8(&mut [0; 4]), self.out);
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result {
        write_str(v, self.out);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result {
        let mut array = Compound::open(self, b"[", b"]");
        v.iter().try_for_each(|byte| array.element(byte))?;
        array.end()
    }
    fn serialize_none(self) -> Result {
        self.serialize_unit()
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result {
        open_variant(self.out, variant);
        value.serialize(&mut *self)?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'w, 'a>> {
        Ok(Compound::open(self, b"[", b"]"))
    }
    fn serialize_tuple(self, _len: usize) -> Result<Compound<'w, 'a>> {
        Ok(Compound::open(self, b"[", b"]"))
    }
    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Compound<'w, 'a>> {
        Ok(Compound::open(self, b"[", b"]"))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'w, 'a>> {
        open_variant(self.out, variant);
        Ok(Compound::open(self, b"[", b"]}"))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'w, 'a>> {
        Ok(Compound::open(self, b"{", b"}"))
    }
    fn serialize_struct(self, name: &'static str, _len: usize) -> Result<Compound<'w, 'a>> {
        if name == RAW_VALUE {
            return Ok(Compound {
                raw: true,
                ..Compound::open(self, b"", b"")
            });
        }
        Ok(Compound::open(self, b"{", b"}"))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'w, 'a>> {
        open_variant(self.out, variant);
        Ok(Compound::open(self, b"{", b"}}"))
    }
    fn collect_str<T: ?Sized + fmt::Display>(self, value: &T) -> Result {
        write_display(value, self.out)
    }
}

/// The sequence traits each add an element.
macro_rules! elements {
    ($($serialize_trait:ident::$method:ident),*) => {$(
        impl ser::$serialize_trait for Compound<'_, '_> {
            type Ok = ();
            type Error = serde_json::Error;
            fn $method<T: ?Sized + Serialize>(&mut self, value: &T) -> Result {
                self.element(value)
            }
            fn end(self) -> Result {
                Compound::end(self)
            }
        }
    )*};
}

elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = serde_json::Error;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result {
        self.separate();
        key.serialize(MapKey(self.writer.out))
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result {
        self.writer.out.push(b':');
        value.serialize(&mut *self.writer)
    }
    fn end(self) -> Result {
        Compound::end(self)
    }
}

/// The struct traits each add a named field.
macro_rules! fields {
    ($($serialize_trait:ident),*) => {$(
        impl ser::$serialize_trait for Compound<'_, '_> {
            type Ok = ();
            type Error = serde_json::Error;
            fn serialize_field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result {
                self.field(key, value)
            }
            fn end(self) -> Result {
                Compound::end(self)
            }
        }
    )*};
}

fields!(SerializeStruct, SerializeStructVariant);

/// An object key: a string, or a boolean, integer or finite float written
/// as one, as serde_json accepts them.
struct MapKey<'o>(&'o mut Vec<u8>);

fn key_must_be_a_string() -> serde_json::Error {
    ser::Error::custom("key must be a string")
}

impl MapKey<'_> {
    fn quoted(self, write: impl FnOnce(&mut Vec<u8>)) -> Result {
        self.0.push(b'"');
        write(self.0);
        self.0.push(b'"');
        Ok(())
    }
}

impl ser::Serializer for MapKey<'_> {
    type Ok = ();
    type Error = serde_json::Error;
    type SerializeSeq = Impossible<(), serde_json::Error>;
    type SerializeTuple = Impossible<(), serde_json::Error>;
    type SerializeTupleStruct = Impossible<(), serde_json::Error>;
    type SerializeTupleVariant = Impossible<(), serde_json::Error>;
    type SerializeMap = Impossible<(), serde_json::Error>;
    type SerializeStruct = Impossible<(), serde_json::Error>;
    type SerializeStructVariant = Impossible<(), serde_json::Error>;

    fn serialize_str(self, v: &str) -> Result {
        write_str(v, self.0);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_bool(self, v: bool) -> Result {
        self.serialize_str(if v { "true" } else { "false" })
    }
    integers!(|key, v| key.quoted(|out| write_integer(v, out)));
    fn serialize_f32(self, v: f32) -> Result {
        if !v.is_finite() {
            return Err(ser::Error::custom("float key must be finite"));
        }
        self.quoted(|out| write_float(v, true, out))
    }
    fn serialize_f64(self, v: f64) -> Result {
        if !v.is_finite() {
            return Err(ser::Error::custom("float key must be finite"));
        }
        self.quoted(|out| write_float(v, true, out))
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result {
        value.serialize(self)
    }
    fn collect_str<T: ?Sized + fmt::Display>(self, value: &T) -> Result {
        write_display(value, self.0)
    }

    fn serialize_bytes(self, _v: &[u8]) -> Result {
        Err(key_must_be_a_string())
    }
    fn serialize_none(self) -> Result {
        Err(key_must_be_a_string())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, _value: &T) -> Result {
        Err(key_must_be_a_string())
    }
    fn serialize_unit(self) -> Result {
        Err(key_must_be_a_string())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result {
        Err(key_must_be_a_string())
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result {
        Err(key_must_be_a_string())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(key_must_be_a_string())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap> {
        Err(key_must_be_a_string())
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeStruct> {
        Err(key_must_be_a_string())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(key_must_be_a_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use serde_json::json;

    fn ours<T: ?Sized + Serialize>(value: &T) -> String {
        let mut out = Vec::new();
        write(value, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn same_as_serde_json<T: ?Sized + Serialize>(value: &T) {
        assert_eq!(ours(value), serde_json::to_string(value).unwrap());
    }

    #[test]
    fn every_character_is_escaped_as_serde_json_escapes_it() {
        // Every ASCII byte, at every offset around the 16-byte chunks.
        let all: String = (0u8..=0x7F).map(char::from).collect();
        for start in 0..40 {
            let text = format!("{}{all}{}", "a".repeat(start), "é€😀".repeat(start % 3));
            same_as_serde_json(&text);
            same_as_serde_json(&text.as_str()[..start]);
        }
        for c in ['\u{7f}', '\u{80}', '\u{2028}', '\u{fffd}', '\u{10ffff}'] {
            same_as_serde_json(&c);
            same_as_serde_json(&format!("x{c}\"y"));
        }
    }

    #[test]
    fn the_word_check_agrees_with_the_byte_check() {
        let bytewise = |w: u64| w.to_le_bytes().iter().any(|&b| needs_escape(b));
        // Every byte at every place, among bytes that do and do not need escaping.
        for filler in [b'a', 0xFF, 0x80, 0x1F, b'"', 0x21, 0x5D] {
            for byte in 0..=255u8 {
                for place in 0..8 {
                    let mut bytes = [filler; 8];
                    bytes[place] = byte;
                    let word = u64::from_le_bytes(bytes);
                    assert_eq!(word_needs_escape(word), bytewise(word), "{bytes:?}");
                }
            }
        }
        // And words of random bytes (xorshift).
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..500_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            assert_eq!(word_needs_escape(state), bytewise(state), "{state:#x}");
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_block_check_agrees_with_the_byte_check() {
        let bytewise = |block: &[u8; 16]| {
            (block.iter().enumerate())
                .filter(|&(_, &b)| needs_escape(b))
                .fold(0u32, |mask, (i, _)| mask | 1 << i)
        };
        for filler in [b'a', 0xFF, 0x80, 0x1F, 0x20, b'"', b'\\'] {
            for byte in 0..=255u8 {
                for place in 0..16 {
                    let mut block = [filler; 16];
                    block[place] = byte;
                    assert_eq!(sse2::escape_mask(&block), bytewise(&block), "{block:?}");
                }
            }
        }
    }

    #[test]
    fn values_are_written_as_serde_json_writes_them() {
        same_as_serde_json(&json!({
            "a": [1, -2, 3.5, 1e300, -0.0, 5e-324, u64::MAX, i64::MIN, null, true, false],
            "nested": {"": [], "x": {}, "q\"\\\n": [[{"k": "v"}]]},
            "é": "\u{1}\u{1f}\t\r\n\u{8}\u{c}"
        }));
        for f in [0.1f32, 0.229, 1.0, 3.4e38, 1e-45, f32::NAN, f32::INFINITY] {
            same_as_serde_json(&f);
            same_as_serde_json(&f64::from(f));
        }
        same_as_serde_json(&(1u8, 'c', "s", [0u128, u128::MAX], [i128::MIN]));
        same_as_serde_json(&Some(()));
        same_as_serde_json(&serde_bytes_like(b"\x00\xff"));
    }

    /// Bytes serialized as bytes (`serialize_bytes`), as serde_bytes does.
    fn serde_bytes_like(bytes: &'static [u8]) -> impl Serialize {
        struct Bytes(&'static [u8]);
        impl Serialize for Bytes {
            fn serialize<S: ser::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_bytes(self.0)
            }
        }
        Bytes(bytes)
    }

    /// serde_json's raw values (support-answer appends its reply to a
    /// ticket's messages as they came) are written as their text.
    #[test]
    fn raw_values_are_written_as_their_text() {
        use serde_json::value::{to_raw_value, RawValue};
        let messages: Vec<Box<RawValue>> = vec![
            serde_json::from_str(r#"{"role":"user", "content":"a\u00e9 \"q\""}"#).unwrap(),
            to_raw_value(&json!({"role": "bot", "n": [1, 2.5]})).unwrap(),
        ];
        same_as_serde_json(&messages);
        same_as_serde_json(&json!({"k": 1}).as_object().map(|_| messages.first()));
        assert!(
            ours(&messages).contains(r#""content":"a\u00e9 \"q\"""#),
            "as written"
        );
    }

    #[test]
    fn enums_structs_and_map_keys_match_serde_json() {
        #[derive(Serialize)]
        #[serde(rename_all = "snake_case")]
        enum E {
            Unit,
            Newtype(u8),
            Tuple(u8, &'static str),
            Struct {
                a: u8,
                #[serde(skip_serializing_if = "Option::is_none")]
                b: Option<u8>,
            },
        }
        #[derive(Serialize)]
        struct S {
            e: Vec<E>,
            #[serde(flatten)]
            extra: std::collections::BTreeMap<String, u8>,
            at: jiff::Timestamp,
            empty: (),
        }
        same_as_serde_json(&S {
            e: vec![
                E::Unit,
                E::Newtype(1),
                E::Tuple(2, "t"),
                E::Struct { a: 3, b: None },
            ],
            extra: [("k\"".to_string(), 1)].into(),
            at: "2026-11-24T09:00:00Z".parse().unwrap(),
            empty: (),
        });
        let keys: std::collections::BTreeMap<i64, bool> = [(-1, true), (7, false)].into();
        same_as_serde_json(&keys);
        let keys: std::collections::BTreeMap<bool, u8> = [(true, 1)].into();
        same_as_serde_json(&keys);
        let keys: std::collections::BTreeMap<char, u8> = [('"', 1)].into();
        same_as_serde_json(&keys);
        let mut out = Vec::new();
        let refused: std::collections::BTreeMap<Vec<u8>, u8> = [(vec![1], 1)].into();
        assert!(write(&refused, &mut out).is_err());
        assert!(serde_json::to_vec(&refused).is_err());
    }
}
