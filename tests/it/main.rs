//! The one integration-test binary: every test gets a fresh database and the real app on
//! a random port.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access;
mod accounts;
mod admin;
mod alerts;
mod auth;
mod books;
mod browser;
mod browser_builder;
mod browser_experiment;
mod browser_handoff;
mod browser_keys;
mod browser_mapping;
mod builder;
mod candidates;
mod changes;
mod demo;
mod enums;
mod expansion;
mod experiment_results;
mod experiments;
mod features;
mod foreign;
mod fuzz;
mod guard;
mod handoff;
mod helpers;
mod ingest;
mod ingest_concurrent;
mod mail;
mod ops;
mod pipeline;
mod pipeline_history;
mod playbooks;
mod privacy;
mod revenue;
mod runs;
mod scoring;
mod tasks;
mod taxonomy;
mod teams;
mod timeline;
mod worklist;
mod zone;
