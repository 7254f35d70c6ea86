//! `clouddocs policies validate` and `clouddocs policies test`: the server's own Cedar
//! validation and custom-check evaluation, offline.

use std::path::Path;

use anyhow::{Context, bail};
use clouddocs_authz::{AuthzError, CustomCheck, PolicyEngine};
use serde::Deserialize;

use crate::cli::PoliciesCommand;

pub(crate) fn run(cmd: &PoliciesCommand) -> anyhow::Result<()> {
    match cmd {
        PoliciesCommand::Validate { file, schema } => validate(file, schema.as_deref()),
        PoliciesCommand::Test { dir } => test(dir),
    }
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// The engine with `policies` (and `schema`'s namespaces) loaded exactly as
/// `PUT /admin/policies` loads them, or the diagnostic `file:line:column: message`
fn load(policies_file: &Path, schema_file: Option<&Path>) -> anyhow::Result<PolicyEngine> {
    let policies = read(policies_file)?;
    let schema = schema_file.map(read).transpose()?.unwrap_or_default();
    let engine = PolicyEngine::default_set()?;
    if let Err(err) = engine.replace_with_schema(&schema, &policies) {
        let (file, line, column, message) = match &err {
            AuthzError::Schema {
                message,
                line,
                column,
            } => (
                schema_file.unwrap_or(policies_file),
                *line,
                *column,
                message.clone(),
            ),
            AuthzError::Invalid {
                message,
                line,
                column,
            } => (policies_file, *line, *column, message.clone()),
            other => (policies_file, None, None, other.to_string()),
        };
        let at = match (line, column) {
            (Some(l), Some(c)) => format!("{l}:{c}:"),
            (Some(l), None) => format!("{l}:"),
            _ => String::new(),
        };
        eprintln!("{}:{at} error: {message}", file.display());
        bail!("{} is not a valid policy set", policies_file.display());
    }
    Ok(engine)
}

fn validate(file: &Path, schema: Option<&Path>) -> anyhow::Result<()> {
    let engine = load(file, schema)?;
    let count = engine.policy_sources().len();
    println!("{}: {count} policies, valid", file.display());
    Ok(())
}

/// One scenario of a pack, in `examples/policies/learning-platform/scenarios.json`'s form
#[derive(Debug, Deserialize)]
struct Scenario {
    name: String,
    expected: String,
    #[serde(default)]
    policies: Vec<String>,
    #[serde(default)]
    reason_contains: Option<String>,
    #[serde(flatten)]
    check: CustomCheck,
}

#[derive(Debug, Deserialize)]
struct Pack {
    scenarios: Vec<Scenario>,
}

fn test(dir: &Path) -> anyhow::Result<()> {
    let schema = dir.join("schema.cedarschema");
    let engine = load(
        &dir.join("policies.cedar"),
        schema.exists().then_some(schema.as_path()),
    )?;
    let pack: Pack = serde_json::from_str(&read(&dir.join("scenarios.json"))?)
        .context("scenarios.json is not a list of scenarios")?;
    if pack.scenarios.is_empty() {
        bail!("{} has no scenarios", dir.join("scenarios.json").display());
    }
    let mut failed = 0usize;
    for scenario in &pack.scenarios {
        let expected_allowed = match scenario.expected.as_str() {
            "allow" => true,
            "deny" => false,
            other => bail!(
                "scenario `{}`: expected is `{other}`, not allow or deny",
                scenario.name
            ),
        };
        let verdict = match engine.check_custom(&scenario.check) {
            Ok(decision) => {
                let reason_ok = scenario.reason_contains.as_ref().is_none_or(|needle| {
                    decision.reasons.iter().any(|r| r.contains(needle.as_str()))
                });
                if decision.allowed == expected_allowed
                    && decision.policies == scenario.policies
                    && reason_ok
                {
                    Ok(())
                } else {
                    Err(format!(
                        "got {} by {:?} ({}), expected {} by {:?}",
                        if decision.allowed { "allow" } else { "deny" },
                        decision.policies,
                        decision.reasons.join("; "),
                        scenario.expected,
                        scenario.policies
                    ))
                }
            }
            Err(err) => Err(err.to_string()),
        };
        match verdict {
            Ok(()) => println!("ok   {}", scenario.name),
            Err(why) => {
                failed += 1;
                println!("FAIL {}: {why}", scenario.name);
            }
        }
    }
    let total = pack.scenarios.len();
    println!("{} of {total} scenarios pass", total - failed);
    if failed > 0 {
        bail!("{failed} of {total} scenarios disagree");
    }
    Ok(())
}
