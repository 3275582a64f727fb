//! Prometheus metrics: request counts by route and status, latency histogram,
//! in-flight requests, connections (open, refused, cut); and what the
//! product is for (see [`product`]).

mod product;

pub(crate) use product::render_product;

use crate::serve::{Full, Places};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

const BUCKETS_MS: [f64; 10] = [
    1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 1000.0, 5000.0,
];

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    buckets: [AtomicU64; 11],
    sum_us: AtomicU64,
    count: AtomicU64,
    pub in_flight: AtomicI64,
    connections: OnceLock<Arc<Places<IpAddr>>>,
    refused_total: AtomicU64,
    refused_address: AtomicU64,
    cut_header: AtomicU64,
    cut_idle: AtomicU64,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: std::time::Duration) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((method.to_owned(), route.to_owned(), status))
                .or_insert(0) += 1;
        }
        let ms = elapsed.as_secs_f64() * 1000.0;
        let idx = BUCKETS_MS
            .iter()
            .position(|b| ms <= *b)
            .unwrap_or(BUCKETS_MS.len());
        self.buckets[idx].fetch_add(1, Ordering::Relaxed);
        self.sum_us
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn set_connections(&self, places: Arc<Places<IpAddr>>) {
        let _ = self.connections.set(places);
    }

    pub(crate) fn connection_refused(&self, full: Full) {
        match full {
            Full::Total(_) => &self.refused_total,
            Full::Each(_) => &self.refused_address,
        }
        .fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn connection_cut(&self, why: crate::serve::Cut) {
        match why {
            crate::serve::Cut::Header => &self.cut_header,
            crate::serve::Cut::Idle => &self.cut_idle,
        }
        .fetch_add(1, Ordering::Relaxed);
    }

    fn render_connections(&self, out: &mut String) {
        let open = self.connections.get().map_or(0, |p| p.held());
        out.push_str("# HELP leadteam_connections_open Connections open now.\n");
        out.push_str("# TYPE leadteam_connections_open gauge\n");
        out.push_str(&format!("leadteam_connections_open {open}\n"));
        out.push_str(
            "# HELP leadteam_connections_refused_total Connections refused over a cap (X7).\n",
        );
        out.push_str("# TYPE leadteam_connections_refused_total counter\n");
        for (cap, c) in [
            ("total", &self.refused_total),
            ("per_address", &self.refused_address),
        ] {
            out.push_str(&format!(
                "leadteam_connections_refused_total{{cap=\"{cap}\"}} {}\n",
                c.load(Ordering::Relaxed)
            ));
        }
        out.push_str(
            "# HELP leadteam_connections_cut_total Connections closed by a timeout (X7).\n",
        );
        out.push_str("# TYPE leadteam_connections_cut_total counter\n");
        for (why, c) in [
            (crate::serve::Cut::Header, &self.cut_header),
            (crate::serve::Cut::Idle, &self.cut_idle),
        ] {
            out.push_str(&format!(
                "leadteam_connections_cut_total{{reason=\"{}\"}} {}\n",
                why.label(),
                c.load(Ordering::Relaxed)
            ));
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.render_connections(&mut out);
        out.push_str("# HELP leadteam_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE leadteam_http_requests_total counter\n");
        if let Ok(m) = self.requests.lock() {
            for ((method, route, status), n) in m.iter() {
                out.push_str(&format!(
                    "leadteam_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}\n"
                ));
            }
        }
        out.push_str("# HELP leadteam_http_request_duration_seconds Request latency.\n");
        out.push_str("# TYPE leadteam_http_request_duration_seconds histogram\n");
        let mut cumulative = 0;
        for (i, b) in BUCKETS_MS.iter().enumerate() {
            cumulative += self.buckets[i].load(Ordering::Relaxed);
            out.push_str(&format!(
                "leadteam_http_request_duration_seconds_bucket{{le=\"{}\"}} {cumulative}\n",
                b / 1000.0
            ));
        }
        cumulative += self.buckets[BUCKETS_MS.len()].load(Ordering::Relaxed);
        out.push_str(&format!(
            "leadteam_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {cumulative}\n"
        ));
        out.push_str(&format!(
            "leadteam_http_request_duration_seconds_sum {}\n",
            self.sum_us.load(Ordering::Relaxed) as f64 / 1e6
        ));
        out.push_str(&format!(
            "leadteam_http_request_duration_seconds_count {}\n",
            self.count.load(Ordering::Relaxed)
        ));
        out.push_str("# HELP leadteam_http_requests_in_flight Requests being served.\n");
        out.push_str("# TYPE leadteam_http_requests_in_flight gauge\n");
        out.push_str(&format!(
            "leadteam_http_requests_in_flight {}\n",
            self.in_flight.load(Ordering::Relaxed)
        ));
        out
    }
}
