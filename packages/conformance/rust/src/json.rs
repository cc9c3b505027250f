//! A small JSON reader for expect.json (std only). Numbers keep their text,
//! so 64-bit integers stay exact; expect.json writes those as decimal strings
//! anyway, and `as_i128` reads either form.

use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    /// the number's text as written
    Num(String),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

pub fn parse(text: &str) -> Result<Json, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    let v = p.value()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(format!("trailing characters at {}", p.i));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Result<(), String> {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!("expected '{}' at {}", c as char, self.i))
        }
    }

    fn value(&mut self) -> Result<Json, String> {
        self.ws();
        match self.s.get(self.i) {
            None => Err("unexpected end".into()),
            Some(b'{') => {
                self.i += 1;
                let mut out = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(Json::Obj(out));
                }
                loop {
                    self.ws();
                    let k = self.string()?;
                    self.eat(b':')?;
                    out.push((k, self.value()?));
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Json::Obj(out));
                        }
                        _ => return Err(format!("expected ',' or '}}' at {}", self.i)),
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut out = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(Json::Arr(out));
                }
                loop {
                    out.push(self.value()?);
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Json::Arr(out));
                        }
                        _ => return Err(format!("expected ',' or ']' at {}", self.i)),
                    }
                }
            }
            Some(b'"') => Ok(Json::Str(self.string()?)),
            Some(b't') if self.s[self.i..].starts_with(b"true") => {
                self.i += 4;
                Ok(Json::Bool(true))
            }
            Some(b'f') if self.s[self.i..].starts_with(b"false") => {
                self.i += 5;
                Ok(Json::Bool(false))
            }
            Some(b'n') if self.s[self.i..].starts_with(b"null") => {
                self.i += 4;
                Ok(Json::Null)
            }
            Some(_) => {
                let start = self.i;
                while self.i < self.s.len()
                    && matches!(
                        self.s[self.i],
                        b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
                    )
                {
                    self.i += 1;
                }
                if start == self.i {
                    return Err(format!("unexpected character at {}", self.i));
                }
                Ok(Json::Num(
                    String::from_utf8_lossy(&self.s[start..self.i]).into_owned(),
                ))
            }
        }
    }

    fn string(&mut self) -> Result<String, String> {
        if self.s.get(self.i) != Some(&b'"') {
            return Err(format!("expected a string at {}", self.i));
        }
        self.i += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let c = *self.s.get(self.i).ok_or("unterminated string")?;
            self.i += 1;
            match c {
                b'"' => return String::from_utf8(out).map_err(|e| e.to_string()),
                b'\\' => {
                    let e = *self.s.get(self.i).ok_or("unterminated escape")?;
                    self.i += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'u' => {
                            let hex = std::str::from_utf8(&self.s[self.i..self.i + 4])
                                .map_err(|e| e.to_string())?;
                            let mut code =
                                u32::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
                            self.i += 4;
                            if (0xd800..0xdc00).contains(&code)
                                && self.s[self.i..].starts_with(b"\\u")
                            {
                                let lo = std::str::from_utf8(&self.s[self.i + 2..self.i + 6])
                                    .map_err(|e| e.to_string())?;
                                let lo = u32::from_str_radix(lo, 16).map_err(|e| e.to_string())?;
                                code = 0x10000 + ((code - 0xd800) << 10) + (lo - 0xdc00);
                                self.i += 6;
                            }
                            let ch = char::from_u32(code).unwrap_or('\u{fffd}');
                            let mut b = [0; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
                        }
                        other => out.push(other),
                    }
                }
                c => out.push(c),
            }
        }
    }
}

impl Json {
    /// A field of an object (panics with the key when absent: expect.json is fixed data).
    pub fn get(&self, key: &str) -> &Json {
        self.opt(key)
            .unwrap_or_else(|| panic!("expect.json: no '{key}' in {self}"))
    }

    pub fn opt(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(o) => o.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn items(&self) -> &[Json] {
        match self {
            Json::Arr(a) => a,
            _ => panic!("expect.json: not an array: {self}"),
        }
    }

    pub fn entries(&self) -> &[(String, Json)] {
        match self {
            Json::Obj(o) => o,
            _ => panic!("expect.json: not an object: {self}"),
        }
    }

    pub fn str(&self) -> &str {
        match self {
            Json::Str(s) => s,
            _ => panic!("expect.json: not a string: {self}"),
        }
    }

    /// An integer written as a number or as a decimal string.
    pub fn int(&self) -> i128 {
        self.as_int()
            .unwrap_or_else(|| panic!("expect.json: not an integer: {self}"))
    }

    pub fn as_int(&self) -> Option<i128> {
        match self {
            Json::Num(n) | Json::Str(n) => n.parse().ok(),
            _ => None,
        }
    }

    pub fn u64(&self) -> u64 {
        u64::try_from(self.int()).expect("expect.json: not a u64")
    }

    pub fn i64(&self) -> i64 {
        i64::try_from(self.int()).expect("expect.json: not an i64")
    }

    pub fn usize(&self) -> usize {
        usize::try_from(self.int()).expect("expect.json: not a usize")
    }

    pub fn f64(&self) -> f64 {
        match self {
            Json::Num(n) => n.parse().expect("expect.json: not a number"),
            _ => panic!("expect.json: not a number: {self}"),
        }
    }

    pub fn bool(&self) -> bool {
        match self {
            Json::Bool(b) => *b,
            _ => panic!("expect.json: not a bool: {self}"),
        }
    }

    /// The case with this id of an expect.json.
    pub fn case(&self, id: &str) -> &Json {
        self.get("cases")
            .items()
            .iter()
            .find(|c| c.get("id").str() == id)
            .unwrap_or_else(|| panic!("expect.json: no case '{id}'"))
    }

    /// `$pid`, `$comm`, `$cpu` replaced (a string equal to one of them).
    pub fn fill(&self, pid: u32, comm: &str, cpu: u32) -> Json {
        match self {
            Json::Str(s) if s == "$pid" => Json::Num(pid.to_string()),
            Json::Str(s) if s == "$comm" => Json::Str(comm.into()),
            Json::Str(s) if s == "$cpu" => Json::Num(cpu.to_string()),
            Json::Arr(a) => Json::Arr(a.iter().map(|x| x.fill(pid, comm, cpu)).collect()),
            Json::Obj(o) => Json::Obj(
                o.iter()
                    .map(|(k, v)| (k.clone(), v.fill(pid, comm, cpu)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

impl fmt::Display for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Json::Null => f.write_str("null"),
            Json::Bool(b) => write!(f, "{b}"),
            Json::Num(n) => f.write_str(n),
            Json::Str(s) => write!(f, "{s:?}"),
            Json::Arr(a) => {
                f.write_str("[")?;
                for (i, x) in a.iter().enumerate() {
                    write!(f, "{}{x}", if i > 0 { ", " } else { "" })?;
                }
                f.write_str("]")
            }
            Json::Obj(o) => {
                f.write_str("{")?;
                for (i, (k, v)) in o.iter().enumerate() {
                    write!(f, "{}{k:?}: {v}", if i > 0 { ", " } else { "" })?;
                }
                f.write_str("}")
            }
        }
    }
}

/// Whether a value the wrapper gave (as JSON, from `Value::to_json`) equals
/// what expect.json says, by expect.json's conventions: integers compare by
/// value whether written as numbers or decimal strings, floats by value,
/// objects by their keys (every key on both sides), arrays element by
/// element. `Err` says where they differ.
pub fn same(got: &Json, want: &Json, path: &str) -> Result<(), String> {
    let differ = || Err(format!("{path}: got {got}, expected {want}"));
    match (got, want) {
        (Json::Obj(a), Json::Obj(b)) => {
            let mut ka: Vec<&str> = a.iter().map(|(k, _)| k.as_str()).collect();
            let mut kb: Vec<&str> = b.iter().map(|(k, _)| k.as_str()).collect();
            ka.sort_unstable();
            kb.sort_unstable();
            if ka != kb {
                return Err(format!("{path}: fields {ka:?}, expected {kb:?}"));
            }
            for (k, v) in b {
                same(got.get(k), v, &format!("{path}.{k}"))?;
            }
            Ok(())
        }
        (Json::Arr(a), Json::Arr(b)) => {
            if a.len() != b.len() {
                return differ();
            }
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                same(x, y, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (Json::Num(_) | Json::Str(_), Json::Num(_) | Json::Str(_))
            if got.as_int().is_some() && want.as_int().is_some() =>
        {
            if got.as_int() == want.as_int() {
                Ok(())
            } else {
                differ()
            }
        }
        (Json::Num(a), Json::Num(b)) => {
            if a.parse::<f64>().ok() == b.parse::<f64>().ok() {
                Ok(())
            } else {
                differ()
            }
        }
        _ if got == want => Ok(()),
        _ => differ(),
    }
}
