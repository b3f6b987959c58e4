//! Who a verified token says the caller is.

/// The caller a verified token identifies, as later layers see it.
///
/// [`JwtAuthLayer`](super::JwtAuthLayer) inserts one into the request's extensions after a
/// token verifies; the rate limiter (`limit_by: consumer` / `credential`) and the proxy (the
/// `x-user-id` header) read it from there.
///
/// ```
/// use sluicegate_gateway::jwt::Identity;
/// let mut request = http::Request::new(());
/// request.extensions_mut().insert(Identity {
///     consumer: "alice".into(),
///     credential: "alice-key".into(),
///     subject: Some("user-42".into()),
///     scopes: vec!["orders:read".into()],
///     expires_at: Some(1_900_000_000),
/// });
/// let identity = request.extensions().get::<Identity>().unwrap();
/// assert!(identity.has_scope("orders:read"));
/// assert_eq!(identity.subject.as_deref(), Some("user-42"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The consumer owning the credential that verified the token: its `username`, or its
    /// `custom_id` when it has no username.
    pub consumer: String,
    /// The `key` of the consumer's JWT credential: the value of the token's key claim.
    pub credential: String,
    /// The token's `sub` claim, if it has one.
    pub subject: Option<String>,
    /// The scopes the token grants: its `scopes` claim, else its `scope` claim, each either an
    /// array of strings or one space-separated string.
    pub scopes: Vec<String>,
    /// The token's `exp` claim in whole seconds since the Unix epoch, if it has one.
    pub expires_at: Option<u64>,
}

impl Identity {
    /// Whether the token grants `scope` (compared exactly, case included).
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|granted| granted == scope)
    }

    /// The first of `required` the token does not grant, if any.
    ///
    /// ```
    /// # use sluicegate_gateway::jwt::Identity;
    /// let identity = Identity {
    ///     consumer: "bob".into(),
    ///     credential: "bob-key".into(),
    ///     subject: None,
    ///     scopes: vec!["orders:read".into()],
    ///     expires_at: None,
    /// };
    /// let required = ["orders:read".to_string(), "admin".to_string()];
    /// assert_eq!(identity.missing_scope(&required), Some("admin"));
    /// ```
    pub fn missing_scope<'a>(&self, required: &'a [String]) -> Option<&'a str> {
        required
            .iter()
            .map(String::as_str)
            .find(|scope| !self.has_scope(scope))
    }
}
