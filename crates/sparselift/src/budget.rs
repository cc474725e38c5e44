//! Memory estimates checked before large allocations: a size taken from input (a lift
//! size, a sample count, a batch) is turned into bytes with saturating arithmetic, the
//! parts are added up, and a total above the machine's memory is refused with the
//! estimate, its parts and what to change — rather than an allocation failure that aborts
//! the process, or an overflow.

use crate::{Error, Result};

/// Fallback memory budget when the machine's memory cannot be read (`/proc/meminfo`).
const DEFAULT_MEMORY: u64 = 64 << 30;

/// Total memory of the machine (`MemTotal` of `/proc/meminfo`), or a fixed 64 GiB.
pub fn machine_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib.saturating_mul(1024))
        })
        .unwrap_or(DEFAULT_MEMORY)
}

/// `count` items of `each` bytes, saturating at `u64::MAX` (which no machine holds).
pub fn bytes(count: impl TryInto<u64>, each: u64) -> u64 {
    count.try_into().unwrap_or(u64::MAX).saturating_mul(each)
}

/// A byte count for messages: `1.5 GiB`, or `16 EiB or more` when it saturated.
pub fn show(bytes: u64) -> String {
    const GIB: f64 = (1u64 << 30) as f64;
    if bytes == u64::MAX {
        "16 EiB or more".into()
    } else if bytes >= 1 << 30 {
        format!("{:.1} GiB", bytes as f64 / GIB)
    } else {
        format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
    }
}

/// The named parts of a memory estimate.
#[derive(Clone, Debug, Default)]
pub struct Estimate {
    parts: Vec<(String, u64)>,
}

impl Estimate {
    /// Adds a part of `bytes` bytes, named `what` in the message.
    pub fn add(&mut self, what: impl Into<String>, bytes: u64) -> &mut Self {
        self.parts.push((what.into(), bytes));
        self
    }

    /// The estimate in bytes (saturating).
    pub fn total(&self) -> u64 {
        self.parts
            .iter()
            .fold(0u64, |t, (_, b)| t.saturating_add(*b))
    }

    /// Fails when the estimate exceeds `budget` bytes: the error, at `at`, gives the total,
    /// its parts and `hint` (what to change).
    pub fn check_against(&self, budget: u64, at: &str, hint: &str) -> Result<()> {
        let total = self.total();
        if total <= budget {
            return Ok(());
        }
        let parts: Vec<String> = self
            .parts
            .iter()
            .filter(|(_, b)| *b > 0)
            .map(|(w, b)| format!("{w} {}", show(*b)))
            .collect();
        Err(Error::invalid(
            at,
            format!(
                "needs an estimated {} of memory ({}), more than this machine's {}",
                show(total),
                parts.join(", "),
                show(budget)
            ),
        )
        .with_hint(hint))
    }

    /// [`check_against`](Self::check_against) the machine's memory.
    pub fn check(&self, at: &str, hint: &str) -> Result<()> {
        self.check_against(machine_memory(), at, hint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_saturate_and_the_message_names_every_part() {
        assert_eq!(bytes(u64::MAX, 4), u64::MAX);
        assert_eq!(bytes(usize::MAX, 1), u64::MAX);
        assert_eq!(bytes(3u32, 4), 12);
        let mut e = Estimate::default();
        e.add("θ", 3 << 30)
            .add("gradients", 3 << 30)
            .add("empty", 0);
        assert!(e.check_against(6 << 30, "run", "h").is_ok());
        let m = e
            .check_against(4 << 30, "run", "use a smaller --size")
            .unwrap_err();
        let m = m.to_string();
        assert!(
            m.contains("an estimated 6.0 GiB") && m.contains("θ 3.0 GiB, gradients 3.0 GiB"),
            "{m}"
        );
        assert!(m.contains("this machine's 4.0 GiB") && m.contains("use a smaller --size"));
        assert!(!m.contains("empty"), "{m}");
        e.add("data", u64::MAX);
        let m = e
            .check_against(1 << 30, "run", "h")
            .unwrap_err()
            .to_string();
        assert!(
            m.contains("an estimated 16 EiB or more") && m.len() < 300,
            "{m}"
        );
    }
}
