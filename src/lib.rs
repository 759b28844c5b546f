//! Keel: a customer-success platform that tells a CS team which accounts are about to churn
//! or ready to expand, and makes sure someone acts in time.

pub mod accounts;
pub mod app;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
mod db_enum;
pub mod demo;
pub mod digits;
pub mod error;
pub mod expansion;
pub mod experiments;
pub mod features;
pub mod health;
pub mod ingest;
pub mod jobs;
pub mod mail;
pub mod model;
pub mod money;
pub mod opportunities;
pub mod pipeline;
pub mod playbooks;
pub mod reasons;
pub mod revenue;
pub mod scores;
pub mod segment;
pub mod state;
pub mod stats;
pub mod statuses;
pub mod taxonomy;
pub mod telemetry;
pub mod web;
pub mod worklist;
