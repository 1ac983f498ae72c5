//! A minimal QR code encoder (byte mode, error correction level L, versions 1–5, so up to
//! 106 bytes: enough for a verification URL) and a half-block renderer. Written here
//! because the only dependency-free alternatives are far larger than this file.
//!
//! Light modules are drawn as foreground blocks and dark ones as background, which reads
//! correctly on the dark terminals operators mostly use; phone scanners accept both.

/// Data codewords and error-correction codewords per version (level L, one block each).
const VERSIONS: [(usize, usize); 5] = [(19, 7), (34, 10), (55, 15), (80, 20), (108, 26)];
/// Centre of the single alignment pattern of versions 2–5.
const ALIGNMENT: [usize; 5] = [0, 18, 22, 26, 30];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrCode {
    pub size: usize,
    modules: Vec<bool>,
}

impl QrCode {
    pub fn dark(&self, x: usize, y: usize) -> bool {
        self.modules[y * self.size + x]
    }

    /// Encodes `data`, or `None` when it is longer than version 5 holds.
    pub fn encode(data: &[u8]) -> Option<QrCode> {
        let version = (1..=5).find(|v| data.len() + 2 <= VERSIONS[v - 1].0)?;
        let (data_len, ec_len) = VERSIONS[version - 1];
        let codewords = with_ecc(&data_codewords(data, data_len), ec_len);
        let best = (0..8)
            .map(|mask| build(version, &codewords, mask))
            .min_by_key(penalty)?;
        Some(best)
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

fn data_codewords(data: &[u8], capacity: usize) -> Vec<u8> {
    let mut bits: Vec<bool> = Vec::with_capacity(capacity * 8);
    let mut push = |value: u32, len: usize| {
        for i in (0..len).rev() {
            bits.push((value >> i) & 1 == 1);
        }
    };
    push(0b0100, 4);
    push(data.len() as u32, 8);
    for b in data {
        push(*b as u32, 8);
    }
    let terminator = (capacity * 8 - bits.len()).min(4);
    bits.extend(std::iter::repeat_n(false, terminator));
    while bits.len() % 8 != 0 {
        bits.push(false);
    }
    let mut out: Vec<u8> = bits
        .chunks(8)
        .map(|c| c.iter().fold(0u8, |acc, b| (acc << 1) | *b as u8))
        .collect();
    for pad in [0xEC, 0x11].into_iter().cycle() {
        if out.len() >= capacity {
            break;
        }
        out.push(pad);
    }
    out
}

fn gf_mul(a: u8, b: u8) -> u8 {
    let mut r: u16 = 0;
    for i in (0..8).rev() {
        r = (r << 1) ^ ((r >> 7) * 0x11D);
        r ^= ((b as u16 >> i) & 1) * a as u16;
    }
    r as u8
}

/// Appends the Reed–Solomon error-correction codewords.
fn with_ecc(data: &[u8], ec_len: usize) -> Vec<u8> {
    // Generator polynomial coefficients (highest degree first, leading 1 dropped).
    let mut generator = vec![0u8; ec_len];
    generator[ec_len - 1] = 1;
    let mut root = 1u8;
    for _ in 0..ec_len {
        for j in 0..ec_len {
            generator[j] = gf_mul(generator[j], root);
            if j + 1 < ec_len {
                generator[j] ^= generator[j + 1];
            }
        }
        root = gf_mul(root, 0x02);
    }
    let mut remainder = vec![0u8; ec_len];
    for b in data {
        let factor = b ^ remainder[0];
        remainder.remove(0);
        remainder.push(0);
        for (r, g) in remainder.iter_mut().zip(&generator) {
            *r ^= gf_mul(*g, factor);
        }
    }
    let mut out = data.to_vec();
    out.extend(remainder);
    out
}

struct Grid {
    size: usize,
    modules: Vec<bool>,
    function: Vec<bool>,
}

impl Grid {
    fn set_function(&mut self, x: usize, y: usize, dark: bool) {
        let i = y * self.size + x;
        self.modules[i] = dark;
        self.function[i] = true;
    }
}

fn build(version: usize, codewords: &[u8], mask: u8) -> QrCode {
    let size = version * 4 + 17;
    let mut g = Grid {
        size,
        modules: vec![false; size * size],
        function: vec![false; size * size],
    };
    for i in 0..size {
        g.set_function(6, i, i % 2 == 0);
        g.set_function(i, 6, i % 2 == 0);
    }
    for (cx, cy) in [(3, 3), (size - 4, 3), (3, size - 4)] {
        for dy in -4i32..=4 {
            for dx in -4i32..=4 {
                let (x, y) = (cx as i32 + dx, cy as i32 + dy);
                if (0..size as i32).contains(&x) && (0..size as i32).contains(&y) {
                    let dist = dx.abs().max(dy.abs());
                    g.set_function(x as usize, y as usize, dist != 2 && dist != 4);
                }
            }
        }
    }
    if version >= 2 {
        let c = ALIGNMENT[version - 1] as i32;
        for dy in -2i32..=2 {
            for dx in -2i32..=2 {
                let dark = dx.abs().max(dy.abs()) != 1;
                g.set_function((c + dx) as usize, (c + dy) as usize, dark);
            }
        }
    }
    draw_format(&mut g, mask);

    let mut bit = 0usize;
    let total_bits = codewords.len() * 8;
    let mut right = size as i32 - 1;
    while right >= 1 {
        if right == 6 {
            right = 5;
        }
        for vert in 0..size {
            for j in 0..2 {
                let x = (right - j) as usize;
                let upward = (right + 1) & 2 == 0;
                let y = if upward { size - 1 - vert } else { vert };
                let i = y * size + x;
                if !g.function[i] && bit < total_bits {
                    g.modules[i] = (codewords[bit >> 3] >> (7 - (bit & 7))) & 1 == 1;
                    bit += 1;
                }
            }
        }
        right -= 2;
    }
    for y in 0..size {
        for x in 0..size {
            let i = y * size + x;
            if !g.function[i] && masked(mask, x, y) {
                g.modules[i] = !g.modules[i];
            }
        }
    }
    QrCode {
        size,
        modules: g.modules,
    }
}

fn masked(mask: u8, x: usize, y: usize) -> bool {
    match mask {
        0 => (x + y) % 2 == 0,
        1 => y % 2 == 0,
        2 => x % 3 == 0,
        3 => (x + y) % 3 == 0,
        4 => (x / 3 + y / 2) % 2 == 0,
        5 => x * y % 2 + x * y % 3 == 0,
        6 => (x * y % 2 + x * y % 3) % 2 == 0,
        _ => ((x + y) % 2 + x * y % 3) % 2 == 0,
    }
}

fn draw_format(g: &mut Grid, mask: u8) {
    // Level L is 0b01 in the format field.
    let data = (0b01u32 << 3) | mask as u32;
    let mut rem = data;
    for _ in 0..10 {
        rem = (rem << 1) ^ ((rem >> 9) * 0x537);
    }
    let bits = ((data << 10) | rem) ^ 0x5412;
    let bit = |i: u32| (bits >> i) & 1 == 1;
    let size = g.size;
    for i in 0..=5 {
        g.set_function(8, i, bit(i as u32));
    }
    g.set_function(8, 7, bit(6));
    g.set_function(8, 8, bit(7));
    g.set_function(7, 8, bit(8));
    for i in 9..15 {
        g.set_function(14 - i, 8, bit(i as u32));
    }
    for i in 0..8 {
        g.set_function(size - 1 - i, 8, bit(i as u32));
    }
    for i in 8..15 {
        g.set_function(8, size - 15 + i, bit(i as u32));
    }
    g.set_function(8, size - 8, true);
}

/// The standard mask penalty (runs, 2×2 blocks, finder-like patterns, dark balance).
fn penalty(qr: &QrCode) -> u32 {
    let n = qr.size;
    let mut score = 0u32;
    let line = |i: usize, horizontal: bool| -> Vec<bool> {
        (0..n)
            .map(|j| {
                if horizontal {
                    qr.dark(j, i)
                } else {
                    qr.dark(i, j)
                }
            })
            .collect()
    };
    for i in 0..n {
        for horizontal in [true, false] {
            let l = line(i, horizontal);
            let mut run = 1;
            for j in 1..=n {
                if j < n && l[j] == l[j - 1] {
                    run += 1;
                } else {
                    if run >= 5 {
                        score += 3 + (run - 5) as u32;
                    }
                    run = 1;
                }
            }
            const FINDER: [bool; 11] = [
                true, false, true, true, true, false, true, false, false, false, false,
            ];
            for w in l.windows(11) {
                let reversed: Vec<bool> = FINDER.iter().rev().copied().collect();
                if w == FINDER || w == reversed.as_slice() {
                    score += 40;
                }
            }
        }
    }
    for y in 0..n - 1 {
        for x in 0..n - 1 {
            let c = qr.dark(x, y);
            if c == qr.dark(x + 1, y) && c == qr.dark(x, y + 1) && c == qr.dark(x + 1, y + 1) {
                score += 3;
            }
        }
    }
    let dark = qr.modules.iter().filter(|d| **d).count();
    let total = n * n;
    let k = ((dark * 20).abs_diff(total * 10))
        .div_ceil(total)
        .saturating_sub(1);
    score + k as u32 * 10
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reed_solomon_matches_the_standard_example() {
        // ISO/IEC 18004 annex example: "HELLO WORLD" at 1-M.
        let data = [
            32, 91, 11, 120, 209, 114, 220, 77, 67, 64, 236, 17, 236, 17, 236, 17,
        ];
        let out = with_ecc(&data, 10);
        assert_eq!(&out[16..], &[196, 35, 39, 119, 235, 215, 231, 226, 93, 23]);
    }

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
        let (data_len, ec_len) = VERSIONS[0];
        let codewords = with_ecc(&data_codewords(b"hi", data_len), ec_len);
        let qr = build(1, &codewords, 2);
        let rows: Vec<String> = (0..qr.size)
            .map(|y| {
                (0..qr.size)
                    .map(|x| if qr.dark(x, y) { '1' } else { '0' })
                    .collect()
            })
            .collect();
        assert_eq!(rows, expected);
        assert_eq!(
            QrCode::encode(b"hi").unwrap(),
            qr,
            "mask 2 has the lowest penalty"
        );
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
