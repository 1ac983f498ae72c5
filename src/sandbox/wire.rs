//! Salesforce's JSON value formats: datetimes as `2024-01-31T12:00:00.000+0000`, dates as
//! `2024-01-31`, and an allocation-light writer for record values.

use super::datagen::Val;

/// (year, month, day) of a day count since 1970-01-01 (Howard Hinnant's civil_from_days).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn push_digits(out: &mut Vec<u8>, mut n: u64, width: usize) {
    let start = out.len();
    out.resize(start + width, b'0');
    for i in (0..width).rev() {
        out[start + i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// Writes `YYYY-MM-DD` (unquoted) for a day count since 1970-01-01.
pub fn push_date(out: &mut Vec<u8>, days: i64) {
    let (y, m, d) = civil_from_days(days);
    push_digits(out, y.rem_euclid(10_000) as u64, 4);
    out.push(b'-');
    push_digits(out, u64::from(m), 2);
    out.push(b'-');
    push_digits(out, u64::from(d), 2);
}

/// Writes `"YYYY-MM-DDThh:mm:ss.mmm+0000"` without allocating (the hot path of paging).
pub fn write_datetime(out: &mut Vec<u8>, ms: i64) {
    out.push(b'"');
    push_datetime(out, ms);
    out.extend_from_slice(b"+0000\"");
}

/// Writes `YYYY-MM-DDThh:mm:ss.mmm` (unquoted, no zone: REST and Bulk differ there).
pub fn push_datetime(out: &mut Vec<u8>, ms: i64) {
    let rem = ms.rem_euclid(86_400_000) as u64;
    push_date(out, ms.div_euclid(86_400_000));
    out.push(b'T');
    push_digits(out, rem / 3_600_000, 2);
    out.push(b':');
    push_digits(out, rem / 60_000 % 60, 2);
    out.push(b':');
    push_digits(out, rem / 1000 % 60, 2);
    out.push(b'.');
    push_digits(out, rem % 1000, 3);
}

pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    // Generated text almost never needs escaping; one vectorisable scan decides.
    if !bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\') {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        match esc {
            Some(e) => out.extend_from_slice(e),
            None => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// A double as Salesforce prints it (`300.0`, never `300`); None for NaN and infinities,
/// which Salesforce cannot store.
pub fn number_text(f: f64) -> Option<String> {
    if !f.is_finite() {
        return None;
    }
    let mut s = f.to_string();
    if !s.contains('.') && !s.contains('e') {
        s.push_str(".0");
    }
    Some(s)
}

pub fn write_val(out: &mut Vec<u8>, v: &Val) {
    match v {
        Val::Null => out.extend_from_slice(b"null"),
        Val::Bool(true) => out.extend_from_slice(b"true"),
        Val::Bool(false) => out.extend_from_slice(b"false"),
        Val::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Val::Num(f) => match number_text(*f) {
            Some(s) => out.extend_from_slice(s.as_bytes()),
            None => out.extend_from_slice(b"null"),
        },
        Val::Str(s) => write_str(out, s),
        Val::Date(d) => {
            out.push(b'"');
            push_date(out, *d);
            out.push(b'"');
        }
        Val::DateTime(ms) => write_datetime(out, *ms),
        Val::Object(entries) => {
            out.push(b'{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, k);
                out.push(b':');
                write_val(out, v);
            }
            out.push(b'}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_use_salesforce_format() {
        // 2024-01-31T12:00:00Z
        let ms = days_from_civil(2024, 1, 31) * 86_400_000 + 12 * 3_600_000;
        let mut out = Vec::new();
        write_val(&mut out, &Val::DateTime(ms + 7));
        write_val(&mut out, &Val::Date(days_from_civil(2000, 2, 29)));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"2024-01-31T12:00:00.007+0000\"\"2000-02-29\""
        );
    }

    #[test]
    fn strings_are_escaped() {
        let mut out = Vec::new();
        write_str(&mut out, "a\"b\\c\n\u{1}");
        assert_eq!(String::from_utf8(out).unwrap(), r#""a\"b\\c\n\u0001""#);
    }
}
