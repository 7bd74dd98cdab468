//! The documents that a user copies from: they must stay valid and agree
//! with each other. No AWS, no emulator.

use std::collections::BTreeSet;
use std::path::PathBuf;

fn doc(name: &str) -> String {
    std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs").join(name)).unwrap()
}

/// The actions of every Allow statement of a policy document.
fn actions(policy: &serde_json::Value) -> BTreeSet<String> {
    policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| match &s["Action"] {
            serde_json::Value::String(a) => vec![a.clone()],
            serde_json::Value::Array(a) => a.iter().map(|v| v.as_str().unwrap().to_string()).collect(),
            _ => vec![],
        })
        .collect()
}

#[test]
fn the_stackset_role_grants_exactly_the_documented_read_actions() {
    let template: serde_json::Value = serde_json::from_str(&doc("preflight-role.stackset.json")).expect("valid JSON");
    assert_eq!(template["AWSTemplateFormatVersion"], "2010-09-09");
    let role = &template["Resources"]["PreflightRole"];
    assert_eq!(role["Type"], "AWS::IAM::Role");
    let granted = actions(&role["Properties"]["Policies"][0]["PolicyDocument"]);
    // The first JSON block of docs/permissions.md is the tool's policy.
    let text = doc("permissions.md");
    let block = text.split("```json\n").nth(1).unwrap().split("```").next().unwrap();
    let documented = actions(&serde_json::from_str(block).unwrap());
    let mut want = documented.clone();
    want.insert("account:ListRegions".into());
    assert_eq!(granted, want);
    // Read-only: List, Describe, Get and LookupEvents only.
    for a in &granted {
        let verb = a.split(':').nth(1).unwrap();
        assert!(
            ["List", "Describe", "Get", "LookupEvents"].iter().any(|p| verb.starts_with(p)),
            "{a} is not a read action"
        );
    }
    // The trust policy requires the external id.
    let trust = &role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0];
    assert_eq!(trust["Action"], "sts:AssumeRole");
    assert!(trust["Condition"]["StringEquals"]["sts:ExternalId"].is_object());
}

#[test]
fn every_json_block_of_the_permissions_page_parses() {
    let text = doc("permissions.md");
    for block in text.split("```json\n").skip(1) {
        let json = block.split("```").next().unwrap();
        serde_json::from_str::<serde_json::Value>(json).unwrap_or_else(|e| panic!("{e}:\n{json}"));
    }
}
