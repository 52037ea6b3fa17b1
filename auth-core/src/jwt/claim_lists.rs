//! The list-valued claims, read without allocating: `aud` held inline, and the role and scope
//! claims kept as their raw JSON text (type-checked in the parse) and turned into shared lists
//! by a [`NameInterner`], so that a principal's roles and scopes cost no allocation when the
//! same list was seen before.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};

use serde::de::{self, Deserializer, SeqAccess, Visitor};

use super::claims::{Str, push_unique, push_words};

/// How many audiences are held without a heap allocation.
const INLINE_AUDIENCES: usize = 4;

/// The `aud` claim: a string or an array of strings, borrowed from the payload where possible,
/// the first few held inline.
#[derive(Default)]
pub(crate) struct Audiences<'a> {
    inline: [Cow<'a, str>; INLINE_AUDIENCES],
    len: usize,
    more: Vec<Cow<'a, str>>,
}

impl<'a> Audiences<'a> {
    fn push(&mut self, aud: Cow<'a, str>) {
        match self.inline.get_mut(self.len) {
            Some(slot) => {
                *slot = aud;
                self.len += 1;
            }
            None => self.more.push(aud),
        }
    }

    /// The audiences, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        self.inline
            .iter()
            .take(self.len)
            .chain(self.more.iter())
            .map(AsRef::as_ref)
    }
}

impl fmt::Debug for Audiences<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq<Vec<&str>> for Audiences<'_> {
    fn eq(&self, other: &Vec<&str>) -> bool {
        self.iter().eq(other.iter().copied())
    }
}

impl<'de> de::Deserialize<'de> for Audiences<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Audiences<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                let mut a = Audiences::default();
                a.push(Cow::Borrowed(v));
                Ok(a)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                let mut a = Audiences::default();
                a.push(Cow::Owned(v.to_owned()));
                Ok(a)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut a = Audiences::default();
                while let Some(s) = seq.next_element::<Str<'de>>()? {
                    a.push(s.0);
                }
                Ok(a)
            }
        }
        d.deserialize_any(V)
    }
}

/// The JSON shape a role or scope claim's value must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// A string of space-separated names (`scope`).
    Words,
    /// An array of strings (`roles`).
    List,
    /// Either (`scp`).
    WordsOrList,
}

/// Checks that `raw` (one JSON value, as the payload holds it) has `shape`, decoding every
/// string as strictly as reading the names would (escapes, surrogates), without allocating
/// unless a string has escapes.
pub(crate) fn check_shape(raw: &str, shape: Shape) -> bool {
    struct Any;
    impl<'de> de::Deserialize<'de> for Any {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_str(AnyStr)
        }
    }
    struct AnyStr;
    impl Visitor<'_> for AnyStr {
        type Value = Any;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Any, E> {
            Ok(Any)
        }
    }
    struct Checked(Shape);
    impl<'de> de::DeserializeSeed<'de> for Checked {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }
    impl<'de> Visitor<'de> for Checked {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{:?}", self.0)
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
            match self.0 {
                Shape::Words | Shape::WordsOrList => Ok(()),
                Shape::List => Err(E::custom("a string")),
            }
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            if self.0 == Shape::Words {
                return Err(de::Error::custom("an array"));
            }
            while seq.next_element::<Any>()?.is_some() {}
            Ok(())
        }
    }
    let mut de = serde_json::Deserializer::from_str(raw);
    de::DeserializeSeed::deserialize(Checked(shape), &mut de).is_ok() && de.end().is_ok()
}

/// Calls `f` with each name `raw` (a value [`check_shape`] accepted) holds, in order, empty
/// names and duplicates included.
fn each_name(raw: &str, f: &mut impl FnMut(&str)) {
    enum Value<'a> {
        One(Cow<'a, str>),
        Many(Vec<Cow<'a, str>>),
    }
    impl<'de> de::Deserialize<'de> for Value<'de> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Value<'de>;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a string or an array of strings")
                }
                fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Value<'de>, E> {
                    Ok(Value::One(Cow::Borrowed(v)))
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<Value<'de>, E> {
                    Ok(Value::One(Cow::Owned(v.to_owned())))
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value<'de>, A::Error> {
                    let mut out = Vec::new();
                    while let Some(s) = seq.next_element::<Str<'de>>()? {
                        out.push(s.0);
                    }
                    Ok(Value::Many(out))
                }
            }
            d.deserialize_any(V)
        }
    }
    match serde_json::from_str::<Value<'_>>(raw) {
        Ok(Value::One(s)) => s.split(' ').for_each(&mut *f),
        Ok(Value::Many(v)) => v.iter().for_each(|s| f(s)),
        // Unreachable for a value `check_shape` accepted.
        Err(_) => {}
    }
}

/// Role or scope names as the payload holds them: the raw JSON values of up to two claims
/// (`scope` and `scp` both grant scopes), already type-checked, not yet split into names.
#[derive(Clone, Copy, Default)]
pub(crate) struct Names<'a> {
    sources: [Option<&'a str>; 2],
}

impl<'a> Names<'a> {
    /// Adds the raw value of one more claim.
    pub(crate) fn add(&mut self, raw: &'a str) {
        if let Some(slot) = self.sources.iter_mut().find(|s| s.is_none()) {
            *slot = Some(raw);
        }
    }

    fn sources(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.sources.iter().flatten().copied()
    }

    /// The names, without empty ones or duplicates, in order of appearance.
    pub(crate) fn to_vec(self) -> Vec<String> {
        let mut out = Vec::new();
        for raw in self.sources() {
            if raw.starts_with('"') {
                each_name(raw, &mut |w| push_words(&mut out, w));
            } else {
                each_name(raw, &mut |s| push_unique(&mut out, s));
            }
        }
        out
    }

    /// Whether no name is granted.
    #[cfg(test)]
    pub(crate) fn is_empty(self) -> bool {
        self.to_vec().is_empty()
    }
}

impl fmt::Debug for Names<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.to_vec()).finish()
    }
}

impl PartialEq<Vec<&str>> for Names<'_> {
    fn eq(&self, other: &Vec<&str>) -> bool {
        self.to_vec() == *other
    }
}

impl PartialEq<Vec<String>> for Names<'_> {
    fn eq(&self, other: &Vec<String>) -> bool {
        self.to_vec() == *other
    }
}

/// The longest raw claim value that is interned; longer lists are built per verification.
const MAX_INTERNED_LEN: usize = 512;
/// How many distinct lists one verifier interns; later ones are built per verification.
const MAX_INTERNED: usize = 1024;

/// Shared role and scope lists, keyed by the raw JSON value they were read from.
///
/// Clients present the same few role and scope lists over and over, so the principal of a
/// verification shares the list built the first time this exact claim value was seen, at
/// the cost of one hash lookup instead of a vector and a string per name. Only verified
/// payloads reach it (it runs after the signature check), and it is bounded: at most
/// [`MAX_INTERNED`] lists of at most [`MAX_INTERNED_LEN`] bytes of JSON each, after which
/// lists are built per verification as before. A value is checked for its type in every
/// parse, before it is looked up, and identical text always yields the identical list.
#[derive(Default)]
pub(crate) struct NameInterner {
    lists: RwLock<HashMap<Box<str>, List>>,
}

/// A shared list of names; `None` when it holds none.
type List = Option<Arc<[String]>>;

impl fmt::Debug for NameInterner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let len = self.lists.read().map_or(0, |l| l.len());
        f.debug_struct("NameInterner").field("lists", &len).finish()
    }
}

impl NameInterner {
    /// The list `names` grants (`None` when it grants none), shared when seen before.
    pub(crate) fn list(&self, names: Names<'_>) -> Option<Arc<[String]>> {
        let mut sources = names.sources();
        let (Some(raw), None) = (sources.next(), sources.next()) else {
            return build(names);
        };
        if raw.len() > MAX_INTERNED_LEN {
            return build(names);
        }
        if let Ok(lists) = self.lists.read()
            && let Some(list) = lists.get(raw)
        {
            return list.clone();
        }
        let list = build(names);
        if let Ok(mut lists) = self.lists.write()
            && lists.len() < MAX_INTERNED
        {
            lists.insert(raw.into(), list.clone());
        }
        list
    }
}

fn build(names: Names<'_>) -> Option<Arc<[String]>> {
    let v = names.to_vec();
    (!v.is_empty()).then(|| v.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_are_checked_as_strictly_as_names_are_read() {
        assert!(check_shape(r#""a b""#, Shape::Words));
        assert!(!check_shape(r#"["a"]"#, Shape::Words));
        assert!(check_shape(r#"["a","b"]"#, Shape::List));
        assert!(!check_shape(r#""a""#, Shape::List));
        assert!(!check_shape(r#"["a",1]"#, Shape::List));
        assert!(!check_shape(r#"["\ud800"]"#, Shape::List));
        assert!(check_shape(r#""a""#, Shape::WordsOrList));
        assert!(check_shape(r#"[]"#, Shape::WordsOrList));
        assert!(!check_shape("null", Shape::WordsOrList));
    }

    #[test]
    fn interned_lists_are_shared_and_equal_to_built_ones() {
        let interner = NameInterner::default();
        let mut n = Names::default();
        n.add(r#"["r1","r2","r1",""]"#);
        let a = interner.list(n).unwrap();
        let b = interner.list(n).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(&*a, ["r1", "r2"]);
        let mut empty = Names::default();
        empty.add(r#""  ""#);
        assert_eq!(interner.list(empty), None);
        let mut two = Names::default();
        two.add(r#""a b""#);
        two.add(r#"["b","c"]"#);
        assert_eq!(
            interner.list(two).as_deref(),
            Some(&["a", "b", "c"].map(String::from)[..])
        );
    }

    #[test]
    fn the_interner_is_bounded() {
        let interner = NameInterner::default();
        for i in 0..MAX_INTERNED + 10 {
            let raw = format!(r#""s{i}""#);
            let mut n = Names::default();
            n.add(&raw);
            assert_eq!(interner.list(n).as_deref(), Some(&[format!("s{i}")][..]));
        }
        assert_eq!(interner.lists.read().unwrap().len(), MAX_INTERNED);
        let long = format!(r#""{}""#, "x".repeat(MAX_INTERNED_LEN));
        let mut n = Names::default();
        n.add(&long);
        assert!(interner.list(n).is_some());
    }
}
