use proptest::prelude::*;

use super::*;
use crate::options::BuildOption::{self, *};

fn factors(e: f64, c: f64, a: f64) -> Factors {
    Factors {
        emulated: Factor::measured(e, "test"),
        cross: Factor::measured(c, "test"),
        arm64_build: Factor::modelled(a, "test"),
        wasm_build: Factor::modelled(1.0, "test"),
        wasm_runtime: Factor::measured(1.5, "test"),
        arm64_runtime: Factor::modelled(a, "test"),
    }
}

fn profile(n: f64) -> Profile {
    Profile { builds_per_month: n, date: Some("2026-06-01".into()), ..Profile::default() }
}

/// One row: what changes from the 2026 defaults (10-minute builds, merge 0.5 min, x64 $0.006
/// and arm64 $0.005 a minute, c7g.large worker $52.925 a month), and what must come out.
struct Case {
    name: &'static str,
    profile: Profile,
    f: Factors,
    want: Option<BuildOption>,
    /// (option, total USD per month), worked out by hand in the comment of each row.
    totals: &'static [(BuildOption, f64)],
}

// Long because it is data: one hand-worked row per case, each with its arithmetic beside it.
fn cases() -> Vec<Case> {
    vec![
        // 400 builds. cross: ceil(10 + 10) = 20 min × 0.006 × 400 = $48. hosted: 11 x64 min
        // (amd64 10 + merge 1) × 0.006 + 10 arm64 min × 0.005 = $0.116 × 400 = $46.40.
        // cross-matrix: 10 + 10 + 1 = 21 × 0.006 × 400 = $50.40. emulate: 70 × 0.006 × 400.
        Case {
            name: "equal arm64 speed: hosted native arm64 is cheapest and fastest",
            profile: profile(400.0),
            f: factors(6.0, 1.0, 1.0),
            want: Some(NativeArm64Hosted),
            totals: &[
                (NativeArm64Hosted, 46.4),
                (Cross, 48.0),
                (CrossMatrix, 50.4),
                (Emulate, 168.0),
            ],
        },
        // arm64 builds take 1.5×: hosted = (11 × 0.006 + 15 × 0.005) × 400 = $56.40, past the
        // margin of cross's $48 (5%: $50.40). cross-matrix costs 21 × 0.006 × 400 = $50.40, just
        // inside it, and takes 10.5 min against cross's 20: the faster is named.
        Case {
            name: "slow arm64 builds: cross-matrix, within 5% of cross and faster",
            profile: profile(400.0),
            f: factors(6.0, 1.0, 1.5),
            want: Some(CrossMatrix),
            totals: &[(NativeArm64Hosted, 56.4), (Cross, 48.0), (CrossMatrix, 50.4)],
        },
        // A margin of 1% (and a $0.10 floor): cross-matrix's $50.40 is past $48.48, cross wins.
        Case {
            name: "slow arm64 builds, a narrow margin: cross on one runner",
            profile: Profile { margin: 0.01, margin_usd: 0.1, ..profile(400.0) },
            f: factors(6.0, 1.0, 1.5),
            want: Some(Cross),
            totals: &[(Cross, 48.0), (CrossMatrix, 50.4)],
        },
        // 3,000 builds: self-hosted = 52.925 + 11 × 0.006 × 3000 = $250.925; hosted $348.
        Case {
            name: "high volume: a self-hosted worker pays",
            profile: profile(3000.0),
            f: factors(6.0, 1.0, 1.0),
            want: Some(NativeArm64SelfHosted),
            totals: &[(NativeArm64SelfHosted, 250.925), (NativeArm64Hosted, 348.0)],
        },
        // Public repository: every hosted option costs $0; the fastest of them wins
        // (hosted 10.5 min against cross-matrix 12.5 min with cross at 1.2×).
        Case {
            name: "public repository: free runners, the fastest wins",
            profile: Profile { public_repo: true, ..profile(400.0) },
            f: factors(6.0, 1.2, 1.0),
            want: Some(NativeArm64Hosted),
            totals: &[
                (NativeArm64Hosted, 0.0),
                (CrossMatrix, 0.0),
                (Emulate, 0.0),
                (NativeArm64SelfHosted, 52.925),
            ],
        },
        // A 15-minute limit rules out cross (20 min) and hosted at 1.5× (15.5 min): cross-matrix
        // (10.5 min, $50.40) is the cheapest that meets it.
        Case {
            name: "a wall-time limit",
            profile: Profile { max_minutes_per_build: Some(15.0), ..profile(400.0) },
            f: factors(6.0, 1.0, 1.5),
            want: Some(CrossMatrix),
            totals: &[(CrossMatrix, 50.4)],
        },
        // 10,000 included minutes, which pay for the standard x64 runner only: emulate uses
        // 70 × 400 = 28,000 x64 minutes, pays for 18,000 × 0.006 = $108; cross (22 × 400 =
        // 8,800) and cross-matrix (23 × 400 = 9,200) are free; hosted pays its 4,000 arm64
        // minutes: × 0.005 = $20. Of the two free ones cross-matrix is faster (12.5 min).
        Case {
            name: "included minutes pay for x64 runners only",
            profile: Profile { free_minutes: Some(10_000.0), ..profile(400.0) },
            f: factors(6.0, 1.2, 1.0),
            want: Some(CrossMatrix),
            totals: &[
                (Emulate, 108.0),
                (Cross, 0.0),
                (CrossMatrix, 0.0),
                (NativeArm64Hosted, 20.0),
            ],
        },
        // The case: 50 builds, GitHub Free's 2,000 minutes. hosted: 550 x64 minutes
        // included, 500 arm64 ones at $0.005 = $2.50 (it was priced $0.00). cross-matrix's
        // 21 × 50 = 1,050 x64 minutes are all included: $0 at 10.5 min, as fast as hosted.
        Case {
            name: "GitHub Free at 50 builds: arm64 minutes are paid",
            profile: Profile { ci_plan: Some("github-free".into()), ..profile(50.0) },
            f: factors(6.35, 0.98, 1.0),
            want: Some(CrossMatrix),
            totals: &[(NativeArm64Hosted, 2.5), (CrossMatrix, 0.0), (Cross, 0.0)],
        },
        // Waiting at $60/h: cross waits 20 min × 400 = $8,000 + $48; cross-matrix 10.5 min →
        // $4,200 + $50.40; hosted at 1.5× 15.5 min → $6,200 + $56.40.
        Case {
            name: "priced waiting favours the fastest",
            profile: Profile { engineer_hourly: 60.0, ..profile(400.0) },
            f: factors(6.0, 1.0, 1.5),
            want: Some(CrossMatrix),
            totals: &[(Cross, 8048.0), (CrossMatrix, 4250.4), (NativeArm64Hosted, 6256.4)],
        },
        // Before 2026-01-01 x64 minutes cost $0.008: cross = 20 × 0.008 × 400 = $64, hosted =
        // (11 × 0.008 + 10 × 0.005) × 400 = $55.20.
        Case {
            name: "2025 prices",
            profile: Profile { date: Some("2025-12-01".into()), ..profile(400.0) },
            f: factors(6.0, 1.0, 1.0),
            want: Some(NativeArm64Hosted),
            totals: &[(Cross, 64.0), (NativeArm64Hosted, 55.2)],
        },
        // A Wasm-ready project whose Wasm runs faster: one 10-minute build ($24) and the service
        // 0.8× as long: 2920 h × $0.08925 × −0.2 = −$52.122.
        Case {
            name: "Wasm when the project is ready and Wasm runs faster",
            profile: Profile { wasm_ready: true, ..profile(400.0) },
            f: Factors { wasm_runtime: Factor::measured(0.8, "t"), ..factors(6.0, 1.0, 1.0) },
            want: Some(Wasm),
            totals: &[(Wasm, 24.0 - 52.122)],
        },
        Case {
            name: "the same Wasm, but the project is not Wasm-ready",
            profile: profile(400.0),
            f: Factors { wasm_runtime: Factor::measured(0.8, "t"), ..factors(6.0, 1.0, 1.0) },
            want: Some(NativeArm64Hosted),
            totals: &[(Wasm, 24.0 - 52.122)],
        },
        Case {
            name: "a limit nothing meets",
            profile: Profile { max_minutes_per_build: Some(5.0), ..profile(400.0) },
            f: factors(6.0, 1.0, 1.0),
            want: None,
            totals: &[],
        },
    ]
}

#[test]
fn table_of_hand_worked_plans() {
    let catalog = Catalog::builtin();
    for c in cases() {
        let p = plan(&c.profile, &c.f, &catalog).unwrap();
        assert_eq!(p.recommended, c.want, "{}: {:#?}", c.name, p.recommendation);
        for (o, total) in c.totals {
            let got = p.option(*o).unwrap().total_monthly;
            assert!((got - total).abs() < 1e-6, "{}: {o} costs {got}, not {total}", c.name);
        }
        match c.want {
            Some(o) => {
                assert!(p.recommendation[0].starts_with(&format!("build with {o} ")), "{}", c.name)
            }
            None => assert!(
                p.recommendation[0].starts_with("no option builds within"),
                "{}: {:?}",
                c.name,
                p.recommendation
            ),
        }
    }
}

/// The inconsistency issue 14 reported, from the measured factors of the example report of
/// November 2026 (`fixtures/results/v1-2026-11`): hosted
/// native arm64 was cheaper and almost twice as fast as the recommended cross build, yet only
/// an aside. At 400 and at 50 builds a month it must be the recommendation.
#[test]
fn regression_hosted_native_arm64_is_not_an_aside() {
    let f = Factors {
        emulated: Factor::measured(6.350056186416477, "fixtures/results/v1-2026-11/build.json"),
        cross: Factor::measured(0.9833607022336922, "fixtures/results/v1-2026-11/build.json"),
        ..factors(6.35, 0.98, 1.0)
    };
    for n in [50.0, 400.0] {
        let p = plan(&profile(n), &f, &Catalog::builtin()).unwrap();
        assert_eq!(p.recommended, Some(NativeArm64Hosted), "{n}: {:#?}", p.recommendation);
        let hosted = p.option(NativeArm64Hosted).unwrap();
        let cross = p.option(Cross).unwrap();
        assert!(hosted.total_monthly < cross.total_monthly);
        assert!(hosted.minutes_per_build < cross.minutes_per_build);
        // Every option appears in the sentences and the break-even list names options only.
        for o in BuildOption::ALL {
            assert!(p.recommendation.iter().any(|l| l.contains(o.name())), "{o} missing");
        }
    }
}

#[test]
fn unavailable_options_are_shown_with_the_reason() {
    let p = plan(&profile(400.0), &factors(6.0, 1.0, 1.0), &Catalog::builtin()).unwrap();
    let wasm = p.option(Wasm).unwrap();
    assert!(wasm.unavailable.as_deref().unwrap().contains("--wasm-ready"));
    assert!(p
        .recommendation
        .iter()
        .any(|l| l.starts_with("wasm: ") && l.contains("not Wasm-ready")));
    assert!(p.break_even.iter().all(|b| b.cheaper_below != Wasm && b.cheaper_from != Wasm));
}

#[test]
fn break_even_of_the_self_hosted_worker() {
    // hosted: $0.116 a build; self-hosted: $52.925 + $0.066 a build → 52.925 / 0.05 = 1058.5.
    let p = plan(&profile(400.0), &factors(6.0, 1.0, 1.0), &Catalog::builtin()).unwrap();
    let be = p
        .break_even
        .iter()
        .find(|b| b.cheaper_below == NativeArm64Hosted && b.cheaper_from == NativeArm64SelfHosted)
        .unwrap();
    assert_eq!(be.builds_per_month, 1059.0);
    assert!(p.recommendation.iter().any(|l| l.contains("cheaper below 1059 builds/month")));
}

#[test]
fn migration_shows_where_moving_stops_paying() {
    let f = Factors {
        arm64_runtime: Factor::measured(1.1, "arm.json").with_interval(1.0, 1.3),
        ..factors(6.0, 1.0, 1.0)
    };
    let p = plan(&profile(400.0), &f, &Catalog::builtin()).unwrap();
    let m = &p.migration;
    assert!(!m.modelled);
    assert!((m.break_even_arm64_runtime - 0.08925 / 0.0725).abs() < 1e-12);
    let (lo, hi) = m.arm64_monthly_range.unwrap();
    assert!((lo - 2920.0 * 0.0725).abs() < 1e-9 && (hi - 2920.0 * 1.3 * 0.0725).abs() < 1e-9);
    let s = p.sensitivity.iter().find(|s| s.factor == FactorId::Arm64Runtime).unwrap();
    assert_eq!(s.interval_inside, Some(false), "1.3× is past the 1.23× break-even");
}

#[test]
fn bad_inputs_are_refused() {
    let f = factors(5.0, 1.0, 1.0);
    let bad = [
        (Profile { builds_per_month: -1.0, ..profile(1.0) }, "--builds-per-month"),
        (Profile { margin: f64::NAN, ..profile(1.0) }, "--margin"),
        (
            Profile { builds_per_month: 1e308, ..profile(1.0) },
            "--builds-per-month must be a number from 0 to 1e7, not 1e308",
        ),
        (Profile { engineer_hourly: f64::INFINITY, ..profile(1.0) }, "--engineer-hourly"),
        (Profile { date: Some("yesterday".into()), ..profile(1.0) }, "--date"),
        (Profile { x64_runner: "c7i-large".into(), ..profile(1.0) }, "is a instance, not a runner"),
    ];
    for (p, want) in bad {
        let e = plan(&p, &f, &Catalog::builtin()).unwrap_err().to_string();
        assert!(e.contains(want), "{e}");
    }
}

#[test]
fn stale_prices_are_named_in_the_plan() {
    let p = plan(
        &Profile { date: Some("2026-11-28".into()), ..profile(400.0) },
        &factors(6.0, 1.0, 1.0),
        &Catalog::builtin(),
    )
    .unwrap();
    // The AWS prices were read in 2025-01: 22 months before.
    assert!(p.stale_prices.iter().any(|s| s.id == "c7i-large" && s.months == 22));
    assert!(p.recommendation.iter().any(|l| l.starts_with("prices older than 12 months: ")));
}

/// Issue 26, defect 2: near a tie on money, time decides, and the output prices the minutes.
#[test]
fn within_the_margin_the_faster_is_named_with_the_price_of_its_minutes() {
    let p = plan(&profile(400.0), &factors(6.0, 1.0, 1.5), &Catalog::builtin()).unwrap();
    assert_eq!((p.recommended, p.cheapest), (Some(CrossMatrix), Some(Cross)));
    // $50.40 − $48.00 = $2.40 a month for 9.5 min × 400 builds = 63.3 h: $0.04 an hour.
    let line = &p.recommendation[1];
    assert!(
        line.starts_with("the cheapest, cross at $48.00/month and 20.0 min per build, is within the margin (5% or $1.00): the faster is named, 9.5 min faster per build for $2.40 a month more in builds: $0.04 per hour of waiting saved (63 h a month)"),
        "{line}"
    );
    // A public repository: cross-matrix (cross at 0.98×) and hosted both cost $0 and take
    // 10.5 min; hosted lists at $46.40 against cross-matrix's $50.40, and the rule is said.
    let public = Profile { public_repo: true, ..profile(400.0) };
    let p = plan(&public, &factors(6.35, 0.98, 1.0), &Catalog::builtin()).unwrap();
    assert_eq!(p.recommended, Some(NativeArm64Hosted));
    let rule = p.tie_rule.as_deref().unwrap();
    assert!(rule.contains("lower list price ($46.40 against $50.40"), "{rule}");
    assert!(p
        .recommendation
        .iter()
        .any(|l| l.starts_with("tie: native-arm64-hosted and cross-matrix")));
    // $0.00 against $0.50 is even under the $1 floor: the faster wins (issue: 100 builds,
    // 2,000 included minutes, cross at $0.00 and 19.8 min was named over faster options).
    let p = plan(
        &Profile { free_minutes: Some(2000.0), ..profile(100.0) },
        &factors(6.35, 0.98, 1.0),
        &Catalog::builtin(),
    )
    .unwrap();
    let best = p.option(p.recommended.unwrap()).unwrap();
    assert!((best.minutes_per_build - 10.5).abs() < 1e-9, "{:#?}", p.recommendation);
}

/// Issue 26, defects 3 and 4: the headline names every factor that can flip the choice (the
/// emulated factor brings emulate-matrix under a 12-minute limit below about 0.8×), and no
/// break-even below 2 builds a month is kept.
#[test]
fn the_headline_names_every_edge_and_break_evens_make_sense() {
    let f = factors(6.35, 0.98, 1.0);
    let p = plan(
        &Profile { max_minutes_per_build: Some(12.0), ..profile(400.0) },
        &f,
        &Catalog::builtin(),
    )
    .unwrap();
    let holds = p.recommendation.iter().find(|l| l.contains("stays the choice")).unwrap();
    assert!(holds.contains("emulated / native build"), "{holds}");
    let p = plan(&Profile { engineer_hourly: 60.0, ..profile(400.0) }, &f, &Catalog::builtin())
        .unwrap();
    assert!(p.break_even.iter().all(|b| b.builds_per_month >= 2.0), "{:?}", p.break_even);
    assert!(!p.recommendation.iter().any(|l| l.contains("below 1 builds")));
}

/// Issue 26, item 5: the user's own factors replace the measured ones, labelled given.
#[test]
fn given_factors_replace_measured_ones_and_say_so() {
    let g = Given::parse("arm64-build=1.5:1.2..1.9").unwrap();
    assert_eq!((g.factor, g.value, g.interval), (FactorId::Arm64Build, 1.5, Some((1.2, 1.9))));
    let p = plan(
        &Profile { given: vec![g], ..profile(400.0) },
        &factors(6.0, 1.0, 1.0),
        &Catalog::builtin(),
    )
    .unwrap();
    assert_eq!(p.factors.arm64_build.value, 1.5);
    assert_eq!(p.factors.arm64_build.label(), " (given)");
    assert_eq!(p.factors.arm64_build.interval, Some((1.2, 1.9)));
    // Priced with it: hosted $56.40 at 1.5× (see the table).
    assert!((p.option(NativeArm64Hosted).unwrap().total_monthly - 56.4).abs() < 1e-9);
    for (bad, want) in [
        ("emulated", "give NAME=VALUE"),
        ("speed=2", "no factor \"speed\"; factors: emulated, cross, arm64-build"),
        ("cross=0", "not a ratio from 0.001 to 1000"),
        ("cross=1e-300", "not a ratio from 0.001"),
        ("cross=NaN", "not a ratio from 0.001"),
        ("cross=2:3..4", "must hold the value 2"),
        ("cross=2:1-3", "LOW..HIGH"),
    ] {
        let e = Given::parse(bad).unwrap_err();
        assert!(e.contains(want), "{bad}: {e}");
    }
}

/// The review of issue 26: a crossing where two totals are equal to the cent is still found
/// (cross against self-hosted at 50 builds with GitHub Free: both $105.60 at 980 builds), the
/// flags' largest values decide without overflowing, a factor given twice is refused, and a
/// catalog without GitHub's self-hosted charge (written before it) still plans.
#[test]
fn review_fixes_of_the_plan() {
    let f = factors(6.35, 0.98, 1.0);
    let p = plan(
        &Profile { ci_plan: Some("github-free".into()), ..profile(50.0) },
        &f,
        &Catalog::builtin(),
    )
    .unwrap();
    assert!(
        p.break_even
            .iter()
            .any(|b| b.cheaper_below == Cross && b.cheaper_from == NativeArm64SelfHosted),
        "{:?}",
        p.break_even
    );
    let huge = Profile {
        builds_per_month: 1.0,
        minutes_per_build: 1e7,
        engineer_hourly: 1e7,
        waits_per_build: 1e7,
        ..profile(1.0)
    };
    assert!(plan(&huge, &f, &Catalog::builtin()).unwrap().recommended.is_some());
    let twice = Profile {
        given: vec![Given::parse("emulated=2").unwrap(), Given::parse("emulated=3").unwrap()],
        ..profile(400.0)
    };
    let e = plan(&twice, &f, &Catalog::builtin()).unwrap_err().to_string();
    assert!(e.contains("--factor emulated is given twice"), "{e}");
    let mut old = Catalog::builtin();
    old.entries.remove("github-self-hosted");
    let p = plan(&profile(400.0), &f, &old).unwrap();
    assert!(p.pending.is_empty() && p.recommended.is_some());
    // Named on the command line, a missing charge is an error.
    let named = Profile { self_hosted_charge: Some("acme-self-hosted".into()), ..profile(400.0) };
    assert!(plan(&named, &f, &old).unwrap_err().to_string().contains("acme-self-hosted"));
}

/// Issue 26, item 6: GitHub's pending per-minute charge for self-hosted jobs is named and
/// priced only when assumed: 10 minutes a build × 400 × $0.002 = $8 a month more.
#[test]
fn a_pending_charge_is_named_and_priced_only_when_assumed() {
    let f = factors(6.0, 1.0, 1.0);
    let now = plan(&profile(400.0), &f, &Catalog::builtin()).unwrap();
    let pending = now.pending.iter().find(|x| x.id == "github-self-hosted").unwrap();
    assert_eq!((pending.price, pending.pending_price, pending.assumed), (0.0, 0.002, false));
    let assumed =
        plan(&Profile { assume_pending: true, ..profile(400.0) }, &f, &Catalog::builtin()).unwrap();
    let (a, b) = (
        now.option(NativeArm64SelfHosted).unwrap().total_monthly,
        assumed.option(NativeArm64SelfHosted).unwrap().total_monthly,
    );
    assert!((b - a - 8.0).abs() < 1e-9, "{a} -> {b}");
    assert!(assumed.pending[0].assumed);
    // Hosted options do not change.
    assert_eq!(
        now.option(NativeArm64Hosted).unwrap().total_monthly,
        assumed.option(NativeArm64Hosted).unwrap().total_monthly
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    /// Whatever the volume, prices, factors and limits: no candidate is both cheaper and
    /// faster than the recommended option, which meets the limit; and when nothing is
    /// recommended, nothing was a candidate.
    #[test]
    fn the_recommendation_is_never_beaten_on_cost_and_time(
        n in 0.0f64..6000.0, m in 0.2f64..90.0,
        e in 1.0f64..40.0, c in 0.3f64..4.0, a in 0.3f64..4.0, w in 0.3f64..4.0, wr in 0.3f64..4.0,
        // Free runners (public repositories) give ties at $0, where the tie-break decides.
        x64 in prop_oneof![Just(0.0), 0.0f64..0.03], arm in prop_oneof![Just(0.0), 0.0f64..0.03], worker in 0.0f64..0.6,
        free in prop_oneof![Just(0.0), 0.0f64..20_000.0],
        max in proptest::option::of(1.0f64..200.0),
        hourly in prop_oneof![Just(0.0), 0.0f64..200.0],
        margin in 0.0f64..0.2,
        floor in prop_oneof![Just(0.0), 0.0f64..5.0],
        charge in prop_oneof![Just(0.0), 0.0f64..0.01],
        arm_included in any::<bool>(),
    ) {
        let cx = Context {
            profile: Profile {
                builds_per_month: n,
                minutes_per_build: m,
                free_minutes: Some(free),
                max_minutes_per_build: max,
                engineer_hourly: hourly,
                wasm_ready: true,
                ..Profile::default()
            },
            prices: Prices {
                x64_minute: x64, arm64_minute: arm, worker_hour: worker, worker_minute: charge,
                x64_included: true, arm64_included: arm_included, x86_hour: 0.09, arm64_hour: 0.07,
            },
            list: Prices {
                x64_minute: 0.006, arm64_minute: 0.005, worker_hour: worker, worker_minute: charge,
                x64_included: true, arm64_included: arm_included, x86_hour: 0.09, arm64_hour: 0.07,
            },
            free_minutes: free,
        };
        let f = Factors {
            wasm_build: Factor::modelled(w, "t"),
            wasm_runtime: Factor::measured(wr, "t"),
            ..factors(e, c, a)
        };
        let options = evaluate(&cx, &f, n);
        let choice = crate::choose::choose(&options, margin, floor);
        let (cents, tenths) = (crate::choose::cents, crate::choose::tenths);
        match choice.recommended {
            Some(best) => {
                let b = options.iter().find(|o| o.option == best).unwrap();
                prop_assert!(b.candidate());
                let cheapest = options.iter().find(|o| Some(o.option) == choice.cheapest).unwrap();
                let limit = crate::choose::margin_limit(cheapest.total_monthly, margin, floor);
                prop_assert!(cents(b.total_monthly) <= limit, "{best} is past the margin");
                for o in options.iter().filter(|o| o.candidate()) {
                    prop_assert!(
                        !(cents(o.total_monthly) < cents(b.total_monthly) && tenths(o.minutes_per_build) < tenths(b.minutes_per_build)),
                        "{} beats {} on both: ${} < ${}, {} < {} min",
                        o.option, best, o.total_monthly, b.total_monthly, o.minutes_per_build, b.minutes_per_build
                    );
                    // Nothing within the margin is faster.
                    if cents(o.total_monthly) <= limit {
                        prop_assert!(tenths(o.minutes_per_build) >= tenths(b.minutes_per_build), "{} is even and faster than {best}", o.option);
                    }
                    prop_assert!(cents(o.total_monthly) >= cents(cheapest.total_monthly));
                }
            }
            None => prop_assert!(options.iter().all(|o| !o.candidate())),
        }
    }
}
