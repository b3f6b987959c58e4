//! Kong's `request-transformer` as a tower layer: edits to the request's headers, query string
//! and method before it goes upstream.
//!
//! Each of headers and query string goes through the five operations in Kong's order:
//! `remove`, then `rename` (only what is present), `replace` (only what is present), `add`
//! (only what is absent), and `append` (always, as another value). `$(uuid)` in a value (a
//! Sluicegate extension, see [`Template`]) becomes a fresh UUID per request.
//!
//! ```
//! use http::Request;
//! use sluicegate_gateway::config::{Config, Plugin};
//! use sluicegate_gateway::transform::RequestTransform;
//! let config = Config::from_yaml(r#"
//! _format_version: "3.0"
//! plugins:
//!   - name: request-transformer
//!     config:
//!       remove: {headers: [cookie], querystring: [debug]}
//!       add: {headers: ["x-gateway-version:1.0"], querystring: ["source:gateway"]}
//! "#, "inline")?;
//! let Plugin::RequestTransformer(plugin) = &config.plugins[0] else { unreachable!() };
//! let transform = RequestTransform::new(plugin);
//! let mut request = Request::builder()
//!     .uri("/users?debug=1&page=2")
//!     .header("cookie", "session=1")
//!     .body(())?;
//! transform.apply(&mut request);
//! assert_eq!(request.uri(), "/users?page=2&source=gateway");
//! assert_eq!(request.headers()["x-gateway-version"], "1.0");
//! assert!(!request.headers().contains_key("cookie"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::{HeaderName, HeaderValue};
use http::uri::PathAndQuery;
use http::{HeaderMap, Method, Request, Uri};

use crate::config::{RequestTransformerPlugin, Template};

/// A value to set: fixed, or rendered per request.
#[derive(Debug, Clone)]
enum Value {
    Fixed(HeaderValue),
    Rendered(Template),
}

impl Value {
    fn new(template: &Template) -> Self {
        match template
            .as_static()
            .and_then(|s| HeaderValue::try_from(s).ok())
        {
            Some(fixed) => Self::Fixed(fixed),
            None => Self::Rendered(template.clone()),
        }
    }

    fn header(&self) -> Option<HeaderValue> {
        match self {
            Self::Fixed(value) => Some(value.clone()),
            Self::Rendered(template) => HeaderValue::try_from(render(template)).ok(),
        }
    }

    fn text(&self) -> String {
        match self {
            Self::Fixed(value) => String::from_utf8_lossy(value.as_bytes()).into_owned(),
            Self::Rendered(template) => render(template),
        }
    }
}

fn render(template: &Template) -> String {
    template.render(|| uuid::Uuid::new_v4().to_string())
}

/// The edits of one `request-transformer` plugin, ready to apply.
#[derive(Debug, Clone)]
pub struct RequestTransform {
    method: Option<Method>,
    headers: Edits<HeaderName>,
    query: Edits<String>,
}

#[derive(Debug, Clone)]
struct Edits<K> {
    remove: Vec<K>,
    rename: Vec<(K, K)>,
    replace: Vec<(K, Value)>,
    add: Vec<(K, Value)>,
    append: Vec<(K, Value)>,
}

impl<K> Edits<K> {
    fn is_empty(&self) -> bool {
        self.remove.is_empty()
            && self.rename.is_empty()
            && self.replace.is_empty()
            && self.add.is_empty()
            && self.append.is_empty()
    }
}

fn values<K: Clone>(pairs: &[(K, Template)]) -> Vec<(K, Value)> {
    pairs
        .iter()
        .map(|(k, t)| (k.clone(), Value::new(t)))
        .collect()
}

impl RequestTransform {
    /// Prepares a plugin's edits.
    pub fn new(plugin: &RequestTransformerPlugin) -> Self {
        let h = &plugin.headers;
        let q = &plugin.querystring;
        Self {
            method: plugin.http_method.clone(),
            headers: Edits {
                remove: h.remove.clone(),
                rename: h.rename.clone(),
                replace: values(&h.replace),
                add: values(&h.add),
                append: values(&h.append),
            },
            query: Edits {
                remove: q.remove.clone(),
                rename: q.rename.clone(),
                replace: values(&q.replace),
                add: values(&q.add),
                append: values(&q.append),
            },
        }
    }

    /// Applies the edits to a request.
    pub fn apply<B>(&self, request: &mut Request<B>) {
        if let Some(method) = &self.method {
            *request.method_mut() = method.clone();
        }
        if !self.headers.is_empty() {
            self.edit_headers(request.headers_mut());
        }
        if !self.query.is_empty()
            && let Some(uri) = self.edit_query(request.uri())
        {
            *request.uri_mut() = uri;
        }
    }

    fn edit_headers(&self, headers: &mut HeaderMap) {
        let e = &self.headers;
        for name in &e.remove {
            headers.remove(name);
        }
        for (from, to) in &e.rename {
            let moved: Vec<HeaderValue> = match headers.entry(from) {
                http::header::Entry::Occupied(entry) => entry.remove_entry_mult().1.collect(),
                http::header::Entry::Vacant(_) => continue,
            };
            headers.remove(to);
            for value in moved {
                headers.append(to, value);
            }
        }
        for (name, value) in &e.replace {
            if headers.contains_key(name)
                && let Some(value) = value.header()
            {
                headers.insert(name, value);
            }
        }
        for (name, value) in &e.add {
            if !headers.contains_key(name)
                && let Some(value) = value.header()
            {
                headers.insert(name, value);
            }
        }
        for (name, value) in &e.append {
            if let Some(value) = value.header() {
                headers.append(name, value);
            }
        }
    }

    fn edit_query(&self, uri: &Uri) -> Option<Uri> {
        let e = &self.query;
        let mut pairs: Vec<(String, String)> =
            form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
                .into_owned()
                .collect();
        pairs.retain(|(k, _)| !e.remove.contains(k));
        for (from, to) in &e.rename {
            if pairs.iter().any(|(k, _)| k == from) {
                pairs.retain(|(k, _)| k != to);
                for (k, _) in pairs.iter_mut().filter(|(k, _)| k == from) {
                    k.clone_from(to);
                }
            }
        }
        for (name, value) in &e.replace {
            if pairs.iter().any(|(k, _)| k == name) {
                pairs.retain(|(k, _)| k != name);
                pairs.push((name.clone(), value.text()));
            }
        }
        for (name, value) in &e.add {
            if !pairs.iter().any(|(k, _)| k == name) {
                pairs.push((name.clone(), value.text()));
            }
        }
        for (name, value) in &e.append {
            pairs.push((name.clone(), value.text()));
        }
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&pairs)
            .finish();
        let target = if query.is_empty() {
            uri.path().to_owned()
        } else {
            format!("{}?{query}", uri.path())
        };
        let mut parts = uri.clone().into_parts();
        parts.path_and_query = Some(PathAndQuery::try_from(target).ok()?);
        Uri::from_parts(parts).ok()
    }
}

/// A tower layer applying a [`RequestTransform`] to every request.
#[derive(Debug, Clone)]
pub struct RequestTransformLayer {
    transform: Arc<RequestTransform>,
}

impl RequestTransformLayer {
    /// A layer applying `plugin`'s edits.
    pub fn new(plugin: &RequestTransformerPlugin) -> Self {
        Self {
            transform: Arc::new(RequestTransform::new(plugin)),
        }
    }
}

impl<S> tower::Layer<S> for RequestTransformLayer {
    type Service = Transformed<S>;

    fn layer(&self, inner: S) -> Transformed<S> {
        Transformed {
            inner,
            transform: self.transform.clone(),
        }
    }
}

/// The service [`RequestTransformLayer`] makes.
#[derive(Debug, Clone)]
pub struct Transformed<S> {
    inner: S,
    transform: Arc<RequestTransform>,
}

impl<S, B> tower::Service<Request<B>> for Transformed<S>
where
    S: tower::Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> S::Future {
        self.transform.apply(&mut request);
        self.inner.call(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Plugin};

    fn transform(yaml: &str) -> RequestTransform {
        let text = format!(
            "_format_version: \"3.0\"\nplugins:\n  - name: request-transformer\n    config:\n{yaml}"
        );
        let config = Config::from_yaml(&text, "test").unwrap();
        let Plugin::RequestTransformer(plugin) = &config.plugins[0] else {
            panic!("not a transformer")
        };
        RequestTransform::new(plugin)
    }

    #[test]
    fn kong_order_on_headers() {
        let t = transform(
            "      remove: {headers: [x-a]}\n      rename: {headers: [\"x-b:x-c\"]}\n      replace: {headers: [\"x-c:replaced\", \"x-missing:no\"]}\n      add: {headers: [\"x-c:ignored\", \"x-d:added\", \"x-id:$(uuid)\"]}\n      append: {headers: [\"x-d:appended\"]}\n",
        );
        let mut request = Request::builder()
            .header("x-a", "1")
            .header("x-b", "2")
            .body(())
            .unwrap();
        t.apply(&mut request);
        let h = request.headers();
        assert!(!h.contains_key("x-a") && !h.contains_key("x-b"));
        assert!(!h.contains_key("x-missing"));
        assert_eq!(h["x-c"], "replaced");
        let d: Vec<_> = h.get_all("x-d").iter().collect();
        assert_eq!(d, ["added", "appended"]);
        assert_eq!(h["x-id"].len(), 36);
    }

    #[test]
    fn kong_order_on_the_query() {
        let t = transform(
            "      rename: {querystring: [\"old:new\"]}\n      replace: {querystring: [\"page:1\"]}\n      append: {querystring: [\"tag:x\"]}\n",
        );
        let mut request = Request::builder()
            .uri("http://h/p?old=a%20b&page=9&tag=w")
            .body(())
            .unwrap();
        t.apply(&mut request);
        assert_eq!(request.uri(), "http://h/p?new=a+b&tag=w&page=1&tag=x");
    }
}
