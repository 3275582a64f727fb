//! `leadteam import FILE`: sends a CSV file to a running server's import
//! endpoint as a stream, with a progress bar, and prints the report.

use anyhow::{Context, bail};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;
use std::path::Path;

/// What to import and where.
pub struct ImportArgs<'a> {
    pub file: &'a Path,
    pub url: &'a str,
    pub token: &'a str,
    pub dry_run: bool,
    pub route: bool,
    pub skip_duplicates: bool,
    pub map: Option<&'a str>,
    pub report: Option<&'a Path>,
    pub quiet: bool,
}

/// Rejected rows printed on the terminal (the report file holds them all).
const PRINTED_ERRORS: usize = 20;

/// Runs the import; gives the process exit code (0: every row stored, 2:
/// some rows rejected).
pub async fn run(a: ImportArgs<'_>) -> anyhow::Result<i32> {
    let file = tokio::fs::File::open(a.file)
        .await
        .with_context(|| format!("opening {}", a.file.display()))?;
    let size = file.metadata().await?.len();
    let bar = if a.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(size)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {msg} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(if a.dry_run { "checking" } else { "importing" });
    let sent = bar.clone();
    let stream =
        tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024).inspect(move |chunk| {
            if let Ok(c) = chunk {
                sent.inc(c.len() as u64);
            }
        });
    let mut query: Vec<(&str, &str)> = Vec::new();
    if a.dry_run {
        query.push(("dry_run", "true"));
    }
    if a.route {
        query.push(("route", "true"));
    }
    if a.skip_duplicates {
        query.push(("skip_duplicates", "true"));
    }
    if let Some(m) = a.map {
        query.push(("map", m));
    }
    let endpoint = format!("{}/api/v1/clients/import", a.url.trim_end_matches('/'));
    let resp = reqwest::Client::new()
        .post(&endpoint)
        .query(&query)
        .bearer_auth(a.token)
        .header(reqwest::header::CONTENT_TYPE, "text/csv")
        .header(reqwest::header::CONTENT_LENGTH, size)
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .with_context(|| format!("sending the file to {endpoint}"))?;
    bar.finish_and_clear();
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!(
            "the server refused the import ({status}): {}",
            problem_text(&body)
        );
    }
    if let Some(path) = a.report {
        std::fs::write(path, serde_json::to_vec_pretty(&body)?)
            .with_context(|| format!("writing the report to {}", path.display()))?;
    }
    print_report(&body, a.report);
    let rejected = body["rejected"].as_u64().unwrap_or(0);
    Ok(if rejected > 0 { 2 } else { 0 })
}

fn problem_text(p: &Value) -> String {
    let mut s = p["title"].as_str().unwrap_or("no details").to_owned();
    if let Some(d) = p["detail"].as_str() {
        s.push_str(": ");
        s.push_str(d);
    }
    if let Some(errs) = p["errors"].as_array() {
        for e in errs {
            s.push_str(&format!(
                "\n  {}: {}",
                e["field"].as_str().unwrap_or("?"),
                e["message"].as_str().unwrap_or("")
            ));
        }
    }
    s
}

fn print_report(r: &Value, saved: Option<&Path>) {
    let n = |k: &str| r[k].as_u64().unwrap_or(0);
    let dry = r["dry_run"].as_bool().unwrap_or(false);
    println!(
        "{} rows read: {} {}, {} rejected, {} flagged as duplicates{}{}",
        n("rows"),
        n("stored"),
        if dry {
            "would be stored (dry run)"
        } else {
            "stored"
        },
        n("rejected"),
        n("duplicates"),
        if n("skipped") > 0 {
            format!(" ({} skipped)", n("skipped"))
        } else {
            String::new()
        },
        if n("blank_rows") > 0 {
            format!(", {} blank rows skipped", n("blank_rows"))
        } else {
            String::new()
        }
    );
    if let Some(cols) = r["columns"].as_array() {
        let list: Vec<String> = cols
            .iter()
            .map(|c| {
                format!(
                    "{} -> {}",
                    c["header"].as_str().unwrap_or(""),
                    c["target"].as_str().unwrap_or("")
                )
            })
            .collect();
        println!("columns: {}", list.join(", "));
    }
    if r["routed"].as_bool().unwrap_or(false) && !dry {
        let assigned: u64 = r["assigned"]
            .as_array()
            .map(|a| a.iter().map(|x| x["clients"].as_u64().unwrap_or(0)).sum())
            .unwrap_or(0);
        println!(
            "routed: {assigned} assigned to members, {} left unassigned",
            n("unassigned")
        );
    }
    if let Some(errs) = r["errors"].as_array() {
        for e in errs.iter().take(PRINTED_ERRORS) {
            println!(
                "line {}: {}: {}",
                e["line"].as_u64().unwrap_or(0),
                e["field"].as_str().unwrap_or(""),
                e["reason"].as_str().unwrap_or("")
            );
        }
        let more = n("rejected").saturating_sub(PRINTED_ERRORS as u64);
        if more > 0 {
            match saved {
                Some(p) => println!("... and {more} more rejected rows (all in {})", p.display()),
                None => {
                    println!("... and {more} more rejected rows (--report FILE saves them all)")
                }
            }
        }
    }
}
