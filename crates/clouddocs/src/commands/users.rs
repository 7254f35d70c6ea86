//! `clouddocs users …`: account administration from the shell.

use std::io::Read;

use anyhow::{Context, bail};
use clouddocs_domain::{DisplayName, Email, Password};
use clouddocs_http::startup::build_state;
use clouddocs_service::NewAccount;
use clouddocs_service::import::{ImportOptions, ImportRecord};

use crate::cli::UsersCommand;
use crate::config::Config;

pub(crate) async fn run(config: Config, cmd: UsersCommand) -> anyhow::Result<()> {
    match cmd {
        UsersCommand::Create {
            email,
            display_name,
            admin,
        } => create(config, &email, display_name, admin).await,
        UsersCommand::Import {
            file,
            format,
            dry_run,
            strict,
        } => {
            import(
                config,
                &file,
                format.as_deref(),
                ImportOptions { dry_run, strict },
            )
            .await
        }
    }
}

/// A JSON Lines record (`orgs` as a list or a `;`-separated string)
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonRecord {
    email: String,
    #[serde(default)]
    display_name: String,
    password_hash: String,
    #[serde(default)]
    disabled: bool,
    #[serde(default)]
    orgs: Option<serde_json::Value>,
}

fn split_orgs(raw: &str) -> Vec<String> {
    raw.split(';')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(str::to_owned)
        .collect()
}

fn flag(raw: &str) -> Result<bool, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "" | "false" | "0" | "no" => Ok(false),
        "true" | "1" | "yes" => Ok(true),
        other => Err(format!("disabled: `{other}` is not true or false")),
    }
}

/// A row refused: its line and why
type Refused = (usize, String);

/// The file's records, and the rows that could not even be read
fn read_records(
    path: &std::path::Path,
    format: &str,
) -> anyhow::Result<(Vec<ImportRecord>, Vec<Refused>)> {
    let mut records = Vec::new();
    let mut unreadable = Vec::new();
    match format {
        "csv" => {
            let mut reader = csv::ReaderBuilder::new()
                .flexible(true)
                .trim(csv::Trim::All)
                .from_path(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let headers = reader.headers()?.clone();
            let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
            let (Some(email), Some(hash)) = (column("email"), column("password_hash")) else {
                bail!("the CSV header needs at least `email` and `password_hash`");
            };
            let (name, disabled, orgs) =
                (column("display_name"), column("disabled"), column("orgs"));
            for (index, row) in reader.records().enumerate() {
                // The line the record starts on (a quoted field may span lines).
                let row = match row {
                    Ok(row) => row,
                    Err(err) => {
                        let line = err
                            .position()
                            .map_or(index + 2, |p| usize::try_from(p.line()).unwrap_or(0));
                        unreadable.push((line, format!("unreadable CSV: {err}")));
                        continue;
                    }
                };
                let line = row
                    .position()
                    .map_or(index + 2, |p| usize::try_from(p.line()).unwrap_or(0));
                let field = |i: Option<usize>| i.and_then(|i| row.get(i)).unwrap_or_default();
                match flag(field(disabled)) {
                    Ok(disabled) => records.push(ImportRecord {
                        line,
                        email: field(Some(email)).to_owned(),
                        display_name: field(name).to_owned(),
                        password_hash: field(Some(hash)).to_owned(),
                        disabled,
                        orgs: split_orgs(field(orgs)),
                    }),
                    Err(reason) => unreadable.push((line, reason)),
                }
            }
        }
        "jsonl" => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            for (index, raw) in text.lines().enumerate() {
                let line = index + 1;
                if raw.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<JsonRecord>(raw) {
                    Ok(r) => records.push(ImportRecord {
                        line,
                        email: r.email,
                        display_name: r.display_name,
                        password_hash: r.password_hash,
                        disabled: r.disabled,
                        orgs: match r.orgs {
                            Some(serde_json::Value::String(s)) => split_orgs(&s),
                            Some(serde_json::Value::Array(list)) => list
                                .iter()
                                .filter_map(|o| o.as_str().map(str::to_owned))
                                .collect(),
                            _ => Vec::new(),
                        },
                    }),
                    Err(err) => unreadable.push((line, format!("not a JSON record: {err}"))),
                }
            }
        }
        other => bail!("unknown format `{other}`: expected csv or jsonl"),
    }
    Ok((records, unreadable))
}

async fn import(
    config: Config,
    file: &std::path::Path,
    format: Option<&str>,
    options: ImportOptions,
) -> anyhow::Result<()> {
    let format = match format {
        Some(f) => f.to_owned(),
        None => match file.extension().and_then(|e| e.to_str()) {
            Some("jsonl" | "ndjson" | "json") => "jsonl".to_owned(),
            _ => "csv".to_owned(),
        },
    };
    let (records, unreadable) = read_records(file, &format)?;
    let total = records.len() + unreadable.len();
    if options.strict && !unreadable.is_empty() {
        for (line, reason) in &unreadable {
            eprintln!("line {line}: {reason}");
        }
        bail!(
            "{} rows refused; nothing imported (--strict)",
            unreadable.len()
        );
    }
    let state = build_state(&super::serve::settings(&config)).await?;
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let bar = indicatif::ProgressBar::new(u64::try_from(total).unwrap_or(u64::MAX));
    if terminal {
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} users {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let started = std::time::Instant::now();
    let offset = unreadable.len();
    let mut report = state
        .svc
        .import_users(records, options, |done| {
            let done = done + offset;
            bar.set_position(u64::try_from(done).unwrap_or(u64::MAX));
            if !terminal {
                eprintln!("progress: {done}/{total}");
            }
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    bar.finish_and_clear();
    report.rejected.extend(unreadable);
    report.rejected.sort();
    for (line, reason) in &report.rejected {
        eprintln!("line {line}: {reason}");
    }
    let verb = if options.dry_run {
        "would import"
    } else {
        "imported"
    };
    println!(
        "{verb} {} users, {} already existed, {} rows refused, in {:.1} s",
        report.imported,
        report.existing,
        report.rejected.len(),
        started.elapsed().as_secs_f64()
    );
    state.svc.db().close().await;
    if options.strict && !report.rejected.is_empty() {
        bail!(
            "{} rows refused; nothing imported (--strict)",
            report.rejected.len()
        );
    }
    Ok(())
}

async fn create(
    config: Config,
    email: &str,
    display_name: Option<String>,
    admin: bool,
) -> anyhow::Result<()> {
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut raw = String::new();
    std::io::stdin()
        .take(4096)
        .read_to_string(&mut raw)
        .context("cannot read the password from stdin")?;
    let raw = raw.trim_end_matches(['\n', '\r']);
    if raw.is_empty() {
        bail!(
            "no password on stdin: pipe it in, e.g. `printf '%s' \"$PW\" | clouddocs users create …`"
        );
    }
    let password = Password::parse(raw).map_err(|e| anyhow::anyhow!("{e}"))?;
    let name = display_name.unwrap_or_else(|| {
        email
            .as_str()
            .split('@')
            .next()
            .unwrap_or("user")
            .to_owned()
    });
    let display_name = DisplayName::parse(&name).map_err(|e| anyhow::anyhow!("{e}"))?;
    let state = build_state(&super::serve::settings(&config)).await?;
    let user = state
        .svc
        .create_user_by_cli(
            NewAccount {
                email,
                password,
                display_name,
            },
            admin,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "created user {} <{}>{}",
        user.id,
        user.email,
        if admin { " (platform admin)" } else { "" }
    );
    state.svc.db().close().await;
    Ok(())
}
