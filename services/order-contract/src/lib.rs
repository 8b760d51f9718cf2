//! What every part of the system must agree on, with no heavy dependencies: the topology (which functions
//! exist, which queue feeds which, where each publishes), how configuration is read, and the problem-type
//! base URL. The functions (through `order-core`), the local gateway, xtask and the contract check all read
//! it; nothing else lists the functions or the queues.

pub mod config;
pub mod topology;

/// Base of every problem `type` (RFC 9457); the slugs after it are stable API.
pub const PROBLEM_BASE: &str = "https://problems.orders.example/";
