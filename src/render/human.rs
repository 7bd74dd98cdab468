//! `--format human`: for an operator at a terminal. One line per cluster with
//! its verdict, the key each usage resolves to, then every finding that needs
//! attention with the command that fixes it, and a summary line.
//!
//! Color is decided by the caller (`--color`, `NO_COLOR`, whether stdout is a
//! terminal); with `color == false` no escape code is ever written.

use std::io::{self, Write};

use colored::{ColoredString, Colorize};

use super::text::{count, tally, visible as v, visible_lines};
use crate::finding::{Severity, Verdict};
use crate::report::{ClusterReport, Report, SuppressionStatus};

/// Colors text when, and only when, color is on.
pub(super) struct Paint {
    color: bool,
}

impl Paint {
    /// `color` is the caller's decision (`--color`, `NO_COLOR`, a terminal
    /// or not); with it off, no escape code is ever written. The caller
    /// also tells `colored` (app.rs), so this never touches process state.
    pub(super) fn new(color: bool) -> Self {
        Self { color }
    }

    pub(super) fn apply(&self, text: &str, f: impl Fn(&str) -> ColoredString) -> String {
        if self.color { f(text).to_string() } else { text.to_string() }
    }

    pub(super) fn verdict(&self, v: Verdict) -> String {
        let label = format!("{:<7}", v.as_str().to_uppercase());
        match v {
            Verdict::Pass => self.apply(&label, |s| s.green().bold()),
            Verdict::Unknown => self.apply(&label, |s| s.yellow().bold()),
            Verdict::Fail => self.apply(&label, |s| s.red().bold()),
        }
    }

    fn dim(&self, text: &str) -> String {
        self.apply(text, |s| s.dimmed())
    }
}

pub fn render(report: &Report, color: bool, out: &mut dyn Write) -> io::Result<()> {
    render_listed(report, color, &super::Listing::default(), out)
}

/// The human report, listing only what `listing` selects (`--only`), one
/// line per cluster with `--compact`. The summary, the verdict and the
/// exit code are always the whole run's.
pub fn render_listed(report: &Report, color: bool, listing: &super::Listing, out: &mut dyn Write) -> io::Result<()> {
    let p = Paint::new(color);
    for gap in &report.gaps {
        writeln!(out, "{} {}", p.verdict(Verdict::Unknown), v(&gap.describe()))?;
    }
    if report.clusters.is_empty() && report.gaps.is_empty() {
        writeln!(out, "No ECS clusters found in {}.", v(&report.regions.join(", ")))?;
    }
    let multi = report.accounts.len() > 1;
    let aliases: Aliases = report
        .keys
        .iter()
        .filter(|k| !k.aliases.is_empty())
        .map(|k| (k.key_arn.as_str(), k.aliases.as_slice()))
        .collect();
    let mut fixes = Fixes::new();
    for cluster in by_urgency(&report.clusters).filter(|c| listing.shows_cluster(c)) {
        if listing.compact {
            render_compact(&p, cluster, multi, out)?;
        } else {
            render_cluster(&p, cluster, multi, &aliases, &mut fixes, listing.width, out)?;
        }
    }
    if !report.failing_keys.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", p.apply("Failing keys and what depends on them:", |s| s.bold()))?;
        for k in &report.failing_keys {
            writeln!(out, "  {}", v(&failing_key_line(k, report.collected_at)))?;
            for d in &k.dependents {
                writeln!(out, "    {}", v(&d.describe()))?;
            }
        }
    }
    for sup in report.suppressions.iter().filter(|s| s.status != SuppressionStatus::Applied) {
        let what = match sup.status {
            SuppressionStatus::Expired => {
                format!("expired on {}: it no longer applies", sup.expires.as_deref().unwrap_or("?"))
            }
            _ => "matched no finding: stale, or mistyped?".to_string(),
        };
        let scope = sup.cluster.as_deref().map(|c| format!(" on {c}")).unwrap_or_default();
        writeln!(
            out,
            "{} suppression of {}{} ({}) {}",
            p.apply("!", |s| s.yellow()),
            v(&sup.check),
            v(&scope),
            v(&sup.reason),
            v(&what)
        )?;
    }
    let s = &report.summary;
    let outcome = match report.verdict {
        Verdict::Pass => "new tasks can start",
        Verdict::Fail => "new tasks will fail to start in at least one cluster",
        Verdict::Unknown => "some facts could not be read",
    };
    // Every account of a multi-account run, the unreadable ones with why.
    if report.accounts.len() > 1 || report.accounts.iter().any(|a| a.status != "read") {
        writeln!(out)?;
        writeln!(out, "{}", p.apply("Accounts:", |s| s.bold()))?;
        for a in &report.accounts {
            let name = a.name.as_deref().map(|n| format!(" ({})", v(n))).unwrap_or_default();
            match &a.reason {
                Some(reason) => writeln!(
                    out,
                    "  {} {}{name}: not read [account-unreadable]: {}",
                    p.verdict(Verdict::Unknown),
                    a.account_id,
                    v(reason)
                )?,
                None => {
                    let verdict = if a.fail > 0 {
                        Verdict::Fail
                    } else if a.unknown > 0 {
                        Verdict::Unknown
                    } else {
                        Verdict::Pass
                    };
                    writeln!(
                        out,
                        "  {} {}{name}: {}: {} fail, {} unknown, {} pass",
                        p.verdict(verdict),
                        a.account_id,
                        count(a.clusters, "cluster", "clusters"),
                        a.fail,
                        a.unknown,
                        a.pass
                    )?
                }
            }
        }
    }
    for note in &report.notes {
        writeln!(out, "{} {}", p.apply("note:", |s| s.cyan()), v(note))?;
    }
    let unreadable = report.accounts.iter().filter(|a| a.status != "read").count();
    let scope = match report.accounts.as_slice() {
        [] => format!(" ({})", report.regions.join(", ")),
        [one] => format!(" in account {} ({})", one.account_id, report.regions.join(", ")),
        many if unreadable > 0 => {
            format!(" in {} accounts, {} of them not read ({})", many.len(), unreadable, report.regions.join(", "))
        }
        many => format!(" in {} accounts ({})", many.len(), report.regions.join(", ")),
    };
    writeln!(out)?;
    writeln!(
        out,
        "{} {}; {outcome} (exit {}).",
        p.verdict(report.verdict).trim_end(),
        tally(s, &v(&scope)),
        report.exit_code
    )?;
    // A pass is never silently partial: say who checked, what was left out.
    if let Some(id) = &report.identity {
        writeln!(out, "Checked as {} (account {}).", v(&id.arn), v(&id.account))?;
    }
    if s.suppressed > 0 {
        let file = report.suppressions_file.as_deref().unwrap_or("the configuration");
        writeln!(
            out,
            "{} suppressed by {}, left out of the verdicts.",
            count(s.suppressed, "finding", "findings"),
            v(file)
        )?;
    }
    if s.pinned_keys_unchecked > 0 {
        writeln!(
            out,
            "Keys pinned on running deployments were not checked in {} (--no-services).",
            count(s.pinned_keys_unchecked, "cluster", "clusters")
        )?;
    }
    Ok(())
}

/// One line per cluster: its verdict, where it is, and its keys' states;
/// the findings beneath it only when it fails or cannot be judged, each on
/// one line with the first line of its fix.
/// Clusters most urgent first ([`super::Category`]'s order: failing,
/// unknown, passing with a warning, passing); in the report's
/// (alphabetical) order within each, so a FAIL never hides after a page of
/// PASS.
fn by_urgency(clusters: &[ClusterReport]) -> impl Iterator<Item = &ClusterReport> {
    let mut ordered: Vec<&ClusterReport> = clusters.iter().collect();
    ordered.sort_by_key(|c| super::Category::of(c));
    ordered.into_iter()
}

/// One line of the failing-key summary: the key, its state, the days left
/// before a scheduled deletion, and the checks that failed on it.
fn failing_key_line(k: &crate::report::FailingKey, now: jiff::Timestamp) -> String {
    let mut facts: Vec<String> = Vec::new();
    if let Some(state) = &k.key_state {
        facts.push(state.to_string());
    }
    if let Some(date) = k.deletion_date {
        let days = crate::when::days_until(now, date);
        facts.push(if days >= 0 {
            format!("deleted for good on {}, {days} days left", crate::when::format_time(date))
        } else {
            format!("deletion was due on {}", crate::when::format_time(date))
        });
    }
    let facts = if facts.is_empty() { String::new() } else { format!(" ({})", facts.join(", ")) };
    let why =
        if k.failed_checks.is_empty() { String::new() } else { format!(": fails {}", k.failed_checks.join(", ")) };
    format!("{}{}{facts}{why}", k.key, alias_suffix(&k.aliases))
}

fn render_compact(p: &Paint, c: &ClusterReport, multi: bool, out: &mut dyn Write) -> io::Result<()> {
    let place = match (&c.account_id, multi) {
        (Some(a), true) => format!("{a}/{}", c.region),
        _ => c.region.clone(),
    };
    let keys: Vec<String> = c
        .key_usages
        .iter()
        .filter_map(|u| {
            Some(format!(
                "{}: {}",
                u.usage.describe(),
                u.key_state.as_deref().unwrap_or(u.configured_key.as_ref().map(|_| "could not be described")?)
            ))
        })
        .collect();
    let keys = if keys.is_empty() { "AWS owned keys only".to_string() } else { keys.join(", ") };
    writeln!(
        out,
        "{} {} ({})  {}",
        p.verdict(c.verdict),
        p.apply(&v(&c.cluster_name), |s| s.bold()),
        v(&place),
        p.dim(&v(&keys))
    )?;
    if c.verdict == Verdict::Pass {
        return Ok(());
    }
    for f in c.findings.iter().filter(|f| f.verdict == c.verdict) {
        writeln!(out, "    [{}] {}", f.check, v(&f.message))?;
        if let Some(first) = f.remediation.as_deref().and_then(|r| r.lines().next()) {
            writeln!(out, "      {} {}", p.apply("fix:", |s| s.cyan().bold()), v(first))?;
        }
    }
    Ok(())
}

/// Key ARN → its aliases, for the keys that have any.
type Aliases<'a> = std::collections::BTreeMap<&'a str, &'a [String]>;

/// ` [alias/a, alias/b]` after a key ARN, or nothing.
fn alias_suffix(aliases: &[String]) -> String {
    if aliases.is_empty() { String::new() } else { format!(" [{}]", aliases.join(", ")) }
}

/// The columns `text` takes on a terminal, colour codes left out.
fn visible_width(text: &str) -> usize {
    console::measure_text_width(text)
}

/// Greedy word wrap at spaces only: the first line `first` columns wide,
/// the others `rest` wide and prefixed with `indent`. A word longer than a
/// line (an ARN, a URL) stays whole on a line of its own; `None` widths
/// leave the text as it is.
fn wrap(text: &str, first: Option<usize>, rest: Option<usize>, indent: &str) -> String {
    let (Some(first), Some(rest)) = (first, rest) else { return text.to_string() };
    let mut out = String::with_capacity(text.len() + 16);
    let mut room = first.max(1);
    let mut used = 0;
    for word in text.split(' ') {
        let w = visible_width(word);
        if used > 0 && used + 1 + w > room {
            out.push('\n');
            out.push_str(indent);
            room = rest.max(1);
            used = 0;
        } else if used > 0 {
            out.push(' ');
            used += 1;
        }
        out.push_str(word);
        used += w;
    }
    out
}

/// Multi-line fixes already printed, with the cluster they were printed
/// for: a Region-wide fix (send a trail to CloudWatch Logs, say) is printed
/// once and referred to afterwards, not repeated for every cluster.
type Fixes<'a> = std::collections::HashMap<&'a str, &'a str>;

fn render_cluster<'a>(
    p: &Paint,
    c: &'a ClusterReport,
    multi: bool,
    aliases: &Aliases<'_>,
    fixes: &mut Fixes<'a>,
    width: Option<usize>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let arn = c.cluster_arn.as_deref().map(|a| format!("  {}", p.dim(&v(a)))).unwrap_or_default();
    // The account too, where several were read.
    let place = match (&c.account_id, multi) {
        (Some(a), true) => format!("{a}/{}", c.region),
        _ => c.region.clone(),
    };
    writeln!(out, "{} {} ({}){arn}", p.verdict(c.verdict), p.apply(&v(&c.cluster_name), |s| s.bold()), v(&place))?;
    // The customer managed keys, one line each; the usages on AWS owned
    // keys (nothing to check) together on one line.
    let mut owned: Vec<&str> = Vec::new();
    for u in &c.key_usages {
        let key = match (&u.configured_key, &u.key_arn, &u.key_state) {
            (None, _, _) => {
                owned.push(u.usage.describe());
                continue;
            }
            (Some(configured), Some(arn), state) => {
                let via = if configured != arn { format!(" (configured as {configured})") } else { String::new() };
                let named = alias_suffix(aliases.get(arn.as_str()).copied().unwrap_or_default());
                v(&format!("{arn}{named}{via} {}", state.as_deref().unwrap_or("state not reported"))).into_owned()
            }
            (Some(configured), None, _) => format!("{} (could not be described)", v(configured)),
        };
        writeln!(out, "    {:<26} {key}", u.usage.describe())?;
    }
    if !owned.is_empty() {
        let line = format!("{}: AWS owned key, nothing to check", owned.join(", "));
        writeln!(out, "    {}", p.dim(&line))?;
    }
    for f in c.findings.iter().filter(|f| f.needs_attention()) {
        let mark = match (f.verdict, f.severity) {
            (Verdict::Fail, _) => p.apply("✗ fail", |s| s.red().bold()),
            (Verdict::Unknown, _) => p.apply("? unknown", |s| s.yellow().bold()),
            (_, Severity::Warning | Severity::Error) => p.apply("! warning", |s| s.yellow()),
            (_, Severity::Info) => p.apply("i info", |s| s.blue()),
        };
        // The mark is 2 + its text wide; continuation lines are indented 6.
        let head = format!("[{}] {}", f.check, v(&f.message));
        let first_width = width.map(|w| w.saturating_sub(3 + visible_width(&mark)));
        writeln!(out, "  {mark} {}", wrap(&head, first_width, width.map(|w| w.saturating_sub(6)), "      "))?;
        if let Some(fix) = &f.remediation {
            if fix.lines().nth(2).is_some() {
                if let Some(first) = fixes.get(fix.as_str()) {
                    let same = format!("the same as for {} above", v(first));
                    writeln!(out, "      {} {}", p.apply("fix:", |s| s.cyan().bold()), p.dim(&same))?;
                    continue;
                }
                fixes.insert(fix.as_str(), c.cluster_name.as_str());
            }
            let mut lines = visible_lines(fix);
            if let Some(first) = lines.next() {
                writeln!(out, "      {} {first}", p.apply("fix:", |s| s.cyan().bold()))?;
            }
            for line in lines {
                writeln!(out, "           {line}")?;
            }
        }
    }
    for sf in &c.suppressed {
        let f = &sf.finding;
        let line = format!("~ suppressed [{}] {} (accepted: {})", f.check, f.message, sf.suppressed_because);
        writeln!(out, "  {}", p.dim(&v(&line)))?;
    }
    Ok(())
}
