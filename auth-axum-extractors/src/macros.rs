/// Defines a unit rejection for a server-side misconfiguration: a 500 whose JSON body carries a
/// how-to-fix message, with `status()`, `code()`, `body_text()`, `Display`, `Error` and an
/// `IntoResponse` that logs at error level (target `auth::rejection`).
macro_rules! define_rejection {
    (
        #[code = $code:ident]
        #[body = $body:expr]
        $(#[$m:meta])*
        pub struct $name:ident;
    ) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct $name;

        impl $name {
            /// The HTTP status of this rejection.
            #[must_use]
            pub fn status(&self) -> http::StatusCode {
                crate::rejection::status_of(auth_core::ErrorCode::$code)
            }

            /// The stable error code.
            #[must_use]
            pub fn code(&self) -> auth_core::ErrorCode {
                auth_core::ErrorCode::$code
            }

            /// The message in the response body.
            #[must_use]
            pub fn body_text(&self) -> &'static str {
                $body
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.body_text())
            }
        }

        impl std::error::Error for $name {}

        impl axum_core::response::IntoResponse for $name {
            fn into_response(self) -> axum_core::response::Response {
                tracing::error!(
                    target: "auth::rejection",
                    rejection_type = stringify!($name),
                    code = self.code().as_str(),
                    "{}",
                    self.body_text(),
                );
                crate::rejection::json_error(self.status(), self.code(), self.body_text())
            }
        }
    };
}

/// Defines a client-error rejection that wraps a layer [`Rejection`](auth_tower::Rejection) and
/// renders it exactly as the layers do (same JSON, `WWW-Authenticate`, extension), with
/// `status()`, `code()`, `rejection()`, `Display`, `Error` and a debug-level `tracing` event
/// (target `auth::rejection`).
macro_rules! layer_rejection {
    ($(#[$m:meta])* pub struct $name:ident;) => {
        $(#[$m])*
        #[derive(Debug, Clone)]
        pub struct $name(pub(crate) auth_tower::Rejection);

        impl $name {
            /// The HTTP status.
            #[must_use]
            pub fn status(&self) -> http::StatusCode {
                crate::rejection::status_of(self.0.code())
            }

            /// The stable error code.
            #[must_use]
            pub fn code(&self) -> auth_core::ErrorCode {
                self.0.code()
            }

            /// The underlying layer rejection.
            #[must_use]
            pub fn rejection(&self) -> &auth_tower::Rejection {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(&self.0, f)
            }
        }

        impl std::error::Error for $name {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }

        impl axum_core::response::IntoResponse for $name {
            fn into_response(self) -> axum_core::response::Response {
                use auth_tower::response::RejectionResponse as _;
                tracing::debug!(
                    target: "auth::rejection",
                    rejection_type = stringify!($name),
                    code = self.code().as_str(),
                    reason = %self.0.error(),
                );
                let mut res = auth_tower::response::DefaultRejection.response(&self.0);
                res.extensions_mut().insert(self.0);
                res
            }
        }
    };
}

/// Defines an extractor's rejection enum with `From` impls, `status()`, `code()`, `Display`,
/// `Error` and `IntoResponse` delegating to the variants.
macro_rules! composite_rejection {
    (
        $(#[$m:meta])*
        pub enum $name:ident { $($variant:ident),+ $(,)? }
    ) => {
        $(#[$m])*
        #[derive(Debug)]
        #[non_exhaustive]
        pub enum $name {
            $(
                #[allow(missing_docs)]
                $variant($variant),
            )+
        }

        impl $name {
            /// The HTTP status of this rejection.
            #[must_use]
            pub fn status(&self) -> http::StatusCode {
                match self { $(Self::$variant(r) => r.status(),)+ }
            }

            /// The stable error code.
            #[must_use]
            pub fn code(&self) -> auth_core::ErrorCode {
                match self { $(Self::$variant(r) => r.code(),)+ }
            }
        }

        $(
            impl From<$variant> for $name {
                fn from(r: $variant) -> Self {
                    Self::$variant(r)
                }
            }
        )+

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self { $(Self::$variant(r) => std::fmt::Display::fmt(r, f),)+ }
            }
        }

        impl std::error::Error for $name {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                match self { $(Self::$variant(r) => Some(r),)+ }
            }
        }

        impl axum_core::response::IntoResponse for $name {
            fn into_response(self) -> axum_core::response::Response {
                match self { $(Self::$variant(r) => r.into_response(),)+ }
            }
        }
    };
}
