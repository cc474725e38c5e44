//! Plain-text views of a [`Summary`]: an aligned terminal table and a one-line verdict.
//! The HTML and Markdown reports use the same number formats, so every view of one sweep
//! shows the same digits.

use super::summary::{FamilySummary, LearningNumber, SizeSummary, Summary};
use std::fmt::Write;

impl Summary {
    /// An aligned table, one row per family and size: successes/runs, rate, interval,
    /// median final loss and median wall time.
    pub fn table(&self) -> String {
        let ci = format!("{}% CI", percent(self.confidence));
        let header = [
            "family",
            "n",
            "ok/runs",
            "rate",
            ci.as_str(),
            "median final loss",
            "median wall s",
        ];
        let mut rows: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
        for f in &self.families {
            for s in &f.sizes {
                rows.push(vec![
                    f.family.clone(),
                    s.size.to_string(),
                    format!("{}/{}", s.successes, s.runs),
                    format!("{:.2}", s.rate),
                    interval(s),
                    loss(s.final_loss.q50),
                    seconds(s.cost.median_wall_s),
                ]);
            }
        }
        let widths: Vec<usize> = (0..header.len())
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        let mut out = String::new();
        for (i, row) in rows.iter().enumerate() {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .enumerate()
                // Names left-aligned, numbers right-aligned so digits line up.
                .map(|(c, (cell, &w))| match c {
                    0 => format!("{cell:<w$}"),
                    _ => format!("{cell:>w$}"),
                })
                .collect();
            let _ = writeln!(out, "{}", cells.join("  ").trim_end());
            if i == 0 {
                let total = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
                let _ = writeln!(out, "{}", "-".repeat(total));
            }
        }
        out
    }

    /// One line: the learning number of every family, e.g.
    /// `learning number n*(ε=0.001, δ=0.1), 95% confidence: mlp = 64; cnn not reached (largest tested n = 512)`.
    pub fn verdict(&self) -> String {
        let parts: Vec<String> = self.families.iter().map(family_verdict).collect();
        format!(
            "learning number n*(ε={}, δ={}), {}% confidence: {}",
            number(self.epsilon),
            number(self.delta),
            percent(self.confidence),
            parts.join("; ")
        )
    }
}

/// `mlp = 64` or `mlp not reached (largest tested n = 512)`.
pub fn family_verdict(f: &FamilySummary) -> String {
    match f.learning_number {
        LearningNumber::Reached { size } => format!("{} = {size}", f.family),
        LearningNumber::NotReached { largest_tested } => {
            format!(
                "{} not reached (largest tested n = {largest_tested})",
                f.family
            )
        }
    }
}

/// A parameter such as ε or δ, without trailing zeros: `0.001`, `1e-6`, `0.1`.
pub fn number(x: f64) -> String {
    if x != 0.0 && (x.abs() < 1e-3 || x.abs() >= 1e5) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

/// A loss in three significant digits: `3.21e-4`; `diverged` when not finite.
pub fn loss(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.2e}")
    } else {
        "diverged".to_string()
    }
}

/// `[0.69, 1.00]`.
pub fn interval(s: &SizeSummary) -> String {
    format!("[{:.2}, {:.2}]", s.interval.lower, s.interval.upper)
}

/// Three significant digits, plain decimals from 0.001 to 99999 (`0.00423`, `12.3`,
/// `1234`), exponent notation beyond; `-` when not finite.
pub fn significant(x: f64) -> String {
    if !x.is_finite() {
        return "-".to_string();
    }
    let a = x.abs();
    if a == 0.0 {
        return "0".to_string();
    }
    if !(1e-3..1e5).contains(&a) {
        return format!("{x:.2e}");
    }
    let decimals = (2 - a.log10().floor() as i32).max(0) as usize;
    format!("{x:.decimals$}")
}

/// Seconds, see [`significant`].
pub fn seconds(x: f64) -> String {
    significant(x)
}

/// `95` for 0.95, `99.9` for 0.999.
pub fn percent(confidence: f64) -> String {
    let p = confidence * 100.0;
    let rounded = (p * 1e6).round() / 1e6;
    format!("{rounded}")
}

/// Byte counts in decimal units, as on the plots' memory axis: `512 B`, `1.5 kB`, `12.0 MB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut x = n as f64;
    let mut unit = 0;
    while x >= 1000.0 && unit + 1 < UNITS.len() {
        x /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{x:.1} {}", UNITS[unit])
    }
}

/// Large counts with an SI suffix and three significant digits: `950`, `12.3k`, `4.56M`.
pub fn count(n: u64) -> String {
    let x = n as f64;
    let (scaled, suffix) = match x {
        x if x < 1e3 => return n.to_string(),
        x if x < 1e6 => (x / 1e3, "k"),
        x if x < 1e9 => (x / 1e6, "M"),
        x => (x / 1e9, "G"),
    };
    // Three significant digits, then drop trailing zeros.
    let decimals = if scaled >= 100.0 {
        0
    } else if scaled >= 10.0 {
        1
    } else {
        2
    };
    let digits = format!("{scaled:.decimals$}");
    let digits = if decimals > 0 {
        digits.trim_end_matches('0').trim_end_matches('.')
    } else {
        &digits
    };
    format!("{digits}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short_and_exact_enough() {
        assert_eq!(number(0.001), "0.001");
        assert_eq!(number(1e-6), "1e-6");
        assert_eq!(number(0.1), "0.1");
        assert_eq!(loss(3.2149e-4), "3.21e-4");
        assert_eq!(loss(f64::NAN), "diverged");
        assert_eq!(significant(0.004234), "0.00423");
        assert_eq!(significant(12.34), "12.3");
        assert_eq!(significant(1234.5), "1234");
        assert_eq!(significant(2.5e6), "2.50e6");
        assert_eq!(percent(0.95), "95");
        assert_eq!(percent(0.999), "99.9");
    }

    #[test]
    fn counts_and_bytes_use_si_prefixes() {
        assert_eq!(count(950), "950");
        assert_eq!(count(12_345), "12.3k");
        assert_eq!(count(4_560_000), "4.56M");
        assert_eq!(count(123_456), "123k");
        assert_eq!(count(2_000_000_000), "2G");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1_500), "1.5 kB");
        assert_eq!(bytes(12_000_000), "12.0 MB");
    }
}
