//! The response future of [`Scope`](super::Scope): the check needs no I/O, so it is the shared
//! [`CheckFuture`](crate::check_future::CheckFuture).

pub use crate::check_future::CheckFuture as ResponseFuture;
