//! Tokens of SOQL with their byte offsets.

use super::{Pos, SoqlError};
use crate::sandbox::wire::days_from_civil;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// Identifier or keyword (keywords are matched case-insensitively by the parser).
    Word(String),
    Str(String),
    Number(f64),
    Date(i64),
    DateTime(i64),
    Comma,
    Dot,
    LParen,
    RParen,
    Colon,
    Op(&'static str),
    End,
}

pub fn tokenize(src: &str) -> Result<Vec<(Tok, Pos)>, SoqlError> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if let Some(tok) = one_byte_token(c) {
            out.push((tok, start));
            i += 1;
            continue;
        }
        let tok = match c {
            b'!' if b.get(i + 1) == Some(&b'=') => {
                i += 2;
                Tok::Op("!=")
            }
            b'<' | b'>' => {
                let two = b.get(i + 1) == Some(&b'=');
                let ne = c == b'<' && b.get(i + 1) == Some(&b'>');
                i += if two || ne { 2 } else { 1 };
                match (c, two, ne) {
                    (_, _, true) => Tok::Op("!="),
                    (b'<', true, _) => Tok::Op("<="),
                    (b'<', false, _) => Tok::Op("<"),
                    (_, true, _) => Tok::Op(">="),
                    _ => Tok::Op(">"),
                }
            }
            b'\'' => {
                let (s, next) = string_literal(src, i)?;
                i = next;
                Tok::Str(s)
            }
            b'0'..=b'9' if is_date_at(b, i) => {
                let (t, next) = date_literal(src, i)?;
                i = next;
                t
            }
            b'0'..=b'9' | b'-' | b'+' => {
                let mut j = i + 1;
                while j < b.len() && (b[j].is_ascii_digit() || b[j] == b'.') {
                    j += 1;
                }
                let text = &src[i..j];
                let n: f64 = text.parse().map_err(|_| {
                    SoqlError::malformed(start, format!("unexpected token: '{text}'"))
                })?;
                i = j;
                Tok::Number(n)
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let mut j = i + 1;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                    j += 1;
                }
                let w = src[i..j].to_string();
                i = j;
                Tok::Word(w)
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return Err(SoqlError::malformed(
                    start,
                    format!("unexpected token: '{ch}'"),
                ));
            }
        };
        out.push((tok, start));
    }
    out.push((Tok::End, src.len()));
    Ok(out)
}

/// Punctuation that is a whole token on its own.
fn one_byte_token(c: u8) -> Option<Tok> {
    Some(match c {
        b',' => Tok::Comma,
        b'.' => Tok::Dot,
        b'(' => Tok::LParen,
        b')' => Tok::RParen,
        b':' => Tok::Colon,
        b'=' => Tok::Op("="),
        _ => return None,
    })
}

fn string_literal(src: &str, start: usize) -> Result<(String, usize), SoqlError> {
    let mut s = String::new();
    let mut chars = src[start + 1..].char_indices();
    while let Some((off, ch)) = chars.next() {
        match ch {
            '\'' => return Ok((s, start + 1 + off + 1)),
            '\\' => match chars.next() {
                Some((_, 'n')) => s.push('\n'),
                Some((_, 't')) => s.push('\t'),
                Some((_, 'r')) => s.push('\r'),
                Some((_, other)) => s.push(other),
                None => break,
            },
            other => s.push(other),
        }
    }
    Err(SoqlError::malformed(start, "unterminated string literal"))
}

fn is_date_at(b: &[u8], i: usize) -> bool {
    b.len() >= i + 10
        && b[i..i + 4].iter().all(u8::is_ascii_digit)
        && b[i + 4] == b'-'
        && b[i + 5..i + 7].iter().all(u8::is_ascii_digit)
        && b[i + 7] == b'-'
        && b[i + 8..i + 10].iter().all(u8::is_ascii_digit)
}

fn num(src: &str, a: usize, b: usize) -> i64 {
    src.get(a..b).and_then(|s| s.parse().ok()).unwrap_or(-1)
}

/// `YYYY-MM-DD` or `YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh[:]mm)`.
fn date_literal(src: &str, start: usize) -> Result<(Tok, usize), SoqlError> {
    let b = src.as_bytes();
    let bad = || {
        SoqlError::malformed(
            start,
            format!("unexpected token: '{}'", literal_text(src, start)),
        )
    };
    let (y, mo, d) = (
        num(src, start, start + 4),
        num(src, start + 5, start + 7),
        num(src, start + 8, start + 10),
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    let days = days_from_civil(y, mo as u32, d as u32);
    let mut i = start + 10;
    if b.get(i) != Some(&b'T') {
        return Ok((Tok::Date(days), i));
    }
    i += 1;
    if b.len() < i + 8 || b[i + 2] != b':' || b[i + 5] != b':' {
        return Err(bad());
    }
    let (h, mi, s) = (
        num(src, i, i + 2),
        num(src, i + 3, i + 5),
        num(src, i + 6, i + 8),
    );
    if !(0..24).contains(&h) || !(0..60).contains(&mi) || !(0..61).contains(&s) {
        return Err(bad());
    }
    i += 8;
    let mut millis = 0i64;
    if b.get(i) == Some(&b'.') {
        let fstart = i + 1;
        i = fstart;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let frac = &src[fstart..i];
        if frac.is_empty() {
            return Err(bad());
        }
        let padded: String = frac.chars().chain("000".chars()).take(3).collect();
        millis = padded.parse().map_err(|_| bad())?;
    }
    let offset_min = match b.get(i) {
        Some(b'Z') => {
            i += 1;
            0
        }
        Some(sign @ (b'+' | b'-')) => {
            let sign = if *sign == b'-' { -1 } else { 1 };
            let hh = num(src, i + 1, i + 3);
            let (mm, next) = if b.get(i + 3) == Some(&b':') {
                (num(src, i + 4, i + 6), i + 6)
            } else {
                (num(src, i + 3, i + 5), i + 5)
            };
            if hh < 0 || mm < 0 {
                return Err(bad());
            }
            i = next;
            sign * (hh * 60 + mm)
        }
        _ => return Err(bad()),
    };
    let ms = days * 86_400_000 + ((h * 60 + mi) * 60 + s) * 1000 + millis - offset_min * 60_000;
    Ok((Tok::DateTime(ms), i))
}

fn literal_text(src: &str, start: usize) -> &str {
    let end = src[start..]
        .find(|c: char| c.is_whitespace() || c == ')' || c == ',')
        .map(|e| start + e)
        .unwrap_or(src.len());
    &src[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(s: &str) -> i64 {
        match tokenize(s).unwrap()[0].0 {
            Tok::DateTime(ms) => ms,
            ref t => panic!("{t:?}"),
        }
    }

    #[test]
    fn datetime_literal_forms_agree() {
        let z = dt("2024-01-31T12:00:00Z");
        assert_eq!(dt("2024-01-31T12:00:00.000+0000"), z);
        assert_eq!(dt("2024-01-31T12:00:00+00:00"), z);
        assert_eq!(dt("2024-01-31T12:00:00.000000Z"), z);
        assert_eq!(dt("2024-01-31T14:00:00+02:00"), z);
        assert_eq!(dt("2024-01-31T12:00:00.123456Z"), z + 123);
    }

    #[test]
    fn operators_and_strings() {
        let toks: Vec<Tok> = tokenize("a<>'it\\'s' <= -1.5")
            .unwrap()
            .into_iter()
            .map(|t| t.0)
            .collect();
        assert_eq!(
            toks,
            vec![
                Tok::Word("a".into()),
                Tok::Op("!="),
                Tok::Str("it's".into()),
                Tok::Op("<="),
                Tok::Number(-1.5),
                Tok::End
            ]
        );
    }
}
