//! `Value`: any generated type as a tree of plain values (numbers, strings,
//! lists, fields by name), and back. For printing, comparing with data (the
//! conformance tests read their expectations from JSON), or tools that do
//! not know the types at compile time. The typed fields and accessors are
//! the fast path; nothing here is on the event path.

use std::fmt;

use crate::error::{Error, Result};
use crate::pod::{zeroed, CBool, CharArray, Pod};

/// A value of a C type.
#[derive(Clone, Debug)]
pub enum Value {
    Bool(bool),
    /// a signed integer (or enum) of any width
    Int(i128),
    /// an unsigned integer (or enum) of any width
    UInt(u128),
    Float(f64),
    /// `char[n]`: the text up to the first NUL
    Str(String),
    /// bytes with no value type (the generated type says why)
    Bytes(Vec<u8>),
    List(Vec<Value>),
    /// a struct or union: its fields by name in declaration order (anonymous
    /// members flattened; a union lists every member)
    Struct(Vec<(&'static str, Value)>),
}

impl Value {
    /// The integer, whatever its signedness, if it is one.
    pub fn as_i128(&self) -> Option<i128> {
        match *self {
            Value::Int(i) => Some(i),
            Value::UInt(u) => i128::try_from(u).ok(),
            _ => None,
        }
    }

    /// A field of a struct value.
    pub fn field(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Struct(fields) => fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value as JSON: structs as objects, lists and bytes as arrays,
    /// integers as numbers, except those beyond ±(2^53 − 1), which are
    /// decimal strings (what JSON readers keep exactly); NaN and infinities
    /// as null.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    fn write_json(&self, out: &mut String) {
        use std::fmt::Write;
        const SAFE: i128 = (1 << 53) - 1;
        match self {
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) if (-SAFE..=SAFE).contains(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Int(i) => {
                let _ = write!(out, "\"{i}\"");
            }
            Value::UInt(u) if *u <= SAFE as u128 => {
                let _ = write!(out, "{u}");
            }
            Value::UInt(u) => {
                let _ = write!(out, "\"{u}\"");
            }
            Value::Float(x) if x.is_finite() => {
                let _ = write!(out, "{x:?}");
            }
            Value::Float(_) => out.push_str("null"),
            Value::Str(s) => json_string(out, s),
            Value::Bytes(b) => {
                out.push('[');
                for (i, x) in b.iter().enumerate() {
                    let _ = write!(out, "{}{x}", if i > 0 { "," } else { "" });
                }
                out.push(']');
            }
            Value::List(l) => {
                out.push('[');
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write_json(out);
                }
                out.push(']');
            }
            Value::Struct(fields) => {
                out.push('{');
                for (i, (n, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    json_string(out, n);
                    out.push(':');
                    v.write_json(out);
                }
                out.push('}');
            }
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Value::Bool(_) => "a bool",
            Value::Int(_) | Value::UInt(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Str(_) => "a string",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "a list",
            Value::Struct(_) => "a struct",
        }
    }
}

fn json_string(out: &mut String, s: &str) {
    use std::fmt::Write;
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Integers compare by value whatever their signedness; floats by value
/// (NaN equals NaN, so decoded values compare equal to themselves).
impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Int(_) | Value::UInt(_), Value::Int(_) | Value::UInt(_)) => match (self, other)
            {
                (Value::UInt(a), Value::UInt(b)) => a == b,
                _ => self.as_i128().is_some() && self.as_i128() == other.as_i128(),
            },
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a == b || (a.is_nan() && b.is_nan()),
            (Value::Float(a), x @ (Value::Int(_) | Value::UInt(_)))
            | (x @ (Value::Int(_) | Value::UInt(_)), Value::Float(a)) => {
                Some(*a) == x.as_i128().map(|i| i as f64)
            }
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Bytes(a), Value::Bytes(b)) => a == b,
            (Value::List(a), Value::List(b)) => a == b,
            (Value::Struct(a), Value::Struct(b)) => a == b,
            _ => false,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::UInt(u) => write!(f, "{u}"),
            Value::Float(x) => write!(f, "{x:?}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Bytes(b) => {
                f.write_str("0x")?;
                b.iter().try_for_each(|x| write!(f, "{x:02x}"))
            }
            Value::List(l) => {
                f.write_str("[")?;
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Struct(fields) => {
                f.write_str("{")?;
                for (i, (n, v)) in fields.iter().enumerate() {
                    write!(f, "{}{n}: {v}", if i > 0 { ", " } else { " " })?;
                }
                f.write_str(if fields.is_empty() { "}" } else { " }" })
            }
        }
    }
}

/// Conversion of a C type to and from a [`Value`]. Generated types
/// implement it through their typed fields and accessors.
pub trait Reflect: Sized {
    fn to_value(&self) -> Value;
    /// A value from a `Value`: fields left out are zero; a field the type
    /// does not have, a value out of range or of the wrong kind is `EINVAL`.
    fn from_value(v: &Value) -> Result<Self>;
}

fn wrong(v: &Value, want: &str) -> Error {
    Error::invalid(format!("expected {want}, got {} ({v})", v.kind()))
}

macro_rules! reflect_int {
    ($($t:ty => $variant:ident),*) => {$(
        impl Reflect for $t {
            fn to_value(&self) -> Value {
                Value::$variant((*self).into())
            }
            fn from_value(v: &Value) -> Result<$t> {
                let r = match *v {
                    Value::Int(i) => <$t>::try_from(i).ok(),
                    Value::UInt(u) => <$t>::try_from(u).ok(),
                    _ => return Err(wrong(v, stringify!($t))),
                };
                r.ok_or_else(|| Error::invalid(format!("{v} is out of range of {}", stringify!($t))))
            }
        }
    )*};
}
reflect_int!(u8 => UInt, u16 => UInt, u32 => UInt, u64 => UInt, u128 => UInt,
    i8 => Int, i16 => Int, i32 => Int, i64 => Int, i128 => Int);

impl Reflect for f64 {
    fn to_value(&self) -> Value {
        Value::Float(*self)
    }
    fn from_value(v: &Value) -> Result<f64> {
        match *v {
            Value::Float(x) => Ok(x),
            Value::Int(i) => Ok(i as f64),
            Value::UInt(u) => Ok(u as f64),
            _ => Err(wrong(v, "a float")),
        }
    }
}

impl Reflect for f32 {
    fn to_value(&self) -> Value {
        Value::Float(f64::from(*self))
    }
    fn from_value(v: &Value) -> Result<f32> {
        f64::from_value(v).map(|x| x as f32)
    }
}

impl Reflect for bool {
    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }
    fn from_value(v: &Value) -> Result<bool> {
        match *v {
            Value::Bool(b) => Ok(b),
            Value::Int(0) | Value::UInt(0) => Ok(false),
            Value::Int(1) | Value::UInt(1) => Ok(true),
            _ => Err(wrong(v, "a bool")),
        }
    }
}

impl Reflect for CBool {
    fn to_value(&self) -> Value {
        Value::Bool(self.get())
    }
    fn from_value(v: &Value) -> Result<CBool> {
        bool::from_value(v).map(CBool::from)
    }
}

impl<const N: usize> Reflect for CharArray<N> {
    fn to_value(&self) -> Value {
        Value::Str(self.to_str_lossy().into_owned())
    }
    fn from_value(v: &Value) -> Result<CharArray<N>> {
        match v {
            Value::Str(s) => CharArray::new(s),
            _ => Err(wrong(v, "a string")),
        }
    }
}

impl<T: Reflect + Pod, const N: usize> Reflect for [T; N] {
    fn to_value(&self) -> Value {
        Value::List(self.iter().map(Reflect::to_value).collect())
    }
    /// At most N elements; the rest are zero.
    fn from_value(v: &Value) -> Result<[T; N]> {
        match v {
            Value::List(l) if l.len() <= N => {
                let mut out = [zeroed::<T>(); N];
                for (o, x) in out.iter_mut().zip(l) {
                    *o = T::from_value(x)?;
                }
                Ok(out)
            }
            Value::List(l) => Err(Error::invalid(format!(
                "{} elements do not fit in an array of {N}",
                l.len()
            ))),
            Value::Bytes(b) if b.len() <= N => {
                let mut out = [zeroed::<T>(); N];
                for (o, x) in out.iter_mut().zip(b) {
                    *o = T::from_value(&Value::UInt((*x).into()))?;
                }
                Ok(out)
            }
            _ => Err(wrong(v, "a list")),
        }
    }
}

/// For generated `to_value`: a struct value, field by field.
#[derive(Default)]
pub struct StructValue {
    fields: Vec<(&'static str, Value)>,
}

impl StructValue {
    pub fn new() -> StructValue {
        StructValue::default()
    }

    pub fn add(&mut self, name: &'static str, v: &impl Reflect) {
        self.fields.push((name, v.to_value()));
    }

    pub fn finish(self) -> Value {
        Value::Struct(self.fields)
    }
}

/// `Debug` of generated types: the type's name and its value.
pub fn debug<T: Reflect>(v: &T, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let name = std::any::type_name::<T>();
    let name = name.rsplit("::").next().unwrap_or(name);
    write!(f, "{name} {}", v.to_value())
}

/// `from_value` of generated enums: a number, or the name of one of the values.
pub fn enum_from_value<E: crate::CEnum, T: Reflect + TryFrom<i128>>(v: &Value) -> Result<T> {
    let values = E::LAYOUT.values;
    match v {
        Value::Str(s) => match values.iter().find(|(n, _)| n == s) {
            Some(&(_, x)) => {
                T::try_from(x).map_err(|_| Error::invalid(format!("{s} is out of range")))
            }
            None => Err(Error::invalid(format!("no enum value is called '{s}'"))),
        },
        _ => T::from_value(v),
    }
}

/// For generated `from_value`: the fields of a struct value, each taken at
/// most once; `finish()` refuses fields the type does not have.
pub struct Fields<'a> {
    type_name: &'static str,
    fields: &'a [(&'static str, Value)],
    used: Vec<bool>,
}

impl<'a> Fields<'a> {
    pub fn new(v: &'a Value, type_name: &'static str) -> Result<Fields<'a>> {
        match v {
            Value::Struct(fields) => Ok(Fields {
                type_name,
                fields,
                used: vec![false; fields.len()],
            }),
            _ => Err(wrong(v, type_name)),
        }
    }

    /// The field's value, if given.
    pub fn get(&mut self, name: &str) -> Option<&'a Value> {
        let i = self.fields.iter().position(|(n, _)| *n == name)?;
        self.used[i] = true;
        Some(&self.fields[i].1)
    }

    /// Converts the field if given.
    pub fn take<T: Reflect>(&mut self, name: &str) -> Result<Option<T>> {
        match self.get(name) {
            Some(v) => T::from_value(v)
                .map(Some)
                .map_err(|e| e.context(format_args!("{}.{name}", self.type_name))),
            None => Ok(None),
        }
    }

    /// Whether any of these fields is given (a union member, or the fields of one).
    pub fn has_any(&self, names: &[&str]) -> bool {
        self.fields.iter().any(|(n, _)| names.contains(n))
    }

    /// After the members of a union (or of an anonymous union flattened
    /// into a struct) were written in declaration order: each given one
    /// (`names`, separated by spaces) must read back from `back` as given,
    /// else they disagree (`EINVAL`: give only the member to change).
    pub fn overlay(&self, what: &str, names: &str, back: &Value) -> Result<()> {
        let given: Vec<(&'static str, Value)> = self
            .fields
            .iter()
            .filter(|(n, _)| names.split(' ').any(|m| m == *n))
            .map(|(n, v)| (*n, v.clone()))
            .collect();
        check_overlay(what, &given, back)
    }

    pub fn finish(self) -> Result<()> {
        match self.used.iter().position(|u| !u) {
            Some(i) => Err(Error::invalid(format!(
                "{} has no field '{}'",
                self.type_name, self.fields[i].0
            ))),
            None => Ok(()),
        }
    }
}

/// For generated `from_value` of unions: after writing every member given,
/// each must read back as given, else they disagree (a changed member of a
/// decoded union: give only that one).
pub fn check_overlay(type_name: &str, given: &[(&'static str, Value)], back: &Value) -> Result<()> {
    for (name, v) in given {
        if back.field(name) != Some(v) {
            return Err(Error::invalid(format!(
                "{type_name}: members {} are given and disagree ('{name}' does not read back as given); give exactly one",
                given.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
            )));
        }
    }
    Ok(())
}
