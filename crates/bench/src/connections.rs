//! `leadteam-bench --engine E --connections N`: what N idle connections
//! cost the server (X7). Opens N connections that send nothing (slow
//! header senders), then N kept-alive connections idle after one request,
//! and reports how many the server still holds and its resident memory, a
//! moment after they opened and after the header and idle timeouts. Prints
//! the figures; asserts nothing.

use crate::server::{Server, Target};
use crate::{Res, say};
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How many of `conns` the server still holds open (a read would wait).
fn held(conns: &mut Vec<TcpStream>) -> usize {
    let mut buf = [0u8; 512];
    conns.retain(|s| {
        loop {
            match s.try_read(&mut buf) {
                Ok(0) => return false,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return true,
                Err(_) => return false,
            }
        }
    });
    conns.len()
}

async fn open(addr: &str, n: usize, request: bool) -> (Vec<TcpStream>, usize) {
    let mut conns = Vec::with_capacity(n);
    let mut failed = 0;
    for _ in 0..n {
        match TcpStream::connect(addr).await {
            Ok(mut s) => {
                if request {
                    let ok = s
                        .write_all(b"GET /healthz HTTP/1.1\r\nhost: bench\r\n\r\n")
                        .await
                        .is_ok();
                    let mut buf = [0u8; 512];
                    let read = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await;
                    if !ok
                        || !matches!(read, Ok(Ok(n)) if n > 0 && buf.starts_with(b"HTTP/1.1 200"))
                    {
                        failed += 1;
                    }
                }
                conns.push(s);
            }
            Err(_) => failed += 1,
        }
    }
    (conns, failed)
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("?".into(), |k| format!("{:.0} MiB", k as f64 / 1024.0))
}

pub async fn run(bin: &Path, target: &Target, n: usize) -> Res<()> {
    println!(
        "\n{n} idle connections from one address ({})\n",
        target.engine.name()
    );
    println!("| server settings | connections | when | held by the server | RSS |");
    println!("|---|---|---|---|---|");
    for (label, extra) in [
        ("defaults (cap 4096, 256 per address)", vec![]),
        (
            "no cap per address (cap 4096)",
            vec!["--max-connections-per-address", "0"],
        ),
        (
            "no caps at all",
            vec![
                "--max-connections",
                "0",
                "--max-connections-per-address",
                "0",
            ],
        ),
    ] {
        let mut args = vec!["--idle-timeout", "15"];
        args.extend(extra);
        let srv = Server::start_with(bin, target, &args).await?;
        let addr = srv.base.trim_start_matches("http://").to_owned();
        tokio::time::sleep(Duration::from_millis(500)).await;
        println!(
            "| {label} | none | after start | 0 | {} |",
            mib(srv.rss_kib())
        );
        for (kind, request, wait) in [
            ("sending nothing", false, 10),
            ("kept alive after one request", true, 15),
        ] {
            say(&format!("{label}: {n} connections {kind}"));
            let t0 = Instant::now();
            let (mut conns, failed) = open(&addr, n, request).await;
            tokio::time::sleep(Duration::from_secs(2)).await;
            println!(
                "| {label} | {n} {kind} ({failed} refused or failed) | 2 s after opening ({:.1} s to open) | {} | {} |",
                t0.elapsed().as_secs_f64() - 2.0,
                held(&mut conns),
                mib(srv.rss_kib())
            );
            tokio::time::sleep(Duration::from_secs(wait + 1)).await;
            println!(
                "| {label} | {n} {kind} | after the {} timeout ({wait} s) | {} | {} |",
                if request { "idle" } else { "header" },
                held(&mut conns),
                mib(srv.rss_kib())
            );
            drop(conns);
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        drop(srv);
    }
    Ok(())
}
