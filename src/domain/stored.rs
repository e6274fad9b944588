//! The one way an enum stored as text is defined: its JSON names, schema names and stored names
//! are one spelling, an unknown name in a request is a field error, and an unknown name read
//! from the database is an internal error (the table's check constraint admits no other name, so
//! it is a bug), never silently dropped or replaced.

/// Defines an enum stored as text. The variants' JSON names are their snake-case names and must
/// equal the stored names given (a per-variant rename from a macro literal would be invisible to
/// utoipa, so the schema would differ); each enum's tests check that with [`assert_one_spelling`].
macro_rules! stored_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
        )]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [Self; [$($text),+].len()] = [$(Self::$variant,)+];

            /// The stored (and JSON) name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }

            /// The value of a name given in a request; the error lists the names accepted.
            pub fn parse(text: &str) -> Result<Self, String> {
                match text {
                    $($text => Ok(Self::$variant),)+
                    _ => Err($crate::domain::stored::one_of(&[$($text),+])),
                }
            }

            /// The value of a name read from the database: an unknown one is a bug, logged by
            /// type only (the value itself is not logged).
            pub fn from_db(text: &str) -> $crate::error::ApiResult<Self> {
                match text {
                    $($text => Ok(Self::$variant),)+
                    _ => Err($crate::error::ApiError::internal(concat!(
                        "a stored ",
                        stringify!($name),
                        " is none of its names"
                    ))),
                }
            }
        }
    };
}

pub(crate) use stored_enum;

/// "must be one of `a`, `b`": the field error of an unknown name.
pub fn one_of(names: &[&str]) -> String {
    let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    format!("must be one of {}", names.join(", "))
}

/// Test helper: every value's JSON name, schema name and stored name are one spelling, and
/// both readers refuse other names.
#[cfg(test)]
pub fn assert_one_spelling<T, const N: usize>(all: [T; N], as_str: fn(T) -> &'static str)
where
    T: Copy + std::fmt::Debug + PartialEq + serde::Serialize + utoipa::PartialSchema,
{
    let schema = serde_json::to_string(&T::schema()).unwrap_or_default();
    for value in all {
        let json = serde_json::to_value(value).ok();
        assert_eq!(json, Some(serde_json::Value::from(as_str(value))));
        assert!(
            schema.contains(&format!("\"{}\"", as_str(value))),
            "{schema}"
        );
    }
}
