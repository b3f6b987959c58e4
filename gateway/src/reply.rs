//! The answers the gateway makes itself: small JSON bodies in Kong's shape.
//!
//! Kong answers its own errors with `{"message": "..."}`; clients written against Kong parse
//! that, so the gateway's own 429, 502, 503 and 504 answers use the same shape.

use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};

use crate::body::Body;

/// The media type of every answer the gateway makes itself.
pub const JSON: HeaderValue = HeaderValue::from_static("application/json; charset=utf-8");

/// A response whose body is `{"message": message}`.
///
/// ```
/// use http::StatusCode;
/// use sluicegate_gateway::reply;
/// let response = reply::message(StatusCode::BAD_GATEWAY, "upstream refused the connection");
/// assert_eq!(response.status(), 502);
/// assert_eq!(response.headers()["content-type"], "application/json; charset=utf-8");
/// ```
pub fn message(status: StatusCode, message: &str) -> Response<Body> {
    json(status, &serde_json::json!({ "message": message }))
}

/// A response with `value` serialised as its JSON body.
///
/// ```
/// use http::StatusCode;
/// use sluicegate_gateway::reply;
/// let response = reply::json(StatusCode::OK, &serde_json::json!({ "status": "ok" }));
/// assert_eq!(response.status(), StatusCode::OK);
/// ```
pub fn json(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    let mut response = Response::new(Body::from(value.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, JSON);
    response
}
