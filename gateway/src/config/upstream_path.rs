//! The path a proxied request takes upstream, computed exactly as Kong 3 computes it.

/// The upstream request path for `request_path`, which a route matched with `matched`.
///
/// - `service_path`: the service's path, or `/` if it has none
///   ([`Service::base_path`](crate::config::Service::base_path)); an empty one is taken as `/`.
/// - `matched`: what the route path matched at the start of `request_path`: the whole
///   prefix, or a `~` regex's match ([`RoutePath::matches`](crate::config::RoutePath::matches)).
/// - `strip_path`: the route's `strip_path`.
/// - `request_path`: the request's normalized path, without the query string.
///
/// With `strip_path`, the matched part is dropped and the rest is joined to the service path
/// with exactly one `/`; a rest of `.`, `..`, or one starting `./` or `../` loses that
/// segment, as in Kong. A trailing `/` on the request survives; one on the service path
/// survives only if the request has one too. Without `strip_path`, the whole request path is
/// appended to the service path. If `matched` is not a prefix of `request_path` nothing is
/// stripped.
///
/// Kong's own examples (service path, route path, strip_path, request -> upstream):
///
/// ```
/// use sluicegate_gateway::config::upstream_path;
/// assert_eq!(upstream_path("/", "/route", true, "/route"), "/");
/// assert_eq!(upstream_path("/service", "/route", true, "/route/"), "/service/");
/// assert_eq!(upstream_path("/service", "/route", true, "/routereq"), "/service/req");
/// assert_eq!(upstream_path("/service", "/route", false, "/route"), "/service/route");
/// assert_eq!(upstream_path("/service/", "/route", true, "/route"), "/service");
/// ```
pub fn upstream_path(
    service_path: &str,
    matched: &str,
    strip_path: bool,
    request_path: &str,
) -> String {
    let base = if service_path.is_empty() {
        "/"
    } else {
        service_path
    };
    let base_has_slash = base.ends_with('/');
    if !strip_path {
        return match (base_has_slash, request_path) {
            (true, path) => format!("{base}{}", path.strip_prefix('/').unwrap_or(path)),
            (false, "/") => base.to_owned(),
            (false, path) => format!("{base}{path}"),
        };
    }
    let rest = sanitize_rest(request_path.strip_prefix(matched).unwrap_or(request_path));
    let request_has_slash = request_path.ends_with('/');
    let without_slash = base.strip_suffix('/').unwrap_or(base);
    if base_has_slash {
        match rest {
            "" if base == "/" => "/".to_owned(),
            "" if request_has_slash => base.to_owned(),
            "" => without_slash.to_owned(),
            rest if rest.starts_with('/') => format!("{without_slash}{rest}"),
            rest => format!("{base}{rest}"),
        }
    } else {
        match rest {
            "" if request_path.len() > 1 && request_has_slash => format!("{base}/"),
            "" => base.to_owned(),
            rest if rest.starts_with('/') => format!("{base}{rest}"),
            rest => format!("{base}/{rest}"),
        }
    }
}

/// Kong drops a leading `.` or `..` segment from what is left after the match, so a route
/// cannot be used to climb out of the service path.
fn sanitize_rest(rest: &str) -> &str {
    match rest {
        "." | ".." => "",
        rest => rest
            .strip_prefix("./")
            .or_else(|| rest.strip_prefix("../"))
            .unwrap_or(rest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_segments_after_the_match_are_dropped() {
        assert_eq!(upstream_path("/svc", "/route", true, "/route.."), "/svc");
        assert_eq!(
            upstream_path("/svc", "/route", true, "/route../x"),
            "/svc/x"
        );
        assert_eq!(upstream_path("/svc", "/route", true, "/route./x"), "/svc/x");
    }

    #[test]
    fn an_empty_service_path_is_the_root() {
        assert_eq!(upstream_path("", "/route", true, "/route/x"), "/x");
        assert_eq!(upstream_path("", "/route", true, "/route"), "/");
        assert_eq!(upstream_path("", "/route", false, "/route"), "/route");
    }

    #[test]
    fn a_path_the_match_does_not_prefix_is_kept_whole() {
        assert_eq!(
            upstream_path("/svc", "/other", true, "/route/x"),
            "/svc/route/x"
        );
    }
}
