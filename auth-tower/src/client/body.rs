//! [`ReplayBody`]: which request bodies can be sent a second time.

use bytes::Bytes;
use http_body_util::combinators::{BoxBody, UnsyncBoxBody};
use http_body_util::{Either, Empty, Full};

/// A request body that can (sometimes) be replayed, so [`AccessTokenLayer`](super::AccessTokenLayer)
/// can retry a request once after a `401` with a renewed token.
///
/// [`try_replay`](Self::try_replay) is called *before* the request is sent; `None` means "this
/// body cannot be sent twice", and the request is then never retried (the `401` is returned as
/// it is, and the body is not re-sent). Buffered bodies (`Full`, `Empty`, `String`, `Bytes`,
/// `Vec<u8>`, a buffered `reqwest::Body`) replay; streaming ones (`BoxBody`, a streaming axum or
/// tonic body) do not, except when they are known to be empty.
///
/// Implement it for your own body type when it can be cloned cheaply:
///
/// ```
/// use auth_tower::client::ReplayBody;
///
/// #[derive(Clone)]
/// struct Json(bytes::Bytes);
///
/// impl ReplayBody for Json {
///     fn try_replay(&self) -> Option<Self> {
///         Some(self.clone())
///     }
/// }
/// ```
pub trait ReplayBody: Sized {
    /// A body with the same content, or `None` when that cannot be had without consuming
    /// this one.
    fn try_replay(&self) -> Option<Self>;
}

impl<D: Clone> ReplayBody for Full<D> {
    fn try_replay(&self) -> Option<Self> {
        Some(self.clone())
    }
}

impl<D> ReplayBody for Empty<D> {
    fn try_replay(&self) -> Option<Self> {
        Some(Empty::new())
    }
}

impl ReplayBody for String {
    fn try_replay(&self) -> Option<Self> {
        Some(self.clone())
    }
}

impl ReplayBody for Bytes {
    fn try_replay(&self) -> Option<Self> {
        Some(self.clone())
    }
}

impl ReplayBody for Vec<u8> {
    fn try_replay(&self) -> Option<Self> {
        Some(self.clone())
    }
}

impl<D, E> ReplayBody for BoxBody<D, E> {
    /// Never: a boxed body may be a stream.
    fn try_replay(&self) -> Option<Self> {
        None
    }
}

impl<D, E> ReplayBody for UnsyncBoxBody<D, E> {
    /// Never: a boxed body may be a stream.
    fn try_replay(&self) -> Option<Self> {
        None
    }
}

impl<L: ReplayBody, R: ReplayBody> ReplayBody for Either<L, R> {
    fn try_replay(&self) -> Option<Self> {
        match self {
            Self::Left(l) => l.try_replay().map(Self::Left),
            Self::Right(r) => r.try_replay().map(Self::Right),
        }
    }
}

#[cfg(feature = "axum")]
impl ReplayBody for axum_core::body::Body {
    /// An empty body (e.g. of a `GET`) replays; any other may be a stream and does not.
    fn try_replay(&self) -> Option<Self> {
        (http_body::Body::size_hint(self).exact() == Some(0)).then(Self::empty)
    }
}

#[cfg(feature = "tonic")]
impl ReplayBody for tonic::body::Body {
    /// An empty body replays; gRPC message streams do not.
    fn try_replay(&self) -> Option<Self> {
        (http_body::Body::size_hint(self).exact() == Some(0)).then(Self::empty)
    }
}

#[cfg(feature = "reqwest")]
impl ReplayBody for reqwest::Body {
    /// A buffered body (built from bytes or a string) replays; a stream does not.
    fn try_replay(&self) -> Option<Self> {
        self.as_bytes()
            .map(|b| Self::from(Bytes::copy_from_slice(b)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffered_bodies_replay_and_boxed_ones_do_not() {
        assert!(Full::new(Bytes::from_static(b"x")).try_replay().is_some());
        assert!(Empty::<Bytes>::new().try_replay().is_some());
        assert!("s".to_owned().try_replay().is_some());
        let boxed: BoxBody<Bytes, std::convert::Infallible> = BoxBody::new(Full::new(Bytes::new()));
        assert!(boxed.try_replay().is_none());
        let either: Either<Full<Bytes>, BoxBody<Bytes, std::convert::Infallible>> =
            Either::Left(Full::new(Bytes::new()));
        assert!(either.try_replay().is_some());
    }

    #[cfg(feature = "axum")]
    #[test]
    fn an_empty_axum_body_replays_and_a_non_empty_one_does_not() {
        assert!(axum_core::body::Body::empty().try_replay().is_some());
        assert!(axum_core::body::Body::from("data").try_replay().is_none());
    }
}
