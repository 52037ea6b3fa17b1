//! Strict, single-pass parsing of the registered and authorization claims.
//!
//! jsonwebtoken's own claim validation is not used: it reads the system clock and is lenient
//! about types. Here every registered claim is checked against its RFC 7519 type (a string
//! `exp` is an invalid token, not a missing one) and the scope/role claim names are
//! configurable. Claims we do not need are skipped without allocating.
//!
//! Besides the RFC 7519 claims, `sid` (the session id of OpenID Connect and RFC 9068 access
//! tokens) is read here too, as a string, so revocation by session needs no second parse.
//!
//! With a [`ClaimMapping`](super::ClaimMapping), the same pass keeps the whole values of the
//! top-level claims the mapping's pointers start at ([`Authz::Keep`]) instead of reading the
//! named `scope`/`scp`/`roles` claims.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

use super::claim_lists::{Audiences, Names, Shape, check_shape};

use crate::clock::UnixTime;
use crate::error::InvalidToken;

/// Names of the authorization claims.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ClaimNames {
    pub(crate) scope: String,
    pub(crate) scp: String,
    pub(crate) roles: String,
}

impl Default for ClaimNames {
    fn default() -> Self {
        Self {
            scope: "scope".into(),
            scp: "scp".into(),
            roles: "roles".into(),
        }
    }
}

/// What the parser reads besides the registered claims.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Authz<'r> {
    /// Scopes and roles from the top-level claims of these names.
    Names(&'r ClaimNames),
    /// The values of these top-level claims, kept whole for a claim mapping (in
    /// [`Claims::kept`], by index into this list).
    Keep(&'r [String]),
}

/// The claims a verifier needs, borrowed from the payload where possible (nothing is
/// allocated for a payload without escaped strings and with at most four audiences).
#[derive(Debug, Default)]
pub(crate) struct Claims<'a> {
    pub(crate) sub: Option<Cow<'a, str>>,
    pub(crate) iss: Option<Cow<'a, str>>,
    pub(crate) aud: Audiences<'a>,
    pub(crate) aud_present: bool,
    pub(crate) exp: Option<UnixTime>,
    pub(crate) nbf: Option<UnixTime>,
    pub(crate) iat: Option<UnixTime>,
    pub(crate) jti: Option<Cow<'a, str>>,
    /// The session id; an empty `sid` is read as none.
    pub(crate) sid: Option<Cow<'a, str>>,
    /// `cnf.jkt` (RFC 9449 section 6.1): the thumbprint of the key the token is bound to.
    pub(crate) cnf_jkt: Option<Cow<'a, str>>,
    /// The raw `scope` and `scp` values (type-checked), see [`Names`].
    pub(crate) scopes: Names<'a>,
    /// The raw roles value (type-checked).
    pub(crate) roles: Names<'a>,
    /// With [`Authz::Keep`]: (index of the claim name, its value) of the kept claims present.
    pub(crate) kept: Vec<(usize, Value)>,
}

/// Parses the payload JSON.
pub(crate) fn parse<'a>(json: &'a str, authz: Authz<'_>) -> Result<Claims<'a>, InvalidToken> {
    let fail = Cell::new(None);
    let seed = ClaimsSeed { authz, fail: &fail };
    let mut de = serde_json::Deserializer::from_str(json);
    let claims = seed.deserialize(&mut de).and_then(|c| de.end().map(|()| c));
    match (claims, fail.take()) {
        (Ok(c), None) => Ok(c),
        (_, Some(reason)) => Err(reason),
        (Err(_), None) => Err(InvalidToken::BadJson),
    }
}

struct ClaimsSeed<'n, 'f> {
    authz: Authz<'n>,
    fail: &'f Cell<Option<InvalidToken>>,
}

impl ClaimsSeed<'_, '_> {
    fn reject<E: de::Error>(&self, reason: InvalidToken) -> E {
        let msg = reason.to_string();
        self.fail.set(Some(reason));
        E::custom(msg)
    }
}

impl<'de> DeserializeSeed<'de> for ClaimsSeed<'_, '_> {
    type Value = Claims<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

enum Field {
    Sub,
    Iss,
    Aud,
    Exp,
    Nbf,
    Iat,
    Jti,
    Sid,
    Cnf,
    Scope,
    Scp,
    Roles,
    Kept(usize),
    Other,
}

impl<'de> Visitor<'de> for ClaimsSeed<'_, '_> {
    type Value = Claims<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of claims")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut c = Claims::default();
        let mut seen = 0u16;
        while let Some(key) = map.next_key::<Str<'de>>()? {
            let key = key.0;
            let field = match key.as_ref() {
                "sub" => Field::Sub,
                "iss" => Field::Iss,
                "aud" => Field::Aud,
                "exp" => Field::Exp,
                "nbf" => Field::Nbf,
                "iat" => Field::Iat,
                "jti" => Field::Jti,
                "sid" => Field::Sid,
                "cnf" => Field::Cnf,
                k => self.authz_field(k),
            };
            let bit = match field {
                Field::Other | Field::Kept(_) => 0,
                Field::Sub => 1,
                Field::Iss => 2,
                Field::Aud => 4,
                Field::Exp => 8,
                Field::Nbf => 16,
                Field::Iat => 32,
                Field::Jti => 64,
                Field::Scope => 128,
                Field::Scp => 256,
                Field::Roles => 512,
                Field::Sid => 1024,
                Field::Cnf => 2048,
            };
            if bit != 0 {
                if seen & bit != 0 {
                    return Err(self.reject(InvalidToken::DuplicateClaim));
                }
                seen |= bit;
            }
            match field {
                Field::Sub => c.sub = Some(self.string(&mut map, "sub")?),
                Field::Iss => c.iss = Some(self.string(&mut map, "iss")?),
                Field::Jti => c.jti = Some(self.string(&mut map, "jti")?),
                Field::Sid => {
                    let sid = self.string(&mut map, "sid")?;
                    c.sid = (!sid.is_empty()).then_some(sid);
                }
                Field::Cnf => match map.next_value::<Confirmation<'de>>() {
                    Ok(cnf) => c.cnf_jkt = cnf.jkt.map(|s| s.0),
                    Err(_) => return Err(self.reject(InvalidToken::ClaimType("cnf"))),
                },
                Field::Exp => c.exp = Some(self.date(&mut map, "exp")?),
                Field::Nbf => c.nbf = Some(self.date(&mut map, "nbf")?),
                Field::Iat => c.iat = Some(self.date(&mut map, "iat")?),
                Field::Aud => {
                    c.aud_present = true;
                    match map.next_value::<Audiences<'de>>() {
                        Ok(aud) => c.aud = aud,
                        Err(_) => return Err(self.reject(InvalidToken::ClaimType("aud"))),
                    }
                }
                Field::Scope => c.scopes.add(self.names(&mut map, "scope", Shape::Words)?),
                Field::Scp => c
                    .scopes
                    .add(self.names(&mut map, "scp", Shape::WordsOrList)?),
                Field::Roles => c.roles.add(self.names(&mut map, "roles", Shape::List)?),
                Field::Kept(i) => {
                    if c.kept.iter().any(|(k, _)| *k == i) {
                        return Err(self.reject(InvalidToken::DuplicateClaim));
                    }
                    c.kept.push((i, map.next_value::<Value>()?));
                }
                Field::Other => {
                    // Parsed, not skipped: the payload must be one the claims map can hold.
                    map.next_value::<Checked>()?;
                }
            }
        }
        Ok(c)
    }
}

impl ClaimsSeed<'_, '_> {
    fn authz_field(&self, key: &str) -> Field {
        match self.authz {
            Authz::Names(n) if key == n.scope => Field::Scope,
            Authz::Names(n) if key == n.scp => Field::Scp,
            Authz::Names(n) if key == n.roles => Field::Roles,
            Authz::Names(_) => Field::Other,
            Authz::Keep(claims) => claims
                .iter()
                .position(|c| c == key)
                .map_or(Field::Other, Field::Kept),
        }
    }

    fn string<'de, A: MapAccess<'de>>(
        &self,
        map: &mut A,
        name: &'static str,
    ) -> Result<Cow<'de, str>, A::Error> {
        map.next_value::<Str<'de>>()
            .map(|s| s.0)
            .map_err(|_| self.reject(InvalidToken::ClaimType(name)))
    }

    /// The raw text of a role or scope claim, checked to have `shape`.
    fn names<'de, A: MapAccess<'de>>(
        &self,
        map: &mut A,
        name: &'static str,
        shape: Shape,
    ) -> Result<&'de str, A::Error> {
        match map.next_value::<&'de RawValue>() {
            Ok(raw) if check_shape(raw.get(), shape) => Ok(raw.get()),
            _ => Err(self.reject(InvalidToken::ClaimType(name))),
        }
    }

    fn date<'de, A: MapAccess<'de>>(
        &self,
        map: &mut A,
        name: &'static str,
    ) -> Result<UnixTime, A::Error> {
        map.next_value::<NumericDate>()
            .map(|d| d.0)
            .map_err(|_| self.reject(InvalidToken::ClaimType(name)))
    }
}

pub(crate) fn push_unique(v: &mut Vec<String>, s: &str) {
    if !s.is_empty() && !v.iter().any(|x| x == s) {
        v.push(s.to_owned());
    }
}

/// RFC 6749 section 3.3: scopes are separated by single spaces; we tolerate runs of spaces.
pub(crate) fn push_words(v: &mut Vec<String>, s: &str) {
    for w in s.split(' ') {
        push_unique(v, w);
    }
}

/// A claim value the verifier does not read, parsed as strictly as
/// `serde_json::Value` would parse it (numbers within range, escapes decoded, surrogates
/// paired) but without building it. `IgnoredAny` only skips over the syntax, which let through
/// payloads that [`Principal::claims`](crate::Principal::claims) then could not read.
struct Checked;

impl<'de> de::Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CheckedVisitor)
    }
}

struct CheckedVisitor;

impl<'de> Visitor<'de> for CheckedVisitor {
    type Value = Checked;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Checked, E> {
        // serde_json never hands out a non-finite number; refuse one rather than trust that.
        if v.is_finite() {
            Ok(Checked)
        } else {
            Err(E::custom("number out of range"))
        }
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(Checked)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
        while map.next_entry::<Checked, Checked>()?.is_some() {}
        Ok(Checked)
    }
}

/// A JSON string, borrowed when it has no escapes.
pub(crate) struct Str<'a>(pub(crate) Cow<'a, str>);

impl<'de: 'a, 'a> de::Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Str<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

/// The `cnf` claim (RFC 7800): an object; only its `jkt` member (a string) is read.
#[derive(serde::Deserialize)]
struct Confirmation<'a> {
    #[serde(borrow, default)]
    jkt: Option<Str<'a>>,
}

/// RFC 7519 NumericDate: a non-negative JSON number of seconds, possibly fractional.
struct NumericDate(UnixTime);

impl<'de> de::Deserialize<'de> for NumericDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = NumericDate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-negative number of seconds")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(NumericDate(UnixTime::from_secs(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                u64::try_from(v)
                    .map(|v| NumericDate(UnixTime::from_secs(v)))
                    .map_err(|_| E::custom("negative date"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                if !v.is_finite() || !(0.0..=1.8e10).contains(&v) {
                    return Err(E::custom("date out of range"));
                }
                // In range by the check above; truncation to nanoseconds is intended.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let nanos = (v * 1e9) as u64;
                Ok(NumericDate(UnixTime::from_nanos(nanos)))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(json: &str) -> Result<Claims<'_>, InvalidToken> {
        parse(json, Authz::Names(&ClaimNames::default()))
    }

    // Issue 16, fuzzing (jwt_verify): a claim the verifier does not read was skipped without
    // being parsed, so a payload `Principal::claims()` cannot read (a number beyond f64, a lone
    // surrogate escape) was accepted, and the handler saw a verified token with no claims.
    // Every payload the verifier accepts must parse as the claims map.
    #[test]
    fn a_payload_the_claims_map_cannot_hold_is_bad_json() {
        let huge = format!(r#"{{"sub":"a","ati":1{}e5555555555}}"#, "5".repeat(40));
        let cases = [
            huge.as_str(),
            r#"{"sub":"a","x":-1e400}"#,
            r#"{"sub":"a","x":"\ud800"}"#,
            r#"{"sub":"a","x":{"y":["\udfff"]}}"#,
        ];
        for json in cases {
            assert!(
                serde_json::from_str::<serde_json::Map<String, Value>>(json).is_err(),
                "{json}"
            );
            assert_eq!(p(json).err(), Some(InvalidToken::BadJson), "{json}");
        }
        // What the map can hold is still accepted.
        for json in [
            r#"{"sub":"a","x":1e300,"y":-0.0,"z":18446744073709551615}"#,
            r#"{"sub":"a","x":"\ud83d\ude00","n":null,"o":{"a":[true,{}]}}"#,
        ] {
            assert!(p(json).is_ok(), "{json}");
        }
    }

    #[test]
    fn registered_claims_are_read_with_their_types() {
        let c = p(r#"{"sub":"a","iss":"i","aud":["x","y"],"exp":10,"nbf":1.5,"iat":2,"jti":"j","scope":"a b  b","roles":["r"],"x":{"deep":[1,2]}}"#).unwrap();
        assert_eq!(c.sub.as_deref(), Some("a"));
        assert_eq!(c.aud, vec!["x", "y"]);
        assert_eq!(c.exp, Some(UnixTime::from_secs(10)));
        assert_eq!(c.nbf, Some(UnixTime::from_nanos(1_500_000_000)));
        assert_eq!(c.scopes, vec!["a", "b"]);
        assert_eq!(c.roles, vec!["r"]);
        assert_eq!(c.sid, None);
    }

    #[test]
    fn the_session_id_is_read_from_sid() {
        // Issue 12, item 6: revocation by session reads `sid` from this one parse.
        assert_eq!(
            p(r#"{"sid":"fam-1"}"#).unwrap().sid.as_deref(),
            Some("fam-1")
        );
        assert_eq!(
            p(r#"{"sid":"f\u0061m"}"#).unwrap().sid.as_deref(),
            Some("fam")
        );
        assert_eq!(p(r#"{"sid":""}"#).unwrap().sid, None);
    }

    #[test]
    fn a_sid_that_is_not_a_string_is_an_invalid_token() {
        // Issue 12, item 6: `sid` is typed as strictly as the registered claims.
        for json in [
            r#"{"sid":5}"#,
            r#"{"sid":["a"]}"#,
            r#"{"sid":null}"#,
            r#"{"sid":{}}"#,
        ] {
            assert_eq!(
                p(json).unwrap_err(),
                InvalidToken::ClaimType("sid"),
                "{json}"
            );
        }
        assert_eq!(
            p(r#"{"sid":"a","sid":"b"}"#).unwrap_err(),
            InvalidToken::DuplicateClaim
        );
    }

    // Issue 20: `cnf.jkt` is read in the same pass, typed strictly.
    #[test]
    fn the_confirmation_thumbprint_is_read_from_cnf() {
        let c =
            p(r#"{"cnf":{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I","x5t#S256":"a"}}"#)
                .unwrap();
        assert_eq!(
            c.cnf_jkt.as_deref(),
            Some("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I")
        );
        assert_eq!(p(r#"{"cnf":{}}"#).unwrap().cnf_jkt, None);
        for json in [r#"{"cnf":"x"}"#, r#"{"cnf":{"jkt":5}}"#, r#"{"cnf":null}"#] {
            assert_eq!(
                p(json).unwrap_err(),
                InvalidToken::ClaimType("cnf"),
                "{json}"
            );
        }
        assert_eq!(
            p(r#"{"cnf":{},"cnf":{"jkt":"a"}}"#).unwrap_err(),
            InvalidToken::DuplicateClaim
        );
    }

    #[test]
    fn wrong_types_name_the_claim() {
        assert_eq!(
            p(r#"{"exp":"10"}"#).unwrap_err(),
            InvalidToken::ClaimType("exp")
        );
        assert_eq!(
            p(r#"{"exp":-1}"#).unwrap_err(),
            InvalidToken::ClaimType("exp")
        );
        assert_eq!(
            p(r#"{"nbf":true}"#).unwrap_err(),
            InvalidToken::ClaimType("nbf")
        );
        assert_eq!(
            p(r#"{"aud":5}"#).unwrap_err(),
            InvalidToken::ClaimType("aud")
        );
        assert_eq!(
            p(r#"{"aud":[5]}"#).unwrap_err(),
            InvalidToken::ClaimType("aud")
        );
        assert_eq!(
            p(r#"{"sub":1}"#).unwrap_err(),
            InvalidToken::ClaimType("sub")
        );
        assert_eq!(
            p(r#"{"scope":["a"]}"#).unwrap_err(),
            InvalidToken::ClaimType("scope")
        );
        assert_eq!(
            p(r#"{"roles":"admin"}"#).unwrap_err(),
            InvalidToken::ClaimType("roles")
        );
    }

    #[test]
    fn duplicate_registered_claims_are_refused() {
        assert_eq!(
            p(r#"{"sub":"a","sub":"b"}"#).unwrap_err(),
            InvalidToken::DuplicateClaim
        );
    }

    #[test]
    fn non_objects_and_trailing_data_are_bad_json() {
        assert_eq!(p("[]").unwrap_err(), InvalidToken::BadJson);
        assert_eq!(p("{} {}").unwrap_err(), InvalidToken::BadJson);
        assert_eq!(p("{").unwrap_err(), InvalidToken::BadJson);
    }

    #[test]
    fn scp_array_and_custom_names() {
        let names = ClaimNames {
            scope: "scope".into(),
            scp: "scp".into(),
            roles: "groups".into(),
        };
        let c = parse(
            r#"{"scp":["a","b"],"groups":["g"],"roles":"ignored"}"#,
            Authz::Names(&names),
        )
        .unwrap();
        assert_eq!(c.scopes, vec!["a", "b"]);
        assert_eq!(c.roles, vec!["g"]);
    }

    #[test]
    fn kept_claims_are_captured_whole_and_named_claims_are_not_read() {
        let keep = ["realm_access".to_owned(), "scp".to_owned()];
        let c = parse(
            r#"{"sub":"a","scope":"s","roles":"not-an-array","realm_access":{"roles":["r"]},"scp":"x y"}"#,
            Authz::Keep(&keep),
        )
        .unwrap();
        assert!(c.scopes.is_empty() && c.roles.is_empty());
        assert_eq!(
            c.kept,
            vec![
                (0, serde_json::json!({"roles": ["r"]})),
                (1, serde_json::json!("x y"))
            ]
        );
        assert_eq!(c.sub.as_deref(), Some("a"));
    }

    #[test]
    fn a_kept_claim_given_twice_is_a_duplicate() {
        let keep = ["realm_access".to_owned()];
        assert_eq!(
            parse(
                r#"{"realm_access":{},"realm_access":{"roles":["admin"]}}"#,
                Authz::Keep(&keep)
            )
            .unwrap_err(),
            InvalidToken::DuplicateClaim
        );
    }

    #[test]
    fn escaped_strings_are_decoded() {
        let c = p(r#"{"sub":"a\u0062c"}"#).unwrap();
        assert_eq!(c.sub.as_deref(), Some("abc"));
    }

    proptest::proptest! {
        #[test]
        fn parser_never_panics(s in ".{0,200}") {
            let _ = p(&s);
        }

        #[test]
        fn scope_string_round_trips(words in proptest::collection::vec("[a-z:]{1,8}", 0..6)) {
            let json = serde_json::json!({ "scope": words.join(" ") }).to_string();
            let c = p(&json).unwrap();
            let mut expected: Vec<String> = Vec::new();
            for w in &words { if !expected.contains(w) { expected.push(w.clone()); } }
            proptest::prop_assert_eq!(c.scopes, expected);
        }
    }
}
