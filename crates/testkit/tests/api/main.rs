//! API tests: each story runs against a server spawned on port 0 with its own
//! database, on SQLite and on PostgreSQL, acting over HTTP as a user would.
//! Test names carry the RULES.md rule they prove.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod alerts;
mod api_keys;
mod billing;
mod callers;
mod clientgen;
mod clients;
mod clients_handoff;
mod clients_hidden;
mod content;
mod content_files;
mod contract;
mod graph;
mod graph_names;
mod groups;
mod hosted;
mod identity;
mod import;
mod import_skip;
mod intake;
mod intake_payloads;
mod intake_sources;
mod licences_and_credits;
mod limits;
mod mail;
mod matrix;
mod members;
mod metrics;
mod outbound;
mod ownership;
mod removal;
mod reports;
mod roles;
mod routing;
mod routing_deadlines;
mod routing_explained;
mod routing_time;
mod service;
mod smtp;
mod standin;
mod stream;
mod support;
mod teams;
mod time_zones;
mod trust;
