//! The response future of [`StepUp`](super::StepUp): the check needs no I/O, so it is the
//! shared [`CheckFuture`](crate::check_future::CheckFuture).

pub use crate::check_future::CheckFuture as ResponseFuture;
