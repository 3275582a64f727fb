//! API tests: each story runs against a server spawned on port 0 with its own
//! database, on SQLite and on PostgreSQL, acting over HTTP as a user would.
//! Test names carry the RULES.md rule they prove.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod content;
mod content_files;
mod groups;
mod identity;
mod members;
mod service;
mod support;
mod teams;
