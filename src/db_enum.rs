//! `db_enum!`: a Rust enum mapped to a Postgres enum of the same values, with the list of
//! its values, their stored names and parsing, so each list has one home on each side
//! (`tests/it/enums.rs` checks every one against `enum_range`).

/// Declares `enum Name as "pg_type" { Variant = "stored", … }`.
#[macro_export]
macro_rules! db_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident as $pg:literal { $($variant:ident = $value:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, sqlx::Type, serde::Serialize)]
        #[sqlx(type_name = $pg)]
        $vis enum $name {
            $(#[sqlx(rename = $value)] #[serde(rename = $value)] $variant),+
        }

        impl $name {
            /// Every value, in the Postgres enum's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The Postgres type's name.
            pub const PG_TYPE: &'static str = $pg;

            /// The stored name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $value),+
                }
            }

            /// The value stored as `s`, or a message naming the field and the choices.
            pub fn parse(field: &str, s: &str) -> Result<$name, String> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| {
                    let names: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                    format!("{field}: '{s}' is not one of {}", names.join(", "))
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
