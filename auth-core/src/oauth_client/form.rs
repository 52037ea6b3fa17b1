//! `application/x-www-form-urlencoded` encoding (the WHATWG URL standard's serializer, which
//! RFC 6749 appendix B refers to): what token requests and `client_secret_basic` need.

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

/// A form body: `name=value` pairs joined with `&`, each part encoded.
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

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.0.into_bytes()
    }
}

/// Decodes a form-urlencoded string (for tests and for reading form bodies back).
#[cfg(test)]
pub(crate) fn decode(input: &str) -> Option<String> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The pairs of a form body, decoded (tests only).
#[cfg(test)]
pub(crate) fn parse(body: &[u8]) -> Vec<(String, String)> {
    std::str::from_utf8(body)
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .filter_map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            Some((decode(k)?, decode(v)?))
        })
        .collect()
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
    }

    #[test]
    fn decode_inverts_encode() {
        for s in ["", "plain", "a+b:c%d e", "é€ 𝄞", "&=&="] {
            assert_eq!(decode(&encode(s)).as_deref(), Some(s));
        }
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
