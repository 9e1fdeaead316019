//! The list parameters of the webservice: `filter[field]`, `display`, `sort`, `limit` and
//! `date=1`, parsed once and applied to a resource's records.

use std::cmp::Ordering;

use super::errors::{PsError, PsResult, code};
use super::schema::Resource;
use super::world::Record;

/// What `display` asked for.
#[derive(Clone, Debug, PartialEq)]
pub enum Display {
    /// No `display`: ids only (with `xlink:href` in XML).
    Ids,
    Full,
    /// Chosen fields; an association name may carry its own sub-field list.
    Fields(Vec<(String, Option<Vec<String>>)>),
}

#[derive(Clone, Debug)]
enum Op {
    Any(Vec<String>),
    Range(String, String),
    Gt(String),
    Lt(String),
    Begins(String),
    Ends(String),
    Contains(String),
}

#[derive(Clone, Debug)]
pub struct ListQuery {
    pub display: Display,
    filters: Vec<(String, Op)>,
    sort: Vec<(String, bool)>,
    limit: Option<(usize, usize)>,
}

const DATE_FIELDS: [&str; 2] = ["date_add", "date_upd"];

fn is_field(res: &Resource, name: &str) -> bool {
    name == "id" || res.field(name).is_some()
}

pub fn parse_display(res: &Resource, raw: Option<&str>) -> PsResult<Display> {
    let Some(raw) = raw else { return Ok(Display::Ids) };
    if raw == "full" {
        return Ok(Display::Full);
    }
    let syntax = || PsError::bad(code::DISPLAY_SYNTAX, format!("The \"display\" syntax is wrong: {raw}"));
    let inner = raw.strip_prefix('[').and_then(|s| s.strip_suffix(']')).ok_or_else(syntax)?;
    let mut out = Vec::new();
    let mut rest = inner;
    while !rest.is_empty() {
        let end = rest.find([',', '[']).unwrap_or(rest.len());
        let name = rest[..end].trim().to_owned();
        rest = &rest[end..];
        let mut sub = None;
        if let Some(after) = rest.strip_prefix('[') {
            let close = after.find(']').ok_or_else(syntax)?;
            sub = Some(after[..close].split(',').map(|s| s.trim().to_owned()).collect::<Vec<_>>());
            rest = &after[close + 1..];
        }
        rest = rest.strip_prefix(',').unwrap_or(rest);
        if name.is_empty() {
            return Err(syntax());
        }
        match &sub {
            Some(fields) => {
                let assoc = res.assoc(&name).ok_or_else(|| unknown_display(&name))?;
                if let Some(bad) = fields.iter().find(|f| !assoc.fields.contains(&f.as_str())) {
                    return Err(unknown_display(bad));
                }
            }
            None if !is_field(res, &name) && res.assoc(&name).is_none() => return Err(unknown_display(&name)),
            None => {}
        }
        out.push((name, sub));
    }
    Ok(Display::Fields(out))
}

fn unknown_display(name: &str) -> PsError {
    PsError::bad(
        code::DISPLAY_UNKNOWN_FIELD,
        format!("Unable to display this field \"{name}\". However, these are available: see schema"),
    )
}

fn parse_op(raw: &str) -> Option<Op> {
    let (begins, raw) = raw.strip_prefix('%').map_or((false, raw), |r| (true, r));
    let (ends, raw) = raw.strip_suffix('%').map_or((false, raw), |r| (true, r));
    let inner = raw.strip_prefix('[')?.strip_suffix(']')?.to_owned();
    Some(match (begins, ends) {
        (true, true) => Op::Contains(inner),
        (true, false) => Op::Ends(inner),
        (false, true) => Op::Begins(inner),
        (false, false) => {
            if let Some(v) = inner.strip_prefix('>') {
                Op::Gt(v.to_owned())
            } else if let Some(v) = inner.strip_prefix('<') {
                Op::Lt(v.to_owned())
            } else if let Some((a, b)) = inner.split_once(',') {
                Op::Range(a.to_owned(), b.to_owned())
            } else {
                Op::Any(inner.split('|').map(str::to_owned).collect())
            }
        }
    })
}

/// Numbers compare as numbers, everything else (including `Y-m-d H:i:s` dates) as text.
fn compare(a: &str, b: &str) -> Ordering {
    match (a.trim().parse::<f64>(), b.trim().parse::<f64>()) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => a.cmp(b),
    }
}

impl Op {
    fn matches(&self, value: &str) -> bool {
        let lower = value.to_lowercase();
        match self {
            Op::Any(options) => options.iter().any(|o| o.to_lowercase() == lower),
            Op::Range(a, b) => compare(value, a) != Ordering::Less && compare(value, b) != Ordering::Greater,
            Op::Gt(v) => compare(value, v) == Ordering::Greater,
            Op::Lt(v) => compare(value, v) == Ordering::Less,
            Op::Begins(v) => lower.starts_with(&v.to_lowercase()),
            Op::Ends(v) => lower.ends_with(&v.to_lowercase()),
            Op::Contains(v) => lower.contains(&v.to_lowercase()),
        }
    }
}

impl ListQuery {
    pub fn parse(res: &Resource, params: &[(String, String)]) -> PsResult<ListQuery> {
        let get = |key: &str| params.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        let display = parse_display(res, get("display"))?;
        let dates = get("date") == Some("1");
        let mut filters = Vec::new();
        for (key, value) in params {
            let Some(field) = key.strip_prefix("filter[").and_then(|k| k.strip_suffix(']')) else { continue };
            let known = is_field(res, field) && (dates || !DATE_FIELDS.contains(&field));
            if !known {
                let hint = if DATE_FIELDS.contains(&field) { " (date filters need date=1)" } else { "" };
                return Err(PsError::bad(code::BAD_FILTER, format!("This filter does not exist: {field}{hint}")));
            }
            let op = parse_op(value).ok_or_else(|| {
                PsError::bad(code::BAD_FILTER, format!("The filter value of {field} is malformed: {value}"))
            })?;
            filters.push((field.to_owned(), op));
        }
        let mut sort = Vec::new();
        if let Some(raw) = get("sort") {
            let inner = raw.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(raw);
            for part in inner.split(',').filter(|s| !s.is_empty()) {
                let (field, asc) = match part.rsplit_once('_') {
                    Some((f, "ASC")) => (f, true),
                    Some((f, "DESC")) => (f, false),
                    _ => return Err(PsError::bad(code::BAD_PARAMETER, format!("Sort is malformed: {part}"))),
                };
                if !is_field(res, field) {
                    return Err(PsError::bad(code::BAD_PARAMETER, format!("Unable to sort by unknown field {field}")));
                }
                sort.push((field.to_owned(), asc));
            }
        }
        let limit = match get("limit") {
            None => None,
            Some(raw) => {
                let bad = || PsError::bad(code::BAD_PARAMETER, format!("The limit parameter is malformed: {raw}"));
                let nums: Vec<usize> =
                    raw.split(',').map(|s| s.trim().parse().map_err(|_| bad())).collect::<Result<_, _>>()?;
                match nums[..] {
                    [count] => Some((0, count)),
                    [offset, count] => Some((offset, count)),
                    _ => return Err(bad()),
                }
            }
        };
        Ok(ListQuery { display, filters, sort, limit })
    }

    /// No filter and no sort: the page is a plain slice of the table in id order.
    pub fn plain_page(&self) -> Option<(usize, usize)> {
        (self.filters.is_empty() && self.sort.is_empty()).then(|| self.limit.unwrap_or((0, usize::MAX)))
    }

    pub fn apply(&self, mut rows: Vec<Record>) -> Vec<Record> {
        rows.retain(|r| self.filters.iter().all(|(f, op)| op.matches(r.get(f))));
        if self.sort.is_empty() {
            rows.sort_by_key(|r| r.num("id"));
        } else {
            rows.sort_by(|a, b| {
                self.sort.iter().fold(Ordering::Equal, |acc, (f, asc)| {
                    acc.then_with(|| {
                        let o = compare(a.get(f), b.get(f));
                        if *asc { o } else { o.reverse() }
                    })
                })
            });
        }
        match self.limit {
            Some((offset, count)) => rows.into_iter().skip(offset).take(count).collect(),
            None => rows,
        }
    }
}
