//! RFC 6901 JSON pointers into a token's claims, for [`ClaimPath`](super::ClaimPath).
//!
//! A pointer is parsed once, when the mapping is configured: `~1` stands for `/` and `~0` for
//! `~` inside a reference token, any other `~` is refused. Resolution never panics and never
//! allocates; it tells a missing member apart from a member of the wrong type, because the
//! verifier treats the two differently (nothing granted versus `INVALID_TOKEN`).

use serde_json::Value;

use crate::error::ConfigError;

/// A parsed JSON pointer that names a claim (its first token) and a path inside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pointer {
    /// The unescaped reference tokens; never empty, the first one never empty either.
    tokens: Box<[String]>,
    /// The pointer as configured (escaped), for logs and `Debug`.
    text: Box<str>,
}

/// Why a pointer did not reach a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Miss {
    /// A member or array element on the path is absent.
    Absent,
    /// A value on the path is neither an object nor an array, so the path cannot continue, or
    /// an array is indexed by something other than a decimal index.
    WrongType,
}

impl Pointer {
    /// Parses `/claim/member/...`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidClaimMapping`] when the pointer is empty (the whole claims set),
    /// does not start with `/`, names an empty claim, or has a `~` not followed by `0` or `1`.
    pub(crate) fn parse(text: &str) -> Result<Self, ConfigError> {
        let invalid = |why: &str| {
            ConfigError::InvalidClaimMapping(format!(
                "json pointer `{}` {why}",
                text.escape_debug()
            ))
        };
        let Some(rest) = text.strip_prefix('/') else {
            return Err(invalid("must start with `/` and name a claim"));
        };
        let tokens = rest
            .split('/')
            .map(unescape)
            .collect::<Option<Vec<String>>>()
            .ok_or_else(|| invalid("has a `~` not followed by `0` or `1`"))?;
        if tokens.first().is_none_or(String::is_empty) {
            return Err(invalid("names an empty claim"));
        }
        Ok(Self {
            tokens: tokens.into_boxed_slice(),
            text: text.into(),
        })
    }

    /// The pointer of the given (unescaped) tokens, e.g. a claim name chosen by a provider.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidClaimMapping`] when there are no tokens or the claim name is empty.
    pub(crate) fn from_tokens<I, S>(tokens: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let p = Self::escaped(tokens.into_iter().map(Into::into).collect());
        if p.claim().is_empty() {
            return Err(ConfigError::InvalidClaimMapping(format!(
                "json pointer `{}` names an empty claim",
                p.text.escape_debug()
            )));
        }
        Ok(p)
    }

    /// The pointer of constant tokens whose first one is a non-empty claim name (the presets').
    pub(crate) fn constant(tokens: &[&str]) -> Self {
        Self::escaped(tokens.iter().map(|t| (*t).to_owned()).collect())
    }

    fn escaped(tokens: Vec<String>) -> Self {
        let mut text = String::new();
        for t in &tokens {
            text.push('/');
            text.push_str(&t.replace('~', "~0").replace('/', "~1"));
        }
        Self {
            tokens: tokens.into_boxed_slice(),
            text: text.into(),
        }
    }

    /// The top-level claim the pointer starts at.
    pub(crate) fn claim(&self) -> &str {
        self.tokens.first().map_or("", String::as_str)
    }

    /// The pointer as configured.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// Follows the rest of the pointer from `claim`, the value of [`claim`](Self::claim).
    pub(crate) fn resolve<'v>(&self, claim: &'v Value) -> Result<&'v Value, Miss> {
        let mut value = claim;
        for token in self.tokens.iter().skip(1) {
            value = match value {
                Value::Object(members) => members.get(token).ok_or(Miss::Absent)?,
                // `-` names the element after the last one, which never exists.
                Value::Array(_) if token == "-" => return Err(Miss::Absent),
                Value::Array(items) => items
                    .get(array_index(token).ok_or(Miss::WrongType)?)
                    .ok_or(Miss::Absent)?,
                _ => return Err(Miss::WrongType),
            };
        }
        Ok(value)
    }
}

/// One reference token with `~1` and `~0` decoded, in that order as RFC 6901 section 4 says
/// (so `~01` is `~1`, not `/`); `None` for a `~` followed by anything else.
fn unescape(token: &str) -> Option<String> {
    if !token.contains('~') {
        return Some(token.to_owned());
    }
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars();
    while let Some(c) = chars.next() {
        if c == '~' {
            match chars.next() {
                Some('0') => out.push('~'),
                Some('1') => out.push('/'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// RFC 6901 section 4: `0`, or digits without a leading zero.
fn array_index(token: &str) -> Option<usize> {
    let digits = token.bytes().all(|b| b.is_ascii_digit());
    if token.is_empty() || !digits || (token.len() > 1 && token.starts_with('0')) {
        return None;
    }
    token.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tokens(p: &str) -> Vec<String> {
        Pointer::parse(p).unwrap().tokens.into_vec()
    }

    #[test]
    fn escapes_are_decoded_as_rfc_6901_says() {
        assert_eq!(
            tokens("/https:~1~1example.com~1roles"),
            ["https://example.com/roles"]
        );
        assert_eq!(tokens("/a~0b/c"), ["a~b", "c"]);
        // `~01` is `~1` (decode `~1` first would wrongly give `/`).
        assert_eq!(tokens("/x~01"), ["x~1"]);
        assert_eq!(tokens("/realm_access/roles"), ["realm_access", "roles"]);
        assert_eq!(tokens("/a//b"), ["a", "", "b"]);
    }

    #[test]
    fn malformed_pointers_are_refused_at_configuration() {
        for bad in ["", "roles", "/", "//x", "/a~2", "/a~", "/~"] {
            assert!(
                matches!(
                    Pointer::parse(bad),
                    Err(ConfigError::InvalidClaimMapping(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn tokens_are_escaped_back_for_display() {
        let p = Pointer::from_tokens(["https://example.com/roles"]).unwrap();
        assert_eq!(p.as_str(), "/https:~1~1example.com~1roles");
        assert_eq!(Pointer::parse(p.as_str()).unwrap(), p);
        let p = Pointer::from_tokens(["a~b", "c/d"]).unwrap();
        assert_eq!(p.as_str(), "/a~0b/c~1d");
        assert!(Pointer::from_tokens([""]).is_err());
        assert!(Pointer::from_tokens(Vec::<String>::new()).is_err());
    }

    #[test]
    fn resolution_tells_absent_from_wrong_type() {
        let claim = json!({"web": {"roles": ["a"]}, "list": [{"x": 1}], "n": 5});
        let at = |p: &str| Pointer::parse(p).unwrap().resolve(&claim).cloned();
        assert_eq!(at("/c/web/roles"), Ok(json!(["a"])));
        assert_eq!(at("/c/list/0/x"), Ok(json!(1)));
        assert_eq!(at("/c"), Ok(claim.clone()));
        assert_eq!(at("/c/api/roles"), Err(Miss::Absent));
        assert_eq!(at("/c/list/1"), Err(Miss::Absent));
        assert_eq!(at("/c/list/-"), Err(Miss::Absent));
        assert_eq!(at("/c/list/x"), Err(Miss::WrongType));
        assert_eq!(at("/c/list/01"), Err(Miss::WrongType));
        assert_eq!(at("/c/n/x"), Err(Miss::WrongType));
        assert_eq!(at("/c/web/roles/0/x"), Err(Miss::WrongType));
    }

    proptest::proptest! {
        #[test]
        fn parsing_and_resolving_never_panic(p in ".{0,40}", v in "[\\[\\]{}\":,0-9a-z/~ ]{0,40}") {
            if let (Ok(ptr), Ok(value)) = (Pointer::parse(&p), serde_json::from_str::<Value>(&v)) {
                let _ = ptr.resolve(&value);
            }
        }

        #[test]
        fn escaping_round_trips(names in proptest::collection::vec("[a-z~/:.]{1,8}", 1..4)) {
            let p = Pointer::from_tokens(names.clone()).unwrap();
            proptest::prop_assert_eq!(Pointer::parse(p.as_str()).unwrap().tokens.into_vec(), names);
        }
    }
}
