//! The pricing catalog: `fixtures/pricing.toml`, or the user's file in the same format.
//!
//! Each entry is one thing that is billed: a cloud instance by the hour, a hosted CI runner by
//! the minute, or a vendor's claim (shown beside the results, never used in them). Every entry
//! says where its price comes from and when it was read, so that [`Catalog::stale`] can warn
//! about figures older than a year. A price that a provider changes on a known date is one
//! entry with a `[[entries.ID.changes]]` list; [`Catalog::price_on`] picks the price in force on
//! the plan's date, so a plan for December 2025 and one for March 2026 each bill as the provider
//! did then.
//!
//! A change a provider has announced without a date (or announced and then postponed) is
//! *pending*: it has no `from`, is listed by `--check-prices` and named by `plan`, and is priced
//! only when the user asks (`--assume-pending`).
//!
//! Included minutes: a `[plans.ID]` table names a CI plan's monthly allowance and the runner
//! entries it `covers` (GitHub's included minutes pay for its standard runners only; larger
//! runners, such as its Linux arm64 2-core, are billed from the first minute).
//!
//! Decision: semantic errors (a negative price, a change out of order) name the line of the
//! entry's table. serde reports the line of type errors itself (an unknown `kind`, a missing
//! `unit`); for the rest the entry is read as a [`toml::Spanned`] value, whose byte offset is
//! turned into a line here.

use std::collections::BTreeMap;
use std::path::Path;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The catalog shipped with archbench.
pub const BUILTIN: &str = include_str!("../../../fixtures/pricing.toml");

/// What an entry prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An on-demand VM, by the hour (a service instance or a self-hosted build worker).
    Instance,
    /// A hosted CI runner, by the minute, each job rounded up to a whole minute.
    Runner,
    /// A vendor's statement (a fraction), shown beside the figures and never used in them.
    Claim,
}

impl Kind {
    /// The unit this kind is priced in.
    pub fn unit(self) -> Unit {
        match self {
            Kind::Instance => Unit::Hour,
            Kind::Runner => Unit::Minute,
            Kind::Claim => Unit::Fraction,
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind::Instance => "instance",
            Kind::Runner => "runner",
            Kind::Claim => "claim",
        })
    }
}

/// The unit of a price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// USD per hour.
    Hour,
    /// USD per minute.
    Minute,
    /// A fraction (claims).
    Fraction,
}

impl std::fmt::Display for Unit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Unit::Hour => "hour",
            Unit::Minute => "minute",
            Unit::Fraction => "fraction",
        })
    }
}

/// The CPU architecture an entry runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    /// x86-64.
    Amd64,
    /// AArch64.
    Arm64,
}

/// A price that takes effect on a date, or a pending one (announced, no date in force).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    /// The first day the new price applies (`YYYY-MM-DD`); `None`: pending, priced only with
    /// `--assume-pending`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// USD per unit from that day.
    pub price: f64,
    /// Where the new figure comes from.
    pub source: String,
    /// When it was read (`YYYY-MM` or `YYYY-MM-DD`).
    pub date: String,
}

/// One price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// What it prices.
    pub kind: Kind,
    /// What it is.
    pub description: String,
    /// USD per unit (for a claim: the claimed fraction), before any change.
    pub price: f64,
    /// `hour` for instances, `minute` for runners, `fraction` for claims.
    pub unit: Unit,
    /// The architecture it runs.
    pub arch: Arch,
    /// `aws`, `github`, …
    pub provider: String,
    /// Region, or `global`.
    pub region: String,
    /// Where the figure comes from.
    pub source: String,
    /// When it was read (`YYYY-MM` or `YYYY-MM-DD`).
    pub date: String,
    /// A runner that costs nothing for public repositories (GitHub's standard runners).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub free_for_public: bool,
    /// Later prices, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Change>,
}

/// The price of one entry on one day, and where that figure comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quote {
    /// The entry's id.
    pub id: String,
    /// USD per unit on that day.
    pub price: f64,
    /// Where the figure comes from.
    pub source: String,
    /// When it was read.
    pub date: String,
    /// The change it comes from (`from 2026-01-01`), if not the entry's first price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_from: Option<String>,
    /// The price is a pending change's, assumed at the user's request (`--assume-pending`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pending: bool,
}

/// A CI plan's included minutes and the runners they pay for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CiPlan {
    /// What it is (`GitHub Free`).
    pub description: String,
    /// `github`, …
    pub provider: String,
    /// Runner minutes included each month.
    pub included_minutes: f64,
    /// The runner entries those minutes may be spent on; every other runner is billed from its
    /// first minute.
    pub covers: Vec<String>,
    /// Where the figure comes from.
    pub source: String,
    /// When it was read (`YYYY-MM` or `YYYY-MM-DD`).
    pub date: String,
}

/// A price older than the age limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stale {
    /// The entry.
    pub id: String,
    /// When its figure was read.
    pub date: String,
    /// Whole months between then and the day asked about.
    pub months: i64,
}

/// All prices by id, and the CI plans' included minutes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    /// Entries by id.
    pub entries: BTreeMap<String, Entry>,
    /// CI plans by id (`github-free`): what their included minutes cover.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub plans: BTreeMap<String, CiPlan>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpannedCatalog {
    entries: BTreeMap<String, toml::Spanned<Entry>>,
    #[serde(default)]
    plans: BTreeMap<String, toml::Spanned<CiPlan>>,
}

/// The included minutes a plan spends, and on which runners.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Included {
    /// Minutes a month.
    pub minutes: f64,
    /// The CI plan they come from, when one was named (`--ci-plan`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    /// The runner entries they may be spent on; `None`: every runner (a catalog that names no
    /// CI plan cannot say).
    pub covers: Option<Vec<String>>,
}

impl Included {
    /// Whether these minutes may be spent on runner `id`.
    pub fn covers(&self, id: &str) -> bool {
        self.covers.as_ref().is_none_or(|c| c.iter().any(|x| x == id))
    }
}

/// Parse `YYYY-MM-DD`, or `YYYY-MM` as the first of the month.
pub fn parse_date(s: &str) -> Option<Date> {
    let full = if s.len() == 7 { format!("{s}-01") } else { s.to_owned() };
    full.parse::<Date>().ok()
}

/// Where each line of a text starts, for the line numbers in errors. Made in one pass: counting
/// newlines from the start for each entry made loading a catalog quadratic (10 MB took 52 s).
struct Lines(Vec<usize>);

impl Lines {
    fn of(text: &str) -> Self {
        let starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines(starts.collect())
    }

    /// The 1-based line holding byte `offset`.
    fn line_of(&self, offset: usize) -> usize {
        self.0.partition_point(|&start| start <= offset)
    }
}

impl Catalog {
    /// The built-in catalog.
    pub fn builtin() -> Self {
        Self::parse(BUILTIN, "built-in pricing.toml").expect("the built-in catalog parses")
    }

    /// Read a catalog file the user named (`archbench_input`'s rules: a regular file, a link
    /// followed, at most 16 MiB).
    pub fn load(path: &Path) -> Result<Self> {
        let text = archbench_input::read_to_string(
            path,
            archbench_input::Kind::Catalog,
            archbench_input::Named::ByUser,
        )?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parse and check a catalog. Errors name the file and the line.
    pub fn parse(text: &str, name: &str) -> Result<Self> {
        let c: SpannedCatalog = toml::from_str(text).map_err(|e| Error::Pricing {
            path: name.into(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        let mut entries = BTreeMap::new();
        let lines = Lines::of(text);
        for (id, spanned) in c.entries {
            let line = lines.line_of(spanned.span().start);
            let e = spanned.into_inner();
            check_entry(&e).map_err(|message| Error::Pricing {
                path: name.into(),
                message: format!("line {line}: entry {id}: {message}"),
            })?;
            entries.insert(id, e);
        }
        let mut plans = BTreeMap::new();
        for (id, spanned) in c.plans {
            let line = lines.line_of(spanned.span().start);
            let p = spanned.into_inner();
            check_plan(&p, &entries).map_err(|message| Error::Pricing {
                path: name.into(),
                message: format!("line {line}: plan {id}: {message}"),
            })?;
            plans.insert(id, p);
        }
        Ok(Catalog { entries, plans })
    }

    /// The included minutes of a profile: `minutes` if given, else the CI plan's allowance
    /// (none without a plan); spent on the runners the named plan covers, or, with no plan
    /// named, on the runners any of the catalog's plans covers (every runner when the catalog
    /// names no plan).
    pub fn included(&self, ci_plan: Option<&str>, minutes: Option<f64>) -> Result<Included> {
        match ci_plan {
            Some(id) => {
                let p = self.plans.get(id).ok_or_else(|| {
                    Error::Input(format!(
                        "no CI plan {id} in the pricing catalog; plans: {}",
                        if self.plans.is_empty() {
                            "none (add a [plans.ID] table)".to_owned()
                        } else {
                            self.plans.keys().cloned().collect::<Vec<_>>().join(", ")
                        }
                    ))
                })?;
                Ok(Included {
                    minutes: minutes.unwrap_or(p.included_minutes),
                    plan: Some(id.to_owned()),
                    covers: Some(p.covers.clone()),
                })
            }
            None => {
                let covers = (!self.plans.is_empty()).then(|| {
                    let mut all: Vec<String> =
                        self.plans.values().flat_map(|p| p.covers.iter().cloned()).collect();
                    all.sort();
                    all.dedup();
                    all
                });
                Ok(Included { minutes: minutes.unwrap_or(0.0), plan: None, covers })
            }
        }
    }

    /// The pending change of entry `id`, if it has one.
    pub fn pending(&self, id: &str) -> Option<&Change> {
        self.entries.get(id)?.changes.iter().find(|c| c.from.is_none())
    }

    /// An entry by id, of the kind expected.
    pub fn get(&self, id: &str, kind: Kind) -> Result<&Entry> {
        match self.entries.get(id) {
            Some(e) if e.kind == kind => Ok(e),
            Some(e) => {
                Err(Error::Input(format!("pricing entry {id} is a {}, not a {kind}", e.kind)))
            }
            None => Err(Error::Input(format!(
                "no pricing entry {id}; {kind} entries: {}",
                self.entries
                    .iter()
                    .filter(|(_, e)| e.kind == kind)
                    .map(|(k, _)| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// The price of entry `id` (of `kind`) in force on `day`; a pending change is left out.
    pub fn price_on(&self, id: &str, kind: Kind, day: Date) -> Result<Quote> {
        self.price_assuming(id, kind, day, false)
    }

    /// The price of entry `id` in force on `day`, or its pending change's when
    /// `assume_pending` (a pending change follows every dated one).
    pub fn price_assuming(
        &self,
        id: &str,
        kind: Kind,
        day: Date,
        assume_pending: bool,
    ) -> Result<Quote> {
        let e = self.get(id, kind)?;
        let mut q = Quote {
            id: id.to_owned(),
            price: e.price,
            source: e.source.clone(),
            date: e.date.clone(),
            effective_from: None,
            pending: false,
        };
        for c in &e.changes {
            let applies = match &c.from {
                Some(from) => parse_date(from).is_some_and(|from| from <= day),
                None => assume_pending,
            };
            if applies {
                q = Quote {
                    id: id.to_owned(),
                    price: c.price,
                    source: c.source.clone(),
                    date: c.date.clone(),
                    effective_from: c.from.clone(),
                    pending: c.from.is_none(),
                };
            }
        }
        Ok(q)
    }

    /// Entries whose figure in force on `day` was read more than `max_months` before it.
    pub fn stale(&self, day: Date, max_months: i64) -> Vec<Stale> {
        self.entries
            .iter()
            .filter_map(|(id, e)| {
                let read = e
                    .changes
                    .iter()
                    .rev()
                    .find(|c| c.from.as_deref().and_then(parse_date).is_some_and(|f| f <= day))
                    .map(|c| c.date.as_str())
                    .unwrap_or(&e.date);
                let when = parse_date(read)?;
                let months = (i64::from(day.year()) - i64::from(when.year())) * 12
                    + i64::from(day.month())
                    - i64::from(when.month());
                (months > max_months).then(|| Stale {
                    id: id.clone(),
                    date: read.to_owned(),
                    months,
                })
            })
            .collect()
    }
}

/// The highest price a catalog entry may give, dollars per unit: above any machine's hourly
/// price, and low enough that no product of prices, minutes and builds overflows into `inf`.
pub const MAX_PRICE: f64 = 1e6;

fn check_price(price: f64) -> std::result::Result<(), String> {
    if price.is_finite() && (0.0..=MAX_PRICE).contains(&price) {
        Ok(())
    } else {
        Err(format!(
            "price {} is outside 0 to {MAX_PRICE:e} dollars per unit",
            archbench_results::check::shown(price)
        ))
    }
}

fn check_dated(source: &str, date: &str) -> std::result::Result<(), String> {
    if source.trim().is_empty() {
        return Err("source is empty; say where the price comes from (a URL or a document)".into());
    }
    if parse_date(date).is_none() {
        return Err(format!("date {date:?} is not YYYY-MM or YYYY-MM-DD"));
    }
    Ok(())
}

fn check_entry(e: &Entry) -> std::result::Result<(), String> {
    if e.unit != e.kind.unit() {
        return Err(format!(
            "kind {} is priced per {:?}, not {:?}; use instance/hour, runner/minute or claim/fraction",
            e.kind,
            e.kind.unit(),
            e.unit
        )
        .to_lowercase());
    }
    check_price(e.price)?;
    check_dated(&e.source, &e.date)?;
    if e.free_for_public && e.kind != Kind::Runner {
        return Err("free_for_public applies to runners only".into());
    }
    let mut last: Option<Date> = None;
    for (k, c) in e.changes.iter().enumerate() {
        let Some(from_text) = &c.from else {
            if k + 1 != e.changes.len() {
                return Err("a pending change (one without `from`) must be the last change; an entry has at most one".into());
            }
            check_price(c.price).map_err(|m| format!("pending change: {m}"))?;
            check_dated(&c.source, &c.date).map_err(|m| format!("pending change: {m}"))?;
            continue;
        };
        let from = parse_date(from_text)
            .filter(|_| from_text.len() == 10)
            .ok_or_else(|| format!("change from {from_text:?} is not a YYYY-MM-DD date"))?;
        if last.is_some_and(|l| l >= from) {
            return Err(format!(
                "change from {from_text} is not after the one before it; list changes oldest first"
            ));
        }
        last = Some(from);
        check_price(c.price).map_err(|m| format!("change from {from_text}: {m}"))?;
        check_dated(&c.source, &c.date).map_err(|m| format!("change from {from_text}: {m}"))?;
    }
    Ok(())
}

/// At most this many included minutes a month (far past any plan's allowance).
const MAX_INCLUDED: f64 = 1e7;

fn check_plan(p: &CiPlan, entries: &BTreeMap<String, Entry>) -> std::result::Result<(), String> {
    if !(p.included_minutes.is_finite() && (0.0..=MAX_INCLUDED).contains(&p.included_minutes)) {
        return Err(format!(
            "included_minutes {} is outside 0 to {MAX_INCLUDED:e}",
            archbench_results::check::shown(p.included_minutes)
        ));
    }
    for id in &p.covers {
        match entries.get(id) {
            Some(e) if e.kind == Kind::Runner => {}
            Some(e) => return Err(format!("covers {id}, which is a {}, not a runner", e.kind)),
            None => return Err(format!("covers {id}, which is not an entry of this catalog")),
        }
    }
    check_dated(&p.source, &p.date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Date {
        s.parse().unwrap()
    }

    const ONE: &str = "# a comment\n\n[entries.x]\nkind = 'runner'\ndescription = 'd'\nprice = 1.0\nunit = 'minute'\narch = 'amd64'\nprovider = 'p'\nregion = 'r'\nsource = 's'\ndate = '2025-01'\n";

    #[test]
    fn builtin_parses_and_lookups_explain_themselves() {
        let c = Catalog::builtin();
        assert_eq!(c.get("c7g-large", Kind::Instance).unwrap().arch, Arch::Arm64);
        assert!(c
            .get("c7g-large", Kind::Runner)
            .unwrap_err()
            .to_string()
            .contains("is a instance, not a runner"));
        assert!(c
            .get("nope", Kind::Runner)
            .unwrap_err()
            .to_string()
            .contains("github-linux-2core-x64"));
    }

    #[test]
    fn the_2026_price_change_applies_by_date() {
        let c = Catalog::builtin();
        let before = c.price_on("github-linux-2core-x64", Kind::Runner, day("2025-12-31")).unwrap();
        let after = c.price_on("github-linux-2core-x64", Kind::Runner, day("2026-01-01")).unwrap();
        assert_eq!(before.price, 0.008);
        assert_eq!(after.price, 0.006);
        assert_eq!(after.effective_from.as_deref(), Some("2026-01-01"));
        // Unchanged entries quote their one price on any day.
        let arm = c.price_on("github-linux-2core-arm64", Kind::Runner, day("2024-06-01")).unwrap();
        assert_eq!(arm.price, 0.005);
    }

    #[test]
    fn bad_entries_are_refused_with_their_line() {
        let cases: &[(&str, &str, &str)] = &[
            ("price = 1.0", "price = -1.0", "line 3: entry x: price -1 is outside 0 to 1e6"),
            ("price = 1.0", "price = 1e308", "line 3: entry x: price 1e308 is outside 0 to 1e6"),
            (
                "unit = 'minute'",
                "unit = 'hour'",
                "line 3: entry x: kind runner is priced per minute",
            ),
            ("kind = 'runner'", "kind = 'spot'", "unknown variant `spot`"),
            ("unit = 'minute'\n", "", "missing field `unit`"),
            ("source = 's'", "source = ' '", "line 3: entry x: source is empty"),
            ("date = '2025-01'", "date = 'last year'", "line 3: entry x: date \"last year\""),
            ("price = 1.0", "price = 'free'", "line 6"),
        ];
        for (from, to, want) in cases {
            let text = ONE.replace(from, to);
            let e = Catalog::parse(&text, "f.toml").unwrap_err().to_string();
            assert!(e.contains(want) && e.starts_with("f.toml"), "{to:?}: {e}");
        }
        // Toml's own errors carry the line too.
        let e = Catalog::parse(&ONE.replace("kind = 'runner'", "kind = 'spot'"), "f").unwrap_err();
        assert!(e.to_string().contains("line 4"), "{e}");
    }

    #[test]
    fn line_numbers_come_from_one_pass_over_the_text() {
        let l = Lines::of("a\nbc\n\nd");
        assert_eq!([0, 1, 2, 3, 4, 5, 6].map(|o| l.line_of(o)), [1, 1, 2, 2, 2, 3, 4]);
        assert_eq!(Lines::of("").line_of(0), 1);
    }

    #[test]
    fn changes_must_be_dated_and_in_order() {
        let change = |from: &str, price: f64| {
            format!("[[entries.x.changes]]\nfrom = '{from}'\nprice = {price}\nsource = 's'\ndate = '2026-01'\n")
        };
        let ok = format!("{ONE}{}{}", change("2026-01-01", 0.5), change("2026-06-01", 0.25));
        let c = Catalog::parse(&ok, "f").unwrap();
        assert_eq!(c.price_on("x", Kind::Runner, day("2026-03-01")).unwrap().price, 0.5);
        assert_eq!(c.price_on("x", Kind::Runner, day("2026-06-01")).unwrap().price, 0.25);
        let swapped = format!("{ONE}{}{}", change("2026-06-01", 0.5), change("2026-01-01", 0.25));
        assert!(Catalog::parse(&swapped, "f").unwrap_err().to_string().contains("oldest first"));
        let negative = format!("{ONE}{}", change("2026-06-01", -2.0));
        assert!(Catalog::parse(&negative, "f")
            .unwrap_err()
            .to_string()
            .contains("change from 2026-06-01: price -2"));
    }

    #[test]
    fn a_pending_change_is_priced_only_when_assumed() {
        let pending = "[[entries.x.changes]]\nprice = 0.25\nsource = 's'\ndate = '2025-12'\n";
        let c = Catalog::parse(&format!("{ONE}{pending}"), "f").unwrap();
        let q = c.price_on("x", Kind::Runner, day("2030-01-01")).unwrap();
        assert_eq!((q.price, q.pending), (1.0, false));
        let q = c.price_assuming("x", Kind::Runner, day("2030-01-01"), true).unwrap();
        assert_eq!((q.price, q.pending, q.effective_from), (0.25, true, None));
        assert_eq!(c.pending("x").map(|p| p.price), Some(0.25));
        // It comes last: a dated change after it is refused.
        let dated = "[[entries.x.changes]]\nfrom = '2026-01-01'\nprice = 0.5\nsource = 's'\ndate = '2026-01'\n";
        let e = Catalog::parse(&format!("{ONE}{pending}{dated}"), "f").unwrap_err().to_string();
        assert!(e.contains("line 3: entry x: a pending change"), "{e}");
    }

    #[test]
    fn plans_say_which_runners_their_minutes_pay_for() {
        let plan = |covers: &str, minutes: &str| {
            format!("{ONE}[plans.p]\ndescription = 'd'\nprovider = 'p'\nincluded_minutes = {minutes}\ncovers = [{covers}]\nsource = 's'\ndate = '2026-01'\n")
        };
        let c = Catalog::parse(&plan("'x'", "2000"), "f").unwrap();
        let inc = c.included(Some("p"), None).unwrap();
        assert_eq!((inc.minutes, inc.covers("x"), inc.covers("y")), (2000.0, true, false));
        // --free-minutes overrides the allowance; without --ci-plan the plans' runners count.
        assert_eq!(c.included(Some("p"), Some(5.0)).unwrap().minutes, 5.0);
        let any = c.included(None, Some(10.0)).unwrap();
        assert_eq!((any.minutes, any.covers("x"), any.covers("y")), (10.0, true, false));
        assert_eq!(c.included(None, None).unwrap().minutes, 0.0);
        // A catalog without plans cannot say: every runner.
        assert!(Catalog::parse(ONE, "f").unwrap().included(None, Some(1.0)).unwrap().covers("y"));
        let e = c.included(Some("nope"), None).unwrap_err().to_string();
        assert!(e.contains("no CI plan nope") && e.contains("plans: p"), "{e}");
        for (covers, minutes, want) in [
            ("'y'", "1", "line 13: plan p: covers y, which is not an entry"),
            ("'x'", "-1", "line 13: plan p: included_minutes -1 is outside"),
            ("'x'", "nan", "line 13: plan p: included_minutes NaN is outside"),
        ] {
            let e = Catalog::parse(&plan(covers, minutes), "f").unwrap_err().to_string();
            assert!(e.contains(want), "{covers} {minutes}: {e}");
        }
    }

    #[test]
    fn stale_prices_are_found_by_the_figure_in_force() {
        let c = Catalog::parse(ONE, "f").unwrap();
        assert!(c.stale(day("2025-12-15"), 12).is_empty(), "11 months");
        let s = c.stale(day("2026-02-01"), 12);
        assert_eq!(s, vec![Stale { id: "x".into(), date: "2025-01".into(), months: 13 }]);
        // A change read later makes the entry fresh again from its date on.
        let text = format!("{ONE}[[entries.x.changes]]\nfrom = '2026-01-01'\nprice = 0.5\nsource = 's'\ndate = '2025-12'\n");
        let c = Catalog::parse(&text, "f").unwrap();
        assert!(c.stale(day("2026-02-01"), 12).is_empty());
    }
}
