//! When a downstream `401` means "renew the token": the `WWW-Authenticate` challenges of RFC
//! 9110 section 11.6.1 and the `error` attribute of RFC 6750 section 3.

/// Which downstream `401` answers make the client renew its token (and retry the request once
/// when it can).
///
/// A `401` whose `Bearer` challenge has another `error` (`invalid_request`,
/// `insufficient_scope`) or that only offers other schemes is never a reason: a new token
/// would be refused the same way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum RenewOn {
    /// `error="invalid_token"`, and also a `401` whose `Bearer` challenge has no `error`
    /// attribute or that has no `WWW-Authenticate` at all (many servers send a bare `401`).
    #[default]
    InvalidTokenOrUnspecified,
    /// Only a `Bearer` challenge with `error="invalid_token"`.
    InvalidToken,
    /// Never: every `401` is returned as is.
    Never,
}

/// What a `401`'s challenges say about the bearer token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    InvalidToken,
    /// A `Bearer` challenge without `error`, or no challenge at all.
    Unspecified,
    /// Another `error`, or only other schemes.
    Other,
}

impl RenewOn {
    /// Whether a response with `status` and these `WWW-Authenticate` values calls for a new
    /// token. Only `401` can.
    ///
    /// ```
    /// use auth_core::oauth_client::RenewOn;
    ///
    /// let policy = RenewOn::default();
    /// assert!(policy.should_renew(401, [r#"Bearer realm="api", error="invalid_token""#]));
    /// assert!(policy.should_renew(401, ["Bearer"]));
    /// assert!(policy.should_renew(401, [] as [&str; 0]));
    /// assert!(!policy.should_renew(401, [r#"Bearer error="insufficient_scope""#]));
    /// assert!(!policy.should_renew(403, [r#"Bearer error="invalid_token""#]));
    /// assert!(!RenewOn::InvalidToken.should_renew(401, ["Bearer"]));
    /// ```
    pub fn should_renew<'a, I>(self, status: u16, www_authenticate: I) -> bool
    where
        I: IntoIterator<Item = &'a str>,
    {
        if status != 401 || self == Self::Never {
            return false;
        }
        matches!(
            (verdict(www_authenticate), self),
            (Verdict::InvalidToken, _) | (Verdict::Unspecified, Self::InvalidTokenOrUnspecified)
        )
    }
}

fn verdict<'a>(values: impl IntoIterator<Item = &'a str>) -> Verdict {
    let mut any_challenge = false;
    let mut bearer_without_error = false;
    for value in values {
        for challenge in Challenges::new(value) {
            any_challenge = true;
            if !challenge.scheme.eq_ignore_ascii_case("bearer") {
                continue;
            }
            match challenge.error {
                Some(e) if e == "invalid_token" => return Verdict::InvalidToken,
                Some(_) => return Verdict::Other,
                None => bearer_without_error = true,
            }
        }
    }
    if bearer_without_error || !any_challenge {
        Verdict::Unspecified
    } else {
        Verdict::Other
    }
}

/// One challenge: its scheme and, if given, its `error` parameter.
#[derive(Debug, PartialEq, Eq)]
struct Challenge {
    scheme: String,
    error: Option<String>,
}

/// Iterates over the challenges of one `WWW-Authenticate` value:
/// `challenge *( OWS "," OWS challenge )`, `challenge = scheme [ 1*SP ( token68 / #param ) ]`,
/// `param = token BWS "=" BWS ( token / quoted-string )`. Malformed input ends the iteration;
/// nothing panics.
struct Challenges<'a> {
    s: &'a [u8],
    i: usize,
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

impl<'a> Challenges<'a> {
    fn new(value: &'a str) -> Self {
        Self {
            s: value.as_bytes(),
            i: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    fn skip_commas(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.i += 1;
        }
    }

    fn token(&mut self) -> Option<&'a str> {
        let start = self.i;
        while self.peek().is_some_and(is_tchar) {
            self.i += 1;
        }
        let t = self.s.get(start..self.i)?;
        if t.is_empty() {
            return None;
        }
        std::str::from_utf8(t).ok()
    }

    fn quoted(&mut self) -> Option<String> {
        // At the opening quote.
        self.i += 1;
        let mut out = Vec::new();
        loop {
            match self.peek()? {
                b'"' => {
                    self.i += 1;
                    return String::from_utf8(out).ok();
                }
                b'\\' => {
                    self.i += 1;
                    out.push(self.peek()?);
                    self.i += 1;
                }
                b => {
                    out.push(b);
                    self.i += 1;
                }
            }
        }
    }

    /// Whether a `token BWS "="` (an auth-param, not a token68) starts at the cursor.
    fn param_ahead(&self) -> bool {
        let mut j = self.i;
        while self.s.get(j).copied().is_some_and(is_tchar) {
            j += 1;
        }
        if j == self.i {
            return false;
        }
        while matches!(self.s.get(j), Some(b' ' | b'\t')) {
            j += 1;
        }
        if self.s.get(j) != Some(&b'=') {
            return false;
        }
        // `token68` may end in `=`; an auth-param has a value after `=` that is not `=`.
        j += 1;
        while matches!(self.s.get(j), Some(b' ' | b'\t')) {
            j += 1;
        }
        !matches!(self.s.get(j), None | Some(b'=' | b','))
    }

    /// Skips a token68 (`1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`).
    fn skip_token68(&mut self) {
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b))
        {
            self.i += 1;
        }
    }
}

impl Iterator for Challenges<'_> {
    type Item = Challenge;

    fn next(&mut self) -> Option<Challenge> {
        self.skip_commas();
        let scheme = self.token()?.to_owned();
        let mut error = None;
        self.skip_ows();
        if !self.param_ahead() && self.peek().is_some_and(|b| b != b',') {
            self.skip_token68();
            self.skip_ows();
        }
        // Params, separated by commas, until one that starts a new challenge.
        loop {
            self.skip_ows();
            if self.peek() == Some(b',') {
                self.skip_commas();
            }
            if !self.param_ahead() {
                break;
            }
            let name = self.token()?;
            self.skip_ows();
            self.i += 1; // '='
            self.skip_ows();
            let value = if self.peek() == Some(b'"') {
                self.quoted()?
            } else {
                self.token()?.to_owned()
            };
            if name.eq_ignore_ascii_case("error") && error.is_none() {
                error = Some(value);
            }
        }
        Some(Challenge { scheme, error })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: &str) -> Vec<(String, Option<String>)> {
        Challenges::new(v).map(|c| (c.scheme, c.error)).collect()
    }

    #[test]
    fn bearer_challenges_with_and_without_error_are_read() {
        assert_eq!(
            parse(r#"Bearer realm="api", error="invalid_token", error_description="expired""#),
            [("Bearer".to_owned(), Some("invalid_token".to_owned()))]
        );
        assert_eq!(parse("Bearer"), [("Bearer".to_owned(), None)]);
        assert_eq!(
            parse(r#"Bearer realm="a,b \"c\"""#),
            [("Bearer".to_owned(), None)]
        );
        assert_eq!(
            parse("bearer error=invalid_token"),
            [("bearer".to_owned(), Some("invalid_token".to_owned()))]
        );
    }

    #[test]
    fn several_challenges_in_one_value_are_told_apart() {
        assert_eq!(
            parse(r#"Basic realm="x", Bearer error="invalid_token", Negotiate abc=="#),
            [
                ("Basic".to_owned(), None),
                ("Bearer".to_owned(), Some("invalid_token".to_owned())),
                ("Negotiate".to_owned(), None),
            ]
        );
        assert_eq!(
            parse(r#"Negotiate a1b2==, Bearer realm="r""#),
            [("Negotiate".to_owned(), None), ("Bearer".to_owned(), None)]
        );
    }

    #[test]
    fn the_policy_follows_the_bearer_error() {
        let d = RenewOn::default();
        assert!(d.should_renew(401, [r#"Bearer error="invalid_token""#]));
        assert!(d.should_renew(401, [r#"DPoP algs="ES256""#, "Bearer"]));
        assert!(!d.should_renew(401, [r#"Bearer error="invalid_request""#]));
        assert!(!d.should_renew(401, [r#"Basic realm="x""#]));
        assert!(!d.should_renew(200, [] as [&str; 0]));
        assert!(!RenewOn::Never.should_renew(401, [r#"Bearer error="invalid_token""#]));
        assert!(RenewOn::InvalidToken.should_renew(401, [r#"Bearer error="invalid_token""#]));
        assert!(!RenewOn::InvalidToken.should_renew(401, [] as [&str; 0]));
    }

    proptest::proptest! {
        #[test]
        fn any_header_value_parses_without_panicking(v in "\\PC*") {
            let _ = parse(&v);
            let _ = RenewOn::default().should_renew(401, [v.as_str()]);
        }

        #[test]
        fn ascii_soup_parses_without_panicking(v in "[ -~]{0,64}") {
            let _ = parse(&v);
        }
    }
}
