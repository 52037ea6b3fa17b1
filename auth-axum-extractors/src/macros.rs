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
