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
        // arm64 builds take 1.5×: hosted = (11 × 0.006 + 15 × 0.005) × 400 = $56.40 > cross $48.
        Case {
            name: "slow arm64 builds: cross on one runner",
            profile: profile(400.0),
            f: factors(6.0, 1.0, 1.5),
            want: Some(Cross),
            totals: &[(NativeArm64Hosted, 56.4), (Cross, 48.0)],
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
        // 10,000 free minutes: emulate uses 70 × 400 = 28,000, pays for 18,000 × 0.006 = $108;
        // hosted (8,400 minutes) and cross (8,800) are free; hosted is faster.
        Case {
            name: "free minutes",
            profile: Profile { free_minutes: 10_000.0, ..profile(400.0) },
            f: factors(6.0, 1.2, 1.0),
            want: Some(NativeArm64Hosted),
            totals: &[(Emulate, 108.0), (Cross, 0.0), (NativeArm64Hosted, 0.0)],
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

/// The inconsistency issue 14 reported, from `reports/example`'s measured factors: hosted
/// native arm64 was cheaper and almost twice as fast as the recommended cross build, yet only
/// an aside. At 400 and at 50 builds a month it must be the recommendation.
#[test]
fn regression_hosted_native_arm64_is_not_an_aside() {
    let f = Factors {
        emulated: Factor::measured(6.350056186416477, "reports/example/build.json"),
        cross: Factor::measured(0.9833607022336922, "reports/example/build.json"),
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
    ) {
        let cx = Context {
            profile: Profile {
                builds_per_month: n,
                minutes_per_build: m,
                free_minutes: free,
                max_minutes_per_build: max,
                engineer_hourly: hourly,
                wasm_ready: true,
                ..Profile::default()
            },
            prices: Prices { x64_minute: x64, arm64_minute: arm, worker_hour: worker, x86_hour: 0.09, arm64_hour: 0.07 },
        };
        let f = Factors {
            wasm_build: Factor::modelled(w, "t"),
            wasm_runtime: Factor::measured(wr, "t"),
            ..factors(e, c, a)
        };
        let options = evaluate(&cx, &f, n);
        let choice = crate::choose::choose(&options, margin);
        match choice.recommended {
            Some(best) => {
                let b = options.iter().find(|o| o.option == best).unwrap();
                prop_assert!(b.candidate());
                for o in options.iter().filter(|o| o.candidate()) {
                    prop_assert!(
                        !(o.total_monthly < b.total_monthly && o.minutes_per_build < b.minutes_per_build),
                        "{} beats {} on both: ${} < ${}, {} < {} min",
                        o.option, best, o.total_monthly, b.total_monthly, o.minutes_per_build, b.minutes_per_build
                    );
                }
            }
            None => prop_assert!(options.iter().all(|o| !o.candidate())),
        }
    }
}
