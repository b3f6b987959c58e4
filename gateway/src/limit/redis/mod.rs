//! `policy: redis`: limits counted in one Redis server, shared by every gateway instance
//! that names it.

mod connection;

pub use connection::{ConnectionError, RedisConnection};
