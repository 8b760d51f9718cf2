//! The order backend's shared library: domain, storage, messaging, HTTP edge and telemetry.
//!
//! Each Lambda function is a thin binary over this crate.

pub mod bootstrap;
pub mod config;
pub mod db;
pub mod domain;
pub mod http;
pub mod init_clock;
pub mod invocation;
pub mod messages;
pub mod publisher;
pub mod service;
pub mod sqs;
pub mod store;
pub mod telemetry;
pub mod trust;

pub use order_contract::topology;
