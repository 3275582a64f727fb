//! `leadteam backup FILE` and `leadteam restore FILE`: one engine-neutral
//! archive (tar, gzipped when FILE ends in `.gz`) holding
//!
//! - `manifest.json`: format, leadteam version, source engine, the schema's
//!   migration versions, and per table its columns, row count and the
//!   highest id its counter ever handed out;
//! - `tables/NNN_<table>.jsonl`: one JSON array of values per row, the
//!   tables parents first;
//! - `files/content/<account>/<id>`: the uploaded files the rows name.
//!
//! The rows come from one consistent snapshot of the running server's
//! database (a SQLite read transaction in WAL mode, or a PostgreSQL
//! `REPEATABLE READ READ ONLY` transaction), never from a copy of its
//! files; so the archive restores into either engine.

use anyhow::{Context, bail};
use leadteam_store::Db;
use leadteam_store::backup::{self, Table};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

const FORMAT: &str = "leadteam-backup";
const FORMAT_VERSION: u32 = 1;

#[derive(Serialize, Deserialize, Debug)]
struct Manifest {
    format: String,
    format_version: u32,
    leadteam_version: String,
    source_engine: String,
    created_at_ms: i64,
    migrations: Vec<i64>,
    tables: Vec<TableEntry>,
    files: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug)]
struct TableEntry {
    name: String,
    file: String,
    columns: Vec<String>,
    rows: u64,
    /// The highest id the table's counter ever handed out (X4).
    id_floor: i64,
}

/// What a backup or a restore did.
pub struct Summary {
    pub tables: usize,
    pub rows: u64,
    pub files: usize,
    pub bytes: u64,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn gzipped(file: &Path) -> bool {
    file.extension().is_some_and(|e| e == "gz" || e == "tgz")
}

/// Writes the archive of `db` (and the files under `data_dir`) to `file`.
pub async fn backup(db: &Db, data_dir: &Path, file: &Path) -> anyhow::Result<Summary> {
    let versions = db.applied_migrations().await?;
    if versions.is_empty() {
        bail!("the database has no schema yet: nothing to back up");
    }
    let scratch = PathBuf::from(format!("{}.partial.d", file.display()));
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch)?;
    }
    std::fs::create_dir_all(scratch.join("tables"))
        .with_context(|| format!("creating {}", scratch.display()))?;
    let result = write_archive(db, data_dir, file, &scratch, versions).await;
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

async fn write_archive(
    db: &Db,
    data_dir: &Path,
    file: &Path,
    scratch: &Path,
    migrations: Vec<i64>,
) -> anyhow::Result<Summary> {
    // Every table and the list of files, from one snapshot.
    let mut tx = db.snapshot().await?;
    let tables = backup::tables(&mut tx).await?;
    let mut entries = Vec::with_capacity(tables.len());
    let mut rows = 0;
    for (i, t) in tables.iter().enumerate() {
        let name = format!("tables/{:03}_{}.jsonl", i + 1, t.name);
        let mut out =
            BufWriter::with_capacity(1 << 20, std::fs::File::create(scratch.join(&name))?);
        let n = backup::dump(&mut tx, t, &mut |values: Vec<Value>| {
            serde_json::to_writer(&mut out, &values)?;
            out.write_all(b"\n")
        })
        .await
        .with_context(|| format!("reading table {}", t.name))?;
        out.flush()?;
        rows += n;
        entries.push(TableEntry {
            name: t.name.clone(),
            file: name,
            columns: t.columns.iter().map(|c| c.name.clone()).collect(),
            rows: n,
            id_floor: backup::id_floor(&mut tx, t).await?,
        });
    }
    let files = backup::content_files(&mut tx).await?;
    tx.rollback().await?;
    let mut present = Vec::new();
    for (account, id) in files {
        let rel = format!("content/{account}/{id}");
        if data_dir.join(&rel).is_file() {
            present.push(rel);
        } else {
            tracing::warn!(file = %data_dir.join(&rel).display(), "a content item's file is missing; not in the backup");
        }
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        leadteam_version: env!("CARGO_PKG_VERSION").into(),
        source_engine: db.engine().name().into(),
        created_at_ms: now_ms(),
        migrations,
        tables: entries,
        files: present,
    };

    // The archive, written beside its final name and renamed when whole.
    let partial = PathBuf::from(format!("{}.partial", file.display()));
    let out = std::fs::File::create(&partial)
        .with_context(|| format!("creating {}", partial.display()))?;
    let out = BufWriter::with_capacity(1 << 20, out);
    let sink: Box<dyn Write> = if gzipped(file) {
        Box::new(flate2::write::GzEncoder::new(
            out,
            flate2::Compression::fast(),
        ))
    } else {
        Box::new(out)
    };
    let mut tar = tar::Builder::new(sink);
    let json = serde_json::to_vec_pretty(&manifest)?;
    let mut header = tar::Header::new_gnu();
    header.set_size(json.len() as u64);
    header.set_mode(0o600);
    header.set_mtime((manifest.created_at_ms / 1000).max(0) as u64);
    header.set_cksum();
    tar.append_data(&mut header, "manifest.json", json.as_slice())?;
    for t in &manifest.tables {
        tar.append_path_with_name(scratch.join(&t.file), &t.file)?;
    }
    for rel in &manifest.files {
        tar.append_path_with_name(data_dir.join(rel), format!("files/{rel}"))?;
    }
    let mut sink = tar.into_inner()?;
    sink.flush()?;
    drop(sink);
    std::fs::File::open(&partial)?.sync_all()?;
    std::fs::rename(&partial, file)?;
    Ok(Summary {
        tables: manifest.tables.len(),
        rows,
        files: manifest.files.len(),
        bytes: std::fs::metadata(file)?.len(),
    })
}

/// Rows inserted per call (each call sends as many statements as the
/// parameter limits need).
const LOAD_BATCH: usize = 5_000;

/// Restores the archive `file` into `db` (empty, unless `replace`) and its
/// files under `data_dir`.
pub async fn restore(
    db: &Db,
    data_dir: &Path,
    file: &Path,
    replace: bool,
) -> anyhow::Result<Summary> {
    let bytes = std::fs::metadata(file)
        .with_context(|| format!("reading {}", file.display()))?
        .len();
    let mut raw = BufReader::with_capacity(1 << 20, std::fs::File::open(file)?);
    let gz = raw.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    let source: Box<dyn Read> = if gz {
        Box::new(flate2::read::GzDecoder::new(raw))
    } else {
        Box::new(raw)
    };
    let mut archive = tar::Archive::new(source);
    let mut entries = archive.entries()?;
    let manifest: Manifest = {
        let mut first = entries.next().context("the archive is empty")??;
        if first.path()?.as_ref() != Path::new("manifest.json") {
            bail!("not a leadteam backup: it does not start with manifest.json");
        }
        let mut text = String::new();
        first.read_to_string(&mut text)?;
        serde_json::from_str(&text).context("reading manifest.json")?
    };
    if manifest.format != FORMAT || manifest.format_version > FORMAT_VERSION {
        bail!(
            "not a backup this leadteam reads ({} version {})",
            manifest.format,
            manifest.format_version
        );
    }
    let replaced = leadteam_store::backup::prepare_restore(db, &manifest.migrations, replace)
        .await
        .context("preparing the database")?;
    let staging = data_dir.join(".restore-partial");
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    let mut tx = db.write().await?;
    let present = backup::tables(&mut tx).await?;
    if replace {
        // In the load's transaction: a failed load leaves the rows as they were.
        backup::delete_all(&mut tx, &present).await?;
    }
    let find = |name: &str| -> anyhow::Result<&Table> {
        present
            .iter()
            .find(|t| t.name == name)
            .with_context(|| format!("the database has no table {name}, which the backup has"))
    };
    let mut rows = 0;
    let mut seen_tables = 0;
    let mut files = 0;
    for entry in entries {
        let mut entry = entry?;
        let path = entry.path()?.to_string_lossy().into_owned();
        if let Some(rel) = path.strip_prefix("files/") {
            if !manifest.files.iter().any(|f| f == rel) || rel.contains("..") {
                bail!("the archive holds a file its manifest does not name: {path}");
            }
            let dest = staging.join(rel);
            if let Some(dir) = dest.parent() {
                std::fs::create_dir_all(dir)?;
            }
            entry.unpack(&dest)?;
            files += 1;
            continue;
        }
        let Some(t) = manifest.tables.iter().find(|t| t.file == path) else {
            bail!("the archive holds an entry its manifest does not name: {path}");
        };
        let target = find(&t.name)?;
        let mut batch: Vec<Vec<Value>> = Vec::with_capacity(LOAD_BATCH);
        let mut n = 0;
        for line in BufReader::with_capacity(1 << 20, &mut entry).lines() {
            let line = line?;
            batch
                .push(serde_json::from_str(&line).with_context(|| format!("a row of {}", t.name))?);
            if batch.len() == LOAD_BATCH {
                backup::insert_rows(&mut tx, target, &t.columns, &batch).await?;
                n += batch.len() as u64;
                batch.clear();
            }
        }
        backup::insert_rows(&mut tx, target, &t.columns, &batch)
            .await
            .with_context(|| format!("loading table {}", t.name))?;
        n += batch.len() as u64;
        if n != t.rows {
            bail!(
                "table {}: {n} rows read, the manifest says {}",
                t.name,
                t.rows
            );
        }
        rows += n;
        seen_tables += 1;
    }
    if seen_tables != manifest.tables.len() {
        bail!(
            "the archive is cut short: {seen_tables} of {} tables",
            manifest.tables.len()
        );
    }
    // X4: no id is handed out again, whichever engine gave it.
    for t in &present {
        let from_backup = manifest
            .tables
            .iter()
            .find(|e| e.name == t.name)
            .map_or(0, |e| e.id_floor);
        let from_replaced = replaced
            .iter()
            .find(|(n, _)| n == &t.name)
            .map_or(0, |(_, f)| *f);
        backup::set_id_floor(&mut tx, t, from_backup.max(from_replaced)).await?;
    }
    tx.commit().await?;
    leadteam_store::backup::finish_restore(db)
        .await
        .context("migrating the restored database")?;
    if replace {
        // Servers running on this database forget what they kept in memory
        // of the rows just replaced: every kept fact (PostgreSQL: through
        // the bus; SQLite: through the access stamp, which every lookup of
        // a kept fact looks at).
        let missed = serde_json::to_string(&leadteam_app::bus::BusEvent::Missed)?;
        if let Err(e) = db
            .announce_outside(leadteam_app::bus::PG_CHANNEL, &missed)
            .await
        {
            tracing::warn!(error = %e, "running servers were not told of the restore");
        }
    }
    // The files, moved into place once the rows are in.
    for rel in &manifest.files {
        let dest = data_dir.join(rel);
        if let Some(dir) = dest.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::rename(staging.join(rel), &dest)
            .with_context(|| format!("placing {}", dest.display()))?;
    }
    if staging.exists() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    Ok(Summary {
        tables: seen_tables,
        rows,
        files,
        bytes,
    })
}
