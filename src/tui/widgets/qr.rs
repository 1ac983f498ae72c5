//! A QR code of the verification URL (the `qrcode` crate, error correction level L) and a
//! half-block renderer, so a phone can open the URL when the terminal has room for it.
//!
//! Light modules are drawn as foreground blocks and dark ones as background, which reads
//! correctly on the dark terminals operators mostly use; phone scanners accept both.

use qrcode::{EcLevel, Version};

/// Versions up to 5 (37 modules, 19 rows with the quiet zone) fit the screens that show
/// them; a verification URL needs far less than the 106 bytes version 5 holds.
const LARGEST_VERSION: i16 = 5;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrCode {
    pub size: usize,
    modules: Vec<bool>,
}

impl QrCode {
    pub fn dark(&self, x: usize, y: usize) -> bool {
        self.modules[y * self.size + x]
    }

    /// Encodes `data` in the smallest version that holds it, or `None` when that is
    /// larger than a terminal shows.
    pub fn encode(data: &[u8]) -> Option<QrCode> {
        let code = qrcode::QrCode::with_error_correction_level(data, EcLevel::L).ok()?;
        match code.version() {
            Version::Normal(v) if v <= LARGEST_VERSION => Some(QrCode {
                size: code.width(),
                modules: code
                    .to_colors()
                    .into_iter()
                    .map(|c| c == qrcode::Color::Dark)
                    .collect(),
            }),
            _ => None,
        }
    }

    /// Rows of text, two modules per character cell, with a quiet zone of `quiet` modules.
    pub fn to_lines(&self, quiet: usize) -> Vec<String> {
        let full = self.size + 2 * quiet;
        let light = |x: usize, y: usize| -> bool {
            if x < quiet || y < quiet || x >= quiet + self.size || y >= quiet + self.size {
                return true;
            }
            !self.dark(x - quiet, y - quiet)
        };
        (0..full)
            .step_by(2)
            .map(|y| {
                (0..full)
                    .map(|x| {
                        let top = light(x, y);
                        let bottom = y + 1 >= full || light(x, y + 1);
                        match (top, bottom) {
                            (true, true) => '█',
                            (true, false) => '▀',
                            (false, true) => '▄',
                            (false, false) => ' ',
                        }
                    })
                    .collect()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference matrix from an independent encoder (segno 1.6, "hi", 1-L, mask 2).
    #[test]
    fn matrix_matches_an_independent_encoder() {
        let expected = [
            "111111100100101111111",
            "100000101001001000001",
            "101110100100001011101",
            "101110101001001011101",
            "101110100011101011101",
            "100000101110101000001",
            "111111101010101111111",
            "000000000011100000000",
            "111110111100110101010",
            "101001000010100100001",
            "010001110011010011110",
            "111101010000000110100",
            "101011100101010010101",
            "000000001011111001001",
            "111111101000101100010",
            "100000100111111001001",
            "101110101010100100100",
            "101110101100100100100",
            "101110101001010011100",
            "100000101100000110100",
            "111111101111010011110",
        ];
        let qr = QrCode::encode(b"hi").unwrap();
        let rows: Vec<String> = (0..qr.size)
            .map(|y| {
                (0..qr.size)
                    .map(|x| if qr.dark(x, y) { '1' } else { '0' })
                    .collect()
            })
            .collect();
        assert_eq!(rows, expected);
    }

    #[test]
    fn picks_the_smallest_version_and_refuses_too_long_data() {
        assert_eq!(QrCode::encode(b"https://x.io").unwrap().size, 21);
        let url = b"https://login.salesforce.com/setup/connect";
        assert_eq!(QrCode::encode(url).unwrap().size, 29);
        assert!(QrCode::encode(&[b'a'; 106]).is_some());
        assert!(QrCode::encode(&[b'a'; 107]).is_none());
    }

    #[test]
    fn renders_half_blocks_with_quiet_zone() {
        let qr = QrCode::encode(b"hi").unwrap();
        let lines = qr.to_lines(2);
        assert_eq!(lines.len(), (21usize + 4).div_ceil(2));
        assert!(lines.iter().all(|l| l.chars().count() == 25));
        assert!(lines[0].chars().all(|c| c == '█'), "quiet zone is light");
    }
}
