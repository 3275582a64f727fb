//! Lead intake and automatic assignment (A1-A7, I1): a lead and its routing
//! decision are stored in one transaction, so concurrent senders on several
//! nodes never lose a lead, never assign one twice, and round-robin counts
//! hold.
//!
//! Leads that arrive together are stored together: each delivery is checked
//! and parsed on its own request, then handed to this process's intake
//! writer, which takes every lead waiting at that moment and stores, routes,
//! logs and announces them in one transaction with a handful of bulk
//! statements (group commit). A lone lead goes through at once; under a
//! burst the batches grow, so the cost of a transaction is shared. When a
//! batch fails (a concurrent duplicate from another node, say) each of its
//! leads is retried alone, so one lead never sinks another.

mod batch;
pub mod facebook;
pub mod facebook_lookup;
pub mod facebook_names;
pub mod form;
pub mod hooks;
pub mod keyed;
mod known;
pub mod log;

use crate::App;
use crate::error::AppError;
use leadteam_domain::routing::{LeadFacts, SourceKind};
use leadteam_domain::validate::{Email, parse_phone};
use leadteam_domain::{ClientId, MemberId};
use leadteam_store::sources::SourceRow;
use serde_json::{Map, Value, json};
use std::sync::{Arc, OnceLock};
use tokio::sync::{mpsc, oneshot};

pub use known::KnownSources;
pub use leadteam_domain::intake::Lead;

/// What happened to a delivered lead.
#[derive(Debug, Clone)]
pub struct Ingested {
    pub client: ClientId,
    /// The lead was delivered before; nothing new was stored.
    pub duplicate: bool,
    pub assignee: Option<MemberId>,
    pub reason: String,
}

/// The longest name shown; a longer one is kept whole in the custom fields.
const MAX_NAME: usize = 200;

fn display_name(lead: &Lead) -> String {
    let n = lead
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if let Some(n) = n {
        return n.chars().take(MAX_NAME).collect();
    }
    if let Some(e) = &lead.email {
        return e.clone();
    }
    if let Some(p) = &lead.phone {
        return p.clone();
    }
    if lead.awaiting_details {
        return "Facebook lead (awaiting details)".to_owned();
    }
    "New lead".to_owned()
}

/// A lead checked and parsed, ready for the writer. (Not `Debug`: it holds
/// the source and its secrets.)
#[derive(Clone)]
pub(crate) struct Prepared {
    source: SourceRow,
    kind: SourceKind,
    name: String,
    email: Option<String>,
    phone: Option<String>,
    facts: LeadFacts,
    fields_json: String,
    source_lead_id: Option<String>,
    key: Option<String>,
    /// How it came, as the delivery log names it (`signed`, `form`, ...).
    channel: &'static str,
}

/// Checks and parses a delivered lead. Contact details are kept even when
/// malformed (nothing is lost): a bad email or phone goes to the custom
/// fields instead, as does the whole of a name too long to show.
fn prepare(
    source: &SourceRow,
    lead: Lead,
    key: Option<&str>,
    channel: &'static str,
) -> Result<Prepared, AppError> {
    if !source.enabled {
        return Err(AppError::conflict(None, "this lead source is switched off"));
    }
    // A hosted form (I4) is a website form to routing and reports.
    let kind = match source.kind.as_str() {
        "form" => SourceKind::Website,
        k => SourceKind::parse(k).unwrap_or(SourceKind::Webhook),
    };
    let mut fields = lead.fields.clone();
    let email = match lead
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        Some(raw) => match Email::parse("email", raw) {
            Ok(e) => Some(e.into_string()),
            Err(_) => {
                fields.insert("email (as sent)".into(), raw.to_owned());
                None
            }
        },
        None => None,
    };
    let phone = match lead
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        Some(raw) => match parse_phone("phone", raw) {
            Ok(p) => Some(p),
            Err(_) => {
                fields.insert("phone (as sent)".into(), raw.to_owned());
                None
            }
        },
        None => None,
    };
    let name = display_name(&Lead {
        email: email.clone(),
        phone: phone.clone(),
        ..lead.clone()
    });
    // A name too long to show is cut for display, and kept whole.
    if let Some(raw) = lead.name.as_deref().map(str::trim)
        && raw.chars().count() > MAX_NAME
    {
        fields.insert("name (as sent)".into(), raw.to_owned());
    }
    let mut stored: Map<String, Value> =
        fields.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    if let Some(p) = &lead.facebook_page_id {
        stored.insert("facebook_page_id".into(), json!(p));
    }
    if let Some(f) = &lead.facebook_form_id {
        stored.insert("facebook_form_id".into(), json!(f));
    }
    if lead.awaiting_details {
        stored.insert("awaiting_details".into(), json!("true"));
    }
    Ok(Prepared {
        source: source.clone(),
        kind,
        name,
        email,
        phone,
        facts: LeadFacts {
            source_kind: kind,
            source_id: Some(source.id),
            facebook_page_id: lead.facebook_page_id,
            facebook_form_id: lead.facebook_form_id,
            fields,
        },
        fields_json: Value::Object(stored).to_string(),
        source_lead_id: lead.source_lead_id,
        key: key.map(str::to_owned),
        channel,
    })
}

/// Stores a lead from `source` that came through `channel` and routes it.
/// A lead delivered twice (same source lead id, or same `Idempotency-Key`)
/// is stored once. The delivery log (I7) gets its row in the lead's
/// transaction; a refusal is logged by the caller (`log::outcome`).
pub async fn ingest(
    app: &App,
    source: &SourceRow,
    lead: Lead,
    idempotency_key: Option<&str>,
    channel: &'static str,
) -> Result<Ingested, AppError> {
    let prepared = prepare(source, lead, idempotency_key, channel)?;
    app.intake.submit(app, prepared).await
}

/// Leads waiting for the writer, with where to send each answer.
struct Job {
    lead: Prepared,
    reply: oneshot::Sender<Result<Ingested, AppError>>,
    /// Counts the job as pending until it is answered (dropped).
    _pending: Pending,
}

struct Pending(Arc<tokio::sync::watch::Sender<usize>>);

impl Drop for Pending {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// The most leads stored in one transaction.
const MAX_BATCH: usize = 256;

/// This process's intake writer (started on first use).
#[derive(Clone, Default)]
pub struct IntakeQueue {
    sender: Arc<OnceLock<mpsc::UnboundedSender<Job>>>,
    /// Leads handed to the writer and not answered yet.
    pending: Arc<tokio::sync::watch::Sender<usize>>,
}

impl IntakeQueue {
    /// Waits until every lead handed to the writer is stored (or failed)
    /// and answered: a stopping server calls it after the requests in
    /// flight ended, so no batch is cut short.
    pub async fn drain(&self) {
        let mut rx = self.pending.subscribe();
        let _ = rx.wait_for(|n| *n == 0).await;
    }

    /// Leads handed to the writer and not answered yet.
    pub fn pending(&self) -> usize {
        *self.pending.borrow()
    }

    async fn submit(&self, app: &App, lead: Prepared) -> Result<Ingested, AppError> {
        let sender = self.sender.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            // One writer per process, on both engines. SQLite has one
            // writer anyway. On PostgreSQL two writers took turns on the
            // round-robin counters' lock, each holding it for its script
            // and commit while the other waited, and every batch was half
            // the size: with one, 32 senders stored 3,736 / 3,746 / 3,594
            // leads/s against 3,000 / 3,048 / 3,722, p99 11.5 / 12.2 /
            // 11.9 ms against 18.1 / 16.3 / 12.7, PostgreSQL's CPU per
            // lead 0.175 / 0.181 / 0.187 ms against 0.269 / 0.260 / 0.209
            // (issue 19). Several nodes still write at once: capacity rows
            // are locked in id order, then counter rows in key order, so
            // they never wait on each other in a cycle.
            tokio::spawn(writer(app.clone(), rx));
            tx
        });
        let (reply, answer) = oneshot::channel();
        self.pending.send_modify(|n| *n += 1);
        let job = Job {
            lead,
            reply,
            _pending: Pending(Arc::clone(&self.pending)),
        };
        sender
            .send(job)
            .map_err(|_| AppError::Internal("the intake writer stopped".into()))?;
        answer
            .await
            .map_err(|_| AppError::Internal("the intake writer stopped".into()))?
    }
}

/// Takes every lead waiting (up to [`MAX_BATCH`]) and stores them together.
async fn writer(app: App, mut rx: mpsc::UnboundedReceiver<Job>) {
    loop {
        let jobs = {
            let Some(first) = rx.recv().await else {
                return;
            };
            let mut jobs = vec![first];
            while jobs.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(j) => jobs.push(j),
                    Err(_) => break,
                }
            }
            jobs
        };
        let leads: Vec<Prepared> = jobs.iter().map(|j| j.lead.clone()).collect();
        let started = std::time::Instant::now();
        let stored = batch::store(&app, &leads).await;
        tracing::trace!(
            leads = leads.len(),
            micros = started.elapsed().as_micros() as u64,
            "intake batch"
        );
        match stored {
            Ok(answers) => {
                for (job, answer) in jobs.into_iter().zip(answers) {
                    let _ = job.reply.send(Ok(answer));
                }
            }
            Err(e) => {
                if jobs.len() > 1 {
                    tracing::debug!(error = %e, leads = jobs.len(), "intake batch failed; storing its leads one by one");
                }
                for job in jobs {
                    let answer = alone(&app, &job.lead).await;
                    let _ = job.reply.send(answer);
                }
            }
        }
    }
}

/// Stores one lead in its own transaction; after losing a race with a
/// concurrent delivery of the same lead, answers with the stored one.
async fn alone(app: &App, lead: &Prepared) -> Result<Ingested, AppError> {
    match batch::store(app, std::slice::from_ref(lead)).await {
        Ok(mut answers) => answers
            .pop()
            .ok_or_else(|| AppError::Internal("an intake batch gave no answer".into())),
        Err(e) => match batch::stored_already(app, lead).await? {
            Some(found) => {
                log::stored_before(app, &lead.source, lead.channel, &found).await;
                Ok(found)
            }
            None => Err(e),
        },
    }
}
