//! UI tests: journeys in real headless Chromium (see `harness`) and the
//! UI's HTTP contract (CSRF, redirects, assets), each against a server spawned
//! on port 0 with its own SQLite database. Screenshots of every page visited
//! are saved under `target/screenshots/<test>/`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod client_filters;
mod facebook_names;
mod files;
mod files_http;
mod harness;
mod home;
mod identity;
mod integrations;
mod keys;
mod leads;
mod nav;
mod pages;
mod phone_cards;
mod routing;
mod settings;
// The stand-in Graph API of the API tests (I6).
#[allow(dead_code)]
#[path = "../api/standin.rs"]
mod standin;
mod team;
mod team_http;
mod work;
mod work_pages;
