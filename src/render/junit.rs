//! `--format junit`: JUnit XML, which CI systems show as test results. One
//! test case per cluster: a failure for *fail*, an error for *unknown*
//! (it could not be verified), success for *pass*; the findings are the
//! text, or the `<system-out>` of a passing case (warnings, suppressed
//! findings), so that nothing worth reading vanishes into a bare pass.

use std::io::{self, Write};

use quick_junit::{NonSuccessKind, Report as JUnit, TestCase, TestCaseStatus, TestSuite};

use super::text::{visible as v, visible_lines};
use crate::finding::Verdict;
use crate::report::{Report, SuppressionStatus};

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    // One test suite per account when the run covered several; one suite
    // otherwise, as before.
    let multi = report.accounts.len() > 1;
    let suite_name = |account: Option<&str>| match (multi, account) {
        (true, Some(a)) => {
            let name = report.accounts.iter().find(|r| r.account_id == a).and_then(|r| r.name.as_deref());
            match name {
                Some(n) => format!("ecs-key-preflight account {a} ({})", v(n)),
                None => format!("ecs-key-preflight account {a}"),
            }
        }
        _ => "ecs-key-preflight".to_string(),
    };
    let mut suites: Vec<(String, TestSuite)> = Vec::new();
    fn suite_for(suites: &mut Vec<(String, TestSuite)>, name: String) -> usize {
        match suites.iter().position(|(n, _)| *n == name) {
            Some(i) => i,
            None => {
                suites.push((name.clone(), TestSuite::new(name)));
                suites.len() - 1
            }
        }
    }
    let main = suite_for(&mut suites, suite_name(None));
    {
        // What a pass rests on: who checked, and what was left out.
        let suite = &mut suites[main].1;
        let s = &report.summary;
        if let Some(id) = &report.identity {
            suite.add_property(quick_junit::Property::new("identity", v(&id.arn).into_owned()));
        }
        let accounts: Vec<&str> = report.accounts.iter().map(|a| a.account_id.as_str()).collect();
        suite.add_property(quick_junit::Property::new("accounts", v(&accounts.join(",")).into_owned()));
        suite.add_property(quick_junit::Property::new("suppressed", s.suppressed.to_string()));
        if let Some(file) = &report.suppressions_file {
            suite.add_property(quick_junit::Property::new("suppressions_file", v(file).into_owned()));
        }
        suite.add_property(quick_junit::Property::new("pinned_keys_unchecked", s.pinned_keys_unchecked.to_string()));
        // Suppressions that expired or matched nothing: visible, not silent.
        let stale: Vec<String> = report
            .suppressions
            .iter()
            .filter(|s| s.status != SuppressionStatus::Applied)
            .map(|s| {
                let scope = s.cluster.as_deref().map(|c| format!(" on {}", v(c))).unwrap_or_default();
                let what = match s.status {
                    SuppressionStatus::Expired => {
                        format!("expired on {}: it no longer applies", v(s.expires.as_deref().unwrap_or("?")))
                    }
                    _ => "matched no finding: stale, or mistyped?".to_string(),
                };
                format!("suppression of {}{scope} ({}) {what}", v(&s.check), v(&s.reason))
            })
            .collect();
        if !stale.is_empty() {
            suite.set_system_out(stale.join("\n"));
        }
    }
    for gap in &report.gaps {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status.set_message(v(&gap.describe()).into_owned());
        let account = gap.resource.strip_prefix("account ").filter(|_| multi);
        let i = suite_for(&mut suites, suite_name(account));
        let mut case = TestCase::new(format!("scope {}", v(&gap.resource)), status);
        case.set_classname("ecs-key-preflight.scope");
        case.set_time(std::time::Duration::ZERO);
        suites[i].1.add_test_case(case);
    }
    for c in &report.clusters {
        let worst = c.findings.iter().find(|f| f.verdict == c.verdict && f.verdict != Verdict::Pass);
        let mut status = match c.verdict {
            Verdict::Pass => TestCaseStatus::success(),
            Verdict::Fail => TestCaseStatus::non_success(NonSuccessKind::Failure),
            Verdict::Unknown => TestCaseStatus::non_success(NonSuccessKind::Error),
        };
        if let Some(f) = worst {
            status.set_message(format!("[{}] {}", f.check, v(&f.message)));
            // The check's title says what was checked, beside its id.
            status.set_type(format!("{}: {}", f.check.id, f.check.title));
        }
        let fix = |f: &crate::finding::Finding, indent: &str| {
            f.remediation
                .as_deref()
                .map(|r| format!("{indent}fix: {}", visible_lines(r).collect::<Vec<_>>().join("\n       ")))
                .unwrap_or_default()
        };
        // The body: the fix of the finding in the message (its text is
        // already there), then every other finding worth reading.
        let mut text: Vec<String> = Vec::new();
        if let Some(f) = worst.filter(|f| f.remediation.is_some()) {
            text.push(fix(f, ""));
        }
        for f in c.findings.iter().filter(|f| f.needs_attention() && Some(*f) != worst) {
            let label = if f.verdict == Verdict::Pass { f.severity.as_str() } else { f.verdict.as_str() };
            text.push(format!("{label} [{}] {}{}", f.check, v(&f.message), fix(f, "\n  ")));
        }
        // A passing test case has no body in JUnit: its warnings and the
        // findings a suppression accepted go to its output, where CI shows
        // them, rather than vanish into a plain pass.
        for sf in &c.suppressed {
            text.push(format!(
                "suppressed {} [{}] {} (suppressed because: {})",
                sf.finding.verdict.as_str(),
                sf.finding.check,
                v(&sf.finding.message),
                v(&sf.suppressed_because)
            ));
        }
        let body = text.join("\n");
        if !body.is_empty() && c.verdict != Verdict::Pass {
            status.set_description(body.clone());
        }
        let mut case = TestCase::new(v(&c.cluster_name).into_owned(), status);
        if !body.is_empty() && c.verdict == Verdict::Pass {
            case.set_system_out(body);
        }
        // Checks judge facts already collected: no per-cluster duration to
        // report, and some consumers require the attribute.
        case.set_time(std::time::Duration::ZERO);
        case.set_classname(format!("ecs-key-preflight.{}", v(&c.region)));
        let i = suite_for(&mut suites, suite_name(c.account_id.as_deref()));
        suites[i].1.add_test_case(case);
    }
    let mut junit = JUnit::new("ecs-key-preflight");
    for (_, mut suite) in suites {
        suite.set_time(std::time::Duration::ZERO);
        if multi && suite.test_cases.is_empty() && suite.properties.is_empty() {
            continue;
        }
        junit.add_test_suite(suite);
    }
    let xml = junit.to_string().map_err(io::Error::other)?;
    out.write_all(xml.as_bytes())?;
    writeln!(out)
}
