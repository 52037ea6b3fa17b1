//! The `otpauth://totp/...` key URI authenticator apps import, and its QR code as SVG.

use std::fmt::Write as _;

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

use super::secret::TotpSecret;
use super::totp::TotpParams;
use crate::ConfigError;

/// The longest issuer name, in bytes.
pub const MAX_ISSUER_LEN: usize = 64;

/// The longest account label put into a key URI, in bytes; longer labels are cut (at a
/// character boundary). The label is only shown by the authenticator app.
pub const MAX_LABEL_LEN: usize = 128;

/// A validated issuer name: the service name authenticator apps show next to the code.
///
/// ```
/// use auth_core::mfa::Issuer;
///
/// assert!(Issuer::new("Acme Corp").is_ok());
/// assert!(Issuer::new("").is_err());
/// assert!(Issuer::new("a:b").is_err()); // the label's separator
/// # Ok::<(), auth_core::ConfigError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issuer(Box<str>);

impl Issuer {
    /// `name`: 1 to 64 bytes, no control characters and no `:` (it separates issuer and
    /// account in the URI's label, and apps split on it even when percent-encoded).
    ///
    /// # Errors
    ///
    /// [`ConfigError::EmptyValue`] or [`ConfigError::OutOfRange`].
    pub fn new(name: &str) -> Result<Self, ConfigError> {
        if name.is_empty() {
            return Err(ConfigError::EmptyValue("mfa issuer"));
        }
        if name.len() > MAX_ISSUER_LEN || name.chars().any(|c| c.is_control() || c == ':') {
            return Err(ConfigError::OutOfRange(
                "the mfa issuer must be at most 64 bytes, without ':' or control characters"
                    .to_owned(),
            ));
        }
        Ok(Self(name.into()))
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The key URI of a TOTP credential (Google Authenticator's key URI format):
/// `otpauth://totp/<issuer>:<account>?secret=<base32>&issuer=<issuer>&algorithm=..&digits=..&period=..`,
/// with issuer and account percent-encoded (everything but RFC 3986 unreserved characters)
/// and the account cut to [`MAX_LABEL_LEN`] bytes. Control characters in the account are
/// dropped.
///
/// ```
/// use auth_core::mfa::{Issuer, TotpParams, TotpSecret, otpauth_uri};
///
/// let secret = TotpSecret::from_bytes(b"12345678901234567890".to_vec());
/// let uri = otpauth_uri(&Issuer::new("Acme Co")?, "ann@example.com", &secret, &TotpParams::default());
/// assert_eq!(
///     uri,
///     "otpauth://totp/Acme%20Co:ann%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
///      &issuer=Acme%20Co&algorithm=SHA1&digits=6&period=30"
/// );
/// # Ok::<(), auth_core::ConfigError>(())
/// ```
#[must_use]
pub fn otpauth_uri(
    issuer: &Issuer,
    account: &str,
    secret: &TotpSecret,
    params: &TotpParams,
) -> String {
    let mut uri = String::with_capacity(160);
    uri.push_str("otpauth://totp/");
    percent_encode(&mut uri, issuer.as_str());
    uri.push(':');
    percent_encode(&mut uri, &label(account));
    uri.push_str("?secret=");
    uri.push_str(&secret.to_base32());
    uri.push_str("&issuer=");
    percent_encode(&mut uri, issuer.as_str());
    let _ = write!(
        uri,
        "&algorithm={}&digits={}&period={}",
        params.algorithm().as_str(),
        params.digits(),
        params.period().as_secs()
    );
    uri
}

/// The QR code of `uri` as an SVG document (black on white, at least 200 by 200 pixels,
/// error correction level M). `None` when the text does not fit in a QR code, which cannot
/// happen for a URI from [`otpauth_uri`] (at most about 1,000 bytes).
///
/// ```
/// let svg = auth_core::mfa::qr_svg("otpauth://totp/Acme:ann?secret=GEZDGNBV&issuer=Acme").unwrap();
/// assert!(svg.contains("<svg"));
/// ```
#[must_use]
pub fn qr_svg(uri: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(uri.as_bytes(), EcLevel::M).ok()?;
    Some(
        code.render::<svg::Color<'_>>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
    )
}

/// The account label: control characters dropped, cut to [`MAX_LABEL_LEN`] bytes.
fn label(account: &str) -> String {
    let mut out = String::with_capacity(account.len().min(MAX_LABEL_LEN));
    for c in account.chars().filter(|c| !c.is_control()) {
        if out.len() + c.len_utf8() > MAX_LABEL_LEN {
            break;
        }
        out.push(c);
    }
    out
}

/// Appends `s` with every byte outside RFC 3986's unreserved set percent-encoded.
fn percent_encode(out: &mut String, s: &str) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mfa::TotpAlgorithm;
    use std::time::Duration;

    #[test]
    fn issuer_and_account_are_percent_encoded_and_the_issuer_parameter_set() {
        let secret = TotpSecret::from_bytes(vec![0; 20]);
        let params = TotpParams::new(TotpAlgorithm::Sha256, 8, Duration::from_secs(60)).unwrap();
        let uri = otpauth_uri(
            &Issuer::new("Ünïcode & Co/Ltd").unwrap(),
            "a:b?c=d&e#f+g h",
            &secret,
            &params,
        );
        assert_eq!(
            uri,
            "otpauth://totp/%C3%9Cn%C3%AFcode%20%26%20Co%2FLtd:a%3Ab%3Fc%3Dd%26e%23f%2Bg%20h\
             ?secret=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&issuer=%C3%9Cn%C3%AFcode%20%26%20Co%2FLtd\
             &algorithm=SHA256&digits=8&period=60"
        );
    }

    #[test]
    fn long_or_odd_labels_are_cut_and_cleaned() {
        assert_eq!(label("a\nb\u{7}c"), "abc");
        let long = "é".repeat(100);
        let cut = label(&long);
        assert_eq!(cut.len(), 128);
        assert!(cut.chars().all(|c| c == 'é'));
    }

    #[test]
    fn the_longest_uri_still_fits_a_qr_code() {
        let issuer = Issuer::new(&"\u{e9}".repeat(32)).unwrap();
        let secret = TotpSecret::from_bytes(vec![0xff; 64]);
        let uri = otpauth_uri(
            &issuer,
            &"\u{10348}".repeat(64),
            &secret,
            &TotpParams::default(),
        );
        let svg = qr_svg(&uri).unwrap();
        assert!(svg.starts_with("<?xml"));
        assert!(svg.ends_with("</svg>"));
        assert!(qr_svg(&"x".repeat(5000)).is_none());
    }
}
