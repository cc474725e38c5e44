//! Writes a report from a synthetic sweep (no training), to see what reports look like:
//!
//! ```text
//! cargo run --release -p sparselift --example synthetic_report -- /tmp/report
//! ```

#[path = "../tests/common/mod.rs"]
mod common;

use sparselift::experiment::Summary;
use sparselift::report::{write_report, ReportMeta};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "synthetic-report".into());
    let runs = common::synthetic_runs(24, 11);
    let summary = Summary::new(&runs, common::EPSILON, common::DELTA)?;
    let mut meta = ReportMeta::new("Synthetic sweep", common::EPSILON, common::DELTA);
    meta.description = "Made-up results with the shape of a real sweep: two lift families, \
                        24 seeds per size, success rising with lift size."
        .into();
    write_report(&dir, &summary, &runs, &meta)?;
    print!("{}", summary.table());
    println!("{}", summary.verdict());
    println!("wrote {dir}/report.html");
    Ok(())
}
