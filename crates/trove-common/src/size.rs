//! Byte counts for people.
//!
//! One convention everywhere (CLI, error messages, the UI): **binary multiples written
//! KB, MB, GB, TB** (1 KB = 1024 bytes), the way most people and Windows read them. It is
//! what most of Trove's user-visible places already used, and it keeps Trove's own limits,
//! which are powers of two (20 MiB page cap, 256 MiB file cap, …), round: "20 MB", not
//! "21 MB".

const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
const STEP: f64 = 1024.0;

/// "17 bytes", "1 byte", "2 KB", "1.5 MB", "256 MB", "3.2 GB".
///
/// Below 1 KB the exact count is given. Above, one decimal below 10 of a unit (dropped
/// when it is `.0`), whole numbers from 10 on; a value that rounds up to 1024 of a unit
/// is written in the next one ("1 MB", not "1024 KB").
pub fn human_size(bytes: u64) -> String {
    if bytes == 1 {
        return "1 byte".to_owned();
    }
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / STEP;
    let mut unit = 0;
    loop {
        let shown = rounded(value);
        if shown >= STEP && unit + 1 < UNITS.len() {
            value /= STEP;
            unit += 1;
            continue;
        }
        return if shown.fract() == 0.0 {
            format!("{shown:.0} {}", UNITS[unit])
        } else {
            format!("{shown:.1} {}", UNITS[unit])
        };
    }
}

/// The number as it will be printed: tenths below 10, whole numbers from 10 on.
fn rounded(v: f64) -> f64 {
    if v >= 10.0 {
        v.round()
    } else {
        let tenths = (v * 10.0).round() / 10.0;
        // 9.96 rounds to 10.0: print it as a whole number like any other value ≥ 10.
        if tenths >= 10.0 {
            tenths.round()
        } else {
            tenths
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KB: u64 = 1024;
    const MB: u64 = 1024 * KB;
    const GB: u64 = 1024 * MB;

    #[test]
    fn bytes_are_exact() {
        assert_eq!(human_size(0), "0 bytes");
        assert_eq!(human_size(1), "1 byte");
        assert_eq!(human_size(17), "17 bytes");
        assert_eq!(human_size(900), "900 bytes");
        assert_eq!(human_size(1023), "1023 bytes");
    }

    #[test]
    fn binary_units_written_kb_mb_gb() {
        assert_eq!(human_size(KB), "1 KB");
        assert_eq!(human_size(2048), "2 KB");
        assert_eq!(human_size(1536), "1.5 KB");
        assert_eq!(human_size(512 * KB), "512 KB");
        assert_eq!(human_size(MB), "1 MB");
        assert_eq!(human_size(3 * MB / 2), "1.5 MB");
        assert_eq!(human_size(20 * MB), "20 MB");
        assert_eq!(human_size(256 * MB), "256 MB");
        assert_eq!(human_size(300 * MB), "300 MB");
        assert_eq!(human_size(2 * GB), "2 GB");
        assert_eq!(human_size(5 * GB / 2), "2.5 GB");
        assert_eq!(human_size(3 * 1024 * GB), "3 TB");
        assert_eq!(human_size(5000 * 1024 * GB), "5000 TB");
    }

    #[test]
    fn rounding() {
        // One decimal below 10, none from 10 on.
        assert_eq!(human_size(10 * KB + 900), "11 KB");
        assert_eq!(human_size(1234 * KB), "1.2 MB");
        // .0 is dropped; 9.96 is printed as 10.
        assert_eq!(human_size(KB + 10), "1 KB");
        assert_eq!(human_size(9 * KB + 1000), "10 KB");
        // A value rounding to 1024 of a unit moves to the next unit.
        assert_eq!(human_size(MB - 1), "1 MB");
        assert_eq!(human_size(GB - KB), "1 GB");
        assert_eq!(human_size(u64::MAX), "16777216 TB");
    }
}
