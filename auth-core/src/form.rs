//! `application/x-www-form-urlencoded` (the WHATWG URL standard's serializer, which RFC 6749
//! appendix B refers to), for the OAuth client and the OpenID login: encoding token request
//! bodies, `client_secret_basic` credentials and the authorization URL's query, and decoding a
//! callback's query strictly (a malformed escape is an error, and every name is kept with all
//! its values so duplicates can be refused).

/// Appends `input` form-urlencoded to `out`: ASCII letters, digits and `*-._` stay, a space
/// becomes `+`, every other byte of the UTF-8 encoding becomes `%XX` (upper-case hex).
pub(crate) fn encode_into(out: &mut String, input: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in input.bytes() {
        match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(char::from(byte));
            }
            b' ' => out.push('+'),
            other => {
                let hex =
                    |nibble: u8| char::from(HEX.get(usize::from(nibble)).copied().unwrap_or(b'0'));
                out.push('%');
                out.push(hex(other >> 4));
                out.push(hex(other & 0x0f));
            }
        }
    }
}

/// `input` form-urlencoded.
pub(crate) fn encode(input: &str) -> String {
    let mut out = String::with_capacity(input.len() + 8);
    encode_into(&mut out, input);
    out
}

/// `name=value` pairs joined with `&`, each part encoded: a form body or a query string.
#[derive(Default)]
pub(crate) struct Form(String);

impl Form {
    pub(crate) fn pair(&mut self, name: &str, value: &str) {
        if !self.0.is_empty() {
            self.0.push('&');
        }
        encode_into(&mut self.0, name);
        self.0.push('=');
        encode_into(&mut self.0, value);
    }

    #[cfg(any(feature = "oidc-login", test))]
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.0.into_bytes()
    }
}

/// Decodes one form-urlencoded component: `+` is a space, `%XX` a byte; the result must be
/// UTF-8. `None` for a malformed escape or invalid UTF-8.
#[cfg(any(feature = "oidc-login", test))]
pub(crate) fn decode(input: &str) -> Option<String> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = hex_value(*bytes.get(i + 1)?)?;
                let lo = hex_value(*bytes.get(i + 2)?)?;
                out.push(hi << 4 | lo);
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(any(feature = "oidc-login", test))]
fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// A decoded query string: every `(name, value)` in order, duplicates kept.
#[cfg(any(feature = "oidc-login", test))]
#[derive(Debug, Default)]
pub(crate) struct Params(Vec<(String, String)>);

/// How often a parameter appears.
#[cfg(any(feature = "oidc-login", test))]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Param<'a> {
    Missing,
    Once(&'a str),
    Duplicated,
}

/// The most parameters a query may have; a callback has a handful.
#[cfg(any(feature = "oidc-login", test))]
const MAX_PARAMS: usize = 64;

#[cfg(any(feature = "oidc-login", test))]
impl Params {
    /// Parses a query string (without the `?`). `None` when a component is malformed or there
    /// are more than 64 parameters.
    pub(crate) fn parse(query: &str) -> Option<Self> {
        let mut pairs = Vec::new();
        for part in query.split('&').filter(|p| !p.is_empty()) {
            if pairs.len() == MAX_PARAMS {
                return None;
            }
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            pairs.push((decode(name)?, decode(value)?));
        }
        Some(Self(pairs))
    }

    pub(crate) fn get(&self, name: &str) -> Param<'_> {
        let mut found = self.0.iter().filter(|(n, _)| n == name);
        match (found.next(), found.next()) {
            (None, _) => Param::Missing,
            (Some((_, v)), None) => Param::Once(v),
            (Some(_), Some(_)) => Param::Duplicated,
        }
    }

    /// The first name that appears more than once, if any.
    pub(crate) fn duplicated_name(&self) -> Option<&str> {
        self.0.iter().enumerate().find_map(|(i, (n, _))| {
            self.0
                .iter()
                .skip(i + 1)
                .any(|(m, _)| m == n)
                .then_some(n.as_str())
        })
    }
}

/// The pairs of a form body, decoded, in order (tests read request bodies back with it).
#[cfg(test)]
pub(crate) fn parse(body: &[u8]) -> Vec<(String, String)> {
    std::str::from_utf8(body)
        .ok()
        .and_then(Params::parse)
        .map(|p| p.0)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_characters_space_and_non_ascii_are_encoded() {
        assert_eq!(encode("a+b:c%d e"), "a%2Bb%3Ac%25d+e");
        assert_eq!(encode("é€"), "%C3%A9%E2%82%AC");
        assert_eq!(encode("AZaz09*-._"), "AZaz09*-._");
        assert_eq!(encode("/?#&=~"), "%2F%3F%23%26%3D%7E");
        assert_eq!(
            encode("a b+c/d?e=f&g:h%é"),
            "a+b%2Bc%2Fd%3Fe%3Df%26g%3Ah%25%C3%A9"
        );
    }

    #[test]
    fn a_form_joins_encoded_pairs_with_ampersands() {
        let mut f = Form::default();
        f.pair("redirect_uri", "https://rp.example/cb?x=1");
        f.pair("scope", "openid email");
        assert_eq!(
            f.as_str(),
            "redirect_uri=https%3A%2F%2Frp.example%2Fcb%3Fx%3D1&scope=openid+email"
        );
        assert_eq!(
            parse(&f.into_bytes()),
            [
                (
                    "redirect_uri".to_owned(),
                    "https://rp.example/cb?x=1".to_owned()
                ),
                ("scope".to_owned(), "openid email".to_owned()),
            ]
        );
    }

    #[test]
    fn decode_inverts_encode() {
        for s in [
            "",
            "plain",
            "a+b:c%d e",
            "é€ 𝄞",
            "&=&=",
            "a b+c/d?e=f&g:h%é~",
        ] {
            assert_eq!(decode(&encode(s)).as_deref(), Some(s));
        }
        assert_eq!(decode("%2f%2F").as_deref(), Some("//"));
    }

    #[test]
    fn decoding_refuses_malformed_escapes() {
        for bad in ["%", "%2", "%zz", "%C3", "%+1"] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn params_keep_duplicates_and_report_them() {
        let p = Params::parse("state=a&code=c&state=b&empty&x=").unwrap();
        assert_eq!(p.get("state"), Param::Duplicated);
        assert_eq!(p.get("code"), Param::Once("c"));
        assert_eq!(p.get("empty"), Param::Once(""));
        assert_eq!(p.get("nope"), Param::Missing);
        assert_eq!(p.duplicated_name(), Some("state"));
        assert_eq!(Params::parse("a=1&b=2").unwrap().duplicated_name(), None);
        assert!(Params::parse("a=%zz").is_none());
        let many = vec!["a=1"; 65].join("&");
        assert!(Params::parse(&many).is_none());
    }

    proptest::proptest! {
        #[test]
        fn encoding_round_trips_and_uses_only_safe_characters(s in ".*") {
            let e = encode(&s);
            proptest::prop_assert!(e.bytes().all(|b| b.is_ascii_alphanumeric() || b"*-._+%".contains(&b)));
            proptest::prop_assert_eq!(decode(&e), Some(s));
        }
    }
}
