//! # sluicegate-gateway
//!
//! An API gateway built on the Sluicegate engine: tower layers for JWT authentication, exact
//! sliding-window rate limits and per-upstream circuit breakers, and a hyper-based proxy
//! configured by a Kong-style declarative YAML file.

#![warn(missing_docs)]

pub mod body;
pub mod breaker;
pub mod config;
pub mod correlation;
pub mod demo;
pub mod jwt;
pub mod limit;
pub mod metrics;
pub mod peer;
pub mod proxy;
pub mod reply;
pub mod server;
pub mod transform;
