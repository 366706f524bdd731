//! Macros shared by the resolvers.

/// A GraphQL enum that mirrors a domain enum variant for variant, with conversions both ways.
macro_rules! mirror_enum {
    ($(#[$doc:meta])* $name:ident => $domain:ty { $($(#[$vdoc:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, serde::Serialize)]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl From<$name> for $domain {
            fn from(value: $name) -> Self {
                match value { $($name::$variant => <$domain>::$variant),+ }
            }
        }

        impl From<$domain> for $name {
            fn from(value: $domain) -> Self {
                match value { $(<$domain>::$variant => $name::$variant),+ }
            }
        }
    };
}
