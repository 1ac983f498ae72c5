//! A decimal string in PostgreSQL's binary `numeric` format, so a page can be COPYed
//! straight into an object table whose currency and percent columns are `numeric(p, s)`.
//! The server applies the column's precision and scale on receipt, as the cast in the
//! staging upsert does; every digit of the JSON number reaches it.

/// `numeric`'s largest display scale (`NUMERIC_DSCALE_MAX`).
const MAX_DSCALE: i64 = 0x3FFF;
/// More significant digits than any `numeric(p, s)` column holds (p <= 1000): refuse
/// rather than build an oversized value from a hostile string.
const MAX_DIGITS: usize = 1_100;
/// Decimal exponents beyond this cannot fit a column either.
const MAX_EXPONENT: i64 = 20_000;

const NEGATIVE: u16 = 0x4000;

/// The binary `numeric` for `text` (`-12.50`, `3`, `1.5e3`, `.25`), or `None` when it is
/// not a finite decimal number of a size a column could hold.
pub fn encode(text: &str) -> Option<Vec<u8>> {
    let (negative, digits, exponent, dscale) = parse(text)?;
    let (weight, groups) = base_10000(&digits, exponent)?;
    let ndigits = i16::try_from(groups.len()).ok()?;
    let weight = i16::try_from(weight).ok()?;
    let sign = if negative && !groups.is_empty() {
        NEGATIVE
    } else {
        0
    };
    let dscale = u16::try_from(dscale).ok()?;
    let mut out = Vec::with_capacity(8 + groups.len() * 2);
    out.extend_from_slice(&ndigits.to_be_bytes());
    out.extend_from_slice(&weight.to_be_bytes());
    out.extend_from_slice(&sign.to_be_bytes());
    out.extend_from_slice(&dscale.to_be_bytes());
    for g in groups {
        out.extend_from_slice(&g.to_be_bytes());
    }
    Some(out)
}

/// Sign, significant digits (no leading or trailing zeros), the power of ten of the last
/// of them, and the display scale (digits after the point as written).
fn parse(text: &str) -> Option<(bool, Vec<u8>, i64, i64)> {
    let text = text.trim();
    let (negative, rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exp) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], rest[i + 1..].parse::<i64>().ok()?),
        None => (rest, 0),
    };
    if exp.abs() > MAX_EXPONENT {
        return None;
    }
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    if !int_part
        .bytes()
        .chain(frac_part.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let written_scale = i64::try_from(frac_part.len()).ok()?;
    let dscale = written_scale.saturating_sub(exp).clamp(0, MAX_DSCALE);
    let mut digits: Vec<u8> = int_part
        .bytes()
        .chain(frac_part.bytes())
        .map(|b| b - b'0')
        .skip_while(|&d| d == 0)
        .collect();
    let mut last_power = exp.saturating_sub(written_scale);
    while digits.last() == Some(&0) {
        digits.pop();
        last_power = last_power.saturating_add(1);
    }
    if digits.len() > MAX_DIGITS {
        return None;
    }
    Some((negative, digits, last_power, dscale))
}

/// Group decimal digits whose last has power `last_power` into base-10000 digits aligned
/// on the decimal point; returns the power of 10000 of the first group and the groups.
fn base_10000(digits: &[u8], last_power: i64) -> Option<(i64, Vec<i16>)> {
    if digits.is_empty() {
        return Some((0, Vec::new()));
    }
    let len = i64::try_from(digits.len()).ok()?;
    let first_power = last_power.checked_add(len - 1)?;
    // Pad so the first digit sits at a group's top place and the last at a group's end.
    let lead = first_power.rem_euclid(4);
    let pad_front = usize::try_from(3 - lead).ok()?;
    let pad_back = usize::try_from(last_power.rem_euclid(4)).ok()?;
    let weight = first_power.div_euclid(4);
    let padded: Vec<u8> = std::iter::repeat_n(0, pad_front)
        .chain(digits.iter().copied())
        .chain(std::iter::repeat_n(0, pad_back))
        .collect();
    let groups = padded
        .chunks(4)
        .map(|c| c.iter().fold(0i16, |acc, &d| acc * 10 + i16::from(d)))
        .collect();
    Some((weight, groups))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (ndigits, weight, sign, dscale, groups) of an encoding.
    fn decode(b: &[u8]) -> (i16, i16, u16, u16, Vec<i16>) {
        let word = |i: usize| [b[i], b[i + 1]];
        let groups = (8..b.len())
            .step_by(2)
            .map(|i| i16::from_be_bytes(word(i)))
            .collect();
        (
            i16::from_be_bytes(word(0)),
            i16::from_be_bytes(word(2)),
            u16::from_be_bytes(word(4)),
            u16::from_be_bytes(word(6)),
            groups,
        )
    }

    #[test]
    fn digits_group_by_four_around_the_point() {
        // 1234567.89 = 123 4567 . 8900
        assert_eq!(
            decode(&encode("1234567.89").unwrap()),
            (3, 1, 0, 2, vec![123, 4567, 8900])
        );
        assert_eq!(
            decode(&encode("-0.5").unwrap()),
            (1, -1, NEGATIVE, 1, vec![5000])
        );
        assert_eq!(decode(&encode("10000").unwrap()), (1, 1, 0, 0, vec![1]));
        assert_eq!(decode(&encode("0.0001").unwrap()), (1, -1, 0, 4, vec![1]));
        assert_eq!(
            decode(&encode("0.00001").unwrap()),
            (1, -2, 0, 5, vec![1000])
        );
        assert_eq!(decode(&encode("1.5e3").unwrap()), (1, 0, 0, 0, vec![1500]));
        assert_eq!(decode(&encode(".25").unwrap()), (1, -1, 0, 2, vec![2500]));
        assert_eq!(decode(&encode("2E-2").unwrap()), (1, -1, 0, 2, vec![200]));
    }

    #[test]
    fn zero_has_no_digits_and_no_sign() {
        for z in ["0", "-0", "0.00", "000", "0e5"] {
            let (n, _, sign, _, groups) = decode(&encode(z).unwrap());
            assert_eq!((n, sign, groups.len()), (0, 0, 0), "{z}");
        }
        assert_eq!(decode(&encode("0.00").unwrap()).3, 2);
    }

    #[test]
    fn what_is_not_a_finite_decimal_is_refused() {
        for bad in [
            "", "-", ".", "1.2.3", "abc", "1e", "NaN", "inf", "1e99999", "1_000", " 1 2",
        ] {
            assert_eq!(encode(bad), None, "{bad:?}");
        }
        assert_eq!(encode(&"9".repeat(MAX_DIGITS + 1)), None);
        assert!(encode(&format!("{}.5", "0".repeat(5000))).is_some());
    }
}
