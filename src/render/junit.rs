//! `--format junit`: JUnit XML, which CI systems show as test results. One
//! test case per cluster: a failure for *fail*, an error for *unknown*
//! (it could not be verified), success for *pass*; the findings are the
//! output.

use std::io::{self, Write};

use quick_junit::{NonSuccessKind, Report as JUnit, TestCase, TestCaseStatus, TestSuite};

use super::text::{visible as v, visible_lines};
use crate::finding::Verdict;
use crate::report::Report;

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
    }
    for gap in &report.gaps {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status.set_message(v(&gap.describe()).into_owned());
        let account = gap.resource.strip_prefix("account ").filter(|_| multi);
        let i = suite_for(&mut suites, suite_name(account));
        let mut case = TestCase::new(format!("scope {}", v(&gap.resource)), status);
        case.set_classname("ecs-key-preflight.scope");
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
        let text: Vec<String> = c
            .findings
            .iter()
            .filter(|f| f.needs_attention())
            .map(|f| {
                let fix = f
                    .remediation
                    .as_deref()
                    .map(|r| format!("\n  fix: {}", visible_lines(r).collect::<Vec<_>>().join("\n       ")))
                    .unwrap_or_default();
                format!("{} [{}] {}{fix}", f.verdict.as_str(), f.check, v(&f.message))
            })
            .collect();
        if !text.is_empty() {
            status.set_description(text.join("\n"));
        }
        let mut case = TestCase::new(v(&c.cluster_name).into_owned(), status);
        case.set_classname(format!("ecs-key-preflight.{}", v(&c.region)));
        let i = suite_for(&mut suites, suite_name(c.account_id.as_deref()));
        suites[i].1.add_test_case(case);
    }
    let mut junit = JUnit::new("ecs-key-preflight");
    for (_, suite) in suites {
        if multi && suite.test_cases.is_empty() && suite.properties.is_empty() {
            continue;
        }
        junit.add_test_suite(suite);
    }
    let xml = junit.to_string().map_err(io::Error::other)?;
    out.write_all(xml.as_bytes())?;
    writeln!(out)
}
