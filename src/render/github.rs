//! `--format github`: GitHub Actions workflow commands, so that a gate's
//! findings appear as annotations on the run. `::error` for each failing
//! cluster and check, `::warning` for unknowns and warnings, `::notice` for
//! the summary. Data is escaped exactly as GitHub's toolkit does
//! (actions/toolkit `command.ts`): `%`, CR and LF in messages, and also `:`
//! and `,` in property values.

use std::io::{self, Write};

use super::Listing;
use crate::finding::{Severity, Verdict};
use crate::report::Report;

/// A message: `%` first, then CR and LF. Other control characters are
/// shown escaped, never passed to the runner's log raw.
pub fn escape_data(s: &str) -> String {
    // Line by line, so that CR and LF stay themselves for the escaping
    // below while every other control character is shown escaped.
    let lines: Vec<String> = s
        .split('\n')
        .map(|line| {
            let (body, cr) = match line.strip_suffix('\r') {
                Some(body) => (body, "\r"),
                None => (line, ""),
            };
            format!("{}{cr}", super::text::visible(body))
        })
        .collect();
    lines.join("\n").replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// A property value: as a message, and `:` and `,` too.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(report: &Report, listing: &Listing, out: &mut dyn Write) -> io::Result<()> {
    for gap in &report.gaps {
        writeln!(
            out,
            "::warning title={}::{}",
            escape_property("ecs-key-preflight: not read"),
            escape_data(&gap.describe())
        )?;
    }
    for c in report.clusters.iter().filter(|c| listing.shows_cluster(c)) {
        let place = match &c.account_id {
            Some(a) => format!("{} ({a}/{})", c.cluster_name, c.region),
            None => format!("{} ({})", c.cluster_name, c.region),
        };
        for f in &c.findings {
            let command = match (f.verdict, f.severity) {
                (Verdict::Fail, _) => "error",
                (Verdict::Unknown, _) | (_, Severity::Warning | Severity::Error) => "warning",
                _ => continue,
            };
            let fix = f.remediation.as_deref().map(|r| format!("\nfix: {r}")).unwrap_or_default();
            writeln!(
                out,
                "::{command} title={}::{}",
                escape_property(&format!("{place} [{}]", f.check.id)),
                escape_data(&format!("{}{fix}", f.message))
            )?;
        }
    }
    let s = &report.summary;
    writeln!(
        out,
        "::notice title={}::{}",
        escape_property("ecs-key-preflight"),
        escape_data(&format!(
            "{} {} (exit {})",
            report.verdict.as_str().to_uppercase(),
            super::text::tally(s, ""),
            report.exit_code
        ))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_toolkit() {
        assert_eq!(escape_data("100% done\r\nnext"), "100%25 done%0D%0Anext");
        assert_eq!(escape_property("a: b, c%"), "a%3A b%2C c%25");
        // `::` inside a message cannot end it early, and ESC never reaches the log raw.
        assert_eq!(escape_data("x::error::y\u{1b}[2J"), "x::error::y\\x1b[2J");
    }
}
